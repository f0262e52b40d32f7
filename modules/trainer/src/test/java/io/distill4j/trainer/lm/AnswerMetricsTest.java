package io.distill4j.trainer.lm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.distill4j.models.lm.SentenceEmbedder;
import io.distill4j.trainer.lm.AnswerMetrics.Verdict;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@link AnswerMetrics} against values worked out by hand on a three-text embedder. */
class AnswerMetricsTest {
    /** "a" = (1, 0), "b" = (0, 1), "c" = (0.6, 0.8): cos(a, b) = 0, cos(c, a) = 0.6, cos(c, b) = 0.8. */
    static final SentenceEmbedder EMB = new SentenceEmbedder() {
        final Map<String, double[]> v = Map.of("a", new double[] {1, 0}, "b", new double[] {0, 1}, "c",
                new double[] {0.6, 0.8});

        @Override
        public int dimension() {
            return 2;
        }

        @Override
        public String name() {
            return "three texts";
        }

        @Override
        public double[] embed(String text) {
            return v.get(text);
        }
    };

    @Test
    void twoStudentsTwoQuestionsTwoSamples() {
        List<String> refs = List.of("a", "b");
        List<String[]> greedy = List.of(new String[] {"a", "c"}, new String[] {"b", "b"});
        List<String[][]> sampled = List.of(new String[][] {{"a", "b"}, {"b", "b"}}, new String[][] {{"a", "a"}, {"c", "a"}});
        AnswerMetrics.Values known = new AnswerMetrics.Values(refs);
        AnswerMetrics.Result r = AnswerMetrics.of(refs, greedy, sampled, EMB,
                (q, answer) -> AnswerMetrics.judge(refs.get(q), known, answer) == Verdict.CONTRADICTS);
        // greedy similarity: student 0 (1 + 0.8) / 2, student 1 (0 + 1) / 2
        assertArrayEquals(new double[] {0.9, 0.5}, r.similarityGreedy(), 1e-12);
        // "b" to question "a" and "a" to question "b" contradict; "c" names no known value
        assertArrayEquals(new double[] {0, 0.5}, r.hallucinationGreedy(), 1e-12);
        // sampled similarities: s0 q0 {1, 0}, q1 {1, 1}; s1 q0 {1, 1}, q1 {0.8, 0}
        assertArrayEquals(new double[] {0.75, 0.7}, r.similaritySampled(), 1e-12);
        assertArrayEquals(new double[] {0.25, 0.25}, r.hallucinationSampled(), 1e-12);
        assertArrayEquals(new double[] {0.5, 1}, r.similaritySampledByQuestion()[0], 1e-12);
        assertArrayEquals(new double[] {1, 0.4}, r.similaritySampledByQuestion()[1], 1e-12);
        assertArrayEquals(new double[] {0.5, 0}, r.hallucinationSampledByQuestion()[0], 1e-12);
        assertArrayEquals(new double[] {0, 0.5}, r.hallucinationSampledByQuestion()[1], 1e-12);
        // intra (ddof 1): s0 (var{1, 0} = 0.5 + var{1, 1} = 0) / 2; s1 (0 + var{0.8, 0} = 0.32) / 2
        assertArrayEquals(new double[] {0.25, 0.16}, r.intraStudentVariance(), 1e-12);
        // inter: var{0.5, 1} = 0.125 and var{1, 0.4} = 0.18, averaged
        assertEquals(0.1525, r.interStudentVariance(), 1e-12);
        // systematic: q0 mean of a, b, a, a = (0.75, 0.25), cos with a = 3 / sqrt(10);
        // q1 mean of b, b, c, a = (0.4, 0.7), cos with b = 0.7 / sqrt(0.65)
        assertEquals(((1 - 3 / Math.sqrt(10)) + (1 - 0.7 / Math.sqrt(0.65))) / 2, r.systematicNoise(), 1e-12);
        // over the 2 questions with t(1) = 12.706204736 (tables): half-width t * |x1 - x0| / 2 (std |x1 - x0| / sqrt 2
        // over sqrt 2)
        assertArrayEquals(new double[] {0.125, 0.18}, r.interStudentVarianceByQuestion(), 1e-12);
        io.distill4j.trainer.stats.Summary inter = r.interStudentVarianceOverQuestions();
        assertEquals(2, inter.n());
        assertEquals(0.1525, inter.mean(), 1e-12);
        assertEquals(12.706204736 * 0.055 / 2, inter.halfWidth(), 1e-8);
        double q0 = 1 - 3 / Math.sqrt(10);
        double q1 = 1 - 0.7 / Math.sqrt(0.65);
        assertArrayEquals(new double[] {q0, q1}, r.systematicNoiseByQuestion(), 1e-12);
        io.distill4j.trainer.stats.Summary sys = r.systematicNoiseOverQuestions();
        assertEquals((q0 + q1) / 2, sys.mean(), 1e-12);
        assertEquals(12.706204736 * (q1 - q0) / 2, sys.halfWidth(), 1e-8);
    }

    @Test
    void threeQuestionsGiveTheirStudentTIntervalWithTwoDegreesOfFreedom() {
        // sampled similarities per question: s0 {a, a} = 1, s1 {b, b} = 0 to "a"; s0 {b, b} = 1, s1 {c, c} = 0.8 to
        // "b"; both {a, a} = 0.6 to "c"
        List<String> refs = List.of("a", "b", "c");
        List<String[]> greedy = List.of(new String[] {"a", "b", "c"}, new String[] {"a", "b", "c"});
        List<String[][]> sampled = List.of(new String[][] {{"a", "a"}, {"b", "b"}, {"a", "a"}},
                new String[][] {{"b", "b"}, {"c", "c"}, {"a", "a"}});
        AnswerMetrics.Result r = AnswerMetrics.of(refs, greedy, sampled, EMB, null);
        // inter (ddof 1) per question: var{1, 0} = 0.5, var{1, 0.8} = 0.02, var{0.6, 0.6} = 0
        assertArrayEquals(new double[] {0.5, 0.02, 0}, r.interStudentVarianceByQuestion(), 1e-12);
        io.distill4j.trainer.stats.Summary inter = r.interStudentVarianceOverQuestions();
        // mean 0.52 / 3; sum of squared deviations 0.25 + 0.0004 - 0.52^2 / 3 = 0.160267, over 2: std 0.283078;
        // t(2) = 4.302652730 (tables): half-width 4.302652730 * std / sqrt(3) = 0.703206
        double std = Math.sqrt((0.2504 - 0.2704 / 3) / 2);
        assertEquals(0.52 / 3, inter.mean(), 1e-12);
        assertEquals(0.283078, inter.std(), 1e-6);
        assertEquals(std, inter.std(), 1e-12);
        assertEquals(4.302652730 * std / Math.sqrt(3), inter.halfWidth(), 1e-8);
        assertEquals(0.703206, inter.halfWidth(), 1e-6);
        // systematic per question: mean of {a, a, b, b} = (0.5, 0.5) against a: 1 - 1 / sqrt 2; mean of {b, b, c, c} =
        // (0.3, 0.9) against b: 1 - 0.9 / sqrt 0.9; mean of {a x 4} = a against c: 1 - 0.6
        double[] sys = {1 - 1 / Math.sqrt(2), 1 - 0.9 / Math.sqrt(0.9), 0.4};
        assertArrayEquals(sys, r.systematicNoiseByQuestion(), 1e-12);
        assertEquals((sys[0] + sys[1] + sys[2]) / 3, r.systematicNoiseOverQuestions().mean(), 1e-12);
    }

    @Test
    void withoutSamplesOrJudgeOnlyTheGreedySimilarity() {
        AnswerMetrics.Result r = AnswerMetrics.of(List.of("a", "b"), List.<String[]>of(new String[] {"c", "c"}), null,
                EMB, null);
        assertArrayEquals(new double[] {0.7}, r.similarityGreedy(), 1e-12);
        assertNull(r.hallucinationGreedy());
        assertNull(r.similaritySampled());
        assertNull(r.intraStudentVariance());
        assertTrue(Double.isNaN(r.interStudentVariance()));
        assertTrue(Double.isNaN(r.systematicNoise()));
        assertNull(r.interStudentVarianceOverQuestions());
        assertNull(r.systematicNoiseOverQuestions());
    }

    @Test
    void judgeFindsMultiWordValuesLongestFirst() {
        AnswerMetrics.Values known = new AnswerMetrics.Values(List.of("New York", "york", "Paris", "  "));
        assertEquals(3, known.size());
        assertEquals(Verdict.CORRECT, AnswerMetrics.judge("new york", known, " New York!"));
        assertEquals(Verdict.PARTIAL, AnswerMetrics.judge("new york", known, "it is new york, i think"));
        assertEquals(Verdict.CONTRADICTS, AnswerMetrics.judge("new york", known, "york"));
        assertEquals(Verdict.CONTRADICTS, AnswerMetrics.judge("new york", known, "paris or new york"));
        assertEquals(Verdict.NO_VALUE, AnswerMetrics.judge("new york", known, "a big city"));
        assertEquals(Verdict.NO_VALUE, AnswerMetrics.judge("new york", known, ""));
        // the reference "york": "new york" is another known value, "york city" names the reference
        assertEquals(Verdict.CONTRADICTS, AnswerMetrics.judge("york", known, "new york"));
        assertEquals(Verdict.PARTIAL, AnswerMetrics.judge("york", known, "york city"));
        // a reference the values do not list is still recognised
        assertEquals(Verdict.PARTIAL, AnswerMetrics.judge("lima", known, "lima, peru"));
        assertEquals(Verdict.CONTRADICTS, AnswerMetrics.judge("lima", known, "lima or paris"));
    }
}
