package io.distill4j.cli;

import io.distill4j.data.BadInputException;
import io.distill4j.data.OutOfSpaceException;
import io.distill4j.teacher.http.TeacherServerException;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * Entry point of the {@code distill4j} command.
 *
 * <p>Exit codes, each fault reported in one line without a stack trace except the internal one:
 * <ul>
 *   <li>0: success;</li>
 *   <li>1: an internal failure (a bug: the message and a stack trace);</li>
 *   <li>2: a user's mistake or damaged input: an unknown command or option, a missing or malformed file, a
 *       damaged cache or checkpoint ({@link BadInputException});</li>
 *   <li>3: a teacher server failed for good ({@code sample}; committed items are kept), or the cluster of
 *       {@code --engine} did ({@link io.distill4j.pipeline.EngineException}; committed shards and runs are kept);</li>
 *   <li>4: the environment: the disk is full ({@link OutOfSpaceException}, or any I/O error saying "No space
 *       left on device"); what was committed is kept, and running the command again after freeing space
 *       resumes.</li>
 * </ul>
 */
@Command(name = "distill4j", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Variance-aware knowledge distillation on DJL: sample a teacher k times, keep the spread, "
                + "train several students, measure their variance.",
        subcommands = {DemoCommand.class, CacheCommand.class, SampleCommand.class, TrainCommand.class, GenerateCommand.class,
            EvaluateCommand.class, ExportCommand.class, ExperimentCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {

    /** Exit code for a user's mistake. */
    public static final int USER_ERROR = 2;
    /** Exit code when a teacher server or the engine's cluster fails for good. */
    public static final int SERVER_ERROR = 3;
    /** Exit code when the disk is full. */
    public static final int OUT_OF_SPACE = 4;

    @CommandLine.Spec
    private CommandLine.Model.CommandSpec spec;

    /**
     * Runs the command line and exits the JVM with its exit code.
     *
     * @param args the arguments
     */
    public static void main(String[] args) {
        System.exit(run(args));
    }

    /**
     * Runs the command line without exiting (for tests).
     *
     * @param args the arguments
     * @return the exit code
     */
    public static int run(String... args) {
        // every run folder records the command line that made it (RunInfo.commandLine)
        io.distill4j.pipeline.RunInfo.recordCommandLine("distill4j", args);
        CommandLine cl = new CommandLine(new Main());
        cl.setParameterExceptionHandler((ex, a) -> {
            PrintWriter err = ex.getCommandLine().getErr();
            err.println("distill4j: " + firstLine(ex.getMessage()) + " (see 'distill4j --help')");
            return USER_ERROR;
        });
        cl.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            PrintWriter err = commandLine.getErr();
            if (ex instanceof BadInputException) {
                err.println("distill4j: error: " + ex.getMessage());
                return USER_ERROR;
            }
            // a server fault met inside training (a scoring request of on-policy distillation) may arrive wrapped
            for (Throwable t = ex; t != null; t = t.getCause()) {
                if (t instanceof TeacherServerException) {
                    err.println("distill4j: teacher server error: " + t.getMessage());
                    return SERVER_ERROR;
                }
            }
            if (ex instanceof io.distill4j.pipeline.EngineException) {
                err.println("distill4j: engine error: " + ex.getMessage() + " (what was committed is kept; run the same"
                        + " command again to resume)");
                return SERVER_ERROR;
            }
            var full = OutOfSpaceException.find(ex);
            if (full.isPresent()) {
                err.println("distill4j: out of space: " + full.get().getMessage()
                        + "; what was committed is kept: free space and run the same command again to resume");
                return OUT_OF_SPACE;
            }
            err.println("distill4j: internal error: " + ex);
            ex.printStackTrace(err);
            return 1;
        });
        return cl.execute(args);
    }

    private static String firstLine(String s) {
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    /** Without a subcommand: print the usage and fail as a user error. */
    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getErr());
        throw new CommandLine.ParameterException(spec.commandLine(), "a command is required");
    }

    /** Reports the version from the jar's manifest. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"distill4j " + (v == null ? "(development build)" : v)};
        }
    }
}
