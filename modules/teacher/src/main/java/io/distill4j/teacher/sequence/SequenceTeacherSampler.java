package io.distill4j.teacher.sequence;

import io.distill4j.data.BadInputException;
import io.distill4j.data.CacheManifest;
import io.distill4j.data.CacheWriteOptions;
import io.distill4j.data.SequenceCacheWriter;
import io.distill4j.teacher.Provenance;
import io.distill4j.teacher.SampleProgress;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Runs a {@link SequenceTeacher} over a prompt list into a sequence cache, resuming where the committed
 * part ends and refusing a cache written by another teacher, tokenizer or prompt list.
 */
public final class SequenceTeacherSampler {

    private SequenceTeacherSampler() {
    }

    /**
     * Fills (or resumes) a sequence cache.
     *
     * @param teacher the teacher
     * @param prompts the prompts, at least one
     * @param cacheDir the cache directory, created when missing
     * @param itemsPerShard prompts per committed shard, positive (small shards lose less to a crash)
     * @param progress told the number of prompts done after each one
     * @return the number of items in the cache at the end
     * @throws BadInputException if the directory holds another teacher's cache or the prompt list differs
     * @throws io.distill4j.teacher.http.TeacherServerException if an HTTP teacher's response breaks the cache's
     *     rules (ids outside the vocabulary, a repeated top-K id, top-K mass above 1), naming item, sample and
     *     position; committed items are kept
     * @throws IllegalArgumentException if a local teacher's item breaks those rules (a bug in the teacher)
     */
    public static long fill(SequenceTeacher teacher, List<String> prompts, Path cacheDir, int itemsPerShard,
            SampleProgress progress) {
        if (prompts.isEmpty()) {
            throw new IllegalArgumentException("prompts must hold at least one prompt");
        }
        Map<String, Object> provenance = teacher.provenance();
        try (SequenceCacheWriter w = SequenceCacheWriter.openOrCreate(cacheDir, teacher.k(), teacher.vocabularySize(),
                teacher.topK(), provenance, Prompts.fingerprint(prompts), itemsPerShard, CacheWriteOptions.DEFAULT)) {
            Provenance.requireSame(cacheDir, w.manifest().teacher(), provenance);
            long next = w.nextItem();
            if (next > prompts.size()) {
                throw new BadInputException(cacheDir.resolve(CacheManifest.FILE_NAME) + ": field items: cache holds " + next
                        + " items but there are " + prompts.size() + " prompts");
            }
            append(teacher, prompts, next, prompts.size(), w, progress);
            w.flush();
            return w.nextItem();
        } catch (IOException e) {
            throw new UncheckedIOException(cacheDir + ": cannot write the sequence cache", e);
        }
    }

    /**
     * Samples prompts {@code [from, to)} into a writer whose next item is {@code from}: the one sampling loop of
     * {@link #fill}, also run by a distributed engine's task on its prompt range (a writer from
     * {@link SequenceCacheWriter#openShards}). Items depend only on the prompts and their indices (an HTTP teacher
     * seeds each request by the prompt's index), so a range sampled alone holds the bytes a whole run writes.
     *
     * @param teacher the teacher
     * @param prompts all prompts of the run
     * @param from the first prompt to sample, the writer's next item
     * @param to one past the last prompt to sample, at most {@code prompts.size()}
     * @param w the writer; its shards are committed as they fill, the caller flushes the rest
     * @param progress told the number of prompts done after each one
     * @throws IllegalStateException if the teacher delivers items out of order
     */
    public static void append(SequenceTeacher teacher, List<String> prompts, long from, long to, SequenceCacheWriter w,
            SampleProgress progress) {
        if (from < 0 || from > to || to > prompts.size() || w.nextItem() != from) {
            throw new IllegalArgumentException("need 0 <= from <= to <= " + prompts.size() + " and the writer at from;"
                    + " got from=" + from + ", to=" + to + ", writer at " + w.nextItem());
        }
        teacher.sample(prompts.subList(0, (int) to), from, item -> {
            if (item.item() != w.nextItem()) {
                throw new IllegalStateException("teacher delivered item " + item.item() + ", the cache expects "
                        + w.nextItem());
            }
            try {
                w.append(item.prompt(), item.samples());
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write the sequence cache", e);
            }
        }, progress);
    }
}
