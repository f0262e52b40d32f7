package io.distill4j.loss;

import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.function.Function;

/**
 * Name-keyed registry of target builders and losses, so that configs can say {@code target: mean} or
 * {@code loss: {name: hinton-kd, temperature: 2}}.
 *
 * <p>Options come as a map of plain values (as parsed from YAML: numbers, booleans, strings, nested maps);
 * unknown names and options are rejected with a message that lists the known ones. Names and options
 * (defaults in brackets):
 *
 * <table>
 *   <caption>Target builders</caption>
 *   <tr><th>name</th><th>class</th><th>options</th></tr>
 *   <tr><td>single</td><td>{@link SingleSampleTarget}</td><td>index [0]</td></tr>
 *   <tr><td>mean</td><td>{@link MeanTarget}</td><td></td></tr>
 *   <tr><td>inverse-variance</td><td>{@link InverseVarianceTarget} practical form</td>
 *       <td>renormalise [true], validate [true]</td></tr>
 *   <tr><td>inverse-variance-paper</td><td>{@link InverseVarianceTarget} paper form</td>
 *       <td>renormalise [false], validate [true]</td></tr>
 *   <tr><td>bayesian-mean</td><td>{@link BayesianMeanTarget}</td>
 *       <td>input [probabilities] | logits, temperature [1.0], validate [true]</td></tr>
 *   <tr><td>wrong-mass-clip</td><td>{@link WrongMassClipTarget}</td>
 *       <td>base [mean] (a builder name, or a map with {@code name} and its options), budget [1.0]</td></tr>
 * </table>
 *
 * <table>
 *   <caption>Losses (every one also takes validate [true])</caption>
 *   <tr><th>name</th><th>class</th><th>options</th></tr>
 *   <tr><td>ce</td><td>{@link CrossEntropyLoss}</td><td></td></tr>
 *   <tr><td>soft-ce</td><td>{@link SoftTargetCrossEntropyLoss}</td><td></td></tr>
 *   <tr><td>hinton-kd</td><td>{@link HintonKdLoss}</td><td>temperature [4.0], alpha [0.5]</td></tr>
 *   <tr><td>bayesian-kd</td><td>{@link HintonKdLoss} (Morad et al.)</td>
 *       <td>teacher-temperature [4.0], student-temperature [1.0], alpha [0.7]</td></tr>
 *   <tr><td>kl</td><td>{@link KlDivergenceLoss}</td>
 *       <td>teacher [probabilities] | log-probabilities | logits, temperature [1.0]</td></tr>
 *   <tr><td>reverse-kl</td><td>{@link ReverseKlLoss}</td><td>teacher, temperature</td></tr>
 *   <tr><td>jsd</td><td>{@link GeneralizedJsdLoss}</td><td>beta [0.5], teacher, temperature, normalise [false]</td></tr>
 *   <tr><td>mse</td><td>{@link MseLoss}</td><td></td></tr>
 *   <tr><td>gaussian-nll</td><td>{@link GaussianNllLoss}</td><td>full [false]</td></tr>
 *   <tr><td>sparse-topk-kl</td><td>{@link SparseTopKKlLoss}</td>
 *       <td>temperature [1.0], tail [true], exact-tail [false]</td></tr>
 *   <tr><td>focal-entropy</td><td>{@link FocalEntropyLoss}</td>
 *       <td>gamma [2.0], lambda [0.1], max-weight [3.0], tau [0.5]</td></tr>
 *   <tr><td>weighted</td><td>{@link InverseVarianceWeightedLoss}</td>
 *       <td>base (required: a loss name, or a map with {@code name} and its options), eps [1e-6],
 *       variance [given] | samples</td></tr>
 * </table>
 *
 * <p>For example {@code {name: weighted, base: {name: hinton-kd, temperature: 2}, eps: 1e-4}} as a map:
 * {@code Registry.loss("weighted", Map.of("base", Map.of("name", "hinton-kd", "temperature", 2), "eps", 1e-4))}.
 *
 * <p>The registry is open: user code adds losses and target builders by name with {@link #registerLoss} and
 * {@link #registerTarget} (at start-up, or from a {@code io.distill4j.pipeline.Extension} found by
 * {@link java.util.ServiceLoader}), and every config and entry point can then name them. A factory gets the options
 * map as written; binding it to a record with {@code io.distill4j.data.config.ConfigReader.convert(options,
 * MyOptions.class, "loss 'my-loss'")} makes its keys as strict as the built-in ones.
 */
public final class Registry {

    private static final Map<String, Function<Options, TargetBuilder>> TARGETS = new ConcurrentSkipListMap<>();
    private static final Map<String, Function<Options, DistillationLoss>> LOSSES = new ConcurrentSkipListMap<>();

    static {
        TARGETS.put("single", o -> new SingleSampleTarget(o.integer("index", 0)));
        TARGETS.put("mean", o -> new MeanTarget());
        TARGETS.put("inverse-variance", o -> new InverseVarianceTarget(InverseVarianceTarget.Form.PRACTICAL,
                o.bool("renormalise", true), o.bool("validate", true)));
        TARGETS.put("inverse-variance-paper", o -> new InverseVarianceTarget(InverseVarianceTarget.Form.PAPER,
                o.bool("renormalise", false), o.bool("validate", true)));
        TARGETS.put("bayesian-mean", o -> new BayesianMeanTarget(
                BayesianMeanTarget.Input.parse(o.string("input", "probabilities")), o.number("temperature", 1.0),
                o.bool("validate", true)));
        TARGETS.put("wrong-mass-clip", o -> new WrongMassClipTarget(
                o.nested("base", "mean", Registry::target), o.number("budget", 1.0)));

        LOSSES.put("ce", o -> validated(new CrossEntropyLoss(), o));
        LOSSES.put("soft-ce", o -> validated(new SoftTargetCrossEntropyLoss(), o));
        LOSSES.put("hinton-kd", o -> validated(new HintonKdLoss(o.number("temperature", 4.0), o.number("alpha", 0.5)), o));
        LOSSES.put("bayesian-kd", o -> validated(new HintonKdLoss(o.number("teacher-temperature", 4.0),
                o.number("student-temperature", 1.0), o.number("alpha", 0.7)), o));
        LOSSES.put("kl", o -> validated(new KlDivergenceLoss(teacher(o), o.number("temperature", 1.0)), o));
        LOSSES.put("reverse-kl", o -> validated(new ReverseKlLoss(teacher(o), o.number("temperature", 1.0)), o));
        LOSSES.put("jsd", o -> validated(new GeneralizedJsdLoss(o.number("beta", 0.5), teacher(o),
                o.number("temperature", 1.0), o.bool("normalise", false)), o));
        LOSSES.put("mse", o -> validated(new MseLoss(), o));
        LOSSES.put("gaussian-nll", o -> validated(new GaussianNllLoss(o.bool("full", false)), o));
        LOSSES.put("sparse-topk-kl", o -> validated(new SparseTopKKlLoss(o.number("temperature", 1.0),
                o.bool("tail", true), o.bool("exact-tail", false)), o));
        LOSSES.put("focal-entropy", o -> validated(new FocalEntropyLoss(o.number("gamma", 2.0), o.number("lambda", 0.1),
                o.number("max-weight", 3.0), o.number("tau", 0.5)), o));
        LOSSES.put("weighted", o -> {
            DistillationLoss base = o.nested("base", null, Registry::loss);
            InverseVarianceWeightedLoss w = new InverseVarianceWeightedLoss(base,
                    o.number("eps", InverseVarianceWeightedLoss.DEFAULT_EPS),
                    InverseVarianceWeightedLoss.VarianceSource.parse(o.string("variance", "given")));
            if (o.has("validate")) {
                w.setValidate(o.bool("validate", true));
            } else {
                o.bool("validate", true);
            }
            return w;
        });
    }

    private Registry() {
    }

    /**
     * Registers a loss by name.
     *
     * @param name the name configs use; not a name already registered
     * @param factory makes the loss from its options as written (an empty map when none are given); throws
     *     {@link IllegalArgumentException} naming a bad option
     * @throws IllegalArgumentException if the name is blank or taken
     */
    public static void registerLoss(String name, Function<Map<String, ?>, ? extends DistillationLoss> factory) {
        register("loss", LOSSES, name, factory);
    }

    /**
     * Registers a target builder by name.
     *
     * @param name the name configs use; not a name already registered
     * @param factory makes the builder from its options as written (an empty map when none are given); throws
     *     {@link IllegalArgumentException} naming a bad option
     * @throws IllegalArgumentException if the name is blank or taken
     */
    public static void registerTarget(String name, Function<Map<String, ?>, ? extends TargetBuilder> factory) {
        register("target", TARGETS, name, factory);
    }

    private static <T> void register(String kind, Map<String, Function<Options, T>> table, String name,
            Function<Map<String, ?>, ? extends T> factory) {
        java.util.Objects.requireNonNull(factory, "factory");
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("a " + kind + " name must be non-blank");
        }
        Function<Options, T> entry = o -> {
            o.useAll();
            T made = factory.apply(java.util.Collections.unmodifiableMap(o.values));
            if (made == null) {
                throw new IllegalStateException(kind + " '" + name + "': its factory returned null");
            }
            return made;
        };
        if (table.putIfAbsent(name, entry) != null) {
            throw new IllegalArgumentException(kind + " '" + name + "' is already registered");
        }
    }

    private static TeacherForm teacher(Options o) {
        return TeacherForm.parse(o.string("teacher", "probabilities"));
    }

    private static DistillationLoss validated(DistillationLoss loss, Options o) {
        return loss.setValidate(o.bool("validate", true));
    }

    /**
     * Creates a target builder by name.
     *
     * @param name a registered name
     * @param options the builder's options (may be empty or null)
     * @return the builder
     */
    public static TargetBuilder target(String name, Map<String, ?> options) {
        return create("target", TARGETS, name, options);
    }

    /**
     * Creates a loss by name.
     *
     * @param name a registered name
     * @param options the loss's options (may be empty or null)
     * @return the loss
     */
    public static DistillationLoss loss(String name, Map<String, ?> options) {
        return create("loss", LOSSES, name, options);
    }

    /**
     * Creates a target builder from a spec: a name, or a map holding {@code name} and the options.
     *
     * @param spec a String or a Map
     * @return the builder
     */
    public static TargetBuilder target(Object spec) {
        return fromSpec("target", spec, Registry::target);
    }

    /**
     * Creates a loss from a spec: a name, or a map holding {@code name} and the options.
     *
     * @param spec a String or a Map
     * @return the loss
     */
    public static DistillationLoss loss(Object spec) {
        return fromSpec("loss", spec, Registry::loss);
    }

    /** @return the registered target-builder names, sorted */
    public static Set<String> targetNames() {
        return Collections.unmodifiableSet(TARGETS.keySet());
    }

    /** @return the registered loss names, sorted */
    public static Set<String> lossNames() {
        return Collections.unmodifiableSet(LOSSES.keySet());
    }

    private static <T> T fromSpec(String kind, Object spec, java.util.function.BiFunction<String, Map<String, ?>, T> f) {
        if (spec instanceof String s) {
            return f.apply(s, Map.of());
        }
        if (spec instanceof Map<?, ?> m) {
            Object name = m.get("name");
            if (!(name instanceof String)) {
                throw new IllegalArgumentException(kind + " spec must have a string 'name', got " + m);
            }
            Map<String, Object> rest = new LinkedHashMap<>();
            for (Map.Entry<?, ?> e : m.entrySet()) {
                if (!"name".equals(e.getKey())) {
                    rest.put(String.valueOf(e.getKey()), e.getValue());
                }
            }
            return f.apply((String) name, rest);
        }
        throw new IllegalArgumentException(kind + " spec must be a name or a map with a 'name', got '" + spec + "'");
    }

    private static <T> T create(String kind, Map<String, Function<Options, T>> table, String name, Map<String, ?> options) {
        Function<Options, T> f = table.get(name);
        if (f == null) {
            throw new IllegalArgumentException("unknown " + kind + " '" + name + "': known are " + table.keySet());
        }
        Options o = new Options(kind + " '" + name + "'", options == null ? Map.of() : options);
        T made = f.apply(o);
        o.rejectUnused();
        return made;
    }

    /** Typed access to a map of options, remembering which ones were read. */
    static final class Options {
        private final String owner;
        private final Map<String, ?> values;
        private final Set<String> used = new java.util.TreeSet<>();

        Options(String owner, Map<String, ?> values) {
            this.owner = owner;
            this.values = values;
        }

        boolean has(String key) {
            return values.containsKey(key);
        }

        /** Marks every option as read (a registered factory checks them itself). */
        void useAll() {
            used.addAll(values.keySet());
        }

        double number(String key, double dflt) {
            used.add(key);
            Object v = values.get(key);
            if (v == null) {
                return dflt;
            }
            if (v instanceof Number n) {
                return n.doubleValue();
            }
            if (v instanceof String s) {
                try {
                    return Double.parseDouble(s.trim());
                } catch (NumberFormatException e) {
                    // fall through to the error below
                }
            }
            throw new IllegalArgumentException(owner + ": option " + key + " must be a number, got '" + v + "'");
        }

        int integer(String key, int dflt) {
            double d = number(key, dflt);
            if (d != Math.rint(d) || Math.abs(d) > Integer.MAX_VALUE) {
                throw new IllegalArgumentException(owner + ": option " + key + " must be an integer, got " + d);
            }
            return (int) d;
        }

        boolean bool(String key, boolean dflt) {
            used.add(key);
            Object v = values.get(key);
            if (v == null) {
                return dflt;
            }
            if (v instanceof Boolean b) {
                return b;
            }
            throw new IllegalArgumentException(owner + ": option " + key + " must be true or false, got '" + v + "'");
        }

        String string(String key, String dflt) {
            used.add(key);
            Object v = values.get(key);
            if (v == null) {
                return dflt;
            }
            if (v instanceof String s) {
                return s;
            }
            throw new IllegalArgumentException(owner + ": option " + key + " must be a string, got '" + v + "'");
        }

        <T> T nested(String key, String dflt, java.util.function.BiFunction<String, Map<String, ?>, T> f) {
            used.add(key);
            Object v = values.get(key);
            if (v == null) {
                if (dflt == null) {
                    throw new IllegalArgumentException(owner + ": option " + key + " is required");
                }
                v = dflt;
            }
            try {
                return fromSpec(key, v, f);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(owner + ": option " + key + ": " + e.getMessage(), e);
            }
        }

        void rejectUnused() {
            Set<String> unknown = new HashSet<>(values.keySet());
            unknown.removeAll(used);
            if (!unknown.isEmpty()) {
                String key = new java.util.TreeSet<>(unknown).first();
                throw new IllegalArgumentException(owner + ": unknown option '" + key + "'; known are " + used);
            }
        }
    }
}
