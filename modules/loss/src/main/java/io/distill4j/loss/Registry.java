package io.distill4j.loss;

import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * Name-keyed registry of target builders and losses, so that configs can say {@code target: mean} or
 * {@code loss: hinton-kd}.
 *
 * <p>Options come as a map of primitive values (as parsed from YAML); unknown names and options are
 * rejected with a message that lists the known ones.
 */
public final class Registry {

    private static final Map<String, Function<Options, TargetBuilder>> TARGETS = new TreeMap<>();
    private static final Map<String, Function<Options, ai.djl.training.loss.Loss>> LOSSES = new TreeMap<>();

    static {
        TARGETS.put("single", o -> new SingleSampleTarget(o.integer("index", 0)));
        TARGETS.put("mean", o -> new MeanTarget());
        TARGETS.put("inverse-variance", o -> new InverseVarianceTarget(InverseVarianceTarget.Form.PRACTICAL,
                o.bool("renormalise", true)));
        TARGETS.put("inverse-variance-paper", o -> new InverseVarianceTarget(InverseVarianceTarget.Form.PAPER,
                o.bool("renormalise", false)));
        LOSSES.put("soft-ce", o -> new SoftTargetCrossEntropyLoss());
        LOSSES.put("hinton-kd", o -> new HintonKdLoss(o.number("temperature", 4.0), o.number("alpha", 0.5)));
    }

    private Registry() {
    }

    /**
     * Creates a target builder by name.
     *
     * @param name a registered name
     * @param options the builder's options (may be empty)
     * @return the builder
     */
    public static TargetBuilder target(String name, Map<String, ?> options) {
        return create("target", TARGETS, name, options);
    }

    /**
     * Creates a loss by name.
     *
     * @param name a registered name
     * @param options the loss's options (may be empty)
     * @return the loss
     */
    public static ai.djl.training.loss.Loss loss(String name, Map<String, ?> options) {
        return create("loss", LOSSES, name, options);
    }

    /** @return the registered target-builder names, sorted */
    public static java.util.Set<String> targetNames() {
        return java.util.Collections.unmodifiableSet(TARGETS.keySet());
    }

    /** @return the registered loss names, sorted */
    public static java.util.Set<String> lossNames() {
        return java.util.Collections.unmodifiableSet(LOSSES.keySet());
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
        private final java.util.Set<String> used = new java.util.HashSet<>();

        Options(String owner, Map<String, ?> values) {
            this.owner = owner;
            this.values = values;
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
            throw new IllegalArgumentException(owner + ": option " + key + " must be a number, got '" + v + "'");
        }

        int integer(String key, int dflt) {
            double d = number(key, dflt);
            if (d != Math.rint(d)) {
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

        void rejectUnused() {
            for (String key : values.keySet()) {
                if (!used.contains(key)) {
                    throw new IllegalArgumentException(owner + ": unknown option '" + key + "'; known are " + used);
                }
            }
        }
    }
}
