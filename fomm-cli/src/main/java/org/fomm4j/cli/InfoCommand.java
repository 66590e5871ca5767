package org.fomm4j.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import org.fomm4j.io.weights.WeightFile;
import org.fomm4j.tensor.Tensor;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code fomm info}: family, config, parameter counts per network and the source checkpoint of a model file. */
@Command(name = "info", mixinStandardHelpOptions = true, description = "Describe a fomm4j model file.")
final class InfoCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(paramLabel = "MODEL", description = "a model file written by 'fomm convert'")
    Path model;

    @Override
    public Integer call() throws Exception {
        try (WeightFile wf = WeightFile.open(model)) {
            PrintWriter out = spec.commandLine().getOut();
            var meta = wf.metadata();
            TreeMap<String, long[]> perNetwork = new TreeMap<>();
            for (String name : wf.stateDict().names()) {
                Tensor t = wf.stateDict().get(name);
                String net = name.substring(0, name.indexOf('.'));
                long[] c = perNetwork.computeIfAbsent(net, k -> new long[2]);
                c[0]++;
                c[1] += t.size();
            }
            long total = perNetwork.values().stream().mapToLong(c -> c[1]).sum();
            out.printf("model:      %s%n", model);
            out.printf("family:     %s%n", wf.family().toUpperCase());
            out.printf("config:     %s%n", meta.getOrDefault("config_file", "(embedded)"));
            out.printf("parameters: %,d values in %d tensors%n", total, wf.stateDict().size());
            perNetwork.forEach((k, v) -> out.printf("  %-22s %,12d values, %3d tensors%n", k, v[1], v[0]));
            long half = wf.stateDict().names().stream().filter(n -> wf.dtype(n).equals("F16")).count();
            out.printf("storage:    %s%n", half == 0 ? "float32" : "float16 weights in " + half + " tensors (fomm compact), the rest float32");
            if (meta.containsKey("training_step")) {
                // Written by fomm train: no source checkpoint, a training history instead.
                out.printf("trained:    %s steps (epoch %s), batch %s, on %s, seed %s%n", meta.get("training_step"),
                        meta.getOrDefault("training_epoch", "?"), meta.getOrDefault("training_batch", "?"),
                        meta.getOrDefault("training_data", "?"), meta.getOrDefault("training_seed", "?"));
            } else {
                out.printf("source:     %s%n", meta.getOrDefault("source_file", "?"));
                out.printf("sha256:     %s%n", meta.getOrDefault("source_sha256", "?"));
                out.printf("published:  %s%n", meta.getOrDefault("published_checkpoint", "no (not a published checkpoint)"));
            }
            out.println("model_params:");
            String cfg = meta.getOrDefault("config", "");
            int i = cfg.indexOf("model_params:");
            if (i >= 0) {
                for (String line : cfg.substring(i + "model_params:".length()).split("\n")) {
                    if (!line.isBlank() && !Character.isWhitespace(line.charAt(0))) {
                        break;
                    }
                    if (!line.isBlank()) {
                        out.println(line);
                    }
                }
            }
        }
        return 0;
    }
}
