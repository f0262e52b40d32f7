/*
 * distill4j GPU benchmark (issue 8), part 2: the PROJECT's own students and training code on the
 * device named on the command line, through DJL 0.35.1 and the PyTorch engine.
 *
 * DjlGpuBench (beside this file) trains benchmark-owned copies of the students with DJL's stock
 * Trainer; this program trains what distill4j itself builds and runs:
 *
 *   MLP 784-512-256-10 (io.distill4j.models.Mlp), batch 256, through io.distill4j.trainer.TrainingSession
 *       (the step TrainingEngine runs: forward, the project's loss, loss read back, backward, the
 *       project's AdamW, lr 1e-3, weight decay 0.01) with
 *         proj-ce             io.distill4j.loss.CrossEntropyLoss, label validation on (the default)
 *         proj-ce-noval       the same with validation off (setValidate(false): no host reads)
 *         proj-softce-noval   io.distill4j.loss.SoftTargetCrossEntropyLoss on soft targets, validation off
 *         proj-ce-fp16-noval  TrainingSpec precision FP16 (fp16 copies, loss scaling, fp32 master weights)
 *       and end to end through StudentTrainer.train -> TrainingEngine.fit (TabularBatchSource: each batch
 *       copied from the host) with CrossEntropyLoss: variant "studenttrainer".
 *   GPT-2 student io.distill4j.models.lm.CausalLm from the preset models/gpt2-student-4x256.yaml
 *       (4 layers, width 256, 4 heads, context 256, fused c_attn, tied head), batch 16:
 *         proj-lm         vocab from --vocab, dropout 0 (as the PyTorch twin), AnswerLoss(0) (next-token
 *                         cross-entropy) on all positions, the engine's TrainingSession + AdamW (lr 3e-4, wd 0.01 on matrices,
 *                         no clipping); the step is LmFineTuner's inner loop: sub-manager, inputs
 *                         created from host arrays, logits, loss, loss read back, backward, AdamW step
 *         proj-lm fwdbwd  the same without the optimizer step
 *         proj-lm-fp16    the step with TrainingSpec precision FP16 (GPU only; twin: autocast fp16 + GradScaler)
 *         finetune-sft    LmFineTuner.train itself, the preset unchanged (V = 50257, dropout 0.1), SFT
 *                         mode, clip 1.0, cosine schedule, rows of exactly 256 tokens (no packing)
 *         finetune-kd     the same in TOKEN_KD mode (alpha 1) against synthetic top-16 teacher rows
 *         finetune-sft-fp16, finetune-kd-fp16  the same with TrainingSpec precision FP16 (GPU
 *                         only; twins: autocast fp16 + GradScaler); --model finetune16 runs these rows alone
 *
 * Output: human lines on stderr, one JSON object per measurement on stdout ("impl":"project"; "ref"
 * names the twin.py variant that does the same step in PyTorch). A row that fails prints its exact
 * exception as {"impl":"project","error":...} and the program goes on with the next one.
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
import ai.djl.nn.Block;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import io.distill4j.loss.CrossEntropyLoss;
import io.distill4j.loss.DistillationLoss;
import io.distill4j.loss.SoftTargetCrossEntropyLoss;
import io.distill4j.trainer.BatchTargets;
import io.distill4j.trainer.FitListener;
import io.distill4j.models.Mlp;
import io.distill4j.trainer.LrSchedule;
import io.distill4j.trainer.Precision;
import io.distill4j.trainer.StudentTrainer;
import io.distill4j.trainer.TrainingSession;
import io.distill4j.trainer.TrainingSpec;
import io.distill4j.trainer.Validator;
import io.distill4j.trainer.lm.AnswerLoss;
import io.distill4j.models.lm.CausalLm;
import io.distill4j.models.lm.CausalLmConfig;
import io.distill4j.models.lm.LmExample;
import io.distill4j.trainer.lm.LmFineTuner;
import io.distill4j.trainer.lm.LmOptions;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

public final class ProjectGpuBench {

    private ProjectGpuBench() {}

    /** One timed step; returns the loss (already read back to the host, as the project's loops do). */
    interface Step {
        float run();
    }

    static int warmup = 20;
    static int repeats = 5;
    static int steps = 50;

    static double median(double[] v) {
        double[] c = v.clone();
        Arrays.sort(c);
        return c.length % 2 == 1 ? c[c.length / 2] : 0.5 * (c[c.length / 2 - 1] + c[c.length / 2]);
    }

    static String esc(String s) {
        return s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n").replace("\t", "\\t");
    }

    /** Prints an error row with the exception's class, message and the top of its stack. */
    static void error(String model, String variant, Throwable e) {
        StringWriter sw = new StringWriter();
        e.printStackTrace(new PrintWriter(sw));
        String[] lines = sw.toString().split("\n");
        String head = String.join("\n", Arrays.copyOf(lines, Math.min(lines.length, 14)));
        System.err.println("[" + model + " " + variant + "] FAILED:\n" + sw);
        System.out.printf(Locale.ROOT, "{\"impl\":\"project\",\"model\":\"%s\",\"variant\":\"%s\",\"error\":\"%s\"}%n",
                model, variant, esc(head));
        System.out.flush();
    }

    /**
     * Warm-up, then {@code repeats} blocks of {@code n} steps on the host clock; every project step reads its
     * loss back (TrainingSession.forwardBackward and LmFineTuner do), so each step ends synchronised.
     */
    static void measure(String model, String variant, String phase, String ref, Step step, int n, Device device,
            String extra) {
        long t0 = System.nanoTime();
        float first = step.run();
        System.err.printf(Locale.ROOT, "[%s %s %s] first step %.1f ms, loss %.4f%n", model, variant, phase,
                (System.nanoTime() - t0) / 1e6, first);
        for (int i = 1; i < warmup; i++) {
            step.run();
        }
        double[] ms = new double[repeats];
        float last = Float.NaN;
        for (int r = 0; r < repeats; r++) {
            long s = System.nanoTime();
            for (int i = 0; i < n; i++) {
                last = step.run();
            }
            ms[r] = (System.nanoTime() - s) / 1e6 / n;
        }
        emit(model, variant, phase, ref, ms, n, first, last, device, extra);
    }

    static void emit(String model, String variant, String phase, String ref, double[] ms, int n, double first,
            double last, Device device, String extra) {
        double med = median(ms);
        double min = Arrays.stream(ms).min().orElse(Double.NaN);
        System.err.printf(Locale.ROOT, "[%s %s %s] project on %s: median %.3f ms/step (min %.3f, %d x %d steps); "
                + "loss %.4f -> %.4f%n", model, variant, phase, device, med, min, ms.length, n, first, last);
        System.out.printf(Locale.ROOT, "{\"impl\":\"project\",\"variant\":\"%s\",\"phase\":\"%s\",\"ref\":\"%s\","
                + "\"model\":\"%s\",\"device\":\"%s\",\"ms_median\":%.4f,\"ms_min\":%.4f,\"ms_all\":%s,"
                + "\"ms_synced\":%.4f,\"repeats\":%d,\"steps\":%d,\"loss_first\":%.5f,\"loss_last\":%.5f%s}%n",
                variant, phase, ref, model, device, med, min, Arrays.toString(ms), med, ms.length, n, first, last,
                extra);
        System.out.flush();
    }

    // ------------------------------------------------------------------------------------------- MLP

    static final int MLP_BATCH = 256;

    static Model newMlp(Device device) {
        Engine.getInstance().setRandomSeed(0);
        Model m = Model.newInstance("mlp", device, "PyTorch");
        m.setBlock(Mlp.builder().setInputs(784).setHidden(512, 256).setOutputs(10).build());
        m.getBlock().initialize(m.getNDManager(), DataType.FLOAT32, new Shape(MLP_BATCH, 784));
        return m;
    }

    static void mlpSession(Device device, String variant, DistillationLoss loss, boolean soft, Precision precision,
            String ref) {
        long flops = 6L * MLP_BATCH * (784L * 512 + 512L * 256 + 256L * 10);
        String extra = ",\"batch\":256,\"flops_per_step\":" + flops;
        try (Model model = newMlp(device)) {
            NDManager m = model.getNDManager();
            Random rnd = new Random(42);
            float[] xs = new float[MLP_BATCH * 784];
            for (int i = 0; i < xs.length; i++) {
                xs[i] = (float) rnd.nextGaussian();
            }
            NDArray x = m.create(xs, new Shape(MLP_BATCH, 784));
            NDArray y;
            if (soft) {
                float[] t = new float[MLP_BATCH * 10];
                for (int i = 0; i < MLP_BATCH; i++) {
                    double sum = 0;
                    for (int j = 0; j < 10; j++) {
                        t[i * 10 + j] = (float) Math.exp(2 * rnd.nextGaussian());
                        sum += t[i * 10 + j];
                    }
                    for (int j = 0; j < 10; j++) {
                        t[i * 10 + j] /= (float) sum;
                    }
                }
                y = m.create(t, new Shape(MLP_BATCH, 10));
            } else {
                long[] ys = new long[MLP_BATCH];
                for (int i = 0; i < MLP_BATCH; i++) {
                    ys[i] = rnd.nextInt(10);
                }
                y = m.create(ys, new Shape(MLP_BATCH));
            }
            NDList in = new NDList(x);
            NDList labels = new NDList(y);
            TrainingSpec spec = TrainingSpec.builder().setDevice(device).setLearningRate(1e-3f).optWeightDecay(0.01f)
                    .optPrecision(precision).build();
            try (TrainingSession session = new TrainingSession(model, loss, spec)) {
                measure("mlp", variant, "step", ref, () -> {
                    float l = session.forwardBackward(in, labels, 1f);
                    session.update(1e-3f);
                    return l;
                }, steps * 4, device, extra + ",\"precision\":\"" + precision + "\",\"loss\":\"" + loss.getName()
                        + "\",\"validate\":" + loss.isValidate());
            }
        } catch (Throwable e) {
            error("mlp", variant, e);
        }
    }

    /** StudentTrainer.train end to end (TrainingEngine.fit); per-update times from a FitListener. */
    static void mlpStudentTrainer(Device device) {
        String variant = "studenttrainer";
        try {
            int batches = warmup + repeats * steps;
            int n = MLP_BATCH * batches;
            Random rnd = new Random(7);
            float[][] features = new float[n][784];
            int[] classes = new int[n];
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < 784; j++) {
                    features[i][j] = (float) rnd.nextGaussian();
                }
                classes[i] = rnd.nextInt(10);
            }
            BatchTargets targets = (mgr, rows, inputs, probe) -> {
                long[] ys = new long[rows.length];
                for (int i = 0; i < rows.length; i++) {
                    ys[i] = classes[rows[i]];
                }
                return new NDList(mgr.create(ys));
            };
            TrainingSpec spec = TrainingSpec.builder().setDevice(device).setBatchSize(MLP_BATCH).setLearningRate(1e-3f).optWeightDecay(0.01f)
                    .setEpochs(1).optLogEvery(0).optProgressBar(false).build();
            long[] stamps = new long[batches + 1];
            double[] losses = new double[batches + 1];
            int[] count = {0};
            long t0 = System.nanoTime();
            Engine.getInstance().setRandomSeed(0);
            Block block = Mlp.builder().setInputs(784).setHidden(512, 256).setOutputs(10).build();
            try (Model model = StudentTrainer.train("mlp", block, features, targets, new CrossEntropyLoss(), spec,
                    (Validator) null, FitListener.onSteps(m -> {
                        if (count[0] <= batches) {
                            stamps[count[0]] = System.nanoTime();
                            losses[count[0]] = m.loss();
                        }
                        count[0]++;
                    }))) {
                double total = (System.nanoTime() - t0) / 1e9;
                if (count[0] != batches) {
                    throw new IllegalStateException("expected " + batches + " updates, listener saw " + count[0]);
                }
                double[] ms = new double[repeats];
                for (int r = 0; r < repeats; r++) {
                    int a = warmup - 1 + r * steps;
                    ms[r] = (stamps[a + steps] - stamps[a]) / 1e6 / steps;
                }
                long flops = 6L * MLP_BATCH * (784L * 512 + 512L * 256 + 256L * 10);
                emit("mlp", variant, "step", "proj-adamw-ce-sync", ms, steps, losses[0], losses[batches - 1], device,
                        String.format(Locale.ROOT, ",\"batch\":256,\"flops_per_step\":%d,\"fit_seconds\":%.3f,"
                                + "\"updates\":%d,\"rows\":%d", flops, total, batches, n));
            }
        } catch (Throwable e) {
            error("mlp", variant, e);
        }
    }

    // ------------------------------------------------------------------------------------------- GPT

    /** Reads the flat "key: value" YAML of a distill4j model preset into a map (ints, doubles, booleans, strings). */
    static Map<String, Object> readPreset(Path file) throws IOException {
        Map<String, Object> m = new LinkedHashMap<>();
        for (String raw : Files.readAllLines(file)) {
            String line = raw.replaceAll("\\s+#.*$", "").strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            int c = line.indexOf(':');
            String k = line.substring(0, c).strip();
            String v = line.substring(c + 1).strip();
            Object o;
            if (v.equals("true") || v.equals("false")) {
                o = Boolean.parseBoolean(v);
            } else if (v.matches("-?\\d+")) {
                o = Integer.parseInt(v);
            } else if (v.matches("-?[0-9.]+([eE][-+]?\\d+)?")) {
                o = Double.parseDouble(v);
            } else {
                o = v;
            }
            m.put(k, o);
        }
        return m;
    }

    static long gptFlops(CausalLmConfig c, int batch, int ctx) {
        long tokens = (long) batch * ctx;
        long l = c.numLayers();
        long d = c.hiddenSize();
        long nMatmul = l * 12L * d * d + (long) c.vocabSize() * d;
        return 6L * nMatmul * tokens + 12L * l * d * ctx * tokens;
    }

    static String gptExtra(CausalLm model, CausalLmConfig c, int batch, int ctx) {
        return String.format(Locale.ROOT, ",\"vocab\":%d,\"batch\":%d,\"ctx\":%d,\"width\":%d,\"layers\":%d,"
                + "\"heads\":%d,\"params\":%d,\"flops_per_step\":%d,\"dropout\":%s", c.vocabSize(), batch, ctx,
                c.hiddenSize(), c.numLayers(), c.numHeads(), model.parameterCount(), gptFlops(c, batch, ctx),
                c.embdDropout());
    }

    /** proj-lm: LmFineTuner's inner step on one fixed batch, segments and positions left to the model. */
    static void gptStep(Device device, CausalLmConfig preset, int vocab, int batch, int ctx) {
        String name = "gpt_v" + vocab;
        try (NDManager manager = NDManager.newBaseManager(device, "PyTorch")) {
            CausalLmConfig.Builder cb = preset.toBuilder().vocabSize(vocab).dropout(0);
            if (vocab <= Math.max(preset.bosTokenId(), preset.eosTokenId())) {
                cb.bosTokenId(-1).eosTokenId(-1); // GPT-2's <|endoftext|> id does not exist in a smaller vocabulary
            }
            CausalLmConfig c = cb.build();
            Engine.getInstance().setRandomSeed(0);
            CausalLm model = new CausalLm(c);
            model.initialize(manager);
            String extra = gptExtra(model, c, batch, ctx);
            System.err.printf(Locale.ROOT, "[%s] %s, %d parameters, model FLOPs/step %.3f G%n", name, model,
                    model.parameterCount(), gptFlops(c, batch, ctx) / 1e9);
            Random rnd = new Random(42);
            long[] ids = new long[batch * ctx];
            long[] targets = new long[batch * ctx];
            float[] weights = new float[batch * ctx];
            for (int b = 0; b < batch; b++) {
                long prev = rnd.nextInt(vocab);
                for (int t = 0; t < ctx; t++) {
                    long next = rnd.nextInt(vocab);
                    ids[b * ctx + t] = prev;
                    targets[b * ctx + t] = next;
                    weights[b * ctx + t] = 1f;
                    prev = next;
                }
            }
            Shape s = new Shape(batch, ctx);
            // causality: changing the last token leaves the logits of earlier positions unchanged
            double leak;
            try (NDManager sub = manager.newSubManager()) {
                long[] ids2 = ids.clone();
                for (int b = 0; b < batch; b++) {
                    ids2[b * ctx + ctx - 1] = (ids2[b * ctx + ctx - 1] + 1) % vocab;
                }
                ParameterStore ps = new ParameterStore(sub, false);
                NDArray l1 = model.logits(ps, sub.create(ids, s), null, null, false).get(":, :-1, :");
                NDArray l2 = model.logits(ps, sub.create(ids2, s), null, null, false).get(":, :-1, :");
                leak = l1.sub(l2).abs().max().getFloat();
            }
            System.err.printf(Locale.ROOT, "[%s] causal check: max |logit change| at earlier positions = %.3g%n",
                    name, leak);
            extra += String.format(Locale.ROOT, ",\"causal_leak\":%.3g", leak);
            AnswerLoss loss = new AnswerLoss(0);
            // fp32 step, fp32 forward+backward, and (GPU only) the step in fp16 mixed precision (Precision.FP16:
            // float16 forward and backward on one float16 copy of the flat parameter buffer, loss scaling, fp32 AdamW)
            List<Precision> precisions = new ArrayList<>(List.of(Precision.FP32));
            if ("gpu".equals(device.getDeviceType())) {
                precisions.add(Precision.FP16);
            }
            for (Precision precision : precisions) {
                boolean half = precision == Precision.FP16;
                ai.djl.Model djlModel = ai.djl.Model.newInstance(name + (half ? "-fp16" : ""), device, "PyTorch");
                djlModel.setBlock(model);
                io.distill4j.trainer.TrainingSession session = new io.distill4j.trainer.TrainingSession(djlModel, loss,
                        io.distill4j.trainer.TrainingSpec.builder().setDevice(device).setLearningRate(3e-4f)
                                .optWeightDecay(0.01f).optNoDecay(LmFineTuner.vectorParameters(model))
                                .optPrecision(precision).build());
                for (boolean update : half ? new boolean[] {true} : new boolean[] {true, false}) {
                    String variant = "proj-lm" + (half ? "-fp16" : "");
                    try {
                        measure(name, variant, update ? "step" : "fwdbwd",
                                half ? "proj-fused-fp16-sync" : update ? "proj-fused-sync" : "proj-fused-fwdbwd-sync",
                                () -> {
                                    float value;
                                    try (NDManager sub = manager.newSubManager()) {
                                        NDList in = new NDList(sub.create(ids, s));
                                        NDList labels = new NDList(sub.create(targets, s), sub.create(weights, s));
                                        value = session.forwardBackward(in, labels, 1f);
                                        if (update) {
                                            session.update(3e-4f);
                                        } else {
                                            session.optimizer().discardGradients();
                                        }
                                    }
                                    return value;
                                }, steps, device, extra);
                    } catch (Throwable e) {
                        error(name, variant + " " + (update ? "step" : "fwdbwd"), e);
                    }
                }
                session.close();
            }
        } catch (Throwable e) {
            error(name, "proj-lm", e);
        }
    }

    /** LmFineTuner.train itself on rows of exactly {@code ctx} tokens; per-step times from its listener. */
    static void finetune(Device device, CausalLmConfig c, int batch, int ctx, boolean kd, int k) {
        finetune(device, c, batch, ctx, kd, k, Precision.FP32);
    }

    /** The same with a precision: FP16 is LmFineTuner's mixed precision through the engine (GPU only). */
    static void finetune(Device device, CausalLmConfig c, int batch, int ctx, boolean kd, int k, Precision precision) {
        String name = "gpt_v" + c.vocabSize();
        String variant = (kd ? "finetune-kd" : "finetune-sft") + (precision == Precision.FP16 ? "-fp16" : "");
        try (NDManager manager = NDManager.newBaseManager(device, "PyTorch")) {
            int nSteps = warmup + repeats * steps;
            int v = c.vocabSize();
            Random rnd = new Random(3);
            List<LmExample> examples = new ArrayList<>();
            for (int e = 0; e < nSteps * batch; e++) {
                int[] prompt = {rnd.nextInt(v)};
                int[] answer = new int[ctx - 1];
                for (int j = 0; j < answer.length; j++) {
                    answer[j] = rnd.nextInt(v);
                }
                LmExample.TopK top = null;
                if (kd) {
                    int[] tid = new int[answer.length * k];
                    float[] lp = new float[answer.length * k];
                    float[] tail = new float[answer.length];
                    for (int p = 0; p < answer.length; p++) {
                        double[] w = new double[k + 1];
                        double sum = 0;
                        for (int j = 0; j <= k; j++) {
                            w[j] = Math.exp(1.5 * rnd.nextGaussian());
                            sum += w[j];
                        }
                        for (int j = 0; j < k; j++) {
                            tid[p * k + j] = j == 0 ? answer[p] : rnd.nextInt(v);
                            lp[p * k + j] = (float) Math.log(w[j] / sum);
                        }
                        tail[p] = (float) Math.log(w[k] / sum);
                    }
                    top = new LmExample.TopK(k, tid, lp, tail);
                }
                examples.add(new LmExample(prompt, answer, top));
            }
            Engine.getInstance().setRandomSeed(0);
            CausalLm model = new CausalLm(c);
            model.initialize(manager);
            String extra = gptExtra(model, c, batch, ctx);
            // the fine-tuner's defaults before TrainingSpec + LmOptions replaced its own settings: cosine after 10
            // warm-up updates, AdamW 0.01, clip 1, no bar
            TrainingSpec spec = TrainingSpec.builder().setEpochs(1).setBatchSize(batch).setLearningRate(3e-4f)
                    .optSchedule(LrSchedule.Kind.COSINE, 10).optWeightDecay(0.01f).optMaxGradNorm(1.0f)
                    .optPrecision(precision).optProgressBar(false).build();
            LmOptions lm = kd ? LmOptions.of(LmOptions.Mode.TOKEN_KD, 1.0, ctx, false)
                    : LmOptions.of(LmOptions.Mode.SFT_ALL, null, ctx, false);
            long[] stamps = new long[nSteps];
            int[] count = {0};
            LmFineTuner.Result r = LmFineTuner.train(model, manager, examples, spec, lm, List.of(), "lm",
                    (step, loss, lr) -> {
                        if (count[0] < nSteps) {
                            stamps[count[0]] = System.nanoTime();
                        }
                        count[0]++;
                    }).result();
            if (r.steps() != nSteps) {
                throw new IllegalStateException("expected " + nSteps + " steps, got " + r.steps());
            }
            double[] ms = new double[repeats];
            for (int i = 0; i < repeats; i++) {
                int a = warmup - 1 + i * steps;
                ms[i] = (stamps[a + steps] - stamps[a]) / 1e6 / steps;
            }
            emit(name, variant, "step", (kd ? "proj-fused-drop0.1-clip1-topk" + k + "kd" : "proj-fused-drop0.1-clip1")
                    + (precision == Precision.FP16 ? "-fp16" : "") + "-sync", ms, steps, r.losses().get(0), r.losses().get(nSteps - 1),
                    device, extra + String.format(Locale.ROOT, ",\"mode\":\"%s\",\"clip\":%s,\"k\":%d,"
                            + "\"train_seconds\":%.3f,\"tokens_per_s\":%.0f", lm.mode(), spec.maxGradNorm(), kd ? k : 0,
                            r.seconds(), r.tokensPerSecond()));
        } catch (Throwable e) {
            error(name, variant, e);
        }
    }

    public static void main(String[] args) throws IOException {
        String deviceName = "gpu";
        String which = "all";
        int[] vocabs = {8192, 50257};
        Path presetFile = Path.of("models/gpt2-student-4x256.yaml");
        int gptBatch = 16;
        int ctx = 256;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--device": deviceName = args[++i]; break;
                case "--model": which = args[++i]; break;
                case "--vocab":
                    vocabs = Arrays.stream(args[++i].split(",")).mapToInt(Integer::parseInt).toArray();
                    break;
                case "--preset": presetFile = Path.of(args[++i]); break;
                case "--warmup": warmup = Integer.parseInt(args[++i]); break;
                case "--repeats": repeats = Integer.parseInt(args[++i]); break;
                case "--steps": steps = Integer.parseInt(args[++i]); break;
                // smaller GPT batches for a quick CPU dry run (discovering the native methods reached)
                case "--gpt-batch": gptBatch = Integer.parseInt(args[++i]); break;
                case "--ctx": ctx = Integer.parseInt(args[++i]); break;
                default: throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        Engine engine = Engine.getEngine("PyTorch");
        System.err.println("engine " + engine.getEngineName() + " " + engine.getVersion() + ", gpu count "
                + engine.getGpuCount() + ", java " + System.getProperty("java.version"));
        Device device = "gpu".equals(deviceName) ? Device.gpu(0) : Device.cpu();
        boolean all = "all".equals(which);
        if (all || which.contains("mlp")) {
            mlpSession(device, "proj-ce", new CrossEntropyLoss(), false, Precision.FP32, "proj-adamw-ce-sync");
            mlpSession(device, "proj-ce-noval", new CrossEntropyLoss().setValidate(false), false, Precision.FP32,
                    "proj-adamw-ce-sync");
            mlpSession(device, "proj-softce-noval", new SoftTargetCrossEntropyLoss().setValidate(false), true,
                    Precision.FP32, "proj-adamw-softce-sync");
            if ("gpu".equals(device.getDeviceType())) {
                mlpSession(device, "proj-ce-fp16-noval", new CrossEntropyLoss().setValidate(false), false,
                        Precision.FP16, "proj-adamw-ce-fp16-autocast-sync");
            }
            mlpStudentTrainer(device);
        }
        if (all || which.contains("gpt") || which.contains("finetune")) {
            CausalLmConfig preset = CausalLmConfig.fromPreset(readPreset(presetFile), presetFile.toString());
            if (ctx != preset.maxPositions()) {
                preset = preset.toBuilder().maxPositions(ctx).build();
            }
            System.err.println("preset " + presetFile + ": " + preset);
            if (all || which.contains("gpt")) {
                for (int v : vocabs) {
                    gptStep(device, preset, v, gptBatch, ctx);
                }
            }
            if (all || which.contains("finetune")) {
                if (!which.contains("finetune16")) {
                    finetune(device, preset, gptBatch, ctx, false, 0);
                    finetune(device, preset, gptBatch, ctx, true, 16);
                }
                if ("gpu".equals(device.getDeviceType())) {
                    finetune(device, preset, gptBatch, ctx, false, 0, Precision.FP16);
                    finetune(device, preset, gptBatch, ctx, true, 16, Precision.FP16);
                }
            }
        }
    }
}
