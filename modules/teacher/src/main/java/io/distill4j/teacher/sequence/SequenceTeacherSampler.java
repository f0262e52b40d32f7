package io.distill4j.teacher.sequence;

import io.distill4j.data.BadInputException;
import io.distill4j.data.CacheManifest;
import io.distill4j.data.CacheWriteOptions;
import io.distill4j.data.SequenceCacheWriter;
import io.distill4j.teacher.Provenance;
import io.distill4j.teacher.SampleProgress;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Supplier;

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
        String fingerprint = Prompts.fingerprint(prompts);
        if (!Files.exists(cacheDir.resolve(CacheManifest.FILE_NAME))) {
            return fillNew(teacher, prompts, cacheDir, itemsPerShard, progress, provenance, fingerprint);
        }
        // a cache to resume: checked against this teacher and prompt list before any request
        try (SequenceCacheWriter w = SequenceCacheWriter.openOrCreate(cacheDir, teacher.k(), teacher.vocabularySize(),
                teacher.topK(), provenance, fingerprint, itemsPerShard, CacheWriteOptions.DEFAULT)) {
            Provenance.requireSame(cacheDir, w.manifest().teacher(), provenance);
            long next = w.nextItem();
            if (next > prompts.size()) {
                throw new BadInputException(cacheDir.resolve(CacheManifest.FILE_NAME) + ": field items: cache holds " + next
                        + " items but there are " + prompts.size() + " prompts");
            }
            append(teacher, prompts, next, prompts.size(), () -> w, progress);
            w.flush();
            return w.nextItem();
        } catch (IOException e) {
            throw new UncheckedIOException(cacheDir + ": cannot write the sequence cache", e);
        }
    }

    /**
     * A new cache: nothing to check it against, so its folder and first manifest (two fsyncs, the Arrow and JSON
     * writers' first use, about 50-80 ms on a small machine) are written on another thread while the teacher's first
     * requests are out; the first item waits for them.
     */
    private static long fillNew(SequenceTeacher teacher, List<String> prompts, Path cacheDir, int itemsPerShard,
            SampleProgress progress, Map<String, Object> provenance, String fingerprint) {
        CompletableFuture<SequenceCacheWriter> opening = CompletableFuture.supplyAsync(() -> {
            try {
                return SequenceCacheWriter.openOrCreate(cacheDir, teacher.k(), teacher.vocabularySize(),
                        teacher.topK(), provenance, fingerprint, itemsPerShard, CacheWriteOptions.DEFAULT);
            } catch (IOException e) {
                throw new UncheckedIOException(cacheDir + ": cannot write the sequence cache", e);
            }
        });
        Supplier<SequenceCacheWriter> writer = () -> {
            try {
                return opening.join();
            } catch (CompletionException e) {
                if (e.getCause() instanceof RuntimeException r) {
                    throw r;
                }
                throw e;
            }
        };
        try {
            append(teacher, prompts, 0, prompts.size(), writer, progress);
            SequenceCacheWriter w = writer.get();
            w.flush();
            return w.nextItem();
        } catch (IOException e) {
            throw new UncheckedIOException(cacheDir + ": cannot write the sequence cache", e);
        } finally {
            try {
                writer.get().close();
            } catch (RuntimeException e) {
                // the writer was never opened: the failure that said so is the one thrown
            }
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
        if (w.nextItem() != from) {
            throw new IllegalArgumentException("the writer's next item is " + w.nextItem() + ", the range starts at "
                    + from);
        }
        append(teacher, prompts, from, to, () -> w, progress);
    }

    /** {@link #append(SequenceTeacher, List, long, long, SequenceCacheWriter, SampleProgress)} with the writer asked for at the first item. */
    private static void append(SequenceTeacher teacher, List<String> prompts, long from, long to,
            Supplier<SequenceCacheWriter> writer, SampleProgress progress) {
        if (from < 0 || from > to || to > prompts.size()) {
            throw new IllegalArgumentException("need 0 <= from <= to <= " + prompts.size() + "; got from=" + from
                    + ", to=" + to);
        }
        teacher.sample(prompts.subList(0, (int) to), from, item -> {
            SequenceCacheWriter w = writer.get();
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
