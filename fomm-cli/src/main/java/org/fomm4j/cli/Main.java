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
        subcommands = {AnimateCommand.class, ConvertCommand.class, InfoCommand.class, CommandLine.HelpCommand.class})
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

    /** Runs the tool and returns the exit status (for tests). */
    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        ROOT_LOGGER.setLevel(Boolean.getBoolean("fomm4j.verbose") ? java.util.logging.Level.INFO : java.util.logging.Level.WARNING);
        CommandLine cl = new CommandLine(new Main());
        cl.setOut(out);
        cl.setErr(err);
        cl.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            err.println("fomm: " + message(e));
            if (Boolean.getBoolean("fomm4j.debug")) {
                e.printStackTrace(err);
            }
            return 1;
        });
        return cl.execute(args);
    }

    static String message(Throwable e) {
        String m = e.getMessage();
        if (e instanceof OutOfMemoryError) {
            return "out of memory (give the JVM more with FOMM_JAVA_OPTS=-Xmx...)";
        }
        return m == null || m.isBlank() ? e.toString() : m;
    }
}
