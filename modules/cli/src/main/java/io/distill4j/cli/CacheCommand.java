package io.distill4j.cli;

import io.distill4j.data.CacheInspection;
import io.distill4j.data.CacheVerification;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/**
 * {@code distill4j cache}: check and describe a teacher-output cache (format v1).
 *
 * <p>{@code cache verify DIR} re-hashes every shard and names the shard and row of each fault (exit 0 when
 * sound, 2 when faults were found); {@code cache inspect DIR} prints task, k, sizes, provenance and
 * summary statistics. The work is done by {@link CacheInspection} in the data module.
 */
@Command(name = "cache", mixinStandardHelpOptions = true, description = "Verify or inspect a teacher-output cache.",
        subcommands = {CacheCommand.Verify.class, CacheCommand.Inspect.class})
public final class CacheCommand implements Runnable {

    /** Without a subcommand: print the usage. */
    @Override
    public void run() {
        new picocli.CommandLine(this).usage(System.err);
        throw new io.distill4j.data.BadInputException("cache: a subcommand is required (verify or inspect)");
    }

    /** {@code cache verify DIR}. */
    @Command(name = "verify", mixinStandardHelpOptions = true,
            description = "Re-hash every shard against manifest.json; name the shard and row of any fault.")
    public static final class Verify implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "DIR", description = "the cache directory")
        Path dir;

        @Override
        public Integer call() {
            CacheVerification v = CacheInspection.verify(dir);
            System.out.print(CacheInspection.describe(v));
            return v.ok() ? 0 : Main.USER_ERROR;
        }
    }

    /** {@code cache inspect DIR}. */
    @Command(name = "inspect", mixinStandardHelpOptions = true,
            description = "Print task, k, sizes, provenance and summary statistics (one streaming pass).")
    public static final class Inspect implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "DIR", description = "the cache directory")
        Path dir;

        @Override
        public Integer call() {
            System.out.print(CacheInspection.inspect(dir));
            return 0;
        }
    }
}
