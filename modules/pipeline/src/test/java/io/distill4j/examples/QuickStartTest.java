package io.distill4j.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The README's Java quick start compiles, runs, stays short and prints three students' metrics. */
class QuickStartTest {

    private static final Path SOURCE = Path.of("src/test/java/io/distill4j/examples/QuickStart.java");

    @Test
    void theQuickStartRunsAndPrintsItsTable(@TempDir Path dir) {
        PrintStream out = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            QuickStart.main(new String[] {dir.resolve("run").toString()});
        } finally {
            System.setOut(out);
        }
        String table = captured.toString(StandardCharsets.UTF_8);
        assertEquals(3, table.lines().filter(l -> l.matches("\\| [123] \\| .*")).count(), table);
        assertTrue(table.contains("| **mean ± 95% CI** |")
                && table.contains("95% Student-t interval of the mean over 3 students, t(2) = 4.303"), table);
        Matcher m = Pattern.compile("\\| \\*\\*mean ± 95% CI\\*\\* \\|  \\| (0\\.\\d+) ±").matcher(table);
        assertTrue(m.find(), table);
        assertTrue(Double.parseDouble(m.group(1)) > 0.85, "digits students should be accurate: " + m.group(1));
        assertTrue(Files.isRegularFile(dir.resolve("run/model-card.md")));
        assertEquals(List.of("seed-1", "seed-2", "seed-3"), List.of(dir.resolve("run/students").toFile().list()).stream()
                .sorted().toList());
    }

    @Test
    void theQuickStartStaysWithinTwentyLinesAndEightTypes() throws IOException {
        String src = Files.readString(SOURCE);
        String body = src.substring(src.indexOf("public static void main"));
        body = body.substring(body.indexOf('{') + 1, body.lastIndexOf('}'));
        body = body.substring(0, body.lastIndexOf('}'));
        long lines = body.lines().filter(l -> !l.isBlank()).count();
        assertTrue(lines <= 20, lines + " lines in main");
        long types = src.lines().filter(l -> l.startsWith("import io.distill4j.")).count();
        assertTrue(types <= 8, types + " distill4j types named");
        String readme = Files.readString(Path.of("../../README.md"));
        for (String line : body.lines().filter(l -> !l.isBlank()).map(String::strip).toList()) {
            assertTrue(readme.contains(line), "README shows the quick start's line: " + line);
        }
    }
}
