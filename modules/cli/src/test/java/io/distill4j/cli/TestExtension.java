package io.distill4j.cli;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.distill4j.data.config.ConfigReader;
import io.distill4j.loss.DistillationLoss;
import io.distill4j.loss.Label;
import io.distill4j.loss.Registry;
import io.distill4j.loss.StudentEstimate;
import io.distill4j.loss.TargetBuilder;
import io.distill4j.pipeline.Extension;
import io.distill4j.pipeline.TeacherType;
import io.distill4j.pipeline.Teachers;
import io.distill4j.teacher.Teacher;
import io.distill4j.teacher.TeacherOutput;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A plug-in as a user would write one, found through {@code META-INF/services/io.distill4j.pipeline.Extension} in the
 * tests' resources: a loss ({@code test-brier}), a target builder ({@code test-draw}) and a teacher
 * ({@code test-rule}), each used by name from YAML in {@link ExtensionTest}.
 */
public final class TestExtension implements Extension {

    /** How often {@link #register()} ran (once per JVM). */
    static int registrations;

    /**
     * Options of {@code test-draw}, bound strictly by the one config binding.
     *
     * @param index the draw each row's target is, 0-based
     */
    public record DrawOptions(int index) {
        /** Validates. */
        public DrawOptions {
            if (index < 0) {
                throw new IllegalArgumentException("index must be >= 0, got " + index);
            }
        }
    }

    /**
     * Settings of the {@code test-rule} teacher (its sample job's {@code teacher:} keys).
     *
     * @param sharpness multiplies the features into logits
     * @param noise the standard deviation of the Gaussian noise on each draw's logits
     */
    public record Rule(double sharpness, double noise) {
        /** Validates. */
        public Rule {
            if (!(noise >= 0)) {
                throw new IllegalArgumentException("noise must be >= 0, got " + noise);
            }
        }
    }

    /** A record with no keys: the loss takes no options. */
    public record NoOptions() {
    }

    @Override
    public void register() {
        registrations++;
        Registry.registerLoss("test-brier", o -> {
            ConfigReader.convert(o, NoOptions.class, "loss 'test-brier'");
            return new Brier();
        });
        Registry.registerTarget("test-draw", o -> new Draw(ConfigReader.convert(o, DrawOptions.class, "target 'test-draw'")
                .index()));
        Teachers.register("test-rule", new TeacherType<Rule>() {
            @Override
            public Class<Rule> settings() {
                return Rule.class;
            }

            @Override
            public Teacher create(Rule settings, Context context) {
                return new RuleTeacher(settings, context.k(), context.width(), context.seed(), context.device());
            }
        });
    }

    /** The Brier score: sum over classes of (softmax(z) - t)^2. */
    static final class Brier extends DistillationLoss {
        Brier() {
            super("test-brier");
        }

        @Override
        public NDArray itemLosses(NDList labels, NDList predictions) {
            NDArray d = predictions.head().softmax(-1).sub(labels.head());
            return d.mul(d).sum(new int[] {-1});
        }

        @Override
        public List<Label> labels() {
            return List.of(Label.TARGET_PROBABILITIES);
        }
    }

    /** One chosen draw of each row. */
    record Draw(int index) implements TargetBuilder {
        @Override
        public NDArray build(NDArray samples, StudentEstimate student) {
            if (index >= samples.getShape().get(1)) {
                throw new IllegalArgumentException("test-draw: index " + index + " but only " + samples.getShape().get(1)
                        + " draws per row");
            }
            return samples.get(":, " + index + ", :");
        }

        @Override
        public String name() {
            return "test-draw";
        }
    }

    /** softmax(sharpness * x[j mod D] + noise * N(0, 1)) per class j, seeded by (seed, item, draw). */
    static final class RuleTeacher implements Teacher {
        private final Rule rule;
        private final int k;
        private final int width;
        private final long seed;
        private final Device device;

        RuleTeacher(Rule rule, int k, int width, long seed, Device device) {
            this.rule = rule;
            this.k = k;
            this.width = width;
            this.seed = seed;
            this.device = device;
        }

        @Override
        public TeacherOutput output() {
            return TeacherOutput.probabilities(1f);
        }

        @Override
        public int k() {
            return k;
        }

        @Override
        public int width() {
            return width;
        }

        @Override
        public Device device() {
            return device;
        }

        @Override
        public Map<String, Object> provenance() {
            Map<String, Object> p = new LinkedHashMap<>();
            p.put("name", "test-rule");
            p.put("sharpness", rule.sharpness());
            p.put("noise", rule.noise());
            p.put("seed", seed);
            return p;
        }

        @Override
        public NDArray sample(NDManager manager, NDArray x, long firstItem) {
            float[] in = x.toFloatArray();
            int b = (int) x.getShape().get(0);
            int d = (int) x.getShape().get(1);
            float[] out = new float[b * k * width];
            for (int i = 0; i < b; i++) {
                for (int s = 0; s < k; s++) {
                    SplittableRandom r = new SplittableRandom(seed * 1_000_003L + (firstItem + i) * 1_009L + s);
                    double[] z = new double[width];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j < width; j++) {
                        z[j] = rule.sharpness() * in[i * d + j % d] + rule.noise() * gaussian(r);
                        max = Math.max(max, z[j]);
                    }
                    double sum = 0;
                    for (int j = 0; j < width; j++) {
                        z[j] = Math.exp(z[j] - max);
                        sum += z[j];
                    }
                    for (int j = 0; j < width; j++) {
                        out[(i * k + s) * width + j] = (float) (z[j] / sum);
                    }
                }
            }
            return manager.create(out, new Shape(b, k, width));
        }

        private static double gaussian(SplittableRandom r) {
            return Math.sqrt(-2 * Math.log(1 - r.nextDouble())) * Math.cos(2 * Math.PI * r.nextDouble());
        }
    }
}
