/**
 * Teachers that produce k samples per input into a teacher-output cache.
 *
 * <p>{@link io.distill4j.teacher.McDropoutTeacher} samples a trained classifier k times per input with
 * dropout active (Gal &amp; Ghahramani's MC dropout) and writes the k probability vectors of every
 * input to a {@link io.distill4j.data.TeacherCacheWriter}, resuming after the last committed item.
 */
package io.distill4j.teacher;
