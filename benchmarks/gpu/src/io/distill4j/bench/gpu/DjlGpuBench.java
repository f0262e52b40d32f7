/*
 * distill4j GPU benchmark twin (issue 8): one training step of two students through DJL 0.35.1
 * with the PyTorch engine, on the device named on the command line.
 *
 * Self-contained on purpose: it is compiled with plain javac against the DJL jars (see pack.sh),
 * so it does not depend on the project's modules. benchmarks/gpu/twin.py is its PyTorch twin and
 * builds exactly the same computation (same shapes, ops, optimizer, fp32).
 *
 *   mlp : 784-512-256-10, ReLU, batch 256, softmax cross-entropy, Adam(lr 1e-3)
 *   gpt : GPT-2-family causal LM, 4 layers, width 256, 4 heads, context 256, batch 16,
 *         learned positions, pre-LayerNorm with axis(2), GELU (erf), additive causal mask of
 *         shape (1,1,T,T) given to ScaledDotProductAttentionBlock, LM head tied to the token
 *         embedding, cross-entropy on the next token, AdamW(lr 3e-4, wd 0.01)
 *
 * Output: human lines on stderr, one JSON object per measurement on stdout.
 */
package io.distill4j.bench.gpu;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Activation;
import ai.djl.nn.Parameter;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.LayerNorm;
import ai.djl.nn.transformer.ScaledDotProductAttentionBlock;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.training.Trainer;
import ai.djl.training.initializer.NormalInitializer;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import ai.djl.util.PairList;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;

public final class DjlGpuBench {

    private DjlGpuBench() {}

    /** GPT-2-family causal LM built from DJL blocks. */
    static final class GptLm extends AbstractBlock {
        final int vocab;
        final int ctx;
        final int width;
        final int layers;
        final Parameter wte;
        final Parameter wpe;
        final List<LayerNorm> ln1 = new ArrayList<>();
        final List<ScaledDotProductAttentionBlock> attn = new ArrayList<>();
        final List<LayerNorm> ln2 = new ArrayList<>();
        final List<Linear> fc1 = new ArrayList<>();
        final List<Linear> fc2 = new ArrayList<>();
        final LayerNorm lnf;

        GptLm(int vocab, int ctx, int width, int heads, int layers) {
            this.vocab = vocab;
            this.ctx = ctx;
            this.width = width;
            this.layers = layers;
            wte = addParameter(Parameter.builder().setName("wte").setType(Parameter.Type.WEIGHT)
                    .optShape(new Shape(vocab, width)).optInitializer(new NormalInitializer(0.02f)).build());
            wpe = addParameter(Parameter.builder().setName("wpe").setType(Parameter.Type.WEIGHT)
                    .optShape(new Shape(ctx, width)).optInitializer(new NormalInitializer(0.01f)).build());
            for (int i = 0; i < layers; i++) {
                ln1.add(addChildBlock("ln1_" + i, LayerNorm.builder().axis(2).build()));
                attn.add(addChildBlock("attn_" + i, ScaledDotProductAttentionBlock.builder()
                        .setEmbeddingSize(width).setHeadCount(heads).optAttentionProbsDropoutProb(0f).build()));
                ln2.add(addChildBlock("ln2_" + i, LayerNorm.builder().axis(2).build()));
                fc1.add(addChildBlock("fc1_" + i, Linear.builder().setUnits(4L * width).build()));
                fc2.add(addChildBlock("fc2_" + i, Linear.builder().setUnits(width).build()));
            }
            lnf = addChildBlock("lnf", LayerNorm.builder().axis(2).build());
        }

        @Override
        protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
            long b = inputShapes[0].get(0);
            long t = inputShapes[0].get(1);
            Shape h = new Shape(b, t, width);
            for (int i = 0; i < layers; i++) {
                ln1.get(i).initialize(manager, dataType, h);
                attn.get(i).initialize(manager, dataType, h, new Shape(1, 1, t, t));
                ln2.get(i).initialize(manager, dataType, h);
                fc1.get(i).initialize(manager, dataType, h);
                fc2.get(i).initialize(manager, dataType, new Shape(b, t, 4L * width));
            }
            lnf.initialize(manager, dataType, h);
        }

        @Override
        public Shape[] getOutputShapes(Shape[] inputShapes) {
            return new Shape[] {new Shape(inputShapes[0].get(0) * inputShapes[0].get(1), vocab)};
        }

        @Override
        protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training,
                                         PairList<String, Object> params) {
            NDArray tokens = inputs.get(0); // (B,T) int64
            NDArray mask = inputs.get(1); // (1,1,T,T) additive float mask
            Device dev = tokens.getDevice();
            NDArray wteA = ps.getValue(wte, dev, training);
            NDArray wpeA = ps.getValue(wpe, dev, training);
            NDArray x = tokens.getNDArrayInternal().embedding(tokens, wteA, SparseFormat.DENSE).singletonOrThrow();
            x = x.add(wpeA); // (B,T,D) + (T,D)
            for (int i = 0; i < layers; i++) {
                NDArray h = ln1.get(i).forward(ps, new NDList(x), training).head();
                h = attn.get(i).forward(ps, new NDList(h, mask), training).head();
                x = x.add(h);
                h = ln2.get(i).forward(ps, new NDList(x), training).head();
                h = fc1.get(i).forward(ps, new NDList(h), training).head();
                h = Activation.gelu(h);
                h = fc2.get(i).forward(ps, new NDList(h), training).head();
                x = x.add(h);
            }
            x = lnf.forward(ps, new NDList(x), training).head();
            long b = x.getShape().get(0);
            long t = x.getShape().get(1);
            NDArray logits = x.reshape(b * t, width).matMul(wteA.transpose()); // tied LM head
            return new NDList(logits);
        }
    }

    static SequentialBlock mlp() {
        return new SequentialBlock()
                .add(Linear.builder().setUnits(512).build()).add(Activation::relu)
                .add(Linear.builder().setUnits(256).build()).add(Activation::relu)
                .add(Linear.builder().setUnits(10).build());
    }

    /** One training step; returns the loss array (lives in {@code sub}). */
    static NDArray step(Trainer trainer, NDManager sub, NDList data, NDList labels, boolean update) {
        for (NDArray a : data) {
            a.tempAttach(sub);
        }
        for (NDArray a : labels) {
            a.tempAttach(sub);
        }
        NDArray loss;
        try (GradientCollector gc = trainer.newGradientCollector()) {
            NDList pred = trainer.forward(data);
            loss = trainer.getLoss().evaluate(labels, pred);
            gc.backward(loss);
        }
        if (update) {
            trainer.step();
        }
        return loss;
    }

    static double median(double[] v) {
        double[] c = v.clone();
        Arrays.sort(c);
        return c.length % 2 == 1 ? c[c.length / 2] : 0.5 * (c[c.length / 2 - 1] + c[c.length / 2]);
    }

    /**
     * Times {@code steps} training steps, {@code repeats} times. With {@code update} false only the
     * forward and backward passes run (no optimizer step; gradients accumulate), to split the time.
     */
    static void measure(String name, Trainer trainer, NDList data, NDList labels, int warmup,
                        int repeats, int steps, String extra, boolean update) {
        String phase = update ? "step" : "fwdbwd";
        NDManager base = trainer.getManager();
        float first = Float.NaN;
        long t0 = System.nanoTime();
        for (int i = 0; i < warmup; i++) {
            try (NDManager sub = base.newSubManager()) {
                float l = step(trainer, sub, data, labels, update).getFloat();
                if (i == 0) {
                    first = l;
                    System.err.printf(Locale.ROOT, "[%s %s] first step done in %.1f ms, loss %.4f%n", name, phase,
                            (System.nanoTime() - t0) / 1e6, l);
                }
            }
        }
        // throughput: sync only at the end of each block of steps
        double[] ms = new double[repeats];
        float last = Float.NaN;
        for (int r = 0; r < repeats; r++) {
            long s = System.nanoTime();
            for (int i = 0; i < steps; i++) {
                try (NDManager sub = base.newSubManager()) {
                    NDArray loss = step(trainer, sub, data, labels, update);
                    if (i == steps - 1) {
                        last = loss.getFloat(); // device->host copy: waits for the queue to drain
                    }
                }
            }
            ms[r] = (System.nanoTime() - s) / 1e6 / steps;
        }
        // synced: the loss read back every step, as a training loop that logs it does
        int syncSteps = Math.max(10, steps / 2);
        long s = System.nanoTime();
        for (int i = 0; i < syncSteps; i++) {
            try (NDManager sub = base.newSubManager()) {
                last = step(trainer, sub, data, labels, update).getFloat();
            }
        }
        double synced = (System.nanoTime() - s) / 1e6 / syncSteps;
        double med = median(ms);
        double min = Arrays.stream(ms).min().orElse(Double.NaN);
        System.err.printf(Locale.ROOT, "[%s %s] DJL %s: median %.3f ms/step (min %.3f, %d x %d steps), "
                + "synced %.3f ms/step; loss %.4f -> %.4f%n", name, phase, data.head().getDevice(), med, min,
                repeats, steps, synced, first, last);
        System.out.printf(Locale.ROOT, "{\"impl\":\"djl\",\"phase\":\"%s\",\"model\":\"%s\",\"device\":\"%s\",\"ms_median\":%.4f,"
                + "\"ms_min\":%.4f,\"ms_all\":%s,\"ms_synced\":%.4f,\"repeats\":%d,\"steps\":%d,"
                + "\"loss_first\":%.5f,\"loss_last\":%.5f%s}%n", phase, name, data.head().getDevice(), med, min,
                Arrays.toString(ms), synced, repeats, steps, first, last, extra);
    }

    public static void main(String[] args) {
        String deviceName = "gpu";
        String which = "all";
        int[] vocabs = {8192};
        int warmup = 20;
        int repeats = 5;
        int steps = 50;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--device": deviceName = args[++i]; break;
                case "--model": which = args[++i]; break;
                case "--vocab":
                    vocabs = Arrays.stream(args[++i].split(",")).mapToInt(Integer::parseInt).toArray();
                    break;
                case "--warmup": warmup = Integer.parseInt(args[++i]); break;
                case "--repeats": repeats = Integer.parseInt(args[++i]); break;
                case "--steps": steps = Integer.parseInt(args[++i]); break;
                default: throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        Engine engine = Engine.getEngine("PyTorch");
        System.err.println("engine " + engine.getEngineName() + " " + engine.getVersion()
                + ", gpu count " + engine.getGpuCount() + ", java " + System.getProperty("java.version"));
        Device device = "gpu".equals(deviceName) ? Device.gpu(0) : Device.cpu();
        Random rnd = new Random(42);

        if ("all".equals(which) || "mlp".equals(which)) {
            int batch = 256;
            try (Model model = Model.newInstance("mlp", device, "PyTorch")) {
                model.setBlock(mlp());
                DefaultTrainingConfig cfg = new DefaultTrainingConfig(Loss.softmaxCrossEntropyLoss())
                        .optOptimizer(Optimizer.adam().optLearningRateTracker(Tracker.fixed(1e-3f)).build())
                        .optDevices(new Device[] {device});
                try (Trainer trainer = model.newTrainer(cfg)) {
                    trainer.initialize(new Shape(batch, 784));
                    NDManager m = trainer.getManager();
                    float[] xs = new float[batch * 784];
                    for (int i = 0; i < xs.length; i++) {
                        xs[i] = (float) rnd.nextGaussian();
                    }
                    long[] ys = new long[batch];
                    for (int i = 0; i < batch; i++) {
                        ys[i] = rnd.nextInt(10);
                    }
                    NDArray x = m.create(xs, new Shape(batch, 784)).toDevice(device, false);
                    NDArray y = m.create(ys, new Shape(batch)).toDevice(device, false);
                    long flops = 6L * batch * (784L * 512 + 512L * 256 + 256L * 10);
                    String extra = ",\"batch\":256,\"flops_per_step\":" + flops;
                    measure("mlp", trainer, new NDList(x), new NDList(y), warmup, repeats, steps * 4, extra, true);
                    measure("mlp", trainer, new NDList(x), new NDList(y), warmup, repeats, steps * 4, extra, false);
                }
            }
        }
        if ("all".equals(which) || "gpt".equals(which)) {
            int batch = 16;
            int ctx = 256;
            int width = 256;
            int heads = 4;
            int layers = 4;
            for (int vocab : vocabs) {
                try (Model model = Model.newInstance("gpt", device, "PyTorch")) {
                    GptLm block = new GptLm(vocab, ctx, width, heads, layers);
                    model.setBlock(block);
                    DefaultTrainingConfig cfg = new DefaultTrainingConfig(Loss.softmaxCrossEntropyLoss())
                            .optOptimizer(Optimizer.adamW().optLearningRateTracker(Tracker.fixed(3e-4f))
                                    .optWeightDecays(0.01f).build())
                            .optDevices(new Device[] {device});
                    try (Trainer trainer = model.newTrainer(cfg)) {
                        trainer.initialize(new Shape(batch, ctx), new Shape(1, 1, ctx, ctx));
                        long nParams = 0;
                        for (var p : block.getParameters().values()) {
                            nParams += p.getArray().size();
                        }
                        NDManager m = trainer.getManager();
                        long[] toks = new long[batch * (ctx + 1)];
                        for (int i = 0; i < toks.length; i++) {
                            toks[i] = rnd.nextInt(vocab);
                        }
                        long[] in = new long[batch * ctx];
                        long[] tg = new long[batch * ctx];
                        for (int b = 0; b < batch; b++) {
                            System.arraycopy(toks, b * (ctx + 1), in, b * ctx, ctx);
                            System.arraycopy(toks, b * (ctx + 1) + 1, tg, b * ctx, ctx);
                        }
                        float[] mk = new float[ctx * ctx];
                        for (int i = 0; i < ctx; i++) {
                            for (int j = i + 1; j < ctx; j++) {
                                mk[i * ctx + j] = -1e9f;
                            }
                        }
                        NDArray x = m.create(in, new Shape(batch, ctx)).toDevice(device, false);
                        NDArray mask = m.create(mk, new Shape(1, 1, ctx, ctx)).toDevice(device, false);
                        NDArray y = m.create(tg, new Shape((long) batch * ctx)).toDevice(device, false);
                        // model FLOPs per step (PaLM appendix B convention): 6*N_matmul*tokens
                        // + 12*L*d*T*tokens (attention scores and mixing, causal positions not discounted)
                        long tokens = (long) batch * ctx;
                        long nMatmul = (long) layers * 12L * width * width + (long) vocab * width;
                        long flops = 6L * nMatmul * tokens + 12L * layers * width * ctx * tokens;
                        String extra = String.format(Locale.ROOT, ",\"vocab\":%d,\"batch\":%d,\"ctx\":%d,"
                                + "\"width\":%d,\"layers\":%d,\"heads\":%d,\"params\":%d,\"flops_per_step\":%d",
                                vocab, batch, ctx, width, layers, heads, nParams, flops);
                        System.err.printf(Locale.ROOT, "[gpt V=%d] params %d, model FLOPs/step %.3f G%n",
                                vocab, nParams, flops / 1e9);
                        // causality: changing the last token must leave the logits of earlier positions alone
                        long[] in2 = in.clone();
                        for (int b = 0; b < batch; b++) {
                            in2[b * ctx + ctx - 1] = (in2[b * ctx + ctx - 1] + 1) % vocab;
                        }
                        double leak;
                        try (NDManager sub = m.newSubManager()) {
                            NDArray x2 = sub.create(in2, new Shape(batch, ctx)).toDevice(device, false);
                            x.tempAttach(sub);
                            mask.tempAttach(sub);
                            NDArray l1 = trainer.evaluate(new NDList(x, mask)).head()
                                    .reshape(batch, ctx, vocab).get(":, :-1, :");
                            NDArray l2 = trainer.evaluate(new NDList(x2, mask)).head()
                                    .reshape(batch, ctx, vocab).get(":, :-1, :");
                            leak = l1.sub(l2).abs().max().getFloat();
                        }
                        System.err.printf(Locale.ROOT, "[gpt V=%d] causal check: max |logit change| at earlier "
                                + "positions when the last token changes = %.3g%n", vocab, leak);
                        extra += String.format(Locale.ROOT, ",\"causal_leak\":%.3g", leak);
                        measure("gpt_v" + vocab, trainer, new NDList(x, mask), new NDList(y), warmup, repeats,
                                steps, extra, true);
                        measure("gpt_v" + vocab, trainer, new NDList(x, mask), new NDList(y), warmup, repeats,
                                steps, extra, false);
                    }
                }
            }
        }
    }
}
