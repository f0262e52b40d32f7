package io.distill4j.trainer;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
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
 * AdamW (Loshchilov &amp; Hutter 2019, "Decoupled Weight Decay Regularization") with moments this class owns,
 * so that they can be saved and restored exactly.
 *
 * <p>For each parameter w with gradient g (after the global rescale s: clipping, loss-scale and
 * accumulation factors), its own update count t, rate lr, decay wd, moments m and v:
 * <pre>
 *   w &lt;- w - lr * wd * w
 *   m &lt;- b1 * m + (1 - b1) * s * g
 *   v &lt;- b2 * v + (1 - b2) * (s * g)^2
 *   w &lt;- w - (lr / (1 - b1^t)) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
 * </pre>
 * which is {@code torch.optim.AdamW}'s update. The moments are kept scaled, M = m / (1 - b1) and
 * V = v / (1 - b2), so that each update is a short chain of in-place ops with three temporaries:
 * <pre>
 *   w *= 1 - lr * wd;   M = b1 * M + s * g;   V = b2 * V + (s * g)^2
 *   w += (-lr * (1 - b1) / (1 - b1^t)) * M / (sqrt(V) * sqrt((1 - b2) / (1 - b2^t)) + eps)
 * </pre>
 * (algebraically the update above; about 40% less CPU time than DJL's fused {@code adamUpdate} kernel,
 * which clones the gradient and allocates seven temporaries). The scalars of an update travel to the
 * parameter's device in one small array (DJL would copy each {@code Number} argument separately, a
 * synchronous copy per op on a GPU). The gradient is then zeroed in place (g - g; a non-finite gradient
 * has already made the parameter non-finite, and the next loss check stops the run). Saved state holds M
 * and V as they are.
 * Parameters without a gradient are skipped and their count t is not advanced, as in PyTorch; note that
 * DJL's {@code getGradient()} returns zeros for a trainable array that has none yet, so a parameter the
 * loss does not reach is updated with a zero gradient (its moments decay and weight decay applies), where
 * PyTorch would skip it.
 */
public final class AdamW implements AutoCloseable {

    private static final int FORMAT = 1;

    private final NDManager manager;
    private final List<String> names = new ArrayList<>();
    private final List<Parameter> parameters = new ArrayList<>();
    private final float[] decay;
    private final NDArray[] mean;
    private final NDArray[] variance;
    private final long[] count;
    private final float beta1;
    private final float beta2;
    private final float epsilon;
    private NDArray betas;
    private boolean hostPass = !"false".equalsIgnoreCase(System.getProperty(HOST_PASS_PROPERTY, "true"));
    private long hostUpdates;
    private final Map<NDArray, Boolean> checkedViews = new IdentityHashMap<>();

    /**
     * Creates the optimiser for the trainable parameters of a block.
     *
     * @param manager the parent of the manager that holds the moments
     * @param parameters the block's parameters by name ({@code block.getParameters()}); those that do not
     *     require gradients are left out
     * @param weightDecay the decoupled weight decay
     * @param noDecay a parameter whose name contains one of these strings gets no decay
     * @param beta1 first-moment decay
     * @param beta2 second-moment decay
     * @param epsilon the epsilon
     */
    public AdamW(NDManager manager, PairList<String, Parameter> parameters, float weightDecay, List<String> noDecay,
            float beta1, float beta2, float epsilon) {
        this.manager = manager.newSubManager();
        for (Pair<String, Parameter> p : parameters) {
            if (p.getValue().requiresGradient()) {
                names.add(p.getKey());
                this.parameters.add(p.getValue());
            }
        }
        int n = names.size();
        decay = new float[n];
        for (int i = 0; i < n; i++) {
            String name = names.get(i);
            decay[i] = noDecay.stream().anyMatch(name::contains) ? 0f : weightDecay;
        }
        mean = new NDArray[n];
        variance = new NDArray[n];
        count = new long[n];
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.epsilon = epsilon;
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
     * Returns one parameter's update count.
     *
     * @param i the index in {@link #names()}
     * @return how many updates it has had
     */
    public long count(int i) {
        return count[i];
    }

    /**
     * Updates every parameter that has a gradient, then zeroes its gradient.
     *
     * @param learningRate the rate of this update
     * @param rescale the factor applied to every gradient first (clipping, unscaling, averaging)
     */
    public void update(float learningRate, float rescale) {
        checkFinite(learningRate, rescale);
        try (NDManager tmp = manager.newSubManager()) {
            for (int i = 0; i < parameters.size(); i++) {
                NDArray w = parameters.get(i).getArray();
                NDArray g = w.getGradient();
                if (g != null) {
                    g.attach(tmp);
                    if (!apply(i, w, g, learningRate, rescale, tmp, true)) {
                        g.subi(g);
                    }
                }
            }
        }
    }

    /**
     * Updates every parameter from gradients held elsewhere (the float16 copies of mixed precision); the
     * gradients are not modified.
     *
     * @param learningRate the rate of this update
     * @param rescale the factor applied to every gradient first
     * @param gradients one float32 gradient per parameter of {@link #names()}, null to skip it
     */
    public void update(float learningRate, float rescale, List<NDArray> gradients) {
        checkFinite(learningRate, rescale);
        if (gradients.size() != parameters.size()) {
            throw new IllegalArgumentException(gradients.size() + " gradients for " + parameters.size() + " parameters");
        }
        try (NDManager tmp = manager.newSubManager()) {
            for (int i = 0; i < parameters.size(); i++) {
                if (gradients.get(i) != null) {
                    apply(i, parameters.get(i).getArray(), gradients.get(i), learningRate, rescale, tmp, false);
                }
            }
        }
    }

    private static void checkFinite(float learningRate, float rescale) {
        if (!Float.isFinite(learningRate) || !Float.isFinite(rescale)) {
            throw new IllegalStateException("AdamW update with learning rate " + learningRate + " and gradient scale "
                    + rescale + "; both must be finite");
        }
    }

    /**
     * One parameter's update; returns whether the gradient was zeroed as part of it (the host pass does so
     * when asked; the tensor pass leaves it to the caller).
     */
    private boolean apply(int i, NDArray w, NDArray g, float learningRate, float rescale, NDManager tmp,
            boolean zeroGradient) {
        if (mean[i] == null) {
            mean[i] = manager.zeros(w.getShape(), w.getDataType(), w.getDevice());
            variance[i] = manager.zeros(w.getShape(), w.getDataType(), w.getDevice());
        }
        if (hostPass && Device.Type.CPU.equals(w.getDevice().getDeviceType()) && w.getDataType() == DataType.FLOAT32
                && g.getDataType() == DataType.FLOAT32 && g.getDevice().equals(w.getDevice())) {
            FloatBuffer wb = view(w, true);
            FloatBuffer mb = wb == null ? null : view(mean[i], true);
            FloatBuffer vb = mb == null ? null : view(variance[i], true);
            if (vb != null) {
                FloatBuffer gb = zeroGradient ? view(g, false) : null;
                boolean zeroes = gb != null;
                if (gb == null) {
                    gb = g.toByteBuffer(true).order(ByteOrder.nativeOrder()).asFloatBuffer();
                }
                long t = ++count[i];
                hostUpdates++;
                hostUpdate(wb, gb, mb, vb, 1 - learningRate * decay[i], beta1, beta2,
                        (float) Math.sqrt((1 - beta2) / (1 - Math.pow(beta2, t))), epsilon,
                        (float) (-learningRate * (1 - beta1) / (1 - Math.pow(beta1, t))), rescale, zeroes);
                return zeroes;
            }
        }
        tensorUpdate(i, w, g, learningRate, rescale, tmp);
        return false;
    }

    /**
     * The update of the class comment in one pass over the parameter on the host, through direct views of
     * the tensors' memory: per element the same float operations in the same order as the tensor pass (so
     * the same result), but one pass instead of about twelve native ones, and the gradient zeroed in the same
     * pass when {@code zero}.
     */
    static void hostUpdate(FloatBuffer w, FloatBuffer g, FloatBuffer m, FloatBuffer v, float keep, float b1, float b2,
            float rootScale, float eps, float stepScale, float rescale, boolean zero) {
        int n = w.capacity();
        if (n < PARALLEL_FROM || ForkJoinPool.getCommonPoolParallelism() < 2) {
            hostUpdate(w, g, m, v, keep, b1, b2, rootScale, eps, stepScale, rescale, zero, 0, n);
            return;
        }
        // large parameters (embeddings, LM heads): disjoint chunks on the common pool
        int chunks = (n + PARALLEL_FROM - 1) / PARALLEL_FROM;
        IntStream.range(0, chunks).parallel().forEach(c -> hostUpdate(w, g, m, v, keep, b1, b2, rootScale, eps,
                stepScale, rescale, zero, c * PARALLEL_FROM, Math.min(n, (c + 1) * PARALLEL_FROM)));
    }

    /**
     * System property that turns the host pass off when set to {@code false} (it is on by default), e.g.
     * {@code DISTILL4J_JAVA_OPTS=-Ddistill4j.adamw.hostPass=false}: every update then runs as tensor ops.
     */
    public static final String HOST_PASS_PROPERTY = "distill4j.adamw.hostPass";

    /** Parameters of at least this many elements are updated in chunks of this size in parallel. */
    static final int PARALLEL_FROM = 1 << 20;

    private static void hostUpdate(FloatBuffer w, FloatBuffer g, FloatBuffer m, FloatBuffer v, float keep, float b1,
            float b2, float rootScale, float eps, float stepScale, float rescale, boolean zero, int from, int to) {
        for (int j = from; j < to; j++) {
            float gj = rescale == 1f ? g.get(j) : g.get(j) * rescale;
            float mj = m.get(j) * b1 + gj;
            float vj = v.get(j) * b2 + gj * gj;
            m.put(j, mj);
            v.put(j, vj);
            float wj = keep == 1f ? w.get(j) : w.get(j) * keep;
            w.put(j, wj + mj / ((float) Math.sqrt(vj) * rootScale + eps) * stepScale);
            if (zero) {
                g.put(j, 0f);
            }
        }
    }

    /**
     * A writable float view of a CPU tensor's memory, or null when DJL hands out a copy (a non-contiguous
     * tensor), which writes would not reach. Checked by writing a sentinel through the view and reading it
     * back natively; arrays that were checked once (parameters, moments) are remembered.
     */
    private FloatBuffer view(NDArray a, boolean remember) {
        if (a.getShape().size() == 0 || a.getShape().size() > Integer.MAX_VALUE) {
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

    /** The tensor-op update (accelerators, other dtypes, and CPU tensors the host pass cannot view). */
    private void tensorUpdate(int i, NDArray w, NDArray g, float learningRate, float rescale, NDManager tmp) {
        if (betas == null) {
            betas = manager.create(new float[] {beta1, beta2}, new Shape(2)).toDevice(w.getDevice(), false);
            betas.attach(manager);
        }
        long t = ++count[i];
        double bc1 = 1 - Math.pow(beta1, t);
        double bc2 = 1 - Math.pow(beta2, t);
        // every scalar of this update in one array, copied to the device once: DJL turns each Number argument
        // into a one-element array created from the host, which on a GPU is a synchronous copy per op
        NDArray k = tmp.create(new float[] {1 - learningRate * decay[i], (float) Math.sqrt((1 - beta2) / bc2), epsilon,
            (float) (-learningRate * (1 - beta1) / bc1), rescale});
        NDArray gs = g;
        if (rescale != 1f) {
            gs = g.mul(scalar(k, 4, tmp));
            gs.attach(tmp);
        }
        if (decay[i] != 0f) {
            w.muli(scalar(k, 0, tmp));
        }
        mean[i].muli(scalar(betas, 0, tmp)).addi(gs);
        NDArray sq = gs.square();
        sq.attach(tmp);
        variance[i].muli(scalar(betas, 1, tmp)).addi(sq);
        NDArray denom = variance[i].sqrt();
        denom.attach(tmp);
        denom.muli(scalar(k, 1, tmp)).addi(scalar(k, 2, tmp));
        NDArray step = mean[i].div(denom);
        step.attach(tmp);
        w.addi(step.muli(scalar(k, 3, tmp)));
    }

    /** Element j of a 1-D array as a 0-d view on the same device. */
    private static NDArray scalar(NDArray a, int j, NDManager tmp) {
        NDArray v = a.get(j);
        v.attach(tmp);
        return v;
    }

    /**
     * Writes the moments and counts.
     *
     * @param out the stream
     * @throws IOException if writing fails
     */
    public void save(DataOutputStream out) throws IOException {
        out.writeInt(FORMAT);
        out.writeInt(names.size());
        for (int i = 0; i < names.size(); i++) {
            out.writeUTF(names.get(i));
            out.writeLong(count[i]);
            out.writeBoolean(mean[i] != null);
            if (mean[i] != null) {
                writeArray(out, mean[i]);
                writeArray(out, variance[i]);
            }
        }
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
        for (int i = 0; i < n; i++) {
            String name = in.readUTF();
            if (!name.equals(names.get(i))) {
                throw new IllegalArgumentException(source + ": optimiser state for parameter '" + name + "' at position "
                        + i + ", the model has '" + names.get(i) + "'");
            }
            count[i] = in.readLong();
            close(i);
            if (in.readBoolean()) {
                NDArray w = parameters.get(i).getArray();
                mean[i] = readArray(in, w, source, name);
                variance[i] = readArray(in, w, source, name);
            }
        }
    }

    private static void writeArray(DataOutputStream out, NDArray a) throws IOException {
        byte[] bytes = a.encode();
        out.writeInt(bytes.length);
        out.write(bytes);
    }

    private NDArray readArray(DataInputStream in, NDArray like, String source, String name) throws IOException {
        byte[] bytes = new byte[in.readInt()];
        in.readFully(bytes);
        NDArray a = NDArray.decode(manager, bytes);
        if (!a.getShape().equals(like.getShape())) {
            a.close();
            throw new IllegalArgumentException(source + ": optimiser moment of '" + name + "' has shape " + a.getShape()
                    + ", the parameter has " + like.getShape());
        }
        if (!a.getDevice().equals(like.getDevice())) {
            NDArray moved = a.toDevice(like.getDevice(), false);
            moved.attach(manager);
            a.close();
            return moved;
        }
        return a;
    }

    private void close(int i) {
        if (mean[i] != null) {
            checkedViews.remove(mean[i]);
            checkedViews.remove(variance[i]);
            mean[i].close();
            variance[i].close();
            mean[i] = null;
            variance[i] = null;
        }
    }

    /**
     * Turns the host pass of CPU float32 updates on (the default) or off (every update as tensor ops).
     *
     * @param on whether CPU updates may run on the host
     */
    void hostPass(boolean on) {
        hostPass = on;
    }

    /** @return how many parameter updates ran as the host pass (for tests) */
    long hostUpdates() {
        return hostUpdates;
    }

    /** Frees the moments. */
    @Override
    public void close() {
        manager.close();
    }
}
