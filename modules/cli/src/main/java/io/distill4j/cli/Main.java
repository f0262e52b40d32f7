package io.distill4j.cli;

import io.distill4j.data.BadInputException;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * Entry point of the {@code distill4j} command.
 *
 * <p>Exit codes: 0 on success; 2 for a user's mistake (unknown command or option, a missing or
 * malformed file), reported in one line without a stack trace; 1 for an internal failure.
 */
@Command(name = "distill4j", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Variance-aware knowledge distillation on DJL: sample a teacher k times, keep the spread, "
                + "train several students, measure their variance.",
        subcommands = {DemoCommand.class, CacheCommand.class, SampleCommand.class, TrainCommand.class, ExperimentCommand.class,
            CommandLine.HelpCommand.class})
public final class Main implements Runnable {

    /** Exit code for a user's mistake. */
    public static final int USER_ERROR = 2;

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
