package io.distill4j.loss;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class RegistryTest {

    @Test
    void everyBuilderAndLossIsRegistered() {
        assertEquals(Set.of("single", "mean", "multi-sample", "inverse-variance", "inverse-variance-paper",
                "bayesian-mean", "wrong-mass-clip"), builtIn(Registry.targetNames()));
        assertEquals(Set.of("ce", "soft-ce", "hinton-kd", "bayesian-kd", "kl", "reverse-kl", "jsd", "mse",
                "gaussian-nll", "sparse-topk-kl", "focal-entropy", "weighted"), builtIn(Registry.lossNames()));
        for (String name : builtIn(Registry.targetNames())) {
            assertEquals(name, Registry.target(name, Map.of()).name());
        }
        for (String name : builtIn(Registry.lossNames())) {
            if (!name.equals("weighted")) {
                assertTrue(Registry.loss(name, Map.of()).getName().startsWith(name), name);
            }
        }
    }

    /** The names less those tests register (they start with "test-"). */
    private static Set<String> builtIn(Set<String> names) {
        return names.stream().filter(n -> !n.startsWith("test-")).collect(java.util.stream.Collectors.toSet());
    }

    @Test
    void userCodeRegistersALossAndATargetByName() {
        Registry.registerLoss("test-scaled-soft-ce", o -> {
            Object scale = o.containsKey("scale") ? o.get("scale") : (Object) 1.0;
            if (!(scale instanceof Number n) || !(n.doubleValue() > 0) || o.size() > (o.containsKey("scale") ? 1 : 0)) {
                throw new IllegalArgumentException("loss 'test-scaled-soft-ce': takes one option, scale > 0, got " + o);
            }
            return new SoftTargetCrossEntropyLoss();
        });
        Registry.registerTarget("test-first", o -> new SingleSampleTarget(0));
        assertTrue(Registry.lossNames().contains("test-scaled-soft-ce"));
        assertInstanceOf(SoftTargetCrossEntropyLoss.class, Registry.loss("test-scaled-soft-ce", Map.of("scale", 2)));
        assertInstanceOf(SoftTargetCrossEntropyLoss.class, Registry.loss("test-scaled-soft-ce", null));
        assertInstanceOf(SoftTargetCrossEntropyLoss.class, Registry.loss(Map.of("name", "test-scaled-soft-ce")));
        IllegalArgumentException bad = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> Registry.loss("test-scaled-soft-ce", Map.of("scale", -1)));
        assertEquals("loss 'test-scaled-soft-ce': takes one option, scale > 0, got {scale=-1}", bad.getMessage());
        assertEquals("single", Registry.target("test-first", Map.of()).name());
        IllegalArgumentException taken = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> Registry.registerLoss("kl", o -> new MseLoss()));
        assertEquals("loss 'kl' is already registered", taken.getMessage());
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> Registry.registerTarget(" ", o -> new MeanTarget()));
    }

    @Test
    void optionsReachTheObjects() {
        HintonKdLoss h = (HintonKdLoss) Registry.loss("hinton-kd", Map.of("temperature", 2, "alpha", 0.25));
        assertEquals(2.0, h.temperature());
        assertEquals(0.25, h.alpha());
        HintonKdLoss b = (HintonKdLoss) Registry.loss("bayesian-kd",
                Map.of("teacher-temperature", 2, "student-temperature", 2, "alpha", 1));
        assertEquals("bayesian-kd", b.getName());
        assertEquals(2.0, b.studentTemperature());
        GeneralizedJsdLoss j = (GeneralizedJsdLoss) Registry.loss("jsd",
                Map.of("beta", 0.9, "teacher", "log-probabilities", "temperature", 2.0, "normalise", true));
        assertEquals(0.9, j.beta());
        assertEquals(TeacherForm.LOG_PROBABILITIES, j.teacherForm());
        assertTrue(j.normalise());
        SparseTopKKlLoss s = (SparseTopKKlLoss) Registry.loss("sparse-topk-kl", Map.of("exact-tail", true, "tail", false));
        assertTrue(s.exactTail());
        assertTrue(!s.tail());
        FocalEntropyLoss f = (FocalEntropyLoss) Registry.loss("focal-entropy", Map.of("max-weight", 2.5, "gamma", 1));
        assertEquals(2.5, f.maxWeight());
        assertEquals(1.0, f.gamma());
        // the weighted wrapper, with a base given by name or by map
        InverseVarianceWeightedLoss w = (InverseVarianceWeightedLoss) Registry.loss("weighted",
                Map.of("base", Map.of("name", "hinton-kd", "temperature", 3), "eps", 1e-4, "variance", "samples"));
        assertEquals(3.0, ((HintonKdLoss) w.base()).temperature());
        assertEquals(1e-4, w.eps());
        assertEquals(InverseVarianceWeightedLoss.VarianceSource.SAMPLES, w.source());
        assertEquals("weighted-hinton-kd", w.getName());
        assertInstanceOf(KlDivergenceLoss.class, ((InverseVarianceWeightedLoss) Registry.loss("weighted",
                Map.of("base", "kl"))).base());
        // validate propagates to the base
        InverseVarianceWeightedLoss nv = (InverseVarianceWeightedLoss) Registry.loss("weighted",
                Map.of("base", "kl", "validate", false));
        assertTrue(!nv.base().isValidate());
        // spec form: a map with a name
        assertInstanceOf(MseLoss.class, Registry.loss(Map.of("name", "mse")));
        assertInstanceOf(MeanTarget.class, Registry.target("mean"));

        WrongMassClipTarget c = (WrongMassClipTarget) Registry.target("wrong-mass-clip",
                Map.of("base", Map.of("name", "bayesian-mean", "input", "logits", "temperature", 4), "budget", 0.2));
        assertEquals(0.2, c.budget());
        assertEquals(4.0, ((BayesianMeanTarget) c.base()).temperature());
        assertTrue(c.needsLabels());
        assertInstanceOf(MeanTarget.class, ((WrongMassClipTarget) Registry.target("wrong-mass-clip", Map.of())).base());
        InverseVarianceTarget iv = (InverseVarianceTarget) Registry.target("inverse-variance-paper", Map.of());
        assertEquals(InverseVarianceTarget.Form.PAPER, iv.form());
        assertTrue(!iv.renormalise());
        assertEquals(3, ((SingleSampleTarget) Registry.target("single", Map.of("index", 3))).index());
        assertTrue(List.copyOf(Registry.lossNames()).contains("weighted"));
    }
}
