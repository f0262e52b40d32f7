package io.distill4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The CLI's entry point; every fault case runs through {@link FaultsTest}, which uses the helpers here. */
class MainTest {

    /** Runs the CLI capturing stderr; returns exit code and the captured text. */
    static Object[] run(String... args) {
        PrintStream old = System.err;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setErr(new PrintStream(buf, true, StandardCharsets.UTF_8));
        try {
            int rc = Main.run(args);
            return new Object[] {rc, buf.toString(StandardCharsets.UTF_8)};
        } finally {
            System.setErr(old);
        }
    }

    /**
     * The one line a failed command printed, checking that it is one line and carries no stack trace (the
     * stage lines {@code sample} logs while it works, "distill4j sample: ...", are left out).
     */
    static String oneLine(Object[] result) {
        String err = ((String) result[1]).lines().filter(l -> !l.startsWith("distill4j sample: "))
                .collect(java.util.stream.Collectors.joining("\n")).strip();
        assertFalse(err.contains("\n"), err);
        assertFalse(err.contains("Exception") || err.contains("\tat "), err);
        return err;
    }

    @Test
    void helpListsTheCommands() {
        PrintStream old = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
        try {
            assertEquals(0, Main.run("--help"));
        } finally {
            System.setOut(old);
        }
        assertTrue(buf.toString(StandardCharsets.UTF_8).contains("demo"));
    }
}
