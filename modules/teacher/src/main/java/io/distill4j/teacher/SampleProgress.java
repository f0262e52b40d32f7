package io.distill4j.teacher;

/** Told how far sampling has come, after every batch. */
@FunctionalInterface
public interface SampleProgress {

    /** Ignores every update. */
    SampleProgress NONE = (done, total) -> { };

    /**
     * Reports progress.
     *
     * @param done items committed or buffered in the cache so far (resumed items included)
     * @param total items in the dataset
     */
    void update(long done, long total);
}
