package io.distill4j.cli.build;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The launcher builds modules/spark and puts it with Spark's jars on the class path only when {@code --engine} names
 * a Spark master ({@code local}, the default, is the plain run): Spark from Maven (modules/spark/target/lib), or
 * {@code SPARK_HOME/jars} behind the jackson-module-scala that matches distill4j's Jackson.
 */
class LauncherSparkTest {

    static final Path ROOT = LauncherBuildToolTest.ROOT;

    @TempDir Path tmp;

    @Test
    void onlyASparkMasterGetsSpark() throws Exception {
        String spark = ROOT.resolve("modules/spark/target/distill4j-spark.jar") + ":"
                + ROOT.resolve("modules/spark/target/lib") + "/*";
        List<String> withSpark = List.of("modules/cli,modules/spark", spark);
        List<String> plain = List.of("modules/cli", "");
        Map<String, String> none = Map.of();
        assertEquals(withSpark, LauncherEmbedderTest.modulesFor(tmp, none, "sample", "--engine", "local[2]", "job.yaml"));
        assertEquals(withSpark, LauncherEmbedderTest.modulesFor(tmp, none, "sample", "--engine=spark://h:7077", "job.yaml"));
        assertEquals(withSpark, LauncherEmbedderTest.modulesFor(tmp, none, "--gpu", "train", "--engine", "yarn", "t.yaml"));
        assertEquals(plain, LauncherEmbedderTest.modulesFor(tmp, none, "sample", "--engine", "local", "job.yaml"));
        assertEquals(plain, LauncherEmbedderTest.modulesFor(tmp, none, "sample", "job.yaml"));
        assertEquals(plain, LauncherEmbedderTest.modulesFor(tmp, none, "train", "t.yaml"));
        // an installed Spark: its jars, behind the jackson-module-scala of distill4j's Jackson
        assertEquals(List.of("modules/cli,modules/spark", ROOT.resolve("modules/spark/target/distill4j-spark.jar") + ":"
                + ROOT.resolve("modules/spark/target/jackson-scala") + "/*:/opt/spark/jars/*"),
                LauncherEmbedderTest.modulesFor(tmp, Map.of("SPARK_HOME", "/opt/spark"), "sample", "--engine",
                        "spark://h:7077", "job.yaml"));
    }
}
