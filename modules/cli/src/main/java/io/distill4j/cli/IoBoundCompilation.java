package io.distill4j.cli;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * Keeps HotSpot's optimising compiler (C2) out of an I/O-bound phase of this process, such as sampling a teacher
 * server: the methods that get hot are compiled by C1 alone, through a compiler directive added at run time (JEP 165,
 * the {@code Compiler.directives_add} diagnostic command) and removed when closed.
 *
 * <p>Why: sampling an HTTP teacher waits on the server; its client code runs well at C1's level, while C2 compiling the
 * JSON, HTTP and Arrow paths cost about 2 s of CPU in a 6-second, 1,024-completion run on 2 cores, CPU that a
 * server on the same machine (or the next job) needs (benchmarks/RESULTS.md, issue 13 item 5). On a JVM without the
 * diagnostic command (not HotSpot) nothing changes.
 */
final class IoBoundCompilation implements AutoCloseable {

    private static final Logger LOG = LogManager.getLogger(IoBoundCompilation.class);
    private static final String DIRECTIVE = "[{ match: \"*.*\", c2: { Exclude: true } }]";

    private final boolean added;

    private IoBoundCompilation(boolean added) {
        this.added = added;
    }

    /**
     * Excludes C2 until {@link #close}.
     *
     * @return the scope; closing it removes the directive
     */
    static IoBoundCompilation begin() {
        Path file = null;
        try {
            file = Files.createTempFile("distill4j-c1-", ".json");
            Files.writeString(file, DIRECTIVE);
            Object out = invoke("compilerDirectivesAdd", file.toString());
            boolean ok = String.valueOf(out).contains("1 compiler directives added");
            LOG.debug("compiler directive for an I/O-bound phase: {}", out);
            return new IoBoundCompilation(ok);
        } catch (IOException | JMException | RuntimeException e) {
            LOG.debug("no compiler directive (C2 stays on): {}", e.toString());
            return new IoBoundCompilation(false);
        } finally {
            if (file != null) {
                try {
                    Files.deleteIfExists(file);
                } catch (IOException e) {
                    LOG.debug("could not delete {}: {}", file, e.toString());
                }
            }
        }
    }

    /** @return whether the directive is in force */
    boolean active() {
        return added;
    }

    /** Removes the directive: methods that get hot from now on are compiled by C2 again. */
    @Override
    public void close() {
        if (added) {
            try {
                invoke("compilerDirectivesRemove");
            } catch (JMException | RuntimeException e) {
                LOG.debug("could not remove the compiler directive: {}", e.toString());
            }
        }
    }

    private static Object invoke(String command, String... args) throws JMException {
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        return server.invoke(new ObjectName("com.sun.management:type=DiagnosticCommand"), command,
                new Object[] {args}, new String[] {String[].class.getName()});
    }
}
