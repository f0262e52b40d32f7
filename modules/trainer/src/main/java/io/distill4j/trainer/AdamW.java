package io.distill4j.trainer;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.Initializer;
import ai.djl.util.Pair;
import ai.djl.util.PairList;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ForkJoinPool;
import java.util.stream.IntStream;

/**
 * AdamW (Loshchilov &amp; Hutter 2019, "Decoupled Weight Decay Regularization") over one flat buffer of
 * parameters, with moments this class owns, so that they can be saved and restored exactly.
 *
 * <p>For each parameter w with gradient g (after the global rescale s: clipping, loss-scale and
 * accumulation factors), update count t, rate lr, decay wd, moments m and v:
 * <pre>
 *   w &lt;- w - lr * wd * w
 *   m &lt;- b1 * m + (1 - b1) * s * g
 *   v &lt;- b2 * v + (1 - b2) * (s * g)^2
 *   w &lt;- w - (lr / (1 - b1^t)) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
 * </pre>
 * which is {@code torch.optim.AdamW}'s update. The moments are kept scaled, M = m / (1 - b1) and
 * V = v / (1 - b2), so that an update is a short chain of in-place ops:
 * <pre>
 *   w *= 1 - lr * wd;   M = b1 * M + s * g;   V = b2 * V + (s * g)^2
 *   w += (-lr * (1 - b1) / (1 - b1^t)) * M / (sqrt(V) * sqrt((1 - b2) / (1 - b2^t)) + eps)
 * </pre>
 *
 * <p><b>Layout.</b> The trainable parameters, their moments and (through {@link #trainingStore}) their
 * gradients each live in one contiguous buffer: parameters with weight decay first, then those without, each
 * starting at a multiple of {@value #ALIGN} elements. The constructor copies the parameters in and gives
 * every {@link Parameter} a view of its segment as its array, so that everything else (evaluation,
 * checkpoints, teachers) reads the parameters as before; a parameter whose array is replaced later (loading
 * a checkpoint) is copied in again at the next step. A training forward that takes its parameters from
 * {@link #trainingStore} collects all gradients in one flat gradient, so an update is a fixed number of
 * native operations whatever the number of parameter tensors:
 * <ul>
 *   <li>on the CPU in float32 (the default there), one Java pass over direct views of the four buffers, per
 *       element the same float operations in the same order as the tensor pass, in parallel chunks of
 *       2^20 elements when the common pool has two or more threads;</li>
 *   <li>elsewhere (accelerators, other types, or {@value #HOST_PASS_PROPERTY}{@code =false}), about thirteen
 *       tensor ops on the whole buffers. Their scalars are device arrays: b1, b2 and epsilon made once, the
 *       four that change (decay factor, gradient rescale, bias-corrected step size and root scale) written by
 *       fill kernels, which carry the value as a kernel argument: no host-to-device copy and no
 *       synchronisation.</li>
 * </ul>
 * Gradients collected on the parameters' own arrays (a forward through an ordinary {@code ParameterStore})
 * are gathered into the flat gradient first and zeroed after the update, which costs a few native calls per
 * parameter; {@link TrainingSession} always uses {@link #trainingStore}.
 *
 * <p>Every parameter takes part in every update, so there is one update count; a parameter the loss does not
 * reach gets a zero gradient (its moments decay and weight decay applies), as with DJL's
 * {@code getGradient()}, which returns zeros for a trainable array without one. PyTorch would skip it.
 *
 * <p>Measured (benchmarks/RESULTS.md, "AdamW: one update"): {@code OptimizerUpdateBenchmark}, CPU time of the
 * updating thread per update, one intra-op thread, on a shared 2-core AMD EPYC VM (2026-12-02, two rounds):
 * MLP 784-512-256-10 (6 tensors) host pass 2.8-3.0 ms, tensor pass 5.1-5.6 ms, DJL's {@code Optimizer.adamW()}
 * (called per parameter as DJL's parameter server does) 17.7-22.3 ms; the GPT-2 preset (52 tensors, 16.1 M
 * parameters) 85-87, 280-296 and 610-639 ms. {@code OptimizerStepOpsTest} counts the native operations of an
 * update (25 for the tensor pass, 7 for the host pass, 11 more for the gradient norm) and finds them the same
 * for 4 and 16 parameter tensors. Not yet measured on a GPU.
 */
public final class AdamW implements AutoCloseable {

    /**
     * System property that turns the host pass off when set to {@code false} (it is on by default), e.g.
     * {@code DISTILL4J_JAVA_OPTS=-Ddistill4j.adamw.hostPass=false}: every update then runs as tensor ops, as
     * on an accelerator.
     */
    public static final String HOST_PASS_PROPERTY = "distill4j.adamw.hostPass";

    /** Each parameter's segment of the flat buffers starts at a multiple of this many elements. */
    public static final int ALIGN = 64;

    /** Buffers of at least this many elements are updated on the host in chunks of this size in parallel. */
    static final int PARALLEL_FROM = 1 << 20;

    private static final int FORMAT = 1;

    private final NDManager parent;
    private final NDManager manager;
    private final List<String> names = new ArrayList<>();
    private final List<Parameter> parameters = new ArrayList<>();
    private final Map<Parameter, Integer> slots = new IdentityHashMap<>();
    /** Per parameter (in {@link #names()} order): its position in the buffers (two split pieces per slot). */
    private final int[] slotOf;
    private final Shape[] shapes;
    private final NDArray[] bound;
    private final long[] splitPoints;
    private final long decayEnd;
    private final float weightDecay;
    private final float beta1;
    private final float beta2;
    private final float epsilon;
    private final NDManager deviceManager;
    private final NDArray flat;
    private final NDArray mean;
    private final NDArray variance;
    private final NDArray decayed;
    private NDArray b1;
    private NDArray b2;
    private NDArray eps;
    private long steps;
    private Step step;
    private boolean hostPass = !"false".equalsIgnoreCase(System.getProperty(HOST_PASS_PROPERTY, "true"));
    private long hostUpdates;
    private final Map<NDArray, Boolean> checkedViews = new IdentityHashMap<>();

    /**
     * Creates the optimiser for the trainable parameters of a block and moves them into its flat buffer.
     *
     * @param manager the model's manager: the parameters' new arrays are attached to it, the buffers to a
     *     sub-manager
     * @param parameters the block's parameters by name ({@code block.getParameters()}); those that do not
     *     require gradients are left out; all others must be initialised and share one device and data type
     * @param weightDecay the decoupled weight decay
     * @param noDecay a parameter whose name contains one of these strings gets no decay
     * @param beta1 first-moment decay
     * @param beta2 second-moment decay
     * @param epsilon the epsilon
     * @throws IllegalArgumentException if a parameter appears twice, or the parameters differ in device or type
     */
    public AdamW(NDManager manager, PairList<String, Parameter> parameters, float weightDecay, List<String> noDecay,
            float beta1, float beta2, float epsilon) {
        this.parent = manager;
        this.weightDecay = weightDecay;
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.epsilon = epsilon;
        List<Boolean> decays = new ArrayList<>();
        for (Pair<String, Parameter> p : parameters) {
            Parameter q = p.getValue();
            if (!q.requiresGradient()) {
                continue;
            }
            Integer seen = slots.put(q, names.size());
            if (seen != null) {
                throw new IllegalArgumentException("parameter '" + p.getKey() + "' is the same object as '"
                        + names.get(seen) + "'; list a shared parameter once");
            }
            names.add(p.getKey());
            this.parameters.add(q);
            decays.add(weightDecay != 0f && noDecay.stream().noneMatch(p.getKey()::contains));
        }
        int n = names.size();
        slotOf = new int[n];
        shapes = new Shape[n];
        bound = new NDArray[n];
        int slot = 0;
        for (boolean withDecay : new boolean[] {true, false}) {
            for (int i = 0; i < n; i++) {
                if (decays.get(i) == withDecay) {
                    slotOf[i] = slot++;
                }
            }
        }
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[slotOf[i]] = i;
        }
        this.manager = manager.newSubManager();
        if (n == 0) {
            splitPoints = new long[0];
            decayEnd = 0;
            deviceManager = this.manager;
            flat = mean = variance = decayed = null;
            return;
        }
        NDArray first = this.parameters.get(0).getArray();
        Device device = first.getDevice();
        DataType type = first.getDataType();
        splitPoints = new long[2 * n - 1];
        long offset = 0;
        long ends = 0;
        try (NDManager tmp = this.manager.newSubManager()) {
            NDList pieces = new NDList(2 * n);
            for (int s = 0; s < n; s++) {
                int i = order[s];
                NDArray a = this.parameters.get(i).getArray();
                if (!a.getDevice().equals(device) || a.getDataType() != type) {
                    throw new IllegalArgumentException("parameter '" + names.get(i) + "' is " + a.getDataType() + " on "
                            + a.getDevice() + ", '" + names.get(0) + "' is " + type + " on " + device
                            + "; AdamW keeps all trainable parameters in one buffer");
                }
                shapes[i] = a.getShape();
                long size = a.getShape().size();
                long pad = (ALIGN - size % ALIGN) % ALIGN;
                NDArray flatPiece = a.reshape(-1);
                flatPiece.attach(tmp);
                pieces.add(flatPiece);
                pieces.add(tmp.zeros(new Shape(pad), type, device));
                offset += size;
                splitPoints[2 * s] = offset;
                offset += pad;
                if (s < n - 1) {
                    splitPoints[2 * s + 1] = offset;
                }
                if (decays.get(i)) {
                    ends = offset;
                }
            }
            decayEnd = ends;
            NDArray joined = NDArrays.concat(pieces);
            joined.attach(tmp);
            flat = joined.stopGradient();
            flat.attach(this.manager);
        }
        deviceManager = this.manager.newSubManager(device);
        mean = deviceManager.zeros(flat.getShape(), type);
        variance = deviceManager.zeros(flat.getShape(), type);
        decayed = decayEnd == 0 ? null : piece(flat, new long[] {decayEnd}, 0, this.manager);
        NDList views = flat.split(splitPoints);
        for (int i = 0; i < n; i++) {
            bind(i, views.get(2 * slotOf[i]).reshape(shapes[i]));
        }
        views.close();
    }

    /** Piece j of a split of a, attached to m (the other pieces are closed). */
    private static NDArray piece(NDArray a, long[] points, int j, NDManager m) {
        NDList all = a.split(points);
        NDArray p = all.get(j);
        p.attach(m);
        all.remove(j);
        all.close();
        return p;
    }

    /** Makes view (of the flat buffer) parameter i's array; its previous array is closed. */
    private void bind(int i, NDArray view) {
        Parameter p = parameters.get(i);
        view.attach(parent);
        Initializer previous = p.getInitializer();
        p.close();
        p.setInitializer((m, shape, type) -> view);
        try {
            p.initialize(parent, view.getDataType());
        } finally {
            p.setInitializer(previous);
        }
        bound[i] = view;
    }

    /**
     * Copies in the values of parameters whose array was replaced since they were bound (a checkpoint or
     * the best parameters loaded into the block) and binds them to their segment again.
     */
    private void ensureBound() {
        for (int i = 0; i < bound.length; i++) {
            NDArray a = parameters.get(i).getArray();
            if (a == bound[i]) {
                continue;
            }
            if (!a.getShape().equals(shapes[i])) {
                throw new IllegalStateException("parameter '" + names.get(i) + "' now has shape " + a.getShape()
                        + ", its optimiser segment " + shapes[i]);
            }
            try (NDManager tmp = manager.newSubManager()) {
                writeSegment(flat, i, a, tmp);
                NDList views = flat.split(splitPoints);
                views.attach(tmp);
                bind(i, views.get(2 * slotOf[i]).reshape(shapes[i]));
            }
        }
    }

    /**
     * Copies values (parameter i's shape, any device and type) into parameter i's segment of a buffer, in
     * place and outside autograd.
     */
    private void writeSegment(NDArray buffer, int i, NDArray values, NDManager tmp) {
        int k = slotOf[i];
        long start = k == 0 ? 0 : splitPoints[2 * k - 1];
        NDArray v = values.stopGradient();
        v.attach(tmp);
        NDArray moved = v.toDevice(buffer.getDevice(), false);
        moved.attach(tmp);
        NDArray typed = moved.toType(buffer.getDataType(), false);
        typed.attach(tmp);
        NDArray row = typed.reshape(-1);
        row.attach(tmp);
        buffer.set(new NDIndex(start + ":" + splitPoints[2 * k]), row);
    }

    /** @return the names of the parameters this optimiser updates, in order */
    public List<String> names() {
        return List.copyOf(names);
    }

    /** @return the trainable parameters, in the order of {@link #names()} */
    List<Parameter> parameters() {
        return parameters;
    }

    /**
     * Returns one parameter's update count (all parameters are updated together).
     *
     * @param i the index in {@link #names()}
     * @return how many updates it has had
     */
    public long count(int i) {
        if (i < 0 || i >= names.size()) {
            throw new IndexOutOfBoundsException(i);
        }
        return steps;
    }

    /**
     * The parameters for the training forwards until the next {@link #update} or {@link #discardGradients}:
     * each trainable parameter is a view of one leaf that aliases the flat buffer ({@link Precision#FP32}) or
     * is a float16 copy of it ({@link Precision#FP16}), so that backward collects all gradients in one flat
     * gradient. Make one store per forward (its views belong to {@code forwardManager}); the stores of one
     * update share the leaf, so micro-batches accumulate. Parameters that are not trained are handed out as
     * they are (as float16 copies under {@link Precision#FP16} when they are float32).
     *
     * @param forwardManager holds this forward's views; closed by the caller after backward
     * @param precision {@link Precision#FP32}: the parameters' own type; {@link Precision#FP16}: float16
     * @return the store
     * @throws IllegalStateException if stores of another precision were made since the last update
     */
    public ParameterStore trainingStore(NDManager forwardManager, Precision precision) {
        ensureBound();
        if (flat == null) {
            return new ParameterStore(forwardManager, false);
        }
        DataType type = precision == Precision.FP16 ? DataType.FLOAT16 : flat.getDataType();
        if (step == null) {
            step = new Step(type);
        } else if (step.leaf == null || step.type != type) {
            throw new IllegalStateException("the gradients of this update are collected "
                    + (step.leaf == null ? "on the parameters" : "as " + step.type) + "; a store for " + type
                    + " needs an update or discardGradients() first");
        }
        return new FlatStore(forwardManager, step);
    }

    /**
     * The global L2 norm of the gradients collected for the next update, computed on the device and read
     * back once ({@link GradientClipping#norm}).
     *
     * @param scale a factor applied to the gradients first (1 for none)
     * @return the norm, +inf or NaN if a gradient is not finite
     */
    public double gradientNorm(float scale) {
        if (flat == null) {
            return 0;
        }
        return GradientClipping.norm(currentStep().manager, List.of(gradient()), scale);
    }

    /**
     * Each parameter's part of the gradients collected for the next update (for error messages).
     *
     * @param m holds the views
     * @return one array per parameter of {@link #names()}, in its shape and the buffer's type
     */
    List<NDArray> gradients(NDManager m) {
        List<NDArray> out = new ArrayList<>(names.size());
        if (flat == null) {
            return out;
        }
        NDList views = gradient().split(splitPoints);
        views.attach(m);
        for (int i = 0; i < names.size(); i++) {
            NDArray v = views.get(2 * slotOf[i]).reshape(shapes[i]);
            v.attach(m);
            out.add(v);
        }
        return out;
    }

    /** Drops the gradients collected since the last update without updating (a skipped fp16 step). */
    public void discardGradients() {
        if (step != null) {
            step.zeroParameterGradients();
            step.close();
            step = null;
        }
    }

    /**
     * Updates every parameter from the gradients collected since the last update, then drops them.
     *
     * @param learningRate the rate of this update
     * @param rescale the factor applied to every gradient first (clipping, unscaling, averaging)
     */
    public void update(float learningRate, float rescale) {
        if (!Float.isFinite(learningRate) || !Float.isFinite(rescale)) {
            throw new IllegalStateException("AdamW update with learning rate " + learningRate + " and gradient scale "
                    + rescale + "; both must be finite");
        }
        if (flat == null) {
            discardGradients();
            return;
        }
        try {
            // the gradients first: they may sit on arrays that replaced the parameters' views since
            NDArray g = gradient();
            ensureBound();
            long t = ++steps;
            float keep = 1 - learningRate * weightDecay;
            float rootScale = (float) Math.sqrt((1 - beta2) / (1 - Math.pow(beta2, t)));
            float stepScale = (float) (-learningRate * (1 - beta1) / (1 - Math.pow(beta1, t)));
            FloatBuffer[] views = hostViews(g);
            if (views != null) {
                hostUpdates++;
                int n = views[0].capacity();
                hostUpdate(views[0], views[1], views[2], views[3], keep, beta1, beta2, rootScale, epsilon, stepScale,
                        rescale, 0, (int) decayEnd);
                hostUpdate(views[0], views[1], views[2], views[3], 1f, beta1, beta2, rootScale, epsilon, stepScale,
                        rescale, (int) decayEnd, n);
            } else {
                tensorUpdate(g, keep, rootScale, stepScale, rescale);
            }
        } finally {
            discardGradients();
        }
    }

    private Step currentStep() {
        if (step == null) {
            step = new Step(null);
        }
        return step;
    }

    /** The flat gradient of this update in the buffer's type: the leaf's, or the parameters' own gathered. */
    private NDArray gradient() {
        Step s = currentStep();
        if (s.gradient != null) {
            return s.gradient;
        }
        NDArray g;
        if (s.leaf != null) {
            g = s.leaf.getGradient();
            g.attach(s.manager);
        } else {
            NDArray[] bySlot = new NDArray[names.size()];
            s.parameterGradients = new ArrayList<>(names.size());
            for (int i = 0; i < names.size(); i++) {
                NDArray pg = parameters.get(i).getArray().getGradient();
                pg.attach(s.manager);
                s.parameterGradients.add(pg);
                bySlot[slotOf[i]] = pg;
            }
            NDList parts = new NDList(2 * bySlot.length);
            for (int k = 0; k < bySlot.length; k++) {
                NDArray r = bySlot[k].reshape(-1);
                r.attach(s.manager);
                parts.add(r);
                long padEnd = k < bySlot.length - 1 ? splitPoints[2 * k + 1] : flat.size();
                long pad = padEnd - splitPoints[2 * k];
                if (pad > 0) {
                    parts.add(s.manager.zeros(new Shape(pad), flat.getDataType()));
                }
            }
            g = NDArrays.concat(parts);
            g.attach(s.manager);
        }
        if (g.getDataType() != flat.getDataType()) {
            g = g.toType(flat.getDataType(), false);
            g.attach(s.manager);
        }
        s.gradient = g;
        return g;
    }

    /** Direct views of the four buffers when the host pass applies, else null. */
    private FloatBuffer[] hostViews(NDArray g) {
        if (!hostPass || !Device.Type.CPU.equals(flat.getDevice().getDeviceType())
                || flat.getDataType() != DataType.FLOAT32 || g.getDataType() != DataType.FLOAT32
                || !g.getDevice().equals(flat.getDevice()) || flat.size() > Integer.MAX_VALUE) {
            return null;
        }
        FloatBuffer w = view(flat, true);
        FloatBuffer m = w == null ? null : view(mean, true);
        FloatBuffer v = m == null ? null : view(variance, true);
        if (v == null) {
            return null;
        }
        FloatBuffer gb = view(g, false);
        if (gb == null) {
            gb = g.toByteBuffer(true).order(ByteOrder.nativeOrder()).asFloatBuffer();
        }
        return new FloatBuffer[] {w, gb, m, v};
    }

    /**
     * The update of the class comment over elements [from, to) on the host, through direct views of the
     * buffers: per element the same float operations in the same order as the tensor pass (so the same
     * result), in one pass; large ranges in parallel chunks on the common pool.
     */
    static void hostUpdate(FloatBuffer w, FloatBuffer g, FloatBuffer m, FloatBuffer v, float keep, float b1, float b2,
            float rootScale, float eps, float stepScale, float rescale, int from, int to) {
        if (to - from < PARALLEL_FROM || ForkJoinPool.getCommonPoolParallelism() < 2) {
            hostRange(w, g, m, v, keep, b1, b2, rootScale, eps, stepScale, rescale, from, to);
            return;
        }
        int chunks = (to - from + PARALLEL_FROM - 1) / PARALLEL_FROM;
        IntStream.range(0, chunks).parallel().forEach(c -> hostRange(w, g, m, v, keep, b1, b2, rootScale, eps,
                stepScale, rescale, from + c * PARALLEL_FROM, Math.min(to, from + (c + 1) * PARALLEL_FROM)));
    }

    private static void hostRange(FloatBuffer w, FloatBuffer g, FloatBuffer m, FloatBuffer v, float keep, float b1,
            float b2, float rootScale, float eps, float stepScale, float rescale, int from, int to) {
        for (int j = from; j < to; j++) {
            float gj = rescale == 1f ? g.get(j) : g.get(j) * rescale;
            float mj = m.get(j) * b1 + gj;
            float vj = v.get(j) * b2 + gj * gj;
            m.put(j, mj);
            v.put(j, vj);
            float wj = keep == 1f ? w.get(j) : w.get(j) * keep;
            w.put(j, wj + mj / ((float) Math.sqrt(vj) * rootScale + eps) * stepScale);
        }
    }

    /**
     * A writable float view of a CPU tensor's memory, or null when DJL hands out a copy (a non-contiguous
     * tensor), which writes would not reach. Checked by writing a sentinel through the view and reading it
     * back natively; the buffers, checked once, are remembered.
     */
    private FloatBuffer view(NDArray a, boolean remember) {
        if (a.getShape().size() == 0) {
            return null;
        }
        Boolean known = remember ? checkedViews.get(a) : null;
        if (Boolean.FALSE.equals(known)) {
            return null;
        }
        FloatBuffer f = a.toByteBuffer(true).order(ByteOrder.nativeOrder()).asFloatBuffer();
        if (known != null) {
            return f;
        }
        float old = f.get(0);
        float probe = old == 1.5f ? 2.5f : 1.5f;
        f.put(0, probe);
        boolean aliased = firstElement(a) == probe;
        f.put(0, old);
        if (remember) {
            checkedViews.put(a, aliased);
        }
        return aliased ? f : null;
    }

    private static float firstElement(NDArray a) {
        try (NDArray flat = a.reshape(-1)) {
            try (NDArray first = flat.get(0)) {
                return first.getFloat();
            }
        }
    }

    /**
     * The tensor pass over the whole buffers: the same ops in the same order as the host pass, with device
     * scalars (see the class comment). The gradient, this update's own array, is squared in place.
     */
    private void tensorUpdate(NDArray g, float keep, float rootScale, float stepScale, float rescale) {
        DataType type = flat.getDataType();
        if (b1 == null) {
            b1 = deviceManager.full(new Shape(), beta1, type);
            b2 = deviceManager.full(new Shape(), beta2, type);
            eps = deviceManager.full(new Shape(), epsilon, type);
        }
        try (NDManager tmp = deviceManager.newSubManager()) {
            if (rescale != 1f) {
                g.muli(tmp.full(new Shape(), rescale, type));
            }
            if (decayed != null) {
                decayed.muli(tmp.full(new Shape(), keep, type));
            }
            mean.muli(b1).addi(g);
            g.muli(g);
            variance.muli(b2).addi(g);
            NDArray denom = variance.sqrt();
            denom.attach(tmp);
            denom.muli(tmp.full(new Shape(), rootScale, type)).addi(eps);
            NDArray update = mean.div(denom);
            update.attach(tmp);
            flat.addi(update.muli(tmp.full(new Shape(), stepScale, type)));
        }
    }

    /**
     * Writes the moments and counts (format 1: per parameter its name, count, and M and V in its shape).
     *
     * @param out the stream
     * @throws IOException if writing fails
     */
    public void save(DataOutputStream out) throws IOException {
        out.writeInt(FORMAT);
        out.writeInt(names.size());
        if (names.isEmpty()) {
            return;
        }
        try (NDManager tmp = manager.newSubManager()) {
            List<NDArray> m = segments(mean, tmp);
            List<NDArray> v = segments(variance, tmp);
            for (int i = 0; i < names.size(); i++) {
                out.writeUTF(names.get(i));
                out.writeLong(steps);
                out.writeBoolean(steps > 0);
                if (steps > 0) {
                    writeArray(out, m.get(i));
                    writeArray(out, v.get(i));
                }
            }
        }
    }

    /** Each parameter's segment of a buffer, in its shape, in the order of {@link #names()}. */
    private List<NDArray> segments(NDArray buffer, NDManager m) {
        NDList views = buffer.split(splitPoints);
        views.attach(m);
        List<NDArray> out = new ArrayList<>(names.size());
        for (int i = 0; i < names.size(); i++) {
            NDArray v = views.get(2 * slotOf[i]).reshape(shapes[i]);
            v.attach(m);
            out.add(v);
        }
        return out;
    }

    /**
     * Reads moments and counts written by {@link #save}, for the same parameters.
     *
     * @param in the stream
     * @param source names the stream in error messages
     * @throws IOException if reading fails
     * @throws IllegalArgumentException naming the source and parameter if the state does not fit
     */
    public void load(DataInputStream in, String source) throws IOException {
        int format = in.readInt();
        if (format != FORMAT) {
            throw new IllegalArgumentException(source + ": optimiser state format " + format + ", expected " + FORMAT);
        }
        int n = in.readInt();
        if (n != names.size()) {
            throw new IllegalArgumentException(source + ": optimiser state for " + n + " parameters, the model has "
                    + names.size());
        }
        if (n == 0) {
            return;
        }
        try (NDManager tmp = manager.newSubManager()) {
            long[] counts = new long[n];
            NDArray[][] moments = new NDArray[n][];
            for (int i = 0; i < n; i++) {
                String name = in.readUTF();
                if (!name.equals(names.get(i))) {
                    throw new IllegalArgumentException(source + ": optimiser state for parameter '" + name
                            + "' at position " + i + ", the model has '" + names.get(i) + "'");
                }
                counts[i] = in.readLong();
                if (in.readBoolean()) {
                    moments[i] = new NDArray[] {readArray(in, tmp, i, source), readArray(in, tmp, i, source)};
                }
                if (counts[i] != counts[0]) {
                    throw new IllegalArgumentException(source + ": optimiser state counts " + counts[0] + " updates for '"
                            + names.get(0) + "' and " + counts[i] + " for '" + name
                            + "'; this AdamW updates all parameters together");
                }
            }
            for (int i = 0; i < n; i++) {
                NDArray[] mv = moments[i] != null ? moments[i]
                        : new NDArray[] {tmp.zeros(shapes[i], flat.getDataType()), tmp.zeros(shapes[i], flat.getDataType())};
                writeSegment(mean, i, mv[0], tmp);
                writeSegment(variance, i, mv[1], tmp);
            }
            steps = counts[0];
        }
    }

    private static void writeArray(DataOutputStream out, NDArray a) throws IOException {
        byte[] bytes = a.encode();
        out.writeInt(bytes.length);
        out.write(bytes);
    }

    private NDArray readArray(DataInputStream in, NDManager tmp, int i, String source) throws IOException {
        byte[] bytes = new byte[in.readInt()];
        in.readFully(bytes);
        NDArray a = NDArray.decode(tmp, bytes);
        if (!a.getShape().equals(shapes[i])) {
            throw new IllegalArgumentException(source + ": optimiser moment of '" + names.get(i) + "' has shape "
                    + a.getShape() + ", the parameter has " + shapes[i]);
        }
        return a;
    }

    /**
     * Turns the host pass of CPU float32 updates on (the default) or off (every update as tensor ops).
     *
     * @param on whether CPU updates may run on the host
     */
    void hostPass(boolean on) {
        hostPass = on;
    }

    /** @return how many updates ran as the host pass (for tests) */
    long hostUpdates() {
        return hostUpdates;
    }

    /** Frees the buffers; the parameters keep their views, which keep the parameters' memory alive. */
    @Override
    public void close() {
        discardGradients();
        manager.close();
    }

    /** The gradients of one update: the leaf training forwards read, or the parameters' own. */
    private final class Step implements AutoCloseable {
        final NDManager manager;
        final DataType type;
        final NDArray leaf;
        NDArray gradient;
        List<NDArray> parameterGradients;

        /** A step whose forwards read a leaf of the given type; null for gradients on the parameters. */
        Step(DataType type) {
            this.manager = deviceManager.newSubManager();
            this.type = type;
            if (type == null) {
                leaf = null;
                return;
            }
            NDArray l = type == flat.getDataType() ? flat.stopGradient() : flat.toType(type, false);
            l.attach(manager);
            l.setRequiresGradient(true);
            leaf = l;
        }

        void zeroParameterGradients() {
            if (parameterGradients != null) {
                for (NDArray g : parameterGradients) {
                    g.subi(g);
                }
            }
        }

        @Override
        public void close() {
            manager.close();
        }
    }

    /** Hands out views of the step's leaf for the trainable parameters, one view per parameter and forward. */
    private final class FlatStore extends ParameterStore {
        private final NDManager forward;
        private final Step owner;
        private final Map<Parameter, NDArray> given = new IdentityHashMap<>();
        private NDList pieces;

        FlatStore(NDManager forward, Step owner) {
            super(forward, false);
            this.forward = forward;
            this.owner = owner;
        }

        @Override
        public NDArray getValue(Parameter parameter, Device device, boolean training) {
            if (parameter == null) {
                return null;
            }
            NDArray v = given.get(parameter);
            if (v != null) {
                return v;
            }
            Integer i = slots.get(parameter);
            if (i != null) {
                if (pieces == null) {
                    pieces = owner.leaf.split(splitPoints);
                    pieces.attach(forward);
                }
                v = pieces.get(2 * slotOf[i]).reshape(shapes[i]);
            } else {
                NDArray a = parameter.getArray();
                v = a.getDataType() == DataType.FLOAT32 && owner.type == DataType.FLOAT16
                        ? a.toType(owner.type, true) : a;
            }
            if (!v.getDevice().equals(device)) {
                v = v.toDevice(device, true);
            }
            if (v != parameter.getArray()) {
                v.attach(forward);
            }
            given.put(parameter, v);
            return v;
        }
    }
}
