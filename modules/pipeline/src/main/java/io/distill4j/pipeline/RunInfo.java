package io.distill4j.pipeline;

import ai.djl.Device;
import ai.djl.engine.Engine;
import io.distill4j.data.Devices;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;

/**
 * The provenance every run folder and report records: distill4j's version and git commit (when the code runs
 * from a checkout), the command, the engine and device, Java, and start and end times.
 *
 * @param version the distill4j version
 * @param gitCommit the commit of the checkout the code runs from, or null when unknown
 * @param command the command line (or "java" for the Java API)
 * @param engine the DJL engine and its version
 * @param device the device
 * @param java the Java runtime version
 * @param started when the run started
 * @param finished when it finished, or null while it runs
 */
public record RunInfo(String version, String gitCommit, String command, String engine, String device, String java,
        Instant started, Instant finished) {

    /**
     * Provenance of a run starting now.
     *
     * @param command the command line, or a description of the caller
     * @param device the device
     * @return the provenance, not yet finished
     */
    public static RunInfo start(String command, Device device) {
        Engine e = Engine.getInstance();
        return new RunInfo(currentVersion(), gitCommit(home()), command, e.getEngineName() + " " + e.getVersion(),
                Devices.name(device), System.getProperty("java.version"), Instant.now(), null);
    }

    /**
     * Provenance of a run starting now that uses no deep-learning engine (plain Java arithmetic): the engine is
     * recorded as "none" and the device as the JVM's CPU, and no engine is loaded.
     *
     * @param command the command line, or a description of the caller
     * @return the provenance, not yet finished
     */
    public static RunInfo startWithoutEngine(String command) {
        return new RunInfo(currentVersion(), gitCommit(home()), command, "none (plain Java)", "cpu",
                System.getProperty("java.version"), Instant.now(), null);
    }

    /**
     * The command line that started this JVM, for provenance: {@code distill4j ARGS} when the command line tool
     * recorded it in the system property {@value #COMMAND_PROPERTY}, else {@code java MAIN ARGS} from the JVM.
     *
     * @return the command line
     */
    public static String commandLine() {
        String c = System.getProperty(COMMAND_PROPERTY);
        if (c != null && !c.isBlank()) {
            return c;
        }
        String main = System.getProperty("sun.java.command");
        return main == null || main.isBlank() ? "java" : "java " + main;
    }

    /** The system property in which a command line tool records its command line ({@link #commandLine()}). */
    public static final String COMMAND_PROPERTY = "distill4j.command";

    /**
     * Records a command line tool's command line for {@link #commandLine()}, each argument quoted the way a POSIX
     * shell would need it.
     *
     * @param program the program's name, e.g. {@code distill4j}
     * @param args its arguments
     */
    public static void recordCommandLine(String program, String... args) {
        StringBuilder b = new StringBuilder(program);
        for (String a : args) {
            b.append(' ').append(a.matches("[A-Za-z0-9_./=:,@%+-]+") ? a : "'" + a.replace("'", "'\\''") + "'");
        }
        System.setProperty(COMMAND_PROPERTY, b.toString());
    }

    /** @return this provenance with the end time set to now */
    public RunInfo finish() {
        return new RunInfo(version, gitCommit, command, engine, device, java, started, Instant.now());
    }

    /** @return the fields as an ordered map, for JSON */
    public Map<String, Object> asMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("distill4j", version);
        m.put("gitCommit", gitCommit);
        m.put("command", command);
        m.put("engine", engine);
        m.put("device", device);
        m.put("java", java);
        m.put("started", started == null ? null : started.toString());
        m.put("finished", finished == null ? null : finished.toString());
        return m;
    }

    /** @return the distill4j version from the build, or "unknown" */
    public static String currentVersion() {
        try (InputStream in = RunInfo.class.getResourceAsStream("/io/distill4j/pipeline/version.properties")) {
            if (in != null) {
                Properties p = new Properties();
                p.load(in);
                String v = p.getProperty("version");
                if (v != null && !v.startsWith("${")) {
                    return v;
                }
            }
        } catch (IOException e) {
            // fall through
        }
        return "unknown";
    }

    /** @return the distill4j home ({@code -Ddistill4j.home}, set by the launcher), else the working directory */
    static Path home() {
        return Path.of(System.getProperty("distill4j.home", "."));
    }

    /**
     * The commit a checkout is at, read from its {@code .git} (a folder, or a worktree's {@code gitdir:} file).
     *
     * @param root the checkout's root
     * @return the 40-hex commit, or null when the root is not a checkout or the commit cannot be read
     */
    static String gitCommit(Path root) {
        try {
            Path git = root.toAbsolutePath().normalize().resolve(".git");
            if (Files.isRegularFile(git)) {
                String line = Files.readString(git, StandardCharsets.UTF_8).trim();
                if (!line.startsWith("gitdir:")) {
                    return null;
                }
                git = git.getParent().resolve(line.substring(7).trim()).normalize();
            }
            if (!Files.isDirectory(git)) {
                return null;
            }
            String head = Files.readString(git.resolve("HEAD"), StandardCharsets.UTF_8).trim();
            if (!head.startsWith("ref:")) {
                return head.matches("[0-9a-f]{40}") ? head : null;
            }
            String ref = head.substring(4).trim();
            Path common = git;
            Path commonFile = git.resolve("commondir");
            if (Files.isRegularFile(commonFile)) {
                common = git.resolve(Files.readString(commonFile, StandardCharsets.UTF_8).trim()).normalize();
            }
            for (Path dir : new Path[] {git, common}) {
                Path f = dir.resolve(ref);
                if (Files.isRegularFile(f)) {
                    return Files.readString(f, StandardCharsets.UTF_8).trim();
                }
            }
            Path packed = common.resolve("packed-refs");
            if (Files.isRegularFile(packed)) {
                for (String l : Files.readAllLines(packed, StandardCharsets.UTF_8)) {
                    if (l.endsWith(" " + ref)) {
                        return l.substring(0, l.indexOf(' '));
                    }
                }
            }
            return null;
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }
}
