package io.distill4j.teacher.http;

/**
 * A teacher server failed: it could not be reached, answered with an error status, or sent a response
 * that cannot be used (malformed or partial JSON, missing log-probabilities, token ids outside the
 * expected vocabulary). The message names the address, the prompt's item index and what was wrong.
 */
public class TeacherServerException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final boolean retryable;

    /**
     * Creates the exception.
     *
     * @param message one line naming the address, item and fault
     * @param retryable whether the fault is transient and the request may be retried
     * @param cause the underlying exception, or null
     */
    public TeacherServerException(String message, boolean retryable, Throwable cause) {
        super(message, cause);
        this.retryable = retryable;
    }

    /** @return whether the fault is transient (429, 5xx, timeout, refused connection, malformed JSON) */
    public boolean retryable() {
        return retryable;
    }
}
