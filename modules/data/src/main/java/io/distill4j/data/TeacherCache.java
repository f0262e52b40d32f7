package io.distill4j.data;

import java.nio.file.Path;

/**
 * Reads a teacher-output cache written by {@link TeacherCacheWriter} or {@link SequenceCacheWriter}.
 *
 * <p>Opening reads and checks the manifest; {@link #verify()} re-hashes every shard; reading checks each
 * shard's schema, row count and item indices and names the shard and row of any fault.
 */
public final class TeacherCache {

    private final Path dir;
    private final CacheManifest manifest;

    private TeacherCache(Path dir, CacheManifest manifest) {
        this.dir = dir;
        this.manifest = manifest;
    }

    /**
     * Opens a cache directory.
     *
     * @param dir the directory
     * @return the cache
     * @throws BadInputException if the manifest is missing or malformed
     */
    public static TeacherCache open(Path dir) {
        return new TeacherCache(dir, CacheManifest.read(dir));
    }

    /** @return the cache's manifest */
    public CacheManifest manifest() {
        return manifest;
    }

    /** @return the cache directory */
    public Path dir() {
        return dir;
    }

    /**
     * Re-hashes every shard and compares with the manifest.
     *
     * @throws BadInputException naming the first faulty shard, and its row where one can be named
     */
    public void verify() {
        CacheVerification v = verifyReport();
        if (!v.ok()) {
            throw new BadInputException(v.faults().get(0).toString());
        }
    }

    /**
     * Checks every shard: present, of the listed size and SHA-256; a shard that fails is then read row by
     * row (item index, per-row CRC-32, Arrow structure) to name the faulty rows.
     *
     * @return all faults found (none when the cache is sound)
     */
    public CacheVerification verifyReport() {
        return CacheVerification.of(this);
    }

    /**
     * Opens memory-mapped random access to a classification or regression cache.
     *
     * @param verifyRows whether each row read is checked against its stored item index and CRC-32
     * @return the reader
     * @throws BadInputException if a shard is missing, truncated or of another schema
     */
    public DenseCacheReader dense(boolean verifyRows) {
        return new DenseCacheReader(dir, manifest, verifyRows);
    }

    /**
     * Opens access to a sequence cache.
     *
     * @return the reader
     */
    public SequenceCacheReader sequence() {
        return new SequenceCacheReader(dir, manifest);
    }

    /**
     * Reads every item's samples into memory: {@code result[item][sample][class]}, checking every row.
     *
     * <p>Meant for caches that fit in the heap (the demo's); streaming access is {@link #dense(boolean)}.
     *
     * @return the samples of all committed items
     */
    public float[][][] readAll() {
        if (manifest.items() > Integer.MAX_VALUE) {
            throw new IllegalStateException(dir + ": " + manifest.items() + " items do not fit in one array");
        }
        DenseCacheReader r = dense(true);
        float[][][] out = new float[(int) manifest.items()][manifest.k()][manifest.width()];
        for (int i = 0; i < out.length; i++) {
            r.readItem(i, out[i]);
        }
        return out;
    }
}
