package io.distill4j.cli.build;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The launcher puts the sentence embedder (modules/minilm and its onnxruntime jars) on the class path for the
 * commands that embed sentences only ({@code experiment llm}, {@code evaluate} without {@code --no-similarity},
 * {@code train} in an embedding-selection LM mode), and builds it only then ({@code DISTILL4J_PRINT_MODULES=1}: it prints the modules it
 * would build and what it would add to the class path, and stops before building anything).
 */
class LauncherEmbedderTest {

    static final Path ROOT = LauncherBuildToolTest.ROOT;

    @TempDir Path tmp;

    private List<String> modulesFor(String... args) throws Exception {
        return modulesFor(tmp, Map.of(), args);
    }

    /**
     * What the launcher would build and add to the class path.
     *
     * @param tmp a folder for its output
     * @param env variables to set (an empty value removes one)
     * @param args its arguments
     * @return the two lines it prints: modules, added class path
     */
    static List<String> modulesFor(Path tmp, Map<String, String> env, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(ROOT.resolve("distill4j").toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().put("DISTILL4J_PRINT_MODULES", "1");
        pb.environment().remove("SPARK_HOME");
        env.forEach((k, v) -> {
            if (v.isEmpty()) {
                pb.environment().remove(k);
            } else {
                pb.environment().put(k, v);
            }
        });
        pb.redirectOutput(tmp.resolve("out.txt").toFile());
        pb.redirectError(tmp.resolve("err.txt").toFile());
        Process p = pb.start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "launcher did not finish");
        assertEquals(0, p.exitValue(), Files.readString(tmp.resolve("err.txt")));
        List<String> lines = Files.readAllLines(tmp.resolve("out.txt"));
        assertEquals(2, lines.size(), lines.toString());
        return lines;
    }

    @Test
    void onlyCommandsThatEmbedSentencesGetTheEmbedder() throws Exception {
        String embedder = ROOT.resolve("modules/minilm/target/distill4j-minilm.jar") + ":"
                + ROOT.resolve("modules/minilm/target/lib") + "/*";
        assertEquals(List.of("modules/cli,modules/minilm", embedder), modulesFor("experiment", "llm", "--quick"));
        assertEquals(List.of("modules/cli,modules/minilm", embedder), modulesFor("--gpu", "experiment", "--quick", "llm"));
        assertEquals(List.of("modules/cli", ""), modulesFor("experiment", "ffn", "--quick"));
        assertEquals(List.of("modules/cli", ""), modulesFor("demo"));
        assertEquals(List.of("modules/cli", ""), modulesFor("train", "llm.yaml"));
        assertEquals(List.of("modules/cli,modules/minilm", embedder), modulesFor("evaluate", "s1", "--samples", "5"));
        // evaluate generates answers and scores them with the embedder unless told --no-similarity
        assertEquals(List.of("modules/cli,modules/minilm", embedder), modulesFor("evaluate", "s1", "--pairs", "p.jsonl"));
        assertEquals(List.of("modules/cli", ""), modulesFor("evaluate", "s1", "--no-similarity"));
        Path mean = Files.writeString(tmp.resolve("mean.yaml"), "sample: qa.yaml\nlm:\n  mode: sft-mean\n");
        Path kd = Files.writeString(tmp.resolve("kd.yaml"), "sample: qa.yaml\nlm:\n  mode: token-kd\n");
        assertEquals(List.of("modules/cli,modules/minilm", embedder), modulesFor("train", mean.toString()));
        assertEquals(List.of("modules/cli", ""), modulesFor("train", kd.toString()));
    }
}
