package io.distill4j.loss;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** Bad input fails with an IllegalArgumentException that names the argument and its value. */
class BadInputTest extends NdTestBase {

    static void fails(Executable e, String... fragments) {
        IllegalArgumentException x = assertThrows(IllegalArgumentException.class, e);
        for (String f : fragments) {
            assertTrue(x.getMessage().contains(f), "message '" + x.getMessage() + "' lacks '" + f + "'");
        }
    }

    NDArray zeros(long... shape) {
        return manager.zeros(new Shape(shape));
    }

    NDArray uniform(long... shape) {
        return manager.ones(new Shape(shape)).div(shape[shape.length - 1]);
    }

    @Test
    void shapesThatDisagree() {
        fails(() -> new SoftTargetCrossEntropyLoss().evaluate(list(zeros(2, 4)), list(zeros(2, 3))),
                "targets has shape (2, 4) but predictions has shape (2, 3)");
        fails(() -> new KlDivergenceLoss().evaluate(list(uniform(3, 5)), list(zeros(2, 5))),
                "teacher probabilities has shape (3, 5) but predictions has shape (2, 5)");
        fails(() -> new HintonKdLoss(2, 0.5).evaluate(list(ids(new int[] {0, 1}), uniform(2, 4)), list(zeros(2, 3))),
                "teacher probabilities has shape (2, 4)");
        fails(() -> new CrossEntropyLoss().evaluate(list(ids(new int[] {0, 1, 2})), list(zeros(2, 3))),
                "class labels have shape (3)", "item shape is (2)");
        fails(() -> new MseLoss().evaluate(list(zeros(2, 2)), list(zeros(2, 3))), "targets has shape (2, 2)");
        fails(() -> new GaussianNllLoss().evaluate(list(zeros(2, 2)), list(zeros(2, 3), zeros(2, 3))),
                "targets has shape (2, 2) but predicted mean has shape (2, 3)");
        fails(() -> new GaussianNllLoss().evaluate(list(zeros(2, 2)), list(zeros(2, 3))), "width must be even, got 3");
        fails(() -> new KlDivergenceLoss().evaluate(list(uniform(2, 3, 5), zeros(2, 4)), list(zeros(2, 3, 5))),
                "padding mask (labels[1]) must have the item shape (2, 3), got (2, 4)");
        NDArray tIds = manager.zeros(new Shape(2, 3, 4), ai.djl.ndarray.types.DataType.INT64);
        fails(() -> new SparseTopKKlLoss().evaluate(list(tIds, zeros(2, 3, 4), zeros(2, 3)), list(zeros(2, 5, 10))),
                "top-K ids must have shape (2, 5) + (K), got (2, 3, 4)");
        fails(() -> new SparseTopKKlLoss().evaluate(list(tIds, zeros(2, 3, 5), zeros(2, 3)), list(zeros(2, 3, 10))),
                "top-K log-probabilities has shape (2, 3, 5) but top-K ids has shape (2, 3, 4)");
        fails(() -> new SparseTopKKlLoss().evaluate(list(tIds, zeros(2, 3, 4), zeros(2)), list(zeros(2, 3, 10))),
                "log tail mass must have shape (2, 3), got (2)");
        fails(() -> new SparseTopKKlLoss().evaluate(list(tIds, zeros(2, 3, 4), zeros(2, 3)), list(zeros(2, 3, 4))),
                "K must be in [1, V) with V = 4, got 4");
        fails(() -> new InverseVarianceWeightedLoss(new CrossEntropyLoss()).evaluate(
                list(ids(new int[] {0, 1}), zeros(3)), list(zeros(2, 3))),
                "teacher variance (last label) has shape (3) but the items have shape (2)");
        StudentEstimate wrong = new StudentEstimate(zeros(2, 4), zeros(2, 4));
        fails(() -> new InverseVarianceTarget(InverseVarianceTarget.Form.PRACTICAL, true).build(zeros(2, 3, 5), wrong),
                "student mean has shape (2, 4) but teacher mean has shape (2, 5)");
        fails(() -> new MeanTarget().build(zeros(2, 5), null), "samples must have rank 3, got shape (2, 5)");
        fails(() -> WrongMassClipTarget.clip(uniform(2, 3), ids(new int[] {0, 1, 2}), 0.5),
                "labels must have shape (2), got (3)");
        fails(() -> new KlDivergenceLoss().evaluate(new NDList(), list(zeros(2, 3))), "kl: labels must hold");
    }

    @Test
    void kZero() {
        fails(() -> new MeanTarget().build(zeros(2, 0, 3), null), "k (axis 1 of samples (2, 0, 3)) must be positive, got 0");
        fails(() -> new SingleSampleTarget(0).build(zeros(2, 0, 3), null), "must be positive, got 0");
        StudentEstimate est = new StudentEstimate(zeros(2, 3), zeros(2, 3));
        fails(() -> new InverseVarianceTarget(InverseVarianceTarget.Form.PAPER, false).build(zeros(2, 0, 3), est),
                "k (axis 1 of samples (2, 0, 3)) must be positive, got 0");
        fails(() -> new BayesianMeanTarget().build(zeros(2, 0, 3), null), "posterior draws (2, 0, 3)", "got 0");
        fails(() -> new InverseVarianceWeightedLoss(new CrossEntropyLoss(), 1e-6,
                InverseVarianceWeightedLoss.VarianceSource.SAMPLES).evaluate(list(ids(new int[] {0, 1}), zeros(2, 0, 3)),
                        list(zeros(2, 3))), "teacher samples (2, 0, 3)", "got 0");
        fails(() -> StudentEstimate.fromPasses(zeros(2, 1, 3)), "must be at least 2", "got 1");
        fails(() -> new SingleSampleTarget(4).build(zeros(2, 3, 3), null), "index 4 is out of range for k=3");
    }

    @Test
    void negativeVariances() {
        NDArray negVar = manager.create(new float[] {0.1f, -0.5f, 0.2f, 0.3f}, new Shape(2, 2));
        StudentEstimate est = new StudentEstimate(zeros(2, 2), negVar);
        fails(() -> new InverseVarianceTarget(InverseVarianceTarget.Form.PRACTICAL, true).build(uniform(2, 3, 2), est),
                "student variance must be non-negative", "got -0.5 at index [0, 1]");
        fails(() -> new GaussianNllLoss().evaluate(list(zeros(2, 2), negVar), list(zeros(2, 2), zeros(2, 2))),
                "gaussian-nll: teacher variance must be non-negative", "-0.5");
        fails(() -> new InverseVarianceWeightedLoss(new CrossEntropyLoss()).evaluate(
                list(ids(new int[] {0, 1}), manager.create(new float[] {0.2f, -3f})), list(zeros(2, 3))),
                "weighted-ce: teacher variance must be non-negative", "got -3.0 at index [1]");
        fails(() -> new InverseVarianceWeightedLoss(new CrossEntropyLoss(), 0, InverseVarianceWeightedLoss.VarianceSource.GIVEN),
                "eps must be positive and finite, got 0.0");
        fails(() -> new InverseVarianceWeightedLoss(new CrossEntropyLoss()).evaluate(
                list(ids(new int[] {0, 1}), manager.create(new float[] {0.2f, Float.NaN})), list(zeros(2, 3))),
                "teacher variance must be non-negative and not NaN, got NaN");
    }

    @Test
    void temperaturesNotPositive() {
        fails(() -> new HintonKdLoss(0, 0.5), "temperature must be positive and finite, got 0.0");
        fails(() -> new HintonKdLoss(-2, 0.5), "temperature must be positive and finite, got -2.0");
        fails(() -> new HintonKdLoss(Double.NaN, 0.5), "temperature must be positive and finite, got NaN");
        fails(() -> new HintonKdLoss(0, 1, 0.5), "teacher temperature must be positive and finite, got 0.0");
        fails(() -> new HintonKdLoss(4, -1, 0.5), "student temperature must be positive and finite, got -1.0");
        fails(() -> new KlDivergenceLoss(TeacherForm.LOGITS, 0), "temperature must be positive and finite, got 0.0");
        fails(() -> new ReverseKlLoss(TeacherForm.PROBABILITIES, -1), "temperature must be positive and finite, got -1.0");
        fails(() -> new GeneralizedJsdLoss(0.5, TeacherForm.PROBABILITIES, 0, false), "temperature", "got 0.0");
        fails(() -> new SparseTopKKlLoss(0, true, false), "temperature must be positive and finite, got 0.0");
        fails(() -> new BayesianMeanTarget(BayesianMeanTarget.Input.LOGITS, -0.5, true), "temperature", "got -0.5");
        fails(() -> Registry.loss("hinton-kd", Map.of("temperature", 0)), "temperature must be positive and finite, got 0.0");
        // other hyperparameters
        fails(() -> new HintonKdLoss(2, 1.5), "alpha must be in [0, 1], got 1.5");
        fails(() -> new GeneralizedJsdLoss(-0.1), "beta must be in [0, 1], got -0.1");
        fails(() -> new WrongMassClipTarget(2), "budget must be in [0, 1], got 2.0");
        fails(() -> new FocalEntropyLoss(-1, 0.1, 3, 0.5), "gamma must be non-negative and finite, got -1.0");
        fails(() -> new FocalEntropyLoss(2, 0.1, 0, 0.5), "max weight must be positive and finite, got 0.0");
        fails(() -> new SingleSampleTarget(-1), "index must be non-negative, got -1");
        fails(() -> new EmaStudentEstimate(10, 2, 0), "alpha must be in (0, 1], got 0.0");
        fails(() -> new EmaStudentEstimate(10, 2, 0.1, EmaStudentEstimate.Variance.SPREAD, -1),
                "initialSpread must be finite and >= 0, got -1.0");
    }

    @Test
    void probabilitiesOffTheSimplex() {
        NDArray big = manager.create(new float[] {0.5f, 0.5f, 0.2f, 0.3f, 0.3f, 0.4f}, new Shape(2, 3));
        fails(() -> new SoftTargetCrossEntropyLoss().evaluate(list(big), list(zeros(2, 3))),
                "soft-ce: targets must be probabilities on the simplex", "row at index [0] sums to 1.2");
        NDArray neg = manager.create(new float[] {1.2f, -0.2f, 0f}, new Shape(1, 3));
        fails(() -> new KlDivergenceLoss().evaluate(list(neg), list(zeros(1, 3))),
                "kl: teacher probabilities must be probabilities on the simplex", "holds -0.2 at index [0, 1]");
        fails(() -> new HintonKdLoss(2, 0.5).evaluate(list(ids(new int[] {0, 1}), big), list(zeros(2, 3))),
                "hinton-kd: teacher probabilities", "sums to 1.2");
        fails(() -> new KlDivergenceLoss(TeacherForm.LOG_PROBABILITIES, 1).evaluate(list(zeros(1, 3).add(0.5)),
                list(zeros(1, 3))), "teacher log-probabilities must be log-probabilities", "got 0.5");
        fails(() -> new BayesianMeanTarget().build(big.reshape(2, 1, 3), null), "posterior draws must be probabilities",
                "sums to 1.2");
        // sparse: top-K plus tail of 1.5
        NDArray tIds = manager.create(new long[] {0, 1}, new Shape(1, 2));
        NDArray lp = manager.create(new float[] {(float) Math.log(0.5), (float) Math.log(0.5)}, new Shape(1, 2));
        NDArray lt = manager.create(new float[] {(float) Math.log(0.5)}, new Shape(1));
        fails(() -> new SparseTopKKlLoss().evaluate(list(tIds, lp, lt), list(zeros(1, 5))),
                "teacher top-K plus tail masses must sum to 1", "sums to 1.5");
        NDArray badIds = manager.create(new long[] {0, 7}, new Shape(1, 2));
        NDArray lt0 = manager.create(new float[] {-30f}, new Shape(1));
        fails(() -> new SparseTopKKlLoss().evaluate(list(badIds, lp, lt0), list(zeros(1, 5))),
                "top-K ids must be in [0, 5), got 7");
        fails(() -> new CrossEntropyLoss().evaluate(list(ids(new int[] {0, 3})), list(zeros(2, 3))),
                "class labels must be in [0, 3), got 3");
        fails(() -> WrongMassClipTarget.clip(uniform(2, 3), ids(new int[] {-1, 0}), 0.5), "labels must be in [0, 3), got -1");
        // the check is skipped when validation is off
        new SoftTargetCrossEntropyLoss().setValidate(false).evaluate(list(big), list(zeros(2, 3)));
        assertEquals(false, Registry.loss("soft-ce", Map.of("validate", false)).isValidate());
    }

    @Test
    void registryOptions() {
        fails(() -> Registry.loss("nope", Map.of()), "unknown loss 'nope'", "kl", "sparse-topk-kl");
        fails(() -> Registry.target("nope", Map.of()), "unknown target 'nope'", "wrong-mass-clip");
        fails(() -> Registry.loss("hinton-kd", Map.of("temprature", 2.0)), "loss 'hinton-kd'", "unknown key 'temprature'", "known keys: alpha, temperature, validate");
        fails(() -> Registry.loss("hinton-kd", Map.of("alpha", "lots")), "loss 'hinton-kd'", "field alpha: expected a number, got 'lots'");
        fails(() -> Registry.loss("hinton-kd", Map.of("alpha", "0.5")), "field alpha: expected a number, got '0.5'");
        fails(() -> Registry.loss("kl", Map.of("teacher", "odds")), "field teacher: expected one of: probabilities, log-probabilities, logits", "'odds'");
        fails(() -> Registry.loss("weighted", Map.of()), "loss 'weighted': option base is required");
        fails(() -> Registry.loss("weighted", Map.of("base", "nope")), "option base", "unknown loss 'nope'");
        fails(() -> Registry.loss("weighted", Map.of("base", "kl", "variance", "guess")),
                "field variance: expected one of: given, samples, got 'guess'");
        fails(() -> Registry.target("single", Map.of("index", 1.5)), "target 'single'", "field index: expected an integer, got '1.5'");
        fails(() -> Registry.target("wrong-mass-clip", Map.of("base", Map.of("name", "mean", "k", 3))),
                "target 'wrong-mass-clip': option base", "target 'mean'", "unknown key 'k'");
    }
}
