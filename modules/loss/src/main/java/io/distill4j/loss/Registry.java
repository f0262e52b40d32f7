package io.distill4j.loss;

import io.distill4j.data.config.ConfigReader;
import java.util.Collections;
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
 *   <tr><td>multi-sample</td><td>{@link MultiSampleTarget} (vote shares of the draws' classes)</td><td></td></tr>
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

    private static final Map<String, Function<Map<String, ?>, TargetBuilder>> TARGETS = new ConcurrentSkipListMap<>();
    private static final Map<String, Function<Map<String, ?>, DistillationLoss>> LOSSES = new ConcurrentSkipListMap<>();

    static {
        builtIn(TARGETS, "target", "single", RegistryOptions.Single.class, o -> new SingleSampleTarget(o.index()));
        builtIn(TARGETS, "target", "mean", RegistryOptions.None.class, o -> new MeanTarget());
        builtIn(TARGETS, "target", "multi-sample", RegistryOptions.None.class, o -> new MultiSampleTarget());
        builtIn(TARGETS, "target", "inverse-variance", RegistryOptions.InverseVariance.class, o -> new InverseVarianceTarget(
                InverseVarianceTarget.Form.PRACTICAL, o.renormalise() == null || o.renormalise(), o.validate()));
        builtIn(TARGETS, "target", "inverse-variance-paper", RegistryOptions.InverseVariance.class, o -> new InverseVarianceTarget(
                InverseVarianceTarget.Form.PAPER, o.renormalise() != null && o.renormalise(), o.validate()));
        builtIn(TARGETS, "target", "bayesian-mean", RegistryOptions.BayesianMean.class,
                o -> new BayesianMeanTarget(o.input(), o.temperature(), o.validate()));
        builtIn(TARGETS, "target", "wrong-mass-clip", RegistryOptions.WrongMassClip.class,
                o -> new WrongMassClipTarget(nested("target 'wrong-mass-clip'", o.base(), Registry::target), o.budget()));

        builtIn(LOSSES, "loss", "ce", RegistryOptions.Plain.class, o -> new CrossEntropyLoss().setValidate(o.validate()));
        builtIn(LOSSES, "loss", "soft-ce", RegistryOptions.Plain.class, o -> new SoftTargetCrossEntropyLoss().setValidate(o.validate()));
        builtIn(LOSSES, "loss", "hinton-kd", RegistryOptions.HintonKd.class,
                o -> new HintonKdLoss(o.temperature(), o.alpha()).setValidate(o.validate()));
        builtIn(LOSSES, "loss", "bayesian-kd", RegistryOptions.BayesianKd.class, o -> new HintonKdLoss(o.teacherTemperature(),
                o.studentTemperature(), o.alpha()).setValidate(o.validate()));
        builtIn(LOSSES, "loss", "kl", RegistryOptions.Kl.class,
                o -> new KlDivergenceLoss(o.teacher(), o.temperature()).setValidate(o.validate()));
        builtIn(LOSSES, "loss", "reverse-kl", RegistryOptions.Kl.class,
                o -> new ReverseKlLoss(o.teacher(), o.temperature()).setValidate(o.validate()));
        builtIn(LOSSES, "loss", "jsd", RegistryOptions.Jsd.class, o -> new GeneralizedJsdLoss(o.beta(), o.teacher(), o.temperature(),
                o.normalise()).setValidate(o.validate()));
        builtIn(LOSSES, "loss", "mse", RegistryOptions.Plain.class, o -> new MseLoss().setValidate(o.validate()));
        builtIn(LOSSES, "loss", "gaussian-nll", RegistryOptions.GaussianNll.class,
                o -> new GaussianNllLoss(o.full()).setValidate(o.validate()));
        builtIn(LOSSES, "loss", "sparse-topk-kl", RegistryOptions.SparseTopK.class,
                o -> new SparseTopKKlLoss(o.temperature(), o.tail(), o.exactTail()).setValidate(o.validate()));
        builtIn(LOSSES, "loss", "focal-entropy", RegistryOptions.FocalEntropy.class, o -> new FocalEntropyLoss(o.gamma(), o.lambda(),
                o.maxWeight(), o.tau()).setValidate(o.validate()));
        builtIn(LOSSES, "loss", "weighted", RegistryOptions.Weighted.class, o -> {
            InverseVarianceWeightedLoss w = new InverseVarianceWeightedLoss(
                    nested("loss 'weighted'", o.base(), Registry::loss), o.eps(), o.variance());
            if (o.validate() != null) {
                w.setValidate(o.validate());
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

    private static <T> void register(String kind, Map<String, Function<Map<String, ?>, T>> table, String name,
            Function<Map<String, ?>, ? extends T> factory) {
        java.util.Objects.requireNonNull(factory, "factory");
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("a " + kind + " name must be non-blank");
        }
        Function<Map<String, ?>, T> entry = options -> {
            T made = factory.apply(Collections.unmodifiableMap(options));
            if (made == null) {
                throw new IllegalStateException(kind + " '" + name + "': its factory returned null");
            }
            return made;
        };
        if (table.putIfAbsent(name, entry) != null) {
            throw new IllegalArgumentException(kind + " '" + name + "' is already registered");
        }
    }

    /** A built-in entry: its options bound strictly to record {@code type}, then {@code make}. */
    private static <T, R> void builtIn(Map<String, Function<Map<String, ?>, T>> table, String kind, String name,
            Class<R> type, Function<R, ? extends T> make) {
        table.put(name, options -> make.apply(ConfigReader.convert(options, type, kind + " '" + name + "'")));
    }

    /** A nested spec ({@code base}), its faults prefixed with the owner and the option. */
    private static <T> T nested(String owner, Object spec, Function<Object, T> make) {
        try {
            return make.apply(spec);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(owner + ": option base: " + e.getMessage(), e);
        }
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

    private static <T> T create(String kind, Map<String, Function<Map<String, ?>, T>> table, String name,
            Map<String, ?> options) {
        Function<Map<String, ?>, T> f = table.get(name);
        if (f == null) {
            throw new IllegalArgumentException("unknown " + kind + " '" + name + "': known are " + table.keySet());
        }
        return f.apply(options == null ? Map.of() : options);
    }
}
