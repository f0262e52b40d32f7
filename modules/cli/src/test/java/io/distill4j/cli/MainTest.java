package io.distill4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

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

    @Test
    void unknownCommandIsAOneLineUserError() {
        Object[] r = run("frobnicate");
        assertEquals(2, r[0]);
        String err = ((String) r[1]).strip();
        assertFalse(err.contains("\n"), err);
        assertTrue(err.contains("'frobnicate'"), err);
        assertFalse(err.contains("Exception"), err);
    }

    @Test
    void unknownOptionIsAOneLineUserError() {
        Object[] r = run("demo", "--no-such-option");
        assertEquals(2, r[0]);
        String err = ((String) r[1]).strip();
        assertFalse(err.contains("\n"), err);
        assertTrue(err.contains("--no-such-option"), err);
    }

    @Test
    void missingDatasetIsAOneLineUserError(@TempDir Path dir) {
        Object[] r = run("demo", "--data", dir.toString(), "--runs", dir.resolve("runs").toString());
        assertEquals(2, r[0]);
        String err = ((String) r[1]).strip();
        assertEquals("distill4j: error: " + dir.resolve("digits.csv") + ": dataset file not found", err);
    }

    @Test
    void malformedDatasetNamesLineAndValue(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("digits.csv"), "1,2,3\n4,oops,5\n");
        Object[] r = run("demo", "--data", dir.toString(), "--runs", dir.resolve("runs").toString());
        assertEquals(2, r[0]);
        String err = ((String) r[1]).strip();
        assertTrue(err.endsWith("digits.csv: line 2: field feature 1: not a finite number: 'oops'"), err);
        assertFalse(err.contains("\n"), err);
    }

    @Test
    void badOptionValuesAreUserErrors(@TempDir Path dir) {
        Object[] r = run("demo", "--students", "1", "--runs", dir.toString());
        assertEquals(2, r[0]);
        assertTrue(((String) r[1]).contains("students must be at least 2"), (String) r[1]);
        Object[] t = run("demo", "--targets", "mean,nope", "--runs", dir.toString());
        assertEquals(2, t[0]);
        assertTrue(((String) t[1]).contains("unknown target 'nope'"), (String) t[1]);
        Object[] d = run("demo", "--device", "tpu", "--runs", dir.toString());
        assertEquals(2, d[0]);
        assertTrue(((String) d[1]).contains("unknown device 'tpu'"), (String) d[1]);
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
