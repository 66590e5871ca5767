package org.fomm4j.cli;

import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code fomm}: animate a still image with a driving video (FOMM and TPSMM), convert published
 * checkpoints, inspect model files. Errors are one line on stderr and a non-zero exit status.
 */
@Command(name = "fomm", mixinStandardHelpOptions = true, versionProvider = VersionInfo.class,
        description = "Image animation with the First Order Motion Model and the Thin-Plate Spline Motion Model, in pure Java.",
        subcommands = {AnimateCommand.class, TrainCommand.class, EvaluateCommand.class, CreaturesCommand.class, CropCommand.class, ConvertCommand.class, CompactCommand.class, InfoCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {
    /** Held so the level set on it sticks (loggers are weakly referenced). */
    private static final java.util.logging.Logger ROOT_LOGGER = java.util.logging.Logger.getLogger("org.fomm4j");

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    public static void main(String[] args) {
        System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /**
     * Runs the tool and returns the exit status (for tests): 0 done, 1 failed (one {@code fomm:} line
     * saying what and which file), 2 usage error (one {@code fomm:} line and where the help is). Every
     * {@link Throwable} ends here, JVM errors included: no stack trace unless {@code -Dfomm4j.debug=true}.
     */
    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        ROOT_LOGGER.setLevel(Boolean.getBoolean("fomm4j.verbose") ? java.util.logging.Level.INFO : java.util.logging.Level.WARNING);
        try {
            CommandLine cl = new CommandLine(new Main());
            cl.setOut(out);
            cl.setErr(err);
            cl.setParameterExceptionHandler((e, badArgs) -> {
                CommandLine sub = e.getCommandLine();
                String name = sub.getCommandSpec().qualifiedName();
                err.println("fomm: " + oneLine(e.getMessage()) + " (see '" + name + " --help')");
                return 2;
            });
            cl.setExecutionExceptionHandler((e, commandLine, parseResult) -> fail(e, err));
            return cl.execute(args);
        } catch (Throwable t) {
            return fail(t, err);
        }
    }

    private static int fail(Throwable e, PrintWriter err) {
        err.println("fomm: " + message(e));
        if (Boolean.getBoolean("fomm4j.debug")) {
            e.printStackTrace(err);
        }
        err.flush();
        return 1;
    }

    static String message(Throwable e) {
        if (e instanceof OutOfMemoryError) {
            return "out of memory (give the JVM more with FOMM_JAVA_OPTS=-Xmx...)"
                    + (e.getMessage() == null ? "" : ": " + e.getMessage());
        }
        if (e instanceof StackOverflowError) {
            return "an input is nested too deeply to read (stack overflow)";
        }
        if (e instanceof InternalError && String.valueOf(e.getMessage()).contains("fault occurred")) {
            return "a file was truncated or changed while it was being read (" + e.getMessage() + ")";
        }
        String m = e.getMessage();
        if (m == null || m.isBlank()) {
            return e.getClass().getSimpleName().replaceAll("([a-z])([A-Z])", "$1 $2").toLowerCase(java.util.Locale.ROOT);
        }
        return oneLine(m);
    }

    private static String oneLine(String m) {
        String line = m.strip().replaceAll("\\s*\\R\\s*", "; ");
        return line.length() > 500 ? line.substring(0, 500) + "..." : line;
    }
}
