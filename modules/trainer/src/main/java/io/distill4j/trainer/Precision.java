package io.distill4j.trainer;

import java.util.Locale;

/**
 * The arithmetic of the forward and backward passes.
 *
 * <p>DJL has no autocast. {@link #FP16} is mixed precision as DJL allows it: the block's parameters stay
 * in float32 (the master copy the optimiser updates); each training forward pass reads float16 casts of
 * them (the casts are differentiable, so gradients arrive in float32 on the master), float32 inputs are
 * cast to float16, and the outputs are cast back to float32 before the loss. Unlike autocast, every op of
 * the block (softmax and normalisation included) runs in float16. The loss is multiplied by a dynamic loss
 * scale before backward; an update whose gradients overflow is skipped and the scale halved, and the scale
 * doubles after a run of finite updates (as in {@code torch.amp.GradScaler}). Bfloat16 is not offered:
 * DJL 0.35.1's PyTorch JNI aborts the process on any bfloat16 array.
 */
public enum Precision {
    /** Float32 everywhere. */
    FP32,
    /** Float16 compute with float32 master weights and dynamic loss scaling; GPU only. */
    FP16;

    /**
     * Parses a precision case-insensitively.
     *
     * @param name {@code fp32} or {@code fp16}
     * @return the precision
     * @throws IllegalArgumentException naming the value otherwise (with the reason for {@code bf16})
     */
    public static Precision parse(String name) {
        for (Precision p : values()) {
            if (p.name().equalsIgnoreCase(name)) {
                return p;
            }
        }
        if ("bf16".equalsIgnoreCase(name) || "bfloat16".equalsIgnoreCase(name)) {
            throw new IllegalArgumentException("precision '" + name + "' is not available: DJL 0.35.1's PyTorch JNI"
                    + " aborts the process on bfloat16 arrays; use fp16 (GPU) or fp32");
        }
        throw new IllegalArgumentException("unknown precision '" + name + "' (known: fp32, fp16)");
    }

    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
