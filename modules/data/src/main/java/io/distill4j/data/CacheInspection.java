package io.distill4j.data;

import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;

/**
 * What {@code distill4j cache inspect} and {@code distill4j cache verify} print: plain text built from
 * the data module, so the CLI only formats exit codes.
 */
public final class CacheInspection {
    private CacheInspection() {
    }

    /**
     * Describes a cache: task, k, sizes, provenance and summary statistics (one streaming pass).
     *
     * @param dir the cache directory
     * @return several lines of text
     * @throws BadInputException if the cache cannot be read
     */
    public static String inspect(Path dir) {
        TeacherCache cache = TeacherCache.open(dir);
        CacheManifest m = cache.manifest();
        StringBuilder b = new StringBuilder();
        line(b, "cache", dir.toString());
        line(b, "format", "v" + m.formatVersion());
        line(b, "task", m.task());
        line(b, "k", Integer.toString(m.k()));
        if (m.sequenceTask()) {
            line(b, "vocabulary", Integer.toString(m.sequence().vocabSize()));
            line(b, "top-K", m.sequence().topK() + " (ids " + m.sequence().idType() + ", log-probs "
                    + m.sequence().logprobEncoding() + ", " + m.sequence().compression() + ")");
        } else {
            line(b, CacheManifest.CLASSIFICATION.equals(m.task()) ? "classes" : "outputs", Integer.toString(m.width()));
            line(b, "signal", m.signal() + " (" + m.dtype() + ")");
        }
        line(b, "items", Long.toString(m.items()));
        long bytes = 0;
        for (CacheManifest.Shard s : m.shards()) {
            bytes += s.bytes();
        }
        line(b, "shards", m.shards().size() + " (" + human(bytes) + ")");
        line(b, "dataset", m.datasetFingerprint());
        for (Map.Entry<String, Object> e : new java.util.TreeMap<>(m.teacher()).entrySet()) {
            line(b, "teacher." + e.getKey(), String.valueOf(e.getValue()));
        }
        if (m.items() == 0) {
            return b.toString();
        }
        if (m.sequenceTask()) {
            SequenceStatistics s = SequenceStatistics.of(cache);
            line(b, "responses", Long.toString(s.responses()));
            line(b, "tokens", s.tokens() + String.format(Locale.ROOT, " (%.1f per response, %.1f bytes each)",
                    s.meanResponseLength(), s.bytesPerToken()));
            line(b, "top-1 probability", Numbers.fixed(s.meanTop1Probability(), 6) + " (mean)");
            line(b, "tail mass", Numbers.fixed(s.meanTailMass(), 6) + " (mean)");
            line(b, "top-K entropy", Numbers.fixed(s.meanTopKEntropy(), 6) + " nats (mean, tail as one bucket)");
        } else {
            CacheStatistics s = CacheStatistics.of(cache);
            line(b, "variance ddof=0", Numbers.fixed(s.meanVariance0(), 6) + " (mean over items and outputs)");
            line(b, "variance ddof=1", Numbers.fixed(s.meanVariance1(), 6) + " (mean over items and outputs)");
            if (CacheManifest.CLASSIFICATION.equals(m.task())) {
                line(b, "entropy of mean", Numbers.fixed(s.meanEntropyOfMean(), 6) + " nats (total uncertainty, mean)");
                line(b, "mean entropy", Numbers.fixed(s.meanMeanEntropy(), 6) + " nats (aleatoric, mean)");
                line(b, "mutual information", Numbers.fixed(s.meanMutualInformation(), 6) + " nats (epistemic, mean; max "
                        + Numbers.fixed(s.maxMutualInformation(), 6) + ")");
            }
        }
        return b.toString();
    }

    /**
     * Verifies a cache and describes the result.
     *
     * @param dir the cache directory
     * @return the verification (faults by shard and row)
     * @throws BadInputException if the manifest cannot be read
     */
    public static CacheVerification verify(Path dir) {
        return TeacherCache.open(dir).verifyReport();
    }

    /**
     * Formats a verification as text: one line per fault, or one line saying the cache is sound.
     *
     * @param v the verification
     * @return the text
     */
    public static String describe(CacheVerification v) {
        if (v.ok()) {
            return String.format(Locale.ROOT, "%s: OK (%d shards, %d items, every SHA-256 matches)%n", v.dir(),
                    v.shards(), v.items());
        }
        StringBuilder b = new StringBuilder();
        for (CacheFault f : v.faults()) {
            b.append(f).append(System.lineSeparator());
        }
        b.append(String.format(Locale.ROOT, "%s: %d fault(s)%n", v.dir(), v.faults().size()));
        return b.toString();
    }

    private static void line(StringBuilder b, String key, String value) {
        b.append(String.format(Locale.ROOT, "%-19s %s%n", key + ":", value));
    }


    private static String human(long bytes) {
        return bytes < 1 << 20 ? bytes + " bytes" : String.format(Locale.ROOT, "%.1f MiB", bytes / (double) (1 << 20));
    }
}
