package io.distill4j.trainer;

import ai.djl.Model;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.training.loss.Loss;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import io.distill4j.trainer.stats.Summary;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * M students from M seeds on the same data: each seed initialises its own student, draws its own data order
 * and dropout masks, is trained by the {@link TrainingEngine} and evaluated. The result holds every
 * student's metrics, their aggregates (mean, std, 95% Student-t interval: {@link Summary}) and the inter-student variances of predictions
 * and of parameters.
 *
 * <p>Students are trained one after the other (PyTorch allows one gradient collector at a time). With
 * checkpoints enabled, student s writes to {@code <checkpointDir>/seed-<s>}; with {@code resume}, each
 * student continues from its newest checkpoint there, so an interrupted multi-student run resumes too.
 */
public final class MultiStudentRun {

    private static final Logger LOG = LogManager.getLogger(MultiStudentRun.class);

    /** Builds the student of one seed. */
    @FunctionalInterface
    public interface StudentFactory {
        /**
         * Builds a student.
         *
         * @param seed the student's seed
         * @return a new, uninitialised block (the engine initialises it from the seed)
         */
        Block create(long seed);
    }

    /** Scores a trained student on held-out data. */
    @FunctionalInterface
    public interface StudentScorer {
        /**
         * Evaluates a student.
         *
         * @param seed the student's seed
         * @param model the trained student
         * @return its metrics and, optionally, its predictions
         */
        StudentScore score(long seed, Model model);
    }

    /**
     * Fits one student in closed form instead of by the engine's gradient steps ({@link Builder#optClosedForm}), for
     * students whose optimum is solved directly (least squares).
     */
    @FunctionalInterface
    public interface ClosedFormFit {
        /**
         * Fits a student.
         *
         * @param seed the student's seed
         * @param model the model holding the student's uninitialised block: the fit initialises it and sets its
         *     parameters
         * @return the fit's training loss
         */
        double fit(long seed, Model model);
    }

    /**
     * One student's evaluation.
     *
     * @param metrics metric values by name (every student must report the same names)
     * @param predictions the student's predictions on the evaluation items ({@code [item][output]}), for the
     *     inter-student variance of predictions; null if not available
     */
    public record StudentScore(Map<String, Double> metrics, double[][] predictions) {
        /** Copies the map. */
        public StudentScore {
            metrics = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(metrics));
        }
    }

    /**
     * One student's outcome.
     *
     * @param seed its seed
     * @param training what its training did
     * @param metrics its evaluation
     */
    public record StudentResult(long seed, FitResult training, Map<String, Double> metrics) {
    }

    /**
     * The outcome of a multi-student run.
     *
     * @param students every student's result, in seed order
     * @param aggregates every metric aggregated over the students
     * @param predictionVariance the inter-student variance of predictions ({@link Metrics#interStudentVariance}),
     *     NaN with fewer than 2 students or without predictions
     * @param parameterVariance the inter-student variance of parameters
     *     ({@link Metrics#interStudentParameterVariance}), NaN with fewer than 2 students or when disabled
     * @param predictions every student's test predictions (items x outputs), in seed order; empty when the
     *     scorer gave none
     */
    public record Result(List<StudentResult> students, Map<String, Summary> aggregates, double predictionVariance,
            double parameterVariance, List<double[][]> predictions) {
        /** Copies the collections. */
        public Result {
            students = List.copyOf(students);
            aggregates = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(aggregates));
            predictions = List.copyOf(predictions);
        }
    }

    /**
     * Everything a finished student contributes to the run's result: its result, its test predictions and its
     * flattened parameters (for the inter-student variances).
     *
     * @param result its seed, training and metrics
     * @param predictions its test predictions ({@code [item][output]}), or null when the scorer gives none
     * @param parameters its parameters flattened ({@link #flatParameters}), or null when the parameter variance is off
     */
    public record StudentOutcome(StudentResult result, double[][] predictions, float[] parameters) {
    }

    /**
     * Where finished students are kept (a run folder), so that the students of one run can be trained apart (one
     * task per seed on a cluster) and merged by {@link #run} exactly as one run merges them, and so that a student is
     * never trained twice.
     */
    public interface StudentStore {
        /**
         * @param seed a seed
         * @return whether that student's outcome is stored
         */
        boolean has(long seed);

        /**
         * Reads a stored student back, exactly as it was saved (parameters and predictions bit for bit).
         *
         * @param seed a seed that {@link #has}
         * @return its outcome
         */
        StudentOutcome load(long seed);

        /**
         * Stores a student that was just trained (atomically: a student is stored whole or not at all).
         *
         * @param outcome its outcome
         */
        void save(StudentOutcome outcome);
    }

    private final String name;
    private final List<Long> seeds;
    private final StudentFactory students;
    private final BatchSource data;
    private final java.util.function.LongFunction<BatchSource> dataPerStudent;
    private final Loss loss;
    private final TrainingSpec spec;
    private final StudentScorer scorer;
    private final Validator validator;
    private final boolean resume;
    private final boolean parameterVariance;
    private final Stacked stacked;
    private final StudentStore store;
    private final ClosedFormFit closedForm;

    private MultiStudentRun(Builder b) {
        this.name = b.name;
        this.seeds = List.copyOf(b.seeds);
        this.students = b.students;
        this.data = b.data;
        this.dataPerStudent = b.dataPerStudent;
        this.loss = b.loss;
        this.spec = b.spec;
        this.scorer = b.scorer;
        this.validator = b.validator;
        this.resume = b.resume;
        this.parameterVariance = b.parameterVariance;
        this.stacked = b.stacked;
        this.store = b.store;
        this.closedForm = b.closedForm;
    }

    /**
     * The students as one stack ({@link Builder#optStacked}).
     *
     * @param block the uninitialised stack, one student per seed
     * @param features the training rows, shared by all students
     * @param labels each step's labels for all students
     * @param batchSize rows per student per step
     */
    public record Stacked(io.distill4j.models.StackedMlp block, float[][] features, StackedStudents.Labels labels,
            int batchSize) {
        /** Checks the parts. */
        public Stacked {
            Objects.requireNonNull(block, "block");
            Objects.requireNonNull(features, "features");
            Objects.requireNonNull(labels, "labels");
            if (batchSize <= 0) {
                throw new IllegalArgumentException("batchSize must be positive, got " + batchSize);
            }
        }
    }

    /** @return a new builder */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * The checkpoint folder of one student.
     *
     * @param checkpointDir the run's checkpoint folder
     * @param seed the student's seed
     * @return {@code checkpointDir/seed-<seed>}
     */
    public static Path studentCheckpoints(Path checkpointDir, long seed) {
        return checkpointDir.resolve("seed-" + seed);
    }

    /**
     * Trains and evaluates every student (with a {@link StudentStore}: reads back the students it holds, trains and
     * stores the others) and merges them, in seed order, into the run's result.
     *
     * @return per-student results and aggregates
     */
    public Result run() {
        if (stacked != null) {
            return runStacked();
        }
        Collector out = new Collector();
        for (long seed : seeds) {
            StudentOutcome o;
            if (store != null && store.has(seed)) {
                o = store.load(seed);
                LOG.info("{}: seed {}: trained earlier, read back", name, seed);
            } else {
                o = trainStudent(seed);
                if (store != null) {
                    store.save(o);
                }
            }
            out.add(o);
        }
        return out.result();
    }

    /**
     * Trains and stores the students of some seeds that the store does not hold yet, and merges nothing: one task's
     * share of a run whose students are trained apart; {@link #run} then reads every student back and merges them.
     *
     * @param subset seeds of this run
     * @return how many students were trained now (the others were stored already)
     * @throws IllegalStateException without a store, or for a stacked run (its students train at once)
     * @throws IllegalArgumentException for a seed that is not one of this run's
     */
    public int trainSeeds(List<Long> subset) {
        if (store == null || stacked != null) {
            throw new IllegalStateException(name + ": training seeds apart needs a student store (optStore) and"
                    + " students trained one at a time (not stacked)");
        }
        int trained = 0;
        for (long seed : subset) {
            if (!seeds.contains(seed)) {
                throw new IllegalArgumentException(name + ": seed " + seed + " is not one of " + seeds);
            }
            if (!store.has(seed)) {
                store.save(trainStudent(seed));
                trained++;
            }
        }
        return trained;
    }

    /** Trains (or fits in closed form) and scores the student of one seed. */
    private StudentOutcome trainStudent(long seed) {
        if (closedForm != null) {
            try (Model model = Model.newInstance(name + "-seed-" + seed, spec.device())) {
                model.setBlock(students.create(seed));
                double loss = closedForm.fit(seed, model);
                return outcome(seed, new FitResult(0, 0, loss, 0, List.of(), Double.NaN, -1, false, false, null, 0), model);
            }
        }
        TrainingSpec.Builder sb = spec.withSeed(seed).toBuilder();
        if (spec.checkpointEvery() > 0) {
            Path dir = studentCheckpoints(spec.checkpointDir(), seed);
            sb.optCheckpoints(spec.checkpointEvery(), dir, spec.keepCheckpoints());
            if (resume) {
                sb.optResumeFrom(Checkpoint.latest(dir).orElse(null));
            }
        }
        TrainingSpec seedSpec = sb.build();
        BatchSource source = dataPerStudent != null ? dataPerStudent.apply(seed) : data;
        try (Model model = Model.newInstance(name + "-seed-" + seed, spec.device())) {
            model.setBlock(students.create(seed));
            FitResult training;
            try {
                training = TrainingEngine.fit(model, source, loss, seedSpec, validator);
            } finally {
                if (source != data && source instanceof AutoCloseable c) {
                    try {
                        c.close();
                    } catch (Exception e) {
                        LOG.warn("{}: seed {}: closing its data: {}", name, seed, e.toString());
                    }
                }
            }
            return outcome(seed, training, model);
        }
    }

    /** Scores a trained student and takes what the merge needs from it (one place for every path). */
    private StudentOutcome outcome(long seed, FitResult training, Model model) {
        StudentScore ev = scorer.score(seed, model);
        LOG.info("{}: seed {}: {} updates, {}", name, seed, training.steps(), format(ev.metrics()));
        return new StudentOutcome(new StudentResult(seed, training, ev.metrics()), ev.predictions(),
                parameterVariance ? flatParameters(model) : null);
    }

    /**
     * The stacked path: the R students train at once as one {@link io.distill4j.models.StackedMlp}
     * ({@link StackedStudents}) from the first seed (student s's data order from that seed and s), then each is
     * taken out as a model of its own ({@link StackedStudents#student}) and scored as the one-at-a-time path scores.
     * The validator runs on each student; the engine watches their mean, and each student's
     * {@link FitResult#validations()} holds its own curve.
     */
    private Result runStacked() {
        long first = seeds.get(0);
        TrainingSpec.Builder sb = spec.withSeed(first).toBuilder();
        if (spec.checkpointEvery() > 0) {
            Path dir = spec.checkpointDir().resolve("stacked");
            sb.optCheckpoints(spec.checkpointEvery(), dir, spec.keepCheckpoints());
            if (resume) {
                sb.optResumeFrom(Checkpoint.latest(dir).orElse(null));
            }
        }
        PerStudentValidation curves = validator == null ? null : new PerStudentValidation(validator, seeds.size(), name);
        Collector out = new Collector();
        try (Model stack = Model.newInstance(name + "-stacked", spec.device())) {
            FitResult shared = StackedStudents.fit(stack, stacked.block(), stacked.features(), stacked.labels(), loss,
                    sb.build(), stacked.batchSize(), curves);
            for (int s = 0; s < seeds.size(); s++) {
                long seed = seeds.get(s);
                FitResult own = curves == null ? shared : new FitResult(shared.steps(), shared.epochs(), shared.lastLoss(),
                        shared.skippedSteps(), curves.curve(s), shared.bestMetric(), shared.bestStep(), shared.stoppedEarly(),
                        shared.restoredBest(), shared.lastCheckpoint(), shared.itemsPerSecond());
                try (Model model = StackedStudents.student(stack, s, name + "-seed-" + seed)) {
                    out.add(outcome(seed, own, model));
                }
            }
        }
        return out.result();
    }

    /** Runs a validator on each student of a stack; the engine sees their mean. */
    private static final class PerStudentValidation implements Validator {
        private final Validator each;
        private final List<List<Double>> curves = new ArrayList<>();
        private final String name;

        PerStudentValidation(Validator each, int students, String name) {
            this.each = each;
            this.name = name;
            for (int s = 0; s < students; s++) {
                curves.add(new ArrayList<>());
            }
        }

        @Override
        public double evaluate(Model stack) {
            double sum = 0;
            for (int s = 0; s < curves.size(); s++) {
                try (Model one = StackedStudents.student(stack, s, name + "-validation-" + s)) {
                    double v = each.evaluate(one);
                    curves.get(s).add(v);
                    sum += v;
                }
            }
            return sum / curves.size();
        }

        List<Double> curve(int student) {
            return curves.get(student);
        }
    }

    /**
     * Gathers the students, in seed order, into the run's result: the one merge of every path (one at a time,
     * stacked, or read back from a {@link StudentStore}).
     */
    private final class Collector {
        private final List<StudentResult> results = new ArrayList<>();
        private final List<double[][]> predictions = new ArrayList<>();
        private boolean allPredictions = true;
        private double[] mean;
        private double[] m2;
        private int count;

        /** Adds a student, in seed order: its result, predictions and parameters (Welford's running variance). */
        void add(StudentOutcome o) {
            long seed = o.result().seed();
            results.add(o.result());
            if (o.predictions() == null) {
                allPredictions = false;
            } else {
                predictions.add(o.predictions());
            }
            if (parameterVariance) {
                float[] w = o.parameters();
                if (mean == null) {
                    mean = new double[w.length];
                    m2 = new double[w.length];
                } else if (w.length != mean.length) {
                    throw new IllegalStateException("seed " + seed + " built a student with " + w.length
                            + " parameters, earlier seeds " + mean.length);
                }
                count++;
                for (int j = 0; j < w.length; j++) {
                    double d = w[j] - mean[j];
                    mean[j] += d / count;
                    m2[j] += d * (w[j] - mean[j]);
                }
            }
        }

        Result result() {
            Map<String, Summary> aggregates = aggregate(results);
            double predVar = allPredictions && predictions.size() >= 2
                    ? Metrics.interStudentVariance(predictions.toArray(new double[0][][])) : Double.NaN;
            double paramVar = Double.NaN;
            if (parameterVariance && count >= 2) {
                double s = 0;
                for (double v : m2) {
                    s += v / (count - 1);
                }
                paramVar = s / m2.length;
            }
            LOG.info(String.format(Locale.ROOT, "%s: %d students; inter-student variance of predictions %.6g, of"
                    + " parameters %.6g", name, results.size(), predVar, paramVar));
            return new Result(results, aggregates, predVar, paramVar, allPredictions ? predictions : List.of());
        }
    }

    private static Map<String, Summary> aggregate(List<StudentResult> results) {
        Set<String> names = new LinkedHashSet<>(results.get(0).metrics().keySet());
        for (StudentResult r : results) {
            if (!r.metrics().keySet().equals(names)) {
                throw new IllegalStateException("seed " + r.seed() + " reported metrics " + r.metrics().keySet()
                        + ", seed " + results.get(0).seed() + " reported " + names);
            }
        }
        Map<String, Summary> out = new LinkedHashMap<>();
        for (String n : names) {
            double[] v = results.stream().mapToDouble(r -> r.metrics().get(n)).toArray();
            out.put(n, Summary.of(v));
        }
        return out;
    }

    /**
     * Every parameter of a model, flattened in parameter order.
     *
     * @param model the model
     * @return the values
     */
    public static float[] flatParameters(Model model) {
        long n = 0;
        for (Parameter p : model.getBlock().getParameters().values()) {
            n += p.getArray().size();
        }
        if (n > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException(model.getName() + " has " + n + " parameters, too many to flatten");
        }
        float[] out = new float[(int) n];
        int at = 0;
        for (Parameter p : model.getBlock().getParameters().values()) {
            float[] v = p.getArray().toType(ai.djl.ndarray.types.DataType.FLOAT32, false).toFloatArray();
            System.arraycopy(v, 0, out, at, v.length);
            at += v.length;
        }
        return out;
    }

    private static String format(Map<String, Double> metrics) {
        StringBuilder sb = new StringBuilder();
        metrics.forEach((k, v) -> sb.append(sb.length() > 0 ? ", " : "").append(k).append(' ')
                .append(String.format(Locale.ROOT, "%.5g", v)));
        return sb.toString();
    }

    /** Builder of a {@link MultiStudentRun}; {@link #build()} validates. */
    public static final class Builder {
        private String name = "student";
        private List<Long> seeds = List.of();
        private StudentFactory students;
        private BatchSource data;
        private java.util.function.LongFunction<BatchSource> dataPerStudent;
        private Loss loss;
        private TrainingSpec spec;
        private StudentScorer scorer;
        private Validator validator;
        private boolean resume;
        private boolean parameterVariance = true;
        private Stacked stacked;
        private StudentStore store;
        private ClosedFormFit closedForm;

        private Builder() {
        }

        /**
         * Fits each student in closed form instead of training it: the student factory builds its block, the fit
         * sets its parameters, and it is scored as a trained student is (its training result has 0 updates and the
         * fit's loss). The data sources, resume and validation do not apply.
         *
         * @param fit the fit, or null to train (default)
         * @return this builder
         */
        public Builder optClosedForm(ClosedFormFit fit) {
            this.closedForm = fit;
            return this;
        }

        /**
         * Trains the students at once as one stack instead of one after the other (then no student factory nor
         * data source is set: the stack and its labels replace them).
         *
         * @param s the stack, one student per seed, its rows and labels
         * @return this builder
         */
        public Builder optStacked(Stacked s) {
            this.stacked = s;
            return this;
        }

        /**
         * Sets the seeds, one student each.
         *
         * @param s distinct seeds, at least one
         * @return this builder
         */
        public Builder setSeeds(List<Long> s) {
            this.seeds = List.copyOf(s);
            return this;
        }

        /**
         * Sets how a student is built.
         *
         * @param factory builds the block of a seed
         * @return this builder
         */
        public Builder setStudents(StudentFactory factory) {
            this.students = factory;
            return this;
        }

        /**
         * Sets the training data, the same for every student (its order depends on the seed).
         *
         * @param source the batches
         * @return this builder
         */
        public Builder setData(BatchSource source) {
            this.data = source;
            return this;
        }

        /**
         * Sets each student's own training data (for example its own teacher draws); a source that is
         * {@link AutoCloseable} is closed after its student is trained.
         *
         * @param perStudent builds the batches of a seed
         * @return this builder
         */
        public Builder setDataPerStudent(java.util.function.LongFunction<BatchSource> perStudent) {
            this.dataPerStudent = perStudent;
            return this;
        }

        /**
         * Sets the loss.
         *
         * @param l the loss
         * @return this builder
         */
        public Builder setLoss(Loss l) {
            this.loss = l;
            return this;
        }

        /**
         * Sets the engine settings; each student gets a copy with its own seed.
         *
         * @param s the settings
         * @return this builder
         */
        public Builder setSpec(TrainingSpec s) {
            this.spec = s;
            return this;
        }

        /**
         * Sets how a trained student is scored.
         *
         * @param e the scorer
         * @return this builder
         */
        public Builder setScorer(StudentScorer e) {
            this.scorer = e;
            return this;
        }

        /**
         * Sets the name used for models and logs.
         *
         * @param n the name
         * @return this builder
         */
        public Builder optName(String n) {
            this.name = n;
            return this;
        }

        /**
         * Sets the validator for logging and early stopping.
         *
         * @param v the validator, or null
         * @return this builder
         */
        public Builder optValidator(Validator v) {
            this.validator = v;
            return this;
        }

        /**
         * Resumes each student from its newest checkpoint (needs checkpoints in the spec).
         *
         * @param r whether to resume
         * @return this builder
         */
        public Builder optResume(boolean r) {
            this.resume = r;
            return this;
        }

        /**
         * Computes the inter-student variance of parameters (keeps two doubles per parameter).
         *
         * @param enabled whether to compute it (default true)
         * @return this builder
         */
        public Builder optParameterVariance(boolean enabled) {
            this.parameterVariance = enabled;
            return this;
        }

        /**
         * Keeps finished students in a store: {@link #run} reads back the students it holds instead of training
         * them, and stores those it trains; {@link #trainSeeds} trains a share of the seeds apart. Not with
         * {@link #optStacked} (stacked students train at once).
         *
         * @param s the store, or null for none (default)
         * @return this builder
         */
        public Builder optStore(StudentStore s) {
            this.store = s;
            return this;
        }

        /**
         * Validates and builds the run.
         *
         * @return the run
         * @throws IllegalArgumentException naming what is missing or wrong
         */
        public MultiStudentRun build() {
            if (stacked != null) {
                if (closedForm != null) {
                    throw new IllegalArgumentException("a stacked run trains its students: no optClosedForm");
                }
                if (store != null) {
                    throw new IllegalArgumentException("a stacked run trains its students at once: no optStore");
                }
                if (students != null || data != null || dataPerStudent != null) {
                    throw new IllegalArgumentException("a stacked run takes its students and data from optStacked: set"
                            + " no setStudents, setData or setDataPerStudent");
                }
                if (stacked.block().students() != seeds.size()) {
                    throw new IllegalArgumentException("the stack holds " + stacked.block().students() + " students for "
                            + seeds.size() + " seeds");
                }
            } else if (closedForm != null) {
                Objects.requireNonNull(students, "students (setStudents)");
                if (data != null || dataPerStudent != null || validator != null || resume) {
                    throw new IllegalArgumentException("students fitted in closed form take no data source, validator"
                            + " or resume");
                }
            } else {
                Objects.requireNonNull(students, "students (setStudents)");
                if ((data == null) == (dataPerStudent == null)) {
                    throw new IllegalArgumentException("set the data once: setData or setDataPerStudent");
                }
            }
            Objects.requireNonNull(loss, "loss (setLoss)");
            Objects.requireNonNull(spec, "spec (setSpec)");
            Objects.requireNonNull(scorer, "scorer (setScorer)");
            if (seeds.isEmpty()) {
                throw new IllegalArgumentException("a multi-student run needs at least one seed");
            }
            if (new LinkedHashSet<>(seeds).size() != seeds.size()) {
                throw new IllegalArgumentException("seeds must be distinct, got " + seeds);
            }
            if (resume && spec.checkpointEvery() == 0) {
                throw new IllegalArgumentException("resume needs checkpoints (checkpointEvery > 0 and a folder)");
            }
            if (spec.resumeFrom() != null) {
                throw new IllegalArgumentException("a multi-student spec cannot name one resume checkpoint ("
                        + spec.resumeFrom() + "); use optResume(true)");
            }
            return new MultiStudentRun(this);
        }
    }
}
