package io.distill4j.data;

/**
 * A user's input is wrong: a missing or malformed file, a bad field or value.
 *
 * <p>The message names what is wrong (file, field, value) in one line; the CLI prints it without a
 * stack trace and exits with code 2.
 */
public class BadInputException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param message one line naming the file, field and value at fault
     */
    public BadInputException(String message) {
        super(message);
    }

    /**
     * Creates the exception with its cause.
     *
     * @param message one line naming the file, field and value at fault
     * @param cause the underlying error
     */
    public BadInputException(String message, Throwable cause) {
        super(message, cause);
    }
}
