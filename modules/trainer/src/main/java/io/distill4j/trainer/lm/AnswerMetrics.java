package io.distill4j.trainer.lm;

import io.distill4j.models.lm.AnswerSelection;
import io.distill4j.models.lm.SentenceEmbedder;
import io.distill4j.trainer.stats.Descriptive;
import io.distill4j.trainer.stats.Summary;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * How several LM students' answers to the same questions are scored against reference answers: the metrics of
 * the {@code llm} experiment, which {@code distill4j evaluate} reports too. For S students, Q questions and m
 * sampled answers per student and question:
 * <ul>
 *   <li><b>similarity</b>: cosine of the answer's sentence embedding and the reference's, averaged over questions
 *       (greedy: the one greedy answer; sampled: the mean over the m sampled answers);</li>
 *   <li><b>hallucination rate</b>: the share of answers that {@link Verdict#CONTRADICTS contradict} the known
 *       values ({@link #judge}): they name a known value other than the question's reference;</li>
 *   <li><b>intra-student variance</b>: per student and question, the variance (ddof 1) of the similarity over
 *       the m sampled answers; averaged over questions;</li>
 *   <li><b>inter-student variance</b>: per question, the variance (ddof 1) over the students of their mean
 *       sampled similarity; averaged over questions;</li>
 *   <li><b>systematic noise</b>: per question, 1 - cos(mean embedding of every student's sampled answers,
 *       reference embedding); averaged over questions: the error that survives averaging the students.</li>
 * </ul>
 * Averages over questions are accumulated in question order as sums of x / Q. The two run-level metrics (inter-student
 * variance, systematic noise) are also kept per question, and {@link Result#interStudentVarianceOverQuestions()} and
 * {@link Result#systematicNoiseOverQuestions()} summarise them with the Student-t interval of their mean over the Q
 * questions ({@link Summary}, t with Q - 1 degrees of freedom): the uncertainty that comes from which questions were
 * asked.
 */
public final class AnswerMetrics {

    private AnswerMetrics() {
    }

    /** How an answer stands against a question's reference and the known values. */
    public enum Verdict {
        /** Its words are exactly the reference's. */
        CORRECT,
        /** Names a known value other than the reference: a hallucination. */
        CONTRADICTS,
        /** Names no known value at all (empty, or other words only). */
        NO_VALUE,
        /** Names the reference among other words, none of them another known value. */
        PARTIAL
    }

    /** Whether an answer to a question is a hallucination. */
    @FunctionalInterface
    public interface Judge {
        /**
         * Judges one answer.
         *
         * @param question the question's index
         * @param answer the answer text
         * @return true if the answer contradicts what is known about the question
         */
        boolean contradicts(int question, String answer);
    }

    /**
     * A cell of students' metrics. Arrays indexed by student are the per-student values (to summarise with
     * Student-t intervals); those indexed [question][student] keep the per-question means for breakdowns.
     *
     * @param similarityGreedy per student, the mean similarity of the greedy answers
     * @param hallucinationGreedy per student, the share of greedy answers that contradict; null without a judge
     * @param similaritySampled per student, the mean similarity of the sampled answers; null without sampled answers
     * @param hallucinationSampled per student, the share of sampled answers that contradict; null without a judge
     *     or sampled answers
     * @param intraStudentVariance per student, the intra-student variance; null without sampled answers
     * @param interStudentVariance the inter-student variance; NaN with fewer than two students or no sampled answers
     * @param systematicNoise the systematic noise; NaN without sampled answers
     * @param similaritySampledByQuestion [question][student]: the mean similarity of the sampled answers; null
     *     without sampled answers
     * @param hallucinationSampledByQuestion [question][student]: the share of sampled answers that contradict;
     *     null without a judge or sampled answers
     * @param interStudentVarianceByQuestion per question, the variance (ddof 1) over the students of their mean
     *     sampled similarity; null with fewer than two students or no sampled answers
     * @param systematicNoiseByQuestion per question, 1 - cos(mean embedding of all sampled answers, reference); null
     *     without sampled answers
     */
    public record Result(double[] similarityGreedy, double[] hallucinationGreedy, double[] similaritySampled,
            double[] hallucinationSampled, double[] intraStudentVariance, double interStudentVariance,
            double systematicNoise, double[][] similaritySampledByQuestion, double[][] hallucinationSampledByQuestion,
            double[] interStudentVarianceByQuestion, double[] systematicNoiseByQuestion) {

        /**
         * The inter-student variance as the mean over the questions of its per-question values, with the Student-t
         * interval of that mean over the Q questions.
         *
         * @return the summary (its mean is {@link #interStudentVariance()} up to rounding), or null with fewer than two
         *     students, no sampled answers or fewer than two questions (no interval)
         */
        public Summary interStudentVarianceOverQuestions() {
            return overQuestions(interStudentVarianceByQuestion);
        }

        /**
         * The systematic noise as the mean over the questions of its per-question values, with the Student-t interval
         * of that mean over the Q questions.
         *
         * @return the summary (its mean is {@link #systematicNoise()} up to rounding), or null without sampled answers
         *     or with fewer than two questions (no interval)
         */
        public Summary systematicNoiseOverQuestions() {
            return overQuestions(systematicNoiseByQuestion);
        }

        private static Summary overQuestions(double[] perQuestion) {
            return perQuestion == null || perQuestion.length < 2 ? null : Summary.of(perQuestion);
        }
    }

    /**
     * Scores the students.
     *
     * @param references the Q reference answers
     * @param greedy per student, its Q greedy answers
     * @param sampled per student, its m sampled answers per question ([question][j], the same m for all, m &gt;= 2),
     *     or null for none
     * @param embedder the sentence embedder
     * @param judge the hallucination judge, or null for no hallucination rate
     * @return the metrics
     */
    public static Result of(List<String> references, List<String[]> greedy, List<String[][]> sampled,
            SentenceEmbedder embedder, Judge judge) {
        int n = greedy.size();
        int nq = references.size();
        if (n < 1 || greedy.stream().anyMatch(g -> g.length != nq)) {
            throw new IllegalArgumentException("every student needs one greedy answer per question (" + nq + ")");
        }
        if (sampled != null && (sampled.size() != n || sampled.stream().anyMatch(s -> s.length != nq))) {
            throw new IllegalArgumentException("every student needs sampled answers to each of the " + nq + " questions");
        }
        int m = sampled == null ? 0 : sampled.get(0)[0].length;
        if (sampled != null && (m < 2 || sampled.stream().anyMatch(s -> Arrays.stream(s).anyMatch(a -> a.length != m)))) {
            throw new IllegalArgumentException("sampled answers: the same m >= 2 per student and question are needed");
        }
        double[] simG = new double[n];
        double[] hallG = judge == null ? null : new double[n];
        double[] simS = sampled == null ? null : new double[n];
        double[] hallS = sampled == null || judge == null ? null : new double[n];
        double[] intra = sampled == null ? null : new double[n];
        double[][] perQ = sampled == null ? null : new double[nq][n];
        double[][] hallPerQ = hallS == null ? null : new double[nq][n];
        double systematic = 0;
        double[] systematicByQ = sampled == null ? null : new double[nq];
        for (int q = 0; q < nq; q++) {
            double[] truth = embedder.embed(references.get(q));
            double[][] all = sampled == null ? null : new double[n * m][];
            int a = 0;
            for (int s = 0; s < n; s++) {
                String g = greedy.get(s)[q];
                simG[s] += SentenceEmbedder.cosine(embedder.embed(g), truth) / nq;
                if (hallG != null) {
                    hallG[s] += judge.contradicts(q, g) ? 1.0 / nq : 0;
                }
                if (sampled == null) {
                    continue;
                }
                String[] answers = sampled.get(s)[q];
                double[] sims = new double[m];
                double hall = 0;
                for (int j = 0; j < m; j++) {
                    double[] e = embedder.embed(answers[j]);
                    all[a++] = e;
                    sims[j] = SentenceEmbedder.cosine(e, truth);
                    if (hallS != null) {
                        hall += judge.contradicts(q, answers[j]) ? 1.0 / m : 0;
                    }
                }
                double ms = Descriptive.mean(sims);
                simS[s] += ms / nq;
                intra[s] += Descriptive.variance(sims) / nq;
                perQ[q][s] = ms;
                if (hallS != null) {
                    hallS[s] += hall / nq;
                    hallPerQ[q][s] = hall;
                }
            }
            if (sampled != null) {
                systematicByQ[q] = 1 - SentenceEmbedder.cosine(AnswerSelection.mean(all), truth);
                systematic += systematicByQ[q] / nq;
            }
        }
        double inter = Double.NaN;
        double[] interByQ = null;
        if (sampled != null && n >= 2) {
            inter = 0;
            interByQ = new double[nq];
            for (int q = 0; q < nq; q++) {
                interByQ[q] = Descriptive.variance(perQ[q]);
                inter += interByQ[q] / nq;
            }
        }
        return new Result(simG, hallG, simS, hallS, intra, inter, sampled == null ? Double.NaN : systematic, perQ,
                hallPerQ, interByQ, systematicByQ);
    }

    /**
     * Splits a text into lower-case words (letters and digits), dropping punctuation.
     *
     * @param text the text
     * @return its words
     */
    public static List<String> words(String text) {
        String s = text.toLowerCase(Locale.ROOT).replaceAll("[^\\p{L}\\p{N}]+", " ").strip();
        return s.isEmpty() ? List.of() : Arrays.asList(s.split(" "));
    }

    /**
     * Known values (for example every reference and every known wrong value of a data set), as word sequences
     * ({@link #words}) indexed by their first word, for {@link #judge}.
     */
    public static final class Values {
        private final Map<String, List<List<String>>> byFirstWord = new HashMap<>();
        private final int size;

        /**
         * Indexes the values; blank ones are dropped, duplicates kept once.
         *
         * @param values the known values
         */
        public Values(Collection<String> values) {
            Set<List<String>> distinct = new LinkedHashSet<>();
            for (String v : values) {
                List<String> w = words(v);
                if (!w.isEmpty()) {
                    distinct.add(w);
                }
            }
            for (List<String> w : distinct) {
                byFirstWord.computeIfAbsent(w.get(0), x -> new ArrayList<>()).add(w);
            }
            byFirstWord.values().forEach(l -> l.sort(Comparator.comparingInt(x -> -x.size())));
            size = distinct.size();
        }

        /** @return the number of distinct values */
        public int size() {
            return size;
        }
    }

    /**
     * Judges an answer: {@link Verdict#CORRECT} if its words ({@link #words}) are exactly the reference's;
     * {@link Verdict#CONTRADICTS} if it names a known value other than the reference (a hallucination);
     * {@link Verdict#PARTIAL} if it names the reference among other words; else {@link Verdict#NO_VALUE}. Values
     * are found left to right, the longest one starting at a word first (the reference where two are as long), and
     * the words of a found value are not searched again: the reference "new york" does not name the value "york",
     * while the answer "new york" to the reference "york" names the value "new york". For one-word values (the
     * {@code llm} experiment's knowledge base): the answer contradicts when one of its words is a known value other
     * than the reference.
     *
     * @param reference the question's reference answer
     * @param values the known values (the reference among them or not)
     * @param answer the answer text
     * @return the verdict
     */
    public static Verdict judge(String reference, Values values, String answer) {
        List<String> w = words(answer);
        List<String> ref = words(reference);
        if (!ref.isEmpty() && w.equals(ref)) {
            return Verdict.CORRECT;
        }
        boolean right = false;
        int i = 0;
        while (i < w.size()) {
            List<String> best = !ref.isEmpty() && matches(w, i, ref) ? ref : null;
            for (List<String> v : values.byFirstWord.getOrDefault(w.get(i), List.of())) {
                if (best != null && v.size() <= best.size()) {
                    break; // longest first: none longer than the reference is left
                }
                if (matches(w, i, v)) {
                    best = v;
                    break; // longest first: the first match is the longest
                }
            }
            if (best == null) {
                i++;
            } else if (best.equals(ref)) {
                right = true;
                i += best.size();
            } else {
                return Verdict.CONTRADICTS;
            }
        }
        return right ? Verdict.PARTIAL : Verdict.NO_VALUE;
    }

    private static boolean matches(List<String> w, int at, List<String> v) {
        if (at + v.size() > w.size()) {
            return false;
        }
        for (int k = 0; k < v.size(); k++) {
            if (!w.get(at + k).equals(v.get(k))) {
                return false;
            }
        }
        return true;
    }
}
