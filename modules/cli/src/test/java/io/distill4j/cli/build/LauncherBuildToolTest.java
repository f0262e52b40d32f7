package io.distill4j.cli.build;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The launcher's choice of Maven ({@code ./distill4j} with {@code DISTILL4J_PRINT_BUILD_TOOL=1}, which prints the
 * build command and stops), run with a PATH that holds only the few tools the launcher needs: with no {@code mvn}
 * on it the launcher must fall back to the Maven wrapper {@code ./mvnw}. The real build through the wrapper is
 * not repeated here (it takes minutes); README says how to run it.
 */
class LauncherBuildToolTest {

    static final Path ROOT = Path.of(System.getProperty("distill4j.root", "../..")).toAbsolutePath().normalize();

    /** What the launcher runs before it has chosen its Maven ({@code env} finds {@code bash} on PATH). */
    static final List<String> TOOLS = List.of("bash", "dirname", "tr", "grep", "head");

    @TempDir static Path tmp;
    static Path bin;

    @BeforeAll
    static void pathWithoutMaven() throws Exception {
        bin = Files.createDirectories(tmp.resolve("bin"));
        for (String tool : TOOLS) {
            Path found = null;
            for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(File.pathSeparator)) {
                Path p = Path.of(dir, tool);
                if (!dir.isEmpty() && Files.isExecutable(p)) {
                    found = p;
                    break;
                }
            }
            assertTrue(found != null, tool + " not found on this machine's PATH");
            Files.createSymbolicLink(bin.resolve(tool), found.toRealPath());
        }
    }

    record Result(int rc, String out, String err) {}

    /** Runs {@code launcher} with the dry-run variable and PATH = {@code path} only, in a clean environment. */
    static Result launch(Path launcher, Path... path) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(launcher.toString());
        pb.environment().clear();
        pb.environment().put("PATH", String.join(File.pathSeparator, java.util.Arrays.stream(path).map(Path::toString).toList()));
        pb.environment().put("HOME", tmp.toString());
        pb.environment().put("DISTILL4J_PRINT_BUILD_TOOL", "1");
        pb.redirectOutput(tmp.resolve("out.txt").toFile());
        pb.redirectError(tmp.resolve("err.txt").toFile());
        Process p = pb.start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "launcher did not finish");
        return new Result(p.exitValue(), Files.readString(tmp.resolve("out.txt")).strip(), Files.readString(tmp.resolve("err.txt")));
    }

    /** A fake {@code mvn} in its own folder that prints {@code version} the way {@code mvn -v} does. */
    static Path fakeMaven(String name, String versionLine) throws Exception {
        Path dir = Files.createDirectories(tmp.resolve(name));
        Path mvn = dir.resolve("mvn");
        Files.writeString(mvn, "#!/bin/sh\nprintf '%b\\n' '" + versionLine + "'\necho 'Maven home: /nowhere'\n", StandardCharsets.UTF_8);
        Files.setPosixFilePermissions(mvn, PosixFilePermissions.fromString("rwxr-xr-x"));
        return dir;
    }

    @Test
    void withoutMvnOnPathTheLauncherUsesTheWrapper() throws Exception {
        Result r = launch(ROOT.resolve("distill4j"), bin);
        assertEquals(0, r.rc(), r.err());
        assertEquals(ROOT.resolve("mvnw").toString(), r.out());
    }

    @Test
    void aRecentMvnOnPathIsPreferred() throws Exception {
        Path dir = fakeMaven("maven39", "\\033[1mApache Maven 3.9.9 (8e8579a9)\\033[m");
        Result r = launch(ROOT.resolve("distill4j"), dir, bin);
        assertEquals(0, r.rc(), r.err());
        assertEquals(dir.resolve("mvn").toString(), r.out());
    }

    @Test
    void anMvnOlderThan38FallsBackToTheWrapper() throws Exception {
        Path dir = fakeMaven("maven36", "\\033[1mApache Maven 3.6.3\\033[m");
        Result r = launch(ROOT.resolve("distill4j"), dir, bin);
        assertEquals(0, r.rc(), r.err());
        assertEquals(ROOT.resolve("mvnw").toString(), r.out());
    }

    @Test
    void noMvnAndNoWrapperIsAOneLineErrorWithExit2() throws Exception {
        Path copy = Files.createDirectories(tmp.resolve("bare"));
        Path launcher = Files.copy(ROOT.resolve("distill4j"), copy.resolve("distill4j"));
        Result r = launch(launcher, bin);
        assertEquals(2, r.rc(), r.out());
        assertEquals(1, r.err().strip().lines().count(), r.err());
        assertTrue(r.err().contains("mvnw"), r.err());
    }

    @Test
    void theWrapperFetchesAPinnedMavenFromMavenCentral() throws Exception {
        assertTrue(Files.isExecutable(ROOT.resolve("mvnw")), "mvnw is missing or not executable");
        Properties props = new Properties();
        try (var in = Files.newInputStream(ROOT.resolve(".mvn/wrapper/maven-wrapper.properties"))) {
            props.load(in);
        }
        String url = props.getProperty("distributionUrl", "");
        assertTrue(url.matches("https://repo\\.maven\\.apache\\.org/maven2/org/apache/maven/apache-maven/"
                + "3\\.(8|9)\\.\\d+/apache-maven-3\\.(8|9)\\.\\d+-bin\\.zip"), url);
    }
}
