package io.distill4j.cli;

import io.distill4j.data.BadInputException;
import io.distill4j.pipeline.Distillation;
import io.distill4j.pipeline.SampleEngine;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code distill4j train CONFIG.yaml}: M students from M seeds on a teacher cache (see {@link TrainJob}).
 *
 * <p>With {@code --engine} naming a Spark master, {@code train --engine E [--out DIR] A.yaml B.yaml ...} runs a grid:
 * every config is checked here first, the caches of their sample jobs are filled on the engine, then each config is
 * one task ({@link SampleEngine#train}) that trains its students into {@code DIR/<config name>/}, the folder a local
 * {@code train} of that config writes. A cell whose folder holds {@code results.json} is not trained again, so
 * running the same command (same {@code --out}) after an interruption trains only what is missing.
 */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = "Train M students from M seeds on a teacher cache; results per seed and aggregated. With"
                + " --engine (a Spark master), several configs form a grid, one Spark task each.")
public final class TrainCommand implements Callable<Integer> {

    @Parameters(index = "0..*", arity = "1..*", paramLabel = "CONFIG",
            description = "the train config (sample job, student, target, loss, training); several with --engine")
    List<Path> configs;

    @Option(names = "--engine", paramLabel = "ENGINE", defaultValue = SampleCommand.LOCAL,
            description = "where to train: local (default: this JVM), or a Spark master: local[N], spark://host:port,"
                    + " yarn, k8s://... (one task per config; needs modules/spark, which ./distill4j adds)")
    String engine;

    @Option(names = "--out", paramLabel = "DIR",
            description = "with --engine: the grid's folder, one subfolder per config (default: a new grid-<time>"
                    + " folder in the first config's out folder); the same folder again resumes the grid")
    Path out;

    /** A grid cell: one train config, built into its run where it is trained. */
    record ConfigCell(String name, String config) implements SampleEngine.GridCell {
        private static final long serialVersionUID = 1L;

        @Override
        public Distillation build() {
            return TrainJob.prepare(Path.of(config)).run();
        }
    }

    @Override
    public Integer call() throws Exception {
        if (SampleCommand.LOCAL.equals(engine.trim())) {
            if (configs.size() != 1) {
                throw new BadInputException("several train configs (" + configs.size() + ") form a grid: run them with"
                        + " --engine (e.g. --engine local[2]), or one at a time");
            }
            if (out != null) {
                throw new BadInputException("option --out: only with --engine (a local run writes a new folder in the"
                        + " config's out folder)");
            }
            io.distill4j.pipeline.RunResult r = TrainJob.run(configs.get(0));
            System.out.println(r.table());
            System.out.println("Wrote " + r.runDir() + ": results.md, results.json, model-card.md, model-card.json and the"
                    + " students (students/seed-N)");
            return 0;
        }
        SampleEngine e = SampleEngine.find(engine.trim());
        // every config is checked here, before Spark starts
        List<ConfigCell> cells = new ArrayList<>();
        Set<Path> sampleJobs = new LinkedHashSet<>();
        Path first = null;
        for (Path config : configs) {
            TrainJob.Prepared p = TrainJob.prepare(config);
            first = first != null ? first : p.runDir().getParent();
            sampleJobs.add(p.sampleJob().toAbsolutePath().normalize());
            String name = config.getFileName().toString().replaceFirst("\\.(yaml|yml)$", "");
            cells.add(new ConfigCell(name, config.toAbsolutePath().normalize().toString()));
        }
        Path grid = out != null ? out : first.resolve("grid-" + LocalDateTime.now().format(
                DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
        List<SampleEngine.TrainedCell> done = e.train(engine.trim(), List.copyOf(sampleJobs), grid.toAbsolutePath()
                .normalize(), cells, line -> System.err.println("distill4j train: " + line));
        for (SampleEngine.TrainedCell c : done) {
            System.out.println(String.format(Locale.ROOT, "%s: %s (%s)", c.name(), c.runDir(),
                    c.reused() ? "finished earlier, not trained again" : "trained"));
            Path table = c.runDir().resolve("results.md");
            if (Files.isRegularFile(table)) {
                System.out.println(Files.readString(table));
            }
        }
        System.out.println("Wrote " + grid + " (" + done.size() + " runs); the same command with --out " + grid
                + " trains only what is missing");
        return 0;
    }
}
