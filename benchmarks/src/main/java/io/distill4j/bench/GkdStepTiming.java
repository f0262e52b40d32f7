package io.distill4j.bench;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import io.distill4j.models.lm.CausalLm;
import io.distill4j.models.lm.CausalLmConfig;
import io.distill4j.models.lm.LmExample;
import io.distill4j.models.lm.LmFamily;
import io.distill4j.trainer.TrainingSpec;
import io.distill4j.trainer.lm.OnPolicyDistiller;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * Wall time of on-policy GKD steps ({@link OnPolicyDistiller}, lmbda 1: the student samples every continuation
 * with its KV cache, the teacher scores them, generalised JSD with beta 0.5, one AdamW update), for a side-by-side
 * ratio against its PyTorch twin {@code benchmarks/gkd/gkd_step.py} (same sizes; run both with
 * {@code benchmarks/gkd/run-gkd-step.sh}). Prints one line per measured step and a median: generated tokens
 * per second = batch * new tokens / step time.
 *
 * <p>Arguments: {@code batch promptLength newTokens warmup steps} (defaults 8 16 32 2 5); student GPT-2
 * 2 x 128, teacher GPT-2 4 x 256, vocabulary 4096, context 64, random weights.
 */
public final class GkdStepTiming {
    private GkdStepTiming() {
    }

    /**
     * Runs the steps.
     *
     * @param args sizes
     */
    public static void main(String[] args) {
        int batch = args.length > 0 ? Integer.parseInt(args[0]) : 8;
        int promptLength = args.length > 1 ? Integer.parseInt(args[1]) : 16;
        int newTokens = args.length > 2 ? Integer.parseInt(args[2]) : 32;
        int warmup = args.length > 3 ? Integer.parseInt(args[3]) : 2;
        int steps = args.length > 4 ? Integer.parseInt(args[4]) : 5;
        int vocab = 4096;
        try (NDManager manager = NDManager.newBaseManager()) {
            CausalLm student = model(manager, vocab, 2, 128, 0);
            CausalLm teacher = model(manager, vocab, 4, 256, 1);
            Random r = new Random(0);
            var settings = new OnPolicyDistiller.Settings(1, 0.5, newTokens, 1.0, 0, 1, 0, -1, 0);
            double[] ms = new double[steps];
            try (OnPolicyDistiller d = new OnPolicyDistiller(student, manager, teacher, settings,
                    TrainingSpec.builder().setLearningRate(1e-4f).optWeightDecay(0).build())) {
                for (int s = 0; s < warmup + steps; s++) {
                    List<LmExample> b = new ArrayList<>();
                    for (int i = 0; i < batch; i++) {
                        int[] p = new int[promptLength];
                        for (int j = 0; j < p.length; j++) {
                            p[j] = r.nextInt(vocab);
                        }
                        b.add(LmExample.of(p, new int[] {0}));
                    }
                    long t0 = System.nanoTime();
                    d.step(b);
                    double t = (System.nanoTime() - t0) / 1e6;
                    if (s >= warmup) {
                        ms[s - warmup] = t;
                        System.out.printf(java.util.Locale.ROOT, "step_ms=%.1f%n", t);
                    }
                }
            }
            Arrays.sort(ms);
            double med = ms[steps / 2];
            System.out.printf(java.util.Locale.ROOT, "side=djl median_ms=%.1f tokens_per_s=%.1f threads=%d%n", med,
                    batch * newTokens / (med / 1000), ai.djl.pytorch.jni.JniUtils.getNumThreads());
        }
    }

    private static CausalLm model(NDManager manager, int vocab, int layers, int width, int seed) {
        Engine.getInstance().setRandomSeed(seed);
        CausalLm m = new CausalLm(CausalLmConfig.builder(LmFamily.GPT2).vocabSize(vocab).hiddenSize(width)
                .numLayers(layers).numHeads(width / 64).maxPositions(64).dropout(0).bosTokenId(-1).eosTokenId(-1)
                .build());
        m.initialize(manager);
        return m;
    }
}
