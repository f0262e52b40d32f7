/**
 * Starts DJL's PyTorch engine once, so that DJL fetches the natives of the flavour named by PYTORCH_FLAVOR
 * (or finds a local libtorch through PYTORCH_LIBRARY_PATH), and prints what it loaded. The launcher runs it,
 * online, before a job with {@code --gpu} when DJL's cache lacks them: {@code java -cp <CLI class path>
 * scripts/FetchNatives.java} (JDK source-file mode).
 */
public final class FetchNatives {
    private FetchNatives() {
    }

    /**
     * Loads the engine and reports it.
     *
     * @param args unused
     */
    public static void main(String[] args) {
        ai.djl.engine.Engine engine = ai.djl.engine.Engine.getEngine("PyTorch");
        System.err.println("distill4j: PyTorch natives in " + ai.djl.pytorch.jni.LibUtils.getLibtorchPath()
                + " (DJL engine " + engine.getVersion() + "), GPUs seen: " + engine.getGpuCount());
    }
}
