package io.distill4j.bench;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import io.distill4j.models.lm.CausalLm;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import io.distill4j.models.lm.CausalLmConfig;
import io.distill4j.models.lm.Generation;
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
 * <p>Arguments: {@code batch promptLength newTokens warmup steps [phases]} (defaults 8 16 32 2 5); student GPT-2
 * 2 x 128, teacher GPT-2 4 x 256, vocabulary 4096, context 64, random weights. With a sixth argument
 * {@code phases} each measured step is instead taken apart (for a profile, not the ratio): the student's batched
 * sampling ({@link Generation#sampleBatch}, as the on-policy step calls it), the teacher's scoring of prompt +
 * continuation alone, and an off-policy step on those continuations (lmbda 0: teacher scoring, student
 * forward, loss, backward and update), so that student = off-policy step - teacher.
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
        if (args.length > 5 && args[5].equals("phases")) {
            phases(batch, promptLength, newTokens, warmup, steps);
            return;
        }
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

    private static void phases(int batch, int promptLength, int newTokens, int warmup, int steps) {
        int vocab = 4096;
        try (NDManager manager = NDManager.newBaseManager()) {
            CausalLm student = model(manager, vocab, 2, 128, 0);
            CausalLm teacher = model(manager, vocab, 4, 256, 1);
            Random r = new Random(0);
            Random sampling = new Random(1);
            var settings = new OnPolicyDistiller.Settings(0, 0.5, newTokens, 1.0, 0, 1, 0, -1, 0);
            double[][] ms = new double[3][steps];
            try (OnPolicyDistiller d = new OnPolicyDistiller(student, manager, teacher, settings,
                    TrainingSpec.builder().setLearningRate(1e-4f).optWeightDecay(0).build())) {
                for (int s = 0; s < warmup + steps; s++) {
                    List<int[]> prompts = new ArrayList<>();
                    for (int i = 0; i < batch; i++) {
                        int[] p = new int[promptLength];
                        for (int j = 0; j < p.length; j++) {
                            p[j] = r.nextInt(vocab);
                        }
                        prompts.add(p);
                    }
                    int[] maxNew = new int[batch];
                    Arrays.fill(maxNew, newTokens);
                    long t0 = System.nanoTime();
                    int[][] answers = Generation.sampleBatch(student, manager, prompts, 1, maxNew, -1, 1.0, 0, sampling);
                    long t1 = System.nanoTime();
                    int length = promptLength + newTokens;
                    int[] ids = new int[batch * length];
                    List<LmExample> b = new ArrayList<>();
                    for (int i = 0; i < batch; i++) {
                        System.arraycopy(prompts.get(i), 0, ids, i * length, promptLength);
                        System.arraycopy(answers[i], 0, ids, i * length + promptLength, newTokens);
                        b.add(LmExample.of(prompts.get(i), answers[i]));
                    }
                    try (NDManager sub = manager.newSubManager()) {
                        var z = teacher.logits(new ParameterStore(sub, false), sub.create(ids, new Shape(batch, length)),
                                sub.ones(new Shape(batch, length), ai.djl.ndarray.types.DataType.INT32), null, false)
                                .toType(ai.djl.ndarray.types.DataType.FLOAT32, false);
                        z.getFloat(0, 0, 0);
                    }
                    long t2 = System.nanoTime();
                    d.step(b);
                    long t3 = System.nanoTime();
                    if (s >= warmup) {
                        ms[0][s - warmup] = (t1 - t0) / 1e6;
                        ms[1][s - warmup] = (t2 - t1) / 1e6;
                        ms[2][s - warmup] = (t3 - t2) / 1e6;
                    }
                }
            }
            for (double[] m : ms) {
                Arrays.sort(m);
            }
            System.out.printf(java.util.Locale.ROOT,
                    "side=djl-phases generate_ms=%.1f teacher_ms=%.1f offpolicy_step_ms=%.1f student_ms=%.1f%n",
                    ms[0][steps / 2], ms[1][steps / 2], ms[2][steps / 2], ms[2][steps / 2] - ms[1][steps / 2]);
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
