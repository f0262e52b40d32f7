package io.distill4j.experiments;

import io.distill4j.trainer.lm.AnswerMetrics;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class KnowledgeBaseTest {

    @Test
    void generationIsDeterministicAndDealsTheGradesEvenly() {
        KnowledgeBase a = KnowledgeBase.generate(10, 3, List.of(1.0, 0.8, 0.6), 10, 2, 42);
        KnowledgeBase b = KnowledgeBase.generate(10, 3, List.of(1.0, 0.8, 0.6), 10, 2, 42);
        KnowledgeBase c = KnowledgeBase.generate(10, 3, List.of(1.0, 0.8, 0.6), 10, 2, 43);
        assertEquals(a.facts(), b.facts());
        assertNotEquals(a.facts(), c.facts());
        assertEquals(30, a.facts().size());
        Map<Double, Integer> perGrade = new TreeMap<>();
        Set<String> questions = new HashSet<>();
        for (KnowledgeBase.Fact f : a.facts()) {
            perGrade.merge(f.certainty(), 1, Integer::sum);
            assertTrue(KnowledgeBase.RELATIONS.get(f.relation()).contains(f.value()), f.toString());
            assertEquals(2, f.distractors().size());
            assertTrue(!f.distractors().contains(f.value()) && f.distractors().stream()
                    .allMatch(KnowledgeBase.RELATIONS.get(f.relation())::contains), f.toString());
            assertTrue(questions.add(f.prompt()), "questions must be distinct: " + f.prompt());
            assertTrue(f.prompt().startsWith("Question: ") && f.prompt().endsWith("\nAnswer:"), f.prompt());
            assertTrue(!a.values().contains(f.entity()), "an entity must not be named like a value: " + f.entity());
        }
        assertEquals(Map.of(0.6, 10, 0.8, 10, 1.0, 10), perGrade);
    }

    @Test
    void trainingAnswersCarryTheTrueValueInTheGradesShare() {
        KnowledgeBase.Fact f = new KnowledgeBase.Fact(0, "zorvak", "colour", "blue", 0.6, List.of("red", "green"));
        assertEquals(List.of("blue", "blue", "blue", "blue", "blue", "blue", "red", "green", "red", "green"),
                KnowledgeBase.trainingAnswers(f, 10));
        KnowledgeBase.Fact sure = new KnowledgeBase.Fact(1, "milek", "city", "oslo", 1.0, List.of("rome"));
        assertEquals(List.of("oslo", "oslo", "oslo"), KnowledgeBase.trainingAnswers(sure, 3));
        KnowledgeBase.Fact half = new KnowledgeBase.Fact(2, "milek", "city", "oslo", 0.8, List.of("rome", "lima"));
        assertEquals(List.of("oslo", "oslo", "oslo", "oslo", "rome"), KnowledgeBase.trainingAnswers(half, 5));
    }

    @Test
    void judgeSeparatesCorrectContradictingPartialAndEmptyAnswers() {
        KnowledgeBase kb = KnowledgeBase.generate(4, 2, List.of(1.0), 1, 1, 0);
        KnowledgeBase.Fact f = new KnowledgeBase.Fact(0, "zorvak", "colour", "blue", 1.0, List.of("red"));
        assertEquals(AnswerMetrics.Verdict.CORRECT, kb.judge(f, "blue"));
        assertEquals(AnswerMetrics.Verdict.CORRECT, kb.judge(f, "  Blue. "));
        assertEquals(AnswerMetrics.Verdict.CONTRADICTS, kb.judge(f, "red"));
        assertEquals(AnswerMetrics.Verdict.CONTRADICTS, kb.judge(f, "paris"), "a value of another relation contradicts too");
        assertEquals(AnswerMetrics.Verdict.CONTRADICTS, kb.judge(f, "blue red"));
        assertEquals(AnswerMetrics.Verdict.CONTRADICTS, kb.judge(f, "blue whale"), "whale is an animal value of the KB");
        assertEquals(AnswerMetrics.Verdict.PARTIAL, kb.judge(f, "the sea blue"));
        assertEquals(AnswerMetrics.Verdict.NO_VALUE, kb.judge(f, ""));
        assertEquals(AnswerMetrics.Verdict.NO_VALUE, kb.judge(f, "the sea"));
    }

    @Test
    void badArgumentsAreNamed() {
        IllegalArgumentException g = assertThrows(IllegalArgumentException.class,
                () -> KnowledgeBase.generate(4, 2, List.of(1.5), 10, 2, 0));
        assertTrue(g.getMessage().contains("grades"), g.getMessage());
        IllegalArgumentException r = assertThrows(IllegalArgumentException.class,
                () -> KnowledgeBase.generate(4, 6, List.of(1.0), 10, 2, 0));
        assertTrue(r.getMessage().contains("relations"), r.getMessage());
        IllegalArgumentException c = assertThrows(IllegalArgumentException.class,
                () -> KnowledgeBase.generate(4, 2, List.of(0.01), 10, 2, 0));
        assertTrue(c.getMessage().contains("no true copy"), c.getMessage());
    }
}
