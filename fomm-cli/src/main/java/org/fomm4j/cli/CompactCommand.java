package org.fomm4j.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.fomm4j.io.weights.HalfPrecision;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code fomm compact}: {@link HalfPrecision#compact}, and how much it saved and changed. */
@Command(name = "compact", mixinStandardHelpOptions = true,
        description = "Store a model file's convolution and linear weights in float16 (about half the file; computed in float32).")
final class CompactCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--model", required = true, description = "a fomm4j model file (from 'fomm convert' or 'fomm train')")
    Path model;

    @Option(names = "--output", required = true, description = "the model file to write (may be the input)")
    Path output;

    @Override
    public Integer call() throws Exception {
        HalfPrecision.Report r = HalfPrecision.compact(model, output);
        PrintWriter out = spec.commandLine().getOut();
        out.printf("wrote %s: %d tensors in float16, %d kept; %,d -> %,d bytes; largest rounding %.1e of a tensor's max"
                + " (evaluate the compacted model before shipping it)%n",
                r.output(), r.halved(), r.kept(), r.bytesBefore(), r.bytesAfter(), r.maxRelativeError());
        return 0;
    }
}
