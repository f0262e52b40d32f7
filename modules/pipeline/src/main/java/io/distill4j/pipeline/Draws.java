package io.distill4j.pipeline;

/**
 * How the students of a run share the teacher's draws (Cui &amp; Pei 2026, arXiv 2601.18909: a teacher's sampling
 * noise reaches the spread between students only if each student distils its own draws).
 */
public enum Draws {
    /**
     * Student s distils its own independent draws: the cache holds M x k samples per input and student s reads
     * samples s*k .. s*k+k-1 (the paper's design; the default). With one draw per student, {@code single} gives
     * every student a different teacher sample.
     */
    PER_STUDENT,
    /** Every student distils the same k draws (samples 0 .. k-1): only initialisation and data order differ. */
    SHARED
}
