package io.distill4j.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Model;
import ai.djl.engine.Engine;
import io.distill4j.trainer.lm.AnswerLoss;
import io.distill4j.models.lm.CausalLm;
import io.distill4j.models.lm.CausalLmConfig;
import io.distill4j.trainer.lm.LmBatchSource;
import io.distill4j.models.lm.LmExample;
import io.distill4j.models.lm.LmFamily;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * fp16 mixed precision of causal-LM students through the engine (run on the CPU, where PyTorch has float16
 * kernels; on a GPU it is the same code path): the float16 passes of both families match the float32 loss
 * to float16 accuracy and train (before this test, float32 masks and rotary tables met float16 weights and
 * the pass failed).
 */
class LmMixedPrecisionTest {

    static List<Double> losses(CausalLmConfig c, Precision precision) {
        Random r = new Random(1);
        List<LmExample> ex = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            ex.add(LmExample.of(new int[] {1 + r.nextInt(30), 2}, new int[] {3 + r.nextInt(30), 4, 5}));
        }
        List<Double> out = new ArrayList<>();
        try (Model m = Model.newInstance("lm-" + precision)) {
            CausalLm lm = new CausalLm(c);
            m.setBlock(lm);
            Engine.getInstance().setRandomSeed(1);
            lm.initialize(m.getNDManager());
            TrainingSpec.Builder b = TrainingSpec.builder().optPrecision(precision).setEpochs(6).setLearningRate(3e-3f)
                    .optMaxGradNorm(1f).optLogEvery(0);
            if (precision == Precision.FP16) {
                b.allowFp16OnCpu();
            }
            FitResult res = TrainingEngine.fit(m, new LmBatchSource(ex, 16, 4, true, false, 1),
                    new AnswerLoss(0), b.build(), FitListener.onSteps(s -> out.add(s.loss())));
            // the dynamic loss scale starts at 2^16 and halves on each overflow, skipping that update (as
            // torch.amp.GradScaler); the rest of the run updates
            assertTrue(res.skippedSteps() < out.size() / 2, "skipped " + res.skippedSteps() + " of " + out.size());
        }
        return out;
    }

    @Test
    void float16PassesMatchFloat32AndTrain() {
        for (LmFamily f : LmFamily.values()) {
            CausalLmConfig.Builder cb = CausalLmConfig.builder(f).vocabSize(40).hiddenSize(32).numLayers(2)
                    .numHeads(4).maxPositions(16).dropout(0);
            if (f == LmFamily.LLAMA) {
                cb.numKvHeads(2).intermediateSize(48);
            }
            CausalLmConfig c = cb.build();
            List<Double> full = losses(c, Precision.FP32);
            List<Double> half = losses(c, Precision.FP16);
            assertEquals(full.size(), half.size());
            // the first update's loss comes from the same weights and data: equal to float16 rounding
            assertEquals(full.get(0), half.get(0), 1e-2, f + " first loss");
            for (double l : half) {
                assertTrue(Double.isFinite(l), f + " fp16 loss " + half);
            }
            assertTrue(half.get(half.size() - 1) < half.get(0) - 0.3, f + " fp16 training: " + half);
        }
    }
}
