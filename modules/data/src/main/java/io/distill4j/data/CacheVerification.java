package io.distill4j.data;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The result of checking a cache: every fault found, by shard and row.
 *
 * @param dir the cache directory
 * @param shards the number of shards checked
 * @param items the number of items the manifest lists
 * @param faults the faults, empty when the cache is sound
 */
public record CacheVerification(Path dir, int shards, long items, List<CacheFault> faults) {

    /** Copies the fault list. */
    public CacheVerification {
        faults = List.copyOf(faults);
    }

    /** @return whether no fault was found */
    public boolean ok() {
        return faults.isEmpty();
    }

    static CacheVerification of(TeacherCache cache) {
        CacheManifest m = cache.manifest();
        List<CacheFault> faults = new ArrayList<>();
        for (int s = 0; s < m.shards().size(); s++) {
            CacheManifest.Shard sh = m.shards().get(s);
            Path f = cache.dir().resolve(sh.file());
            if (!Files.exists(f)) {
                faults.add(new CacheFault(f.toString(), -1, "shard listed in the manifest is missing"));
                continue;
            }
            String sha;
            long size;
            try {
                size = Files.size(f);
                sha = Sha256.of(f);
            } catch (IOException e) {
                faults.add(new CacheFault(f.toString(), -1, "cannot read shard: " + Errors.reason(e)));
                continue;
            }
            if (size == sh.bytes() && sha.equals(sh.sha256())) {
                continue;
            }
            String what = size != sh.bytes() ? "size " + size + " bytes differs from the manifest's " + sh.bytes()
                    : "SHA-256 " + sha + " differs from the manifest's " + sh.sha256();
            int before = faults.size();
            try {
                if (m.sequenceTask()) {
                    try (SequenceCacheReader r = cache.sequence()) {
                        for (String[] rf : r.checkShard(s)) {
                            faults.add(new CacheFault(f.toString(), Long.parseLong(rf[0]),
                                    rf[1].substring(rf[1].indexOf(')') + 3)));
                        }
                    }
                } else {
                    DenseShard shard = DenseShard.open(f, sh.firstItem(), m.k(), m.width());
                    for (long row = 0; row < Math.min(shard.rows(), sh.rows()); row++) {
                        String fault = shard.checkRow(row);
                        if (fault != null) {
                            faults.add(new CacheFault(f.toString(), row, "item " + (sh.firstItem() + row) + ": " + fault));
                        }
                    }
                    if (shard.rows() != sh.rows()) {
                        faults.add(new CacheFault(f.toString(), -1, "holds " + shard.rows() + " rows, the manifest says "
                                + sh.rows()));
                    }
                }
            } catch (BadInputException e) {
                String msg = e.getMessage().startsWith(f.toString()) ? e.getMessage().substring(f.toString().length() + 2)
                        : e.getMessage();
                faults.add(new CacheFault(f.toString(), -1, what + "; " + msg));
                continue;
            }
            if (faults.size() == before) {
                faults.add(new CacheFault(f.toString(), -1, what + "; every row's CRC-32 matches, so the damage is in "
                        + "Arrow metadata or padding"));
            } else {
                faults.add(before, new CacheFault(f.toString(), -1, what));
            }
        }
        return new CacheVerification(cache.dir(), m.shards().size(), m.items(), faults);
    }
}
