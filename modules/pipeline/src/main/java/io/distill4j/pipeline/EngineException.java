package io.distill4j.pipeline;

/**
 * A {@link SampleEngine}'s cluster failed for good (tasks kept failing, executors were lost, the context was shut
 * down): not the user's input. Entry points report it in one line (the command line exits with code 3); what was
 * committed is kept, and running the same command again resumes.
 */
public final class EngineException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /**
     * @param message one line: what failed
     * @param cause what the engine threw
     */
    public EngineException(String message, Throwable cause) {
        super(message, cause);
    }
}
