package io.distill4j.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class ConsoleProgressTest {

    @Test
    void ratesKeepThreeSignificantFiguresAndTheirLeadingZero() {
        assertEquals("0.800", ConsoleProgress.formatRate(0.8));
        assertEquals("0.00123", ConsoleProgress.formatRate(0.001234));
        assertEquals("1.50", ConsoleProgress.formatRate(1.5));
        assertEquals("12.3", ConsoleProgress.formatRate(12.34));
        assertEquals("1234", ConsoleProgress.formatRate(1234.4));
        assertEquals("0", ConsoleProgress.formatRate(0));
        assertEquals("?", ConsoleProgress.formatRate(Double.NaN));
        assertEquals("1:01:05", ConsoleProgress.formatDuration(Duration.ofSeconds(3665)));
    }

    /** Off a terminal: plain lines at the interval, no carriage return, unit, rate, ETA, the message in full. */
    @Test
    void offATerminalItWritesPlainLinesAtTheInterval() throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        long started = System.nanoTime();
        try (ConsoleProgress p = ConsoleProgress.builder().setTask("sample").setTotal(100).optUnit("items")
                .optStartFrom(10).optMode(ConsoleProgress.Mode.LINES).optLineInterval(Duration.ofMillis(200))
                .optOutput(new PrintStream(bytes, true, StandardCharsets.UTF_8)).build()) {
            assertEquals(ConsoleProgress.Mode.LINES, p.mode());
            for (int done = 11; done <= 100; done++) {
                p.stepTo(done);
                p.setMessage("last " + done);
                Thread.sleep(10);
            }
        }
        double seconds = (System.nanoTime() - started) / 1e9;
        String out = bytes.toString(StandardCharsets.UTF_8);
        assertFalse(out.contains("\r"), out);
        List<String> lines = Arrays.asList(out.split("\n"));
        // 90 steps of 10 ms or more: a line every 200 ms after the first 100 ms, and the last one
        assertTrue(lines.size() >= 3 && lines.size() <= seconds / 0.2 + 2, lines.size() + " lines in " + seconds + " s:\n"
                + out);
        Pattern line = Pattern.compile("sample: \\d+% \\d+/100 items, \\d+(\\.\\d+)? items/s, 0:\\d\\d:\\d\\d elapsed, ETA 0:\\d\\d:\\d\\d,"
                + " last \\d+");
        for (String l : lines.subList(0, lines.size() - 1)) {
            assertTrue(line.matcher(l).matches(), l + " in\n" + out);
        }
        String last = lines.get(lines.size() - 1);
        assertTrue(Pattern.compile("sample: 100% 100/100 items, \\d+(\\.\\d+)? items/s, 0:\\d\\d:\\d\\d elapsed, done, last 100")
                .matcher(last).matches(), last);
        double rate = Double.parseDouble(last.replaceAll(".*items, ([0-9.]+) items/s.*", "$1"));
        // 90 items after the start at 10, each after a sleep of at least 10 ms, all within `seconds`
        assertTrue(rate >= 0.95 * 90 / seconds && rate <= 1.05 * 100, "90 items in " + seconds + " s, rate " + rate);
    }

    @Test
    void aJobShorterThanHalfTheIntervalWritesNothingOffATerminal() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ConsoleProgress p = ConsoleProgress.builder().setTask("quick").setTotal(5).optMode(ConsoleProgress.Mode.LINES)
                .optOutput(new PrintStream(bytes, true, StandardCharsets.UTF_8)).build()) {
            p.stepBy(5);
        }
        assertEquals("", bytes.toString(StandardCharsets.UTF_8));
    }

    @Test
    void onATerminalTheBarRedrawsInPlaceWithUnitRateEtaAndMessage() throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ConsoleProgress p = ConsoleProgress.builder().setTask("train").setTotal(50).optUnit("updates")
                .optShowRate(false).optMode(ConsoleProgress.Mode.BAR)
                .optOutput(new PrintStream(bytes, true, StandardCharsets.UTF_8)).build()) {
            for (int i = 1; i <= 50; i++) {
                p.stepTo(i);
                p.setMessage("loss 0.4321, 1234 items/s");
                Thread.sleep(20);
            }
        }
        String out = bytes.toString(StandardCharsets.UTF_8);
        assertTrue(out.contains("\r"), out);
        String last = out.substring(out.lastIndexOf('\r') + 1).trim();
        assertTrue(Pattern.compile("train 100% \\[=+\\] 50/50 updates \\(0:\\d\\d:\\d\\d / 0:00:00\\) loss 0.4321, 1234 items/s")
                .matcher(last).matches(), last);
    }

    @Test
    void settingsAreValidated() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ConsoleProgress.builder().setTask("x").build());
        assertEquals("progress total must be set and non-negative, got -1", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ConsoleProgress.builder().setTask("x").setTotal(1)
                .optLineInterval(Duration.ZERO).build());
        assertEquals("progress line interval must be positive, got PT0S", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ConsoleProgress.builder().setTotal(1).build());
        assertEquals("a progress display needs a task name", e.getMessage());
    }
}
