package io.distill4j.trainer;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Parameter;
import java.util.List;

/**
 * Global gradient norm and clipping, as {@code torch.nn.utils.clip_grad_norm_}: the norm is the L2 norm of
 * all gradients taken together, ||g|| = sqrt(sum_p sum_j g_pj^2), and clipping to a largest norm N scales
 * every gradient by min(1, N / (||g|| + 1e-6)).
 */
public final class GradientClipping {

    /** Added to the norm in the clipping coefficient, as PyTorch does. */
    public static final double EPS = 1e-6;

    private GradientClipping() {
    }

    /**
     * Computes the global L2 norm of the parameters' gradients (parameters without one are skipped).
     *
     * @param manager a manager for the temporaries, closed by the caller
     * @param parameters the parameters
     * @param scale a factor applied to each gradient first (1 for none)
     * @return the norm of the scaled gradients, +inf or NaN if a gradient is not finite
     */
    public static double globalNorm(NDManager manager, List<Parameter> parameters, float scale) {
        List<NDArray> grads = new java.util.ArrayList<>(parameters.size());
        for (Parameter p : parameters) {
            NDArray g = p.getArray().getGradient();
            if (g != null) {
                g.attach(manager);
            }
            grads.add(g);
        }
        return norm(manager, grads, scale);
    }

    /**
     * Computes the global L2 norm of gradients, in float32 whatever their type.
     *
     * @param manager a manager for the temporaries, closed by the caller
     * @param gradients the gradients; null entries are skipped
     * @param scale a factor applied to each gradient first (1 for none)
     * @return the norm of the scaled gradients, +inf or NaN if a gradient is not finite
     */
    public static double norm(NDManager manager, List<NDArray> gradients, float scale) {
        NDList squares = new NDList(gradients.size());
        for (NDArray g : gradients) {
            if (g == null) {
                continue;
            }
            NDArray f = g.getDataType() == DataType.FLOAT32 ? g : g.toType(DataType.FLOAT32, false);
            f.attach(manager);
            NDArray s = f.square().sum();
            s.attach(manager);
            squares.add(s);
        }
        if (squares.isEmpty()) {
            return 0;
        }
        NDArray total = squares.size() == 1 ? squares.head() : NDArrays.stack(squares).sum();
        total.attach(manager);
        return Math.sqrt(total.getFloat()) * Math.abs(scale);
    }

    /**
     * The clipping coefficient of PyTorch's {@code clip_grad_norm_}.
     *
     * @param norm the global norm
     * @param maxNorm the largest norm allowed, positive
     * @return min(1, maxNorm / (norm + 1e-6))
     */
    public static double coefficient(double norm, double maxNorm) {
        return Math.min(1.0, maxNorm / (norm + EPS));
    }

    /**
     * Sets every gradient to zero, also gradients holding infinities or NaN (for a skipped update).
     *
     * @param manager a manager for the temporaries, closed by the caller
     * @param parameters the parameters
     */
    public static void zero(NDManager manager, List<Parameter> parameters) {
        NDIndex all = new NDIndex("...");
        for (Parameter p : parameters) {
            NDArray g = p.getArray().getGradient();
            if (g != null) {
                g.attach(manager);
                g.set(all, 0f);
            }
        }
    }
}
