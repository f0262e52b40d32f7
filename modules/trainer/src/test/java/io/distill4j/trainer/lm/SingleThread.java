package io.distill4j.trainer.lm;

import ai.djl.pytorch.jni.JniUtils;

/**
 * Runs libtorch with one intra-op thread during a test class. On a loaded 2-core machine libtorch's
 * OpenMP workers spin against each other and the other processes, which made small training steps up to
 * 50 times slower; the results do not depend on the thread count.
 */
public final class SingleThread {
    private static int saved = -1;

    private SingleThread() {
    }

    /** Switches to one thread, remembering the previous count. */
    public static synchronized void enter() {
        saved = JniUtils.getNumThreads();
        JniUtils.setNumThreads(1);
    }

    /** Restores the previous count. */
    public static synchronized void exit() {
        if (saved > 0) {
            JniUtils.setNumThreads(saved);
        }
    }
}
