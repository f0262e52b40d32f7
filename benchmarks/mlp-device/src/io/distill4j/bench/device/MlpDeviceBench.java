/*
 * distill4j MLP engine on the device machine (issue 5), compiled with plain javac against the DJL jars and
 * the distill4j trainer/data/loss jars (see pack.sh); run by run-on-device.sh through a DJL JNI rebuilt
 * against the machine's own libtorch.
 *
 *   --mode step: one training step of 784-512-256-10 at batch 256 through TrainingSession (forward, softmax
 *     cross-entropy, loss read, backward, AdamW), timed exactly as benchmarks/pytorch/mlp_step.py times
 *     PyTorch: warm-up seconds, then timed windows; one JSON line.
 *   --mode fp16: trains the same MLP on a synthetic 10-class problem with the TrainingEngine on the GPU in
 *     fp32 and in fp16 (float16 compute, float32 master weights, dynamic loss scaling); one JSON line each
 *     with loss, accuracy, skipped updates, the parameters' type and ms per update.
 */
package io.distill4j.bench.device;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.loss.Loss;
import io.distill4j.trainer.BatchTargets;
import io.distill4j.trainer.Metrics;
import io.distill4j.models.Mlp;
import io.distill4j.trainer.Precision;
import io.distill4j.trainer.StudentTrainer;
import io.distill4j.trainer.TabularBatchSource;
import io.distill4j.trainer.TrainingEngine;
import io.distill4j.trainer.FitResult;
import io.distill4j.trainer.TrainingSession;
import io.distill4j.trainer.TrainingSpec;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

public final class MlpDeviceBench {

    private MlpDeviceBench() {
    }

    public static void main(String[] args) {
        Map<String, String> a = new HashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            a.put(args[i].replaceFirst("^--", ""), args[i + 1]);
        }
        String mode = a.getOrDefault("mode", "step");
        if ("step".equals(mode)) {
            step(Integer.parseInt(a.getOrDefault("threads", "1")), Double.parseDouble(a.getOrDefault("warmup", "6")),
                    Integer.parseInt(a.getOrDefault("iterations", "5")), Double.parseDouble(a.getOrDefault("seconds", "2")));
        } else {
            fp16(Integer.parseInt(a.getOrDefault("epochs", "3")));
        }
    }

    static Model mlp(Device device) {
        Model m = Model.newInstance("mlp", device);
        m.setBlock(Mlp.builder().setInputs(784).setHidden(512, 256).setOutputs(10).build());
        return m;
    }

    static void step(int threads, double warmup, int iterations, double seconds) {
        System.setProperty("ai.djl.pytorch.num_threads", Integer.toString(threads));
        System.setProperty("ai.djl.pytorch.num_interop_threads", "1");
        Engine.getInstance().setRandomSeed(0);
        try (NDManager data = NDManager.newBaseManager(); Model m = mlp(Device.cpu())) {
            m.getBlock().initialize(m.getNDManager(), DataType.FLOAT32, new Shape(256, 784));
            Random r = new Random(0);
            float[] xs = new float[256 * 784];
            for (int i = 0; i < xs.length; i++) {
                xs[i] = r.nextFloat();
            }
            long[] ys = new long[256];
            for (int i = 0; i < 256; i++) {
                ys[i] = r.nextInt(10);
            }
            NDList x = new NDList(data.create(xs, new Shape(256, 784)));
            NDList y = new NDList(data.create(ys));
            TrainingSpec spec = TrainingSpec.builder().setLearningRate(1e-3f).optWeightDecay(0.01f).build();
            try (TrainingSession s = new TrainingSession(m, Loss.softmaxCrossEntropyLoss(), spec)) {
                long end = System.nanoTime() + (long) (warmup * 1e9);
                while (System.nanoTime() < end) {
                    s.forwardBackward(x, y, 1f);
                    s.update(1e-3f);
                }
                List<Double> scores = new ArrayList<>();
                double cpu = 0;
                for (int it = 0; it < iterations; it++) {
                    int n = 0;
                    double c0 = processCpuMs();
                    long t0 = System.nanoTime();
                    double t;
                    do {
                        s.forwardBackward(x, y, 1f);
                        s.update(1e-3f);
                        n++;
                        t = (System.nanoTime() - t0) / 1e9;
                    } while (t < seconds);
                    scores.add(t / n * 1e3);
                    cpu += (processCpuMs() - c0) / n / iterations;
                }
                double mean = scores.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
                System.out.println(String.format(Locale.ROOT, "{\"benchmark\": \"distill4j-engine\", \"threads\": %d,"
                        + " \"ms_per_step\": %.4f, \"ms_min\": %.4f, \"ms_max\": %.4f, \"scores\": %s,"
                        + " \"cpu_ms_per_step\": %.4f}", threads, mean,
                        scores.stream().mapToDouble(Double::doubleValue).min().orElse(Double.NaN),
                        scores.stream().mapToDouble(Double::doubleValue).max().orElse(Double.NaN), scores, cpu));
            }
        }
    }

    /**
     * Process CPU time (user + system, all threads) from /proc/self/stat, in milliseconds at the kernel's
     * 10 ms tick (the jlink JRE of benchmarks/gpu/pack.sh has no jdk.management module).
     */
    static double processCpuMs() {
        try {
            String stat = new String(java.nio.file.Files.readAllBytes(java.nio.file.Path.of("/proc/self/stat")),
                    java.nio.charset.StandardCharsets.US_ASCII);
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return (Long.parseLong(f[11]) + Long.parseLong(f[12])) * 10.0;
        } catch (java.io.IOException e) {
            return Double.NaN;
        }
    }

    /** 8192 rows of 784 features; the label is the argmax of a fixed random linear map (learnable). */
    static void fp16(int epochs) {
        Random r = new Random(1);
        int n = 8192;
        float[][] x = new float[n][784];
        float[][] w = new float[10][784];
        for (float[] row : w) {
            for (int j = 0; j < 784; j++) {
                row[j] = (float) r.nextGaussian();
            }
        }
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < 784; j++) {
                x[i][j] = r.nextFloat();
            }
            double best = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < 10; c++) {
                double s = 0;
                for (int j = 0; j < 784; j++) {
                    s += w[c][j] * (x[i][j] - 0.5);
                }
                if (s > best) {
                    best = s;
                    y[i] = c;
                }
            }
        }
        BatchTargets targets = (m, rows, xb, probe) -> {
            float[] t = new float[rows.length * 10];
            for (int i = 0; i < rows.length; i++) {
                t[i * 10 + y[rows[i]]] = 1f;
            }
            return new NDList(m.create(t, new Shape(rows.length, 10)));
        };
        Device gpu = Device.gpu(0);
        for (Precision p : new Precision[] {Precision.FP32, Precision.FP16}) {
            try (Model m = mlp(gpu); TabularBatchSource src = new TabularBatchSource(x, targets, 256, gpu)) {
                TrainingSpec spec = TrainingSpec.builder().setDevice(gpu).setSeed(3).setEpochs(epochs)
                        .setLearningRate(1e-3f).optMaxGradNorm(1f).optPrecision(p).optLogEvery(0).optProgressBar(false).build();
                long t0 = System.nanoTime();
                FitResult res = TrainingEngine.fit(m, src, new io.distill4j.loss.SoftTargetCrossEntropyLoss(), spec);
                double ms = (System.nanoTime() - t0) / 1e6 / res.steps();
                double acc = Metrics.accuracy(Metrics.toDouble(io.distill4j.models.Inference.probabilities(m, x, false)), y);
                DataType dt = m.getBlock().getParameters().values().stream().map(Parameter::getArray)
                        .map(a -> a.getDataType()).distinct().reduce((u, v) -> v).orElse(null);
                System.out.println(String.format(Locale.ROOT, "{\"benchmark\": \"fp16-check\", \"precision\": \"%s\","
                        + " \"device\": \"%s\", \"updates\": %d, \"skipped\": %d, \"last_loss\": %.5f,"
                        + " \"train_accuracy\": %.4f, \"parameter_dtype\": \"%s\", \"ms_per_update\": %.3f}", p,
                        m.getNDManager().getDevice(), res.steps(), res.skippedSteps(), res.lastLoss(), acc, dt, ms));
            }
        }
    }
}
