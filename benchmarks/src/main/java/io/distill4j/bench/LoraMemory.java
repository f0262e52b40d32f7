package io.distill4j.bench;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import io.distill4j.models.lm.CausalLm;
import io.distill4j.models.lm.CausalLmConfig;
import io.distill4j.models.lm.LmFamily;
import io.distill4j.models.lm.Lora;
import io.distill4j.models.lm.LoraConfig;
import io.distill4j.trainer.TrainingSession;
import io.distill4j.trainer.TrainingSpec;
import io.distill4j.trainer.lm.AnswerLoss;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import ai.djl.Model;
import java.util.Arrays;
import java.util.Random;

/**
 * Memory of LoRA training steps against full fine-tuning steps of the same causal LM, one mode per JVM
 * (run both with {@code benchmarks/lora/run-lora-memory.sh}): builds a GPT-2 model, optionally attaches LoRA
 * adapters (r 8, alpha 16, dropout 0.05, q/k/v/o and MLP), runs a few training steps (next-token cross-entropy on every
 * position, AdamW through the engine's {@code TrainingSession}) and prints one line of
 * {@code key=value}: the process's resident set after the model is built ({@code rss_model_kib}), its peak
 * over the steps ({@code peak_kib}, Linux {@code VmHWM}), the peak increase the steps cause
 * ({@code step_kib = peak - rss_model}), trainable and total parameter counts.
 *
 * <p>Arguments: {@code full|lora [layers width vocab context batch steps loraDropout]}, defaults 8 512 8192
 * 128 8 3 0.05.
 */
public final class LoraMemory {
    private LoraMemory() {
    }

    /**
     * Runs one mode.
     *
     * @param args mode and optional sizes
     * @throws IOException if /proc cannot be read
     */
    public static void main(String[] args) throws IOException {
        String mode = args.length > 0 ? args[0] : "lora";
        int layers = args.length > 1 ? Integer.parseInt(args[1]) : 8;
        int width = args.length > 2 ? Integer.parseInt(args[2]) : 512;
        int vocab = args.length > 3 ? Integer.parseInt(args[3]) : 8192;
        int context = args.length > 4 ? Integer.parseInt(args[4]) : 128;
        int batch = args.length > 5 ? Integer.parseInt(args[5]) : 8;
        int steps = args.length > 6 ? Integer.parseInt(args[6]) : 3;
        double dropout = args.length > 7 ? Double.parseDouble(args[7]) : 0.05;
        if (!mode.equals("full") && !mode.equals("lora")) {
            System.err.println("mode must be full or lora, got '" + mode + "'");
            System.exit(2);
        }
        CausalLmConfig c = CausalLmConfig.builder(LmFamily.GPT2).vocabSize(vocab).hiddenSize(width).numLayers(layers)
                .numHeads(width / 64).maxPositions(context).dropout(0).bosTokenId(-1).eosTokenId(-1).build();
        try (Model djl = Model.newInstance("lora-memory")) {
            NDManager manager = djl.getNDManager();
            Engine.getInstance().setRandomSeed(0);
            CausalLm model = new CausalLm(c);
            djl.setBlock(model);
            model.initialize(manager);
            long total = model.parameterCount();
            if (mode.equals("lora")) {
                Lora.attach(model, new LoraConfig(8, 16, dropout, java.util.List.of("q", "o", "mlp"), false));
            }
            long trainable = 0;
            for (Parameter p : model.getParameters().values()) {
                trainable += p.requiresGradient() ? p.getShape().size() : 0;
            }
            Random r = new Random(0);
            long[] ids = new long[batch * context];
            long[] next = new long[batch * context];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = r.nextInt(vocab);
                next[i] = r.nextInt(vocab);
            }
            float[] ones = new float[batch * context];
            Arrays.fill(ones, 1f);
            Shape shape = new Shape(batch, context);
            long rssModel = status("VmRSS");
            try (TrainingSession session = new TrainingSession(djl, new AnswerLoss(0),
                    TrainingSpec.builder().setLearningRate(1e-4f).optWeightDecay(0).build())) {
                float loss = 0;
                for (int s = 0; s < steps; s++) {
                    try (NDManager sub = manager.newSubManager()) {
                        loss = session.forwardBackward(new NDList(sub.create(ids, shape)),
                                new NDList(sub.create(next, shape), sub.create(ones, shape)), 1f);
                        session.update(1e-4f);
                    }
                }
                long peak = status("VmHWM");
                System.out.println("mode=" + mode + " layers=" + layers + " width=" + width + " vocab=" + vocab
                        + " context=" + context + " batch=" + batch + " steps=" + steps + " lora_dropout="
                        + (mode.equals("lora") ? dropout : 0) + " params=" + total
                        + " trainable=" + trainable + " rss_model_kib=" + rssModel + " peak_kib=" + peak
                        + " step_kib=" + (peak - rssModel) + " last_loss=" + loss);
            }
        }
    }

    private static long status(String field) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith(field + ":")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        throw new IOException("/proc/self/status has no " + field);
    }
}
