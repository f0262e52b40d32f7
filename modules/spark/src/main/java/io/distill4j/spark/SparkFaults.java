package io.distill4j.spark;

import io.distill4j.data.BadInputException;

/**
 * Turns what a failed Spark job throws into one line: Spark wraps a task's exception in a {@code SparkException}
 * whose message carries the task's exception as text (the exception object itself only in local mode).
 */
final class SparkFaults {

    private static final String BAD = BadInputException.class.getName() + ": ";

    private SparkFaults() {
    }

    /**
     * @param e what the job threw
     * @return the message of a {@link BadInputException} thrown in a task, or null if there was none
     */
    static String badInput(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof BadInputException b) {
                return b.getMessage();
            }
        }
        String msg = e.getMessage();
        int at = msg == null ? -1 : msg.indexOf(BAD);
        if (at < 0) {
            return null;
        }
        String rest = msg.substring(at + BAD.length());
        int nl = rest.indexOf('\n');
        return nl < 0 ? rest : rest.substring(0, nl);
    }

    /**
     * @param e an error
     * @return the first message line of its deepest cause, with that cause's class
     */
    static String rootLine(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t.getClass().getSimpleName() + ": " + oneLine(t);
    }

    /**
     * @param e what the job threw
     * @return its first message line
     */
    static String oneLine(Throwable e) {
        String msg = String.valueOf(e.getMessage());
        int nl = msg.indexOf('\n');
        return nl < 0 ? msg : msg.substring(0, nl);
    }
}
