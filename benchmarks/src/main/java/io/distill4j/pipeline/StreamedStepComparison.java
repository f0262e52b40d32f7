package io.distill4j.pipeline;

import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.distill4j.data.DenseCacheReader;
import io.distill4j.data.TabularData;
import io.distill4j.data.TeacherCache;
import io.distill4j.loss.DistillationLoss;
import io.distill4j.loss.Registry;
import io.distill4j.loss.TargetBuilder;
import io.distill4j.models.Mlp;
import io.distill4j.trainer.BatchTargets;
import io.distill4j.trainer.TrainingSession;
import io.distill4j.trainer.TrainingSpec;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * Issue 21, item 2: the training step with labels streamed from the cache ({@link CacheTargets}, what
 * {@link Distillation#fit} runs) against its in-memory twin (the whole cache read once into one NDArray, each batch's
 * rows taken from it), side by side in one JVM, in alternating blocks so that load on a shared machine hits both alike.
 *
 * <p>A step: a batch of 64 shuffled training rows, their labels (samples of every draw, target {@code mean}, loss
 * {@code soft-ce}), forward, backward and an AdamW update of an MLP 64-64-10 student. It lives in the pipeline's package
 * because {@link CacheTargets} is package-private.
 *
 * <p>Usage: {@code StreamedStepComparison SAMPLE_JOB.yaml [steps per block] [blocks]}; prints one line per block and
 * the median ratio streamed / in-memory.
 */
public final class StreamedStepComparison {

    private StreamedStepComparison() {
    }

    /** The twin: every batch's rows taken from the whole cache held as one NDArray. */
    private static final class InMemoryTargets implements BatchTargets {
        private final NDArray all;
        private final TargetBuilder target;
        private final LabelAssembler labels;
        private final int[] classLabels;
        private final String signal;

        InMemoryTargets(NDArray all, TargetBuilder target, LabelAssembler labels, int[] classLabels, String signal) {
            this.all = all;
            this.target = target;
            this.labels = labels;
            this.classLabels = classLabels;
            this.signal = signal;
        }

        @Override
        public NDList labels(NDManager manager, int[] rows, NDArray inputs, io.distill4j.trainer.StudentProbe student) {
            long[] items = new long[rows.length];
            int[] ids = new int[rows.length];
            for (int i = 0; i < rows.length; i++) {
                items[i] = rows[i];
                ids[i] = classLabels[rows[i]];
            }
            NDArray samples = all.get(new NDIndex("{}", manager.create(items)));
            samples.attach(manager);
            NDArray y = manager.create(ids);
            return labels.assemble(samples, target.build(samples, null, null), y, signal);
        }
    }

    /**
     * Runs the comparison.
     *
     * @param args the sample job (its data and cache), steps per block, blocks
     */
    public static void main(String[] args) {
        SampleSpec spec = SampleSpec.load(Path.of(args[0]));
        int steps = args.length > 1 ? Integer.parseInt(args[1]) : 20;
        int blocks = args.length > 2 ? Integer.parseInt(args[2]) : 6;
        TabularData train = SampleJob.prepare(spec.data()).sampled();
        TeacherCache cache = TeacherCache.open(spec.cache());
        DenseCacheReader reader = cache.dense(false);
        int n = train.size();
        int k = reader.k();
        String signal = cache.manifest().signal();
        TargetBuilder target = Registry.target("mean", Map.of());
        DistillationLoss loss = Registry.loss("soft-ce", Map.of());
        LabelAssembler assembler = new LabelAssembler(loss, LabelAssembler.DEFAULT_TOP_K);
        int[] classLabels = train.labels();
        float[] features = io.distill4j.data.Rows.flatten(train.features());
        int d = train.width();
        System.out.printf(Locale.ROOT, "cache %s: %d items x k=%d x %d (%.2f GB); steps of 64 rows, target mean, soft-ce%n",
                spec.cache(), n, k, reader.width(), 4.0 * n * k * reader.width() / 1e9);
        try (NDManager root = NDManager.newBaseManager()) {
            long t0 = System.nanoTime();
            NDArray all = reader.range(root, 0, n);
            System.out.printf(Locale.ROOT, "in-memory twin: whole cache read into one NDArray in %.1f s%n",
                    (System.nanoTime() - t0) / 1e9);
            BatchTargets streamed = new CacheTargets(reader, 0, k, target, assembler, classLabels, signal,
                    StudentEstimates.mcDropout().start(4, null, n, reader.width())); // the mean target asks for none
            BatchTargets inMemory = new InMemoryTargets(all, target, assembler, classLabels, signal);
            Model[] models = new Model[2];
            TrainingSession[] sessions = new TrainingSession[2];
            for (int s = 0; s < 2; s++) {
                models[s] = Model.newInstance("student-" + s);
                models[s].setBlock(Mlp.builder().setInputs(d).setHidden(64).setOutputs(10).optDropout(0.2f).build());
                models[s].getBlock().initialize(models[s].getNDManager(), DataType.FLOAT32, new Shape(64, d));
                sessions[s] = new TrainingSession(models[s], loss, TrainingSpec.builder().setLearningRate(1e-3f).build());
            }
            Random random = new Random(0);
            List<Double> ratios = new ArrayList<>();
            for (int b = -1; b < blocks; b++) {   // block -1 warms both paths up
                double[] ms = new double[2];
                for (int order = 0; order < 2; order++) {
                    int s = Math.floorMod(b + order, 2);   // alternate which path goes first
                    BatchTargets targets = s == 0 ? streamed : inMemory;
                    long start = System.nanoTime();
                    for (int i = 0; i < steps; i++) {
                        int[] rows = new int[64];
                        for (int r = 0; r < 64; r++) {
                            rows[r] = random.nextInt(n);
                        }
                        float[] x = new float[64 * d];
                        for (int r = 0; r < 64; r++) {
                            System.arraycopy(features, rows[r] * d, x, r * d, d);
                        }
                        try (NDManager sub = root.newSubManager()) {
                            NDArray input = sub.create(x, new Shape(64, d));
                            NDList labels = targets.labels(sub, rows, input, null);
                            sessions[s].forwardBackward(new NDList(input), labels, 1f);
                            sessions[s].update(1e-3f);
                        }
                    }
                    ms[s] = (System.nanoTime() - start) / 1e6 / steps;
                }
                if (b >= 0) {
                    ratios.add(ms[0] / ms[1]);
                    System.out.printf(Locale.ROOT, "block %d: streamed %.2f ms/step, in-memory %.2f ms/step, ratio %.3f%n",
                            b, ms[0], ms[1], ms[0] / ms[1]);
                }
            }
            double[] r = ratios.stream().mapToDouble(Double::doubleValue).sorted().toArray();
            System.out.printf(Locale.ROOT, "median ratio streamed / in-memory over %d blocks: %.3f (min %.3f, max %.3f)%n",
                    r.length, r[r.length / 2], r[0], r[r.length - 1]);
            for (int s = 0; s < 2; s++) {
                sessions[s].close();
                models[s].close();
            }
        }
    }
}
