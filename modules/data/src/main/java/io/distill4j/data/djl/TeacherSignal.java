package io.distill4j.data.djl;

/** What a {@link CacheDataset} batch carries of the teacher's k samples. */
public enum TeacherSignal {
    /** All samples: one (B, k, C) array. */
    ALL_SAMPLES,
    /** Their per-output mean and variance: two (B, C) arrays (variance with the dataset's ddof). */
    MEAN_VARIANCE
}
