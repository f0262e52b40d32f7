package io.distill4j.data;

/**
 * One fault found in a cache.
 *
 * @param file the shard or manifest at fault
 * @param row the row within the shard, or -1 when the fault is not in one row
 * @param message what is wrong, naming the field
 */
public record CacheFault(String file, long row, String message) {
    /** @return one line: file, row where known, message */
    @Override
    public String toString() {
        return row < 0 ? file + ": " + message : file + ": row " + row + ": " + message;
    }
}
