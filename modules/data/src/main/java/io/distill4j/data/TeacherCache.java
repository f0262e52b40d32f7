package io.distill4j.data;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.apache.arrow.memory.BufferAllocator;
import org.apache.arrow.memory.RootAllocator;
import org.apache.arrow.vector.BigIntVector;
import org.apache.arrow.vector.Float4Vector;
import org.apache.arrow.vector.VectorSchemaRoot;
import org.apache.arrow.vector.complex.FixedSizeListVector;
import org.apache.arrow.vector.ipc.ArrowFileReader;

/**
 * Reads a teacher-output cache written by {@link TeacherCacheWriter}.
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
     * @throws BadInputException naming the first shard whose checksum differs or that is missing
     */
    public void verify() {
        for (CacheManifest.Shard s : manifest.shards()) {
            Path f = dir.resolve(s.file());
            String sha;
            try {
                sha = Sha256.of(f);
            } catch (NoSuchFileException e) {
                throw new BadInputException(f + ": shard listed in the manifest is missing", e);
            } catch (IOException e) {
                throw new BadInputException(f + ": cannot read shard: " + e.getMessage(), e);
            }
            if (!sha.equals(s.sha256())) {
                throw new BadInputException(f + ": SHA-256 " + sha + " differs from the manifest's " + s.sha256());
            }
        }
    }

    /**
     * Reads every item's samples into memory: {@code result[item][sample][class]}.
     *
     * <p>Meant for caches that fit in the heap (the demo's); streaming access belongs to a dataset.
     *
     * @return the samples of all committed items
     */
    public float[][][] readAll() {
        if (manifest.items() > Integer.MAX_VALUE) {
            throw new IllegalStateException(dir + ": " + manifest.items() + " items do not fit in one array");
        }
        int k = manifest.k();
        int w = manifest.width();
        float[][][] out = new float[(int) manifest.items()][k][w];
        try (BufferAllocator alloc = new RootAllocator()) {
            for (CacheManifest.Shard s : manifest.shards()) {
                readShard(alloc, s, out);
            }
        }
        return out;
    }

    private void readShard(BufferAllocator alloc, CacheManifest.Shard s, float[][][] out) {
        Path f = dir.resolve(s.file());
        int k = manifest.k();
        int w = manifest.width();
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ);
                ArrowFileReader r = new ArrowFileReader(ch, alloc)) {
            VectorSchemaRoot root = r.getVectorSchemaRoot();
            if (!root.getSchema().equals(CacheSchema.dense(k, w))) {
                throw new BadInputException(f + ": schema " + root.getSchema() + " does not match k=" + k + ", width=" + w);
            }
            long row = s.firstItem();
            while (r.loadNextBatch()) {
                BigIntVector item = (BigIntVector) root.getVector(CacheSchema.ITEM);
                FixedSizeListVector outer = (FixedSizeListVector) root.getVector(CacheSchema.SAMPLES);
                Float4Vector values = (Float4Vector) ((FixedSizeListVector) outer.getDataVector()).getDataVector();
                for (int i = 0; i < root.getRowCount(); i++, row++) {
                    if (item.get(i) != row) {
                        throw new BadInputException(f + ": row " + i + ": field item: expected " + row + ", got " + item.get(i));
                    }
                    int base = i * k * w;
                    for (int j = 0; j < k; j++) {
                        for (int c = 0; c < w; c++) {
                            out[(int) row][j][c] = values.get(base + j * w + c);
                        }
                    }
                }
            }
            if (row != s.firstItem() + s.rows()) {
                throw new BadInputException(f + ": holds " + (row - s.firstItem()) + " rows, the manifest says " + s.rows());
            }
        } catch (NoSuchFileException e) {
            throw new BadInputException(f + ": shard listed in the manifest is missing", e);
        } catch (IOException | RuntimeException e) {
            if (e instanceof BadInputException b) {
                throw b;
            }
            throw new BadInputException(f + ": corrupt or truncated shard: " + e.getMessage(), e);
        }
    }
}
