package org.fomm4j.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.fomm4j.io.weights.CheckpointConverter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code fomm convert}: {@link org.fomm4j.io.weights.CheckpointConverter#convert} and a summary of the
 * networks, tensor count and the recognized published checkpoint.
 */
@Command(name = "convert", mixinStandardHelpOptions = true,
        description = "Convert a published PyTorch checkpoint (.pth.tar) and its YAML config into a fomm4j model file.")
final class ConvertCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--checkpoint", required = true, description = "the .pth.tar checkpoint (FOMM legacy or TPSMM zip format)")
    Path checkpoint;

    @Option(names = "--config", required = true, description = "the official YAML config of the checkpoint")
    Path config;

    @Option(names = "--output", required = true, description = "the model file to write (e.g. vox.fomm4j)")
    Path output;

    @Override
    public Integer call() throws Exception {
        CheckpointConverter.Report r = CheckpointConverter.convert(checkpoint, config, output);
        PrintWriter out = spec.commandLine().getOut();
        out.printf("wrote %s: %s model, networks %s, %d tensors, %,d values%n", r.output(), r.family().toUpperCase(),
                String.join(", ", r.networks()), r.tensors(), r.values());
        out.printf("source sha256 %s%s%n", r.sha256(),
                r.published() != null ? " (published checkpoint " + r.published().file() + ")" : " (not a published checkpoint)");
        return 0;
    }
}
