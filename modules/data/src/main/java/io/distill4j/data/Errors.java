package io.distill4j.data;

import java.io.EOFException;

/**
 * Turns an exception into the reason part of a one-line message ({@code file + ": cannot read: " +
 * Errors.reason(e)}), so that no message ends in "null".
 *
 * <p>Many exceptions carry no message: {@link EOFException} from a truncated file (DJL's parameter loader
 * and {@code DataInputStream} throw it), an {@code IndexOutOfBoundsException} from damaged Arrow metadata.
 * Concatenating {@code e.getMessage()} then prints "null"; use {@link #reason} instead.
 */
public final class Errors {
    private Errors() {
    }

    /**
     * Describes an exception in one line: its message; or, when it has none, its cause's; or what its type
     * says ("the file ends early" for an {@link EOFException}, else the type's simple name). Only the
     * first line of a message is kept.
     *
     * @param e the exception, may be null
     * @return a non-empty line that never is "null"
     */
    public static String reason(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            String m = message(t);
            if (m != null) {
                return m;
            }
            if (t instanceof EOFException) {
                return "the file ends early";
            }
        }
        return e == null ? "unknown error" : e.getClass().getSimpleName();
    }

    private static String message(Throwable t) {
        String m = t.getMessage();
        if (m == null || m.isBlank() || m.strip().equals("null")) {
            return null;
        }
        int nl = m.indexOf('\n');
        return (nl < 0 ? m : m.substring(0, nl)).strip();
    }

    /**
     * Quotes a text inside a one-line message: line breaks shown as {@code \n}, cut to {@code max} characters with
     * {@code ...} after them.
     *
     * @param text the text (a prompt, a server's body)
     * @param max the characters kept, positive
     * @return one line of at most {@code max + 3} characters
     */
    public static String snippet(String text, int max) {
        String one = text.replace("\r", "").replace("\n", "\\n");
        return one.length() <= max ? one : one.substring(0, max) + "...";
    }
}
