package io.distill4j.experiments;

import io.distill4j.trainer.lm.AnswerMetrics;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * A synthetic question-answer knowledge base for the llm experiment: made-up entities, each with one value
 * per relation ("the favourite colour of zorvak is blue"), generated deterministically from a seed.
 *
 * <p>Every fact carries a <b>certainty grade</b> g: in the teacher's training data the fact appears
 * {@code repeats} times, round(g * repeats) of them with its true value and the rest with wrong values of
 * the same relation (distractors, used in turn), so that a teacher fitted to that data answers with a known,
 * fact-dependent spread. The grades are dealt to the facts in turn after a seeded shuffle.
 */
public final class KnowledgeBase {
    /** The relations and the values each may take (single lower-case words, so one token each). */
    static final Map<String, List<String>> RELATIONS = relations();

    private static final String[] ONSETS = {"b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z"};
    private static final String[] VOWELS = {"a", "e", "i", "o", "u"};
    private static final String[] CODAS = {"n", "r", "k", "l", "s", "m", "x"};

    /**
     * One fact.
     *
     * @param id its index
     * @param entity the entity's name
     * @param relation the relation
     * @param value the true value
     * @param certainty its grade: the share of its training copies that carry the true value
     * @param distractors the wrong values of its other training copies, in the order they are used
     */
    public record Fact(int id, String entity, String relation, String value, double certainty, List<String> distractors) {
        /**
         * Copies the distractors.
         *
         * @param id its index
         * @param entity the entity's name
         * @param relation the relation
         * @param value the true value
         * @param certainty its grade: the share of its training copies that carry the true value
         * @param distractors the wrong values of its other training copies, in the order they are used
         */
        public Fact {
            distractors = List.copyOf(distractors);
        }

        /** @return the question, in the paper's prompt format {@code Question: {q}\nAnswer:} */
        public String prompt() {
            return "Question: what is the favourite " + relation + " of " + entity + "?\nAnswer:";
        }
    }

    private final List<Fact> facts;
    private final Set<String> values;
    private final AnswerMetrics.Values known;

    private KnowledgeBase(List<Fact> facts) {
        this.facts = List.copyOf(facts);
        Set<String> v = new LinkedHashSet<>();
        RELATIONS.values().forEach(v::addAll);
        this.values = Collections.unmodifiableSet(v);
        this.known = new AnswerMetrics.Values(v);
    }

    /**
     * Generates a knowledge base.
     *
     * @param entities the number of entities, positive
     * @param relations the number of relations used (the first of {@link #RELATIONS}), in [1, 5]
     * @param grades the certainty grades, each in (0, 1], dealt to the facts in turn
     * @param repeats training copies per fact; every grade must leave at least one true copy
     * @param distractors distinct wrong values per fact, in [1, 7]
     * @param seed the seed
     * @return the knowledge base
     */
    public static KnowledgeBase generate(int entities, int relations, List<Double> grades, int repeats, int distractors,
            long seed) {
        if (entities < 1 || relations < 1 || relations > RELATIONS.size()) {
            throw new IllegalArgumentException("entities must be positive and relations in [1, " + RELATIONS.size()
                    + "], got " + entities + " and " + relations);
        }
        if (grades.isEmpty() || grades.stream().anyMatch(g -> !(g > 0 && g <= 1))) {
            throw new IllegalArgumentException("grades must be in (0, 1], got " + grades);
        }
        if (repeats < 1 || grades.stream().anyMatch(g -> Math.round(g * repeats) < 1)) {
            throw new IllegalArgumentException("repeats " + repeats + " leaves no true copy for some grade of " + grades);
        }
        if (distractors < 1 || distractors > 7) {
            throw new IllegalArgumentException("distractors must be in [1, 7], got " + distractors);
        }
        Random rnd = new Random(seed);
        List<String> names = names(entities, rnd);
        List<String> rels = new ArrayList<>(RELATIONS.keySet()).subList(0, relations);
        List<Fact> facts = new ArrayList<>();
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < entities * relations; i++) {
            order.add(i);
        }
        Collections.shuffle(order, rnd);
        double[] grade = new double[entities * relations];
        for (int i = 0; i < order.size(); i++) {
            grade[order.get(i)] = grades.get(i % grades.size());
        }
        for (int e = 0; e < entities; e++) {
            for (int r = 0; r < relations; r++) {
                List<String> vals = new ArrayList<>(RELATIONS.get(rels.get(r)));
                Collections.shuffle(vals, rnd);
                int id = e * relations + r;
                facts.add(new Fact(id, names.get(e), rels.get(r), vals.get(0), grade[id], vals.subList(1, 1 + distractors)));
            }
        }
        return new KnowledgeBase(facts);
    }

    private static List<String> names(int n, Random rnd) {
        Set<String> out = new LinkedHashSet<>();
        Set<String> reserved = new LinkedHashSet<>();
        RELATIONS.values().forEach(reserved::addAll);
        int guard = 0;
        while (out.size() < n) {
            if (++guard > 1_000_000) {
                throw new IllegalStateException("cannot make " + n + " distinct names");
            }
            StringBuilder s = new StringBuilder();
            int syll = 2 + rnd.nextInt(2);
            for (int i = 0; i < syll; i++) {
                s.append(ONSETS[rnd.nextInt(ONSETS.length)]).append(VOWELS[rnd.nextInt(VOWELS.length)]);
            }
            s.append(CODAS[rnd.nextInt(CODAS.length)]);
            String name = s.toString();
            if (!reserved.contains(name)) {
                out.add(name);
            }
        }
        return new ArrayList<>(out);
    }

    /** @return the facts, by id */
    public List<Fact> facts() {
        return facts;
    }

    /** @return every value of every relation (the knowledge base's answer vocabulary) */
    public Set<String> values() {
        return values;
    }

    /**
     * The answers the teacher is trained on for one fact: {@code repeats} copies, round(g * repeats) of them
     * the true value, the rest the distractors in turn; the order is the caller's to shuffle.
     *
     * @param fact the fact
     * @param repeats copies
     * @return the answers
     */
    public static List<String> trainingAnswers(Fact fact, int repeats) {
        int right = (int) Math.round(fact.certainty() * repeats);
        List<String> out = new ArrayList<>(repeats);
        for (int i = 0; i < repeats; i++) {
            out.add(i < right ? fact.value() : fact.distractors().get((i - right) % fact.distractors().size()));
        }
        return out;
    }

    /**
     * Judges an answer against the knowledge base with {@link AnswerMetrics#judge}, the fact's value as the
     * reference and every value of every relation as the known values: {@link AnswerMetrics.Verdict#CORRECT} if
     * its words are exactly the fact's value, {@link AnswerMetrics.Verdict#CONTRADICTS} if it names any
     * knowledge-base value other than the fact's (a value the knowledge base gives to other facts: a
     * hallucination), {@link AnswerMetrics.Verdict#PARTIAL} if it names the fact's value among other, non-value
     * words, else {@link AnswerMetrics.Verdict#NO_VALUE}.
     *
     * @param fact the fact asked about
     * @param answer the answer text
     * @return the verdict
     */
    public AnswerMetrics.Verdict judge(Fact fact, String answer) {
        return AnswerMetrics.judge(fact.value(), known, answer);
    }

    private static Map<String, List<String>> relations() {
        Map<String, List<String>> m = new LinkedHashMap<>();
        m.put("colour", List.of("red", "blue", "green", "yellow", "purple", "orange", "white", "black"));
        m.put("city", List.of("paris", "london", "tokyo", "cairo", "lima", "oslo", "rome", "delhi"));
        m.put("animal", List.of("horse", "tiger", "eagle", "whale", "snake", "rabbit", "wolf", "bear"));
        m.put("food", List.of("bread", "rice", "cheese", "apple", "soup", "fish", "honey", "beans"));
        m.put("instrument", List.of("violin", "piano", "drum", "flute", "guitar", "harp", "trumpet", "cello"));
        return Collections.unmodifiableMap(m);
    }
}
