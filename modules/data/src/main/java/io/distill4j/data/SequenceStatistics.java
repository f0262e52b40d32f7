package io.distill4j.data;

import java.io.IOException;
import java.nio.file.Files;

/**
 * Summary of a sequence cache, computed in one streaming pass (one shard in memory at a time).
 *
 * <p>Per response position, the teacher's distribution is the K top probabilities plus the tail bucket;
 * its entropy counts the tail as one outcome (a lower bound of the full-vocabulary entropy).
 *
 * @param items prompts
 * @param responses responses (items x k)
 * @param tokens response tokens in all
 * @param meanResponseLength tokens per response
 * @param meanTop1Probability the average probability of the rank-1 token
 * @param meanTailMass the average probability outside the top-K
 * @param meanTopKEntropy the average entropy of top-K plus tail, in nats
 * @param bytesPerToken the shards' total size divided by the number of response tokens
 */
public record SequenceStatistics(long items, long responses, long tokens, double meanResponseLength,
        double meanTop1Probability, double meanTailMass, double meanTopKEntropy, double bytesPerToken) {

    /**
     * Computes the summary of a sequence cache.
     *
     * @param cache the cache
     * @return the summary
     */
    public static SequenceStatistics of(TeacherCache cache) {
        CacheManifest m = cache.manifest();
        int topK = m.sequence().topK();
        long tokens = 0;
        double top1 = 0;
        double tail = 0;
        double entropy = 0;
        try (SequenceCacheReader r = cache.sequence()) {
            for (long i = 0; i < r.items(); i++) {
                for (SequenceSample s : r.read(i).samples()) {
                    for (int t = 0; t < s.length(); t++) {
                        tokens++;
                        top1 += Math.exp(s.topLogprobs()[t * topK]);
                        double pt = Math.exp(s.tailLogMass()[t]);
                        tail += pt;
                        double h = pt > 0 ? -pt * Math.log(pt) : 0;
                        for (int q = 0; q < topK; q++) {
                            double lp = s.topLogprobs()[t * topK + q];
                            h -= Math.exp(lp) * lp;
                        }
                        entropy += h;
                    }
                }
            }
        }
        long bytes = 0;
        for (CacheManifest.Shard s : m.shards()) {
            try {
                bytes += Files.size(cache.dir().resolve(s.file()));
            } catch (IOException e) {
                throw new BadInputException(cache.dir().resolve(s.file()) + ": cannot read size: " + Errors.reason(e), e);
            }
        }
        long responses = m.items() * m.k();
        double t = Math.max(1, tokens);
        return new SequenceStatistics(m.items(), responses, tokens, responses == 0 ? 0 : tokens / (double) responses,
                top1 / t, tail / t, entropy / t, bytes / t);
    }
}
