package io.distill4j.teacher.http;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;

/**
 * Issue 13, item 5: CPU time of one parse of the llama.cpp-shaped completion body ({@link
 * TeacherHttpClientBenchmark#completionBody}: 16 tokens, top-5 with ids and bytes, about 7.6 KB) by the
 * streaming pass of {@link ResponseParser} and by its tree parse, in alternating blocks on one thread, measured as
 * that thread's CPU time (a loaded machine's waiting does not count). Prints the blocks after the warm-up and the
 * medians. Usage: {@code java -cp modules/teacher/target/classes:benchmarks/target/benchmarks.jar
 * io.distill4j.teacher.http.ResponseParserCpuComparison [BLOCKS] [PARSES_PER_BLOCK]}.
 */
public final class ResponseParserCpuComparison {

    private ResponseParserCpuComparison() {
    }

    /**
     * Runs the comparison.
     *
     * @param args optional: blocks per side after 2 warm-up blocks each (default 6), parses per block (20,000)
     */
    public static void main(String[] args) {
        int blocks = args.length > 0 ? Integer.parseInt(args[0]) : 6;
        int n = args.length > 1 ? Integer.parseInt(args[1]) : 20_000;
        ResponseParser parser = new ResponseParser(5);
        String body = TeacherHttpClientBenchmark.completionBody(16, 5);
        List<Completion> streamed = parser.parseStreaming(body, 0);
        if (streamed == null || !streamed.equals(parser.parseTree(body, "bench", 0))) {
            throw new IllegalStateException("the streaming pass must accept the body and agree with the tree parse");
        }
        com.sun.management.ThreadMXBean cpu = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        List<Double> stream = new ArrayList<>();
        List<Double> tree = new ArrayList<>();
        long sink = 0;
        for (int b = 0; b < 2 * (blocks + 2); b++) {
            boolean streaming = b % 2 == 0;
            long t0 = cpu.getCurrentThreadCpuTime();
            for (int i = 0; i < n; i++) {
                sink += (streaming ? parser.parseStreaming(body, i) : parser.parseTree(body, "bench", i)).size();
            }
            double us = (cpu.getCurrentThreadCpuTime() - t0) / 1e3 / n;
            if (b >= 4) {
                (streaming ? stream : tree).add(us);
            }
        }
        Collections.sort(stream);
        Collections.sort(tree);
        double ms = median(stream);
        double mt = median(tree);
        System.out.printf(Locale.ROOT, "body %d chars, %d parses per block (%d)%nstreaming CPU us per parse %s%n"
                + "tree      CPU us per parse %s%nmedian streaming %.2f us, tree %.2f us, streaming / tree %.3f%n",
                body.length(), n, sink, fmt(stream), fmt(tree), ms, mt, ms / mt);
    }

    private static double median(List<Double> sorted) {
        int m = sorted.size();
        return m % 2 == 1 ? sorted.get(m / 2) : (sorted.get(m / 2 - 1) + sorted.get(m / 2)) / 2;
    }

    private static String fmt(List<Double> v) {
        StringBuilder b = new StringBuilder();
        v.forEach(x -> b.append(String.format(Locale.ROOT, " %.2f", x)));
        return b.toString().strip();
    }
}
