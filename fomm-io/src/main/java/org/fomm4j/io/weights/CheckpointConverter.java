package org.fomm4j.io.weights;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.fomm4j.config.ConfigException;
import org.fomm4j.config.YamlConfig;
import org.fomm4j.io.checkpoint.DType;
import org.fomm4j.io.checkpoint.TorchCheckpoint;
import org.fomm4j.io.checkpoint.TorchCheckpoint.RawTensor;
import org.fomm4j.weights.WeightException;

/**
 * Converts a published PyTorch checkpoint plus its official YAML config into our weight file
 * ({@link WeightFileWriter}). Keeps only the networks inference needs (FOMM: {@code generator},
 * {@code kp_detector}; TPSMM: {@code inpainting_network}, {@code kp_detector},
 * {@code dense_motion_network}, {@code avd_network}, and {@code bg_predictor} when present), drops
 * optimizer states and discriminators, and checks every tensor against the model built from the
 * config.
 */
public final class CheckpointConverter {
    /** What a conversion did. */
    public record Report(String family, Path output, List<String> networks, int tensors, long values, String sha256,
                         PublishedCheckpoints.Entry published) {
    }

    private CheckpointConverter() {
    }

    /**
     * @throws org.fomm4j.io.checkpoint.CheckpointException for an unreadable, corrupt or unsafe checkpoint
     * @throws ConfigException      for an unreadable config or one of no known family
     * @throws WeightException      when the checkpoint's tensors do not match the model of the config
     *                              (names the tensors)
     * @throws WeightFileException  when the output cannot be written; nothing is left behind
     *                              (also when it is the checkpoint or the config, or its folder does not exist)
     */
    public static Report convert(Path checkpoint, Path config, Path output) throws IOException {
        java.util.Map<String, Path> inputs = new java.util.LinkedHashMap<>();
        inputs.put("--checkpoint", checkpoint);
        inputs.put("--config", config);
        try {
            org.fomm4j.io.Outputs.check(inputs, java.util.Map.of("--output", output));
        } catch (IllegalArgumentException e) {
            throw new WeightFileException(e.getMessage());
        }
        String yaml;
        try {
            yaml = Files.readString(config, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new ConfigException("cannot read config " + config + ": " + e.getMessage(), e);
        }
        JsonNode tree = YamlConfig.parse(yaml);
        ModelFamily family = ModelFamily.of(tree);
        TorchCheckpoint ckpt = TorchCheckpoint.open(checkpoint);
        Map<String, RawTensor> tensors = readNetworks(ckpt, family);
        check(tensors, family.expectedTensors(tree, tensors.keySet()), checkpoint, config);

        String sha = sha256(checkpoint);
        var published = PublishedCheckpoints.bySha256(sha).orElse(null);
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", "fomm4j");
        meta.put("format_version", "1");
        meta.put("family", family.id());
        meta.put("config", yaml);
        meta.put("config_file", String.valueOf(config.getFileName()));
        meta.put("source_file", String.valueOf(checkpoint.getFileName()));
        meta.put("source_sha256", sha);
        if (published != null) {
            meta.put("published_checkpoint", published.file());
        }
        WeightFileWriter.write(output, meta, tensors);
        long values = 0;
        for (RawTensor t : tensors.values()) {
            values += t.data().length / t.dtype().size;
        }
        List<String> nets = new ArrayList<>();
        for (String n : family.networks()) {
            if (ckpt.keys().contains(n)) {
                nets.add(n);
            }
        }
        return new Report(family.id(), output, nets, tensors.size(), values, sha, published);
    }

    /** The inference networks of a checkpoint as {@code NETWORK.KEY -> tensor}. */
    public static Map<String, RawTensor> readNetworks(TorchCheckpoint ckpt, ModelFamily family) throws IOException {
        Map<String, RawTensor> out = new LinkedHashMap<>();
        for (String net : family.networks()) {
            if (!ckpt.keys().contains(net)) {
                if (family.optional().contains(net)) {
                    continue;
                }
                throw new WeightException("checkpoint " + ckpt.file() + " has no '" + net + "' network (it has "
                        + new TreeSet<>(ckpt.keys()) + "); is it a " + family.id().toUpperCase() + " checkpoint?");
            }
            for (var e : ckpt.readNetwork(net).entrySet()) {
                out.put(net + "." + e.getKey(), e.getValue());
            }
        }
        return out;
    }

    private static long nonFinite(RawTensor t) {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(t.data()).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        long bad = 0;
        for (int i = 0, n = t.data().length / 4; i < n; i++) {
            if (!Float.isFinite(b.getFloat(i * 4))) {
                bad++;
            }
        }
        return bad;
    }

    /**
     * Checks a checkpoint's tensors against the model the config builds: every expected name present with
     * its shape, float storages for weights (integers only for BatchNorm's {@code num_batches_tracked}),
     * every value finite, nothing unexpected.
     *
     * @throws WeightException listing the first problems, each naming its tensor
     */
    public static void check(Map<String, RawTensor> actual, Map<String, int[]> expected, Path checkpoint, Path config) {
        List<String> problems = new ArrayList<>();
        for (var e : expected.entrySet()) {
            RawTensor t = actual.get(e.getKey());
            if (t == null) {
                problems.add("missing tensor " + e.getKey());
            } else if (!Arrays.equals(t.shape(), e.getValue())) {
                problems.add("tensor " + e.getKey() + " has shape " + Arrays.toString(t.shape()) + " but the config expects "
                        + Arrays.toString(e.getValue()));
            } else if (e.getKey().endsWith(".num_batches_tracked") != (t.dtype() != DType.F32)) {
                problems.add("tensor " + e.getKey() + " is stored as "
                        + (t.dtype() == DType.F32 ? "floating point" : "integers or booleans") + " but the model expects "
                        + (t.dtype() == DType.F32 ? "an integer counter" : "float weights"));
            } else if (t.dtype() == DType.F32) {
                long bad = nonFinite(t);
                if (bad > 0) {
                    problems.add("tensor " + e.getKey() + " has " + bad + " non-finite values (NaN or infinity)");
                }
            }
        }
        for (String k : new TreeSet<>(actual.keySet())) {
            if (!expected.containsKey(k)) {
                problems.add("unexpected tensor " + k);
            }
        }
        if (!problems.isEmpty()) {
            int shown = Math.min(problems.size(), 8);
            throw new WeightException("checkpoint " + checkpoint.getFileName() + " does not match config " + config.getFileName()
                    + ": " + String.join("; ", problems.subList(0, shown))
                    + (problems.size() > shown ? " (and " + (problems.size() - shown) + " more)" : ""));
        }
    }

    /** Hex sha256 of a file. */
    public static String sha256(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 20];
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
