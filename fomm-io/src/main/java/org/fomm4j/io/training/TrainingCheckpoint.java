package org.fomm4j.io.training;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.fomm4j.io.checkpoint.TorchCheckpoint.RawTensor;
import org.fomm4j.io.weights.WeightFile;
import org.fomm4j.io.weights.WeightFileException;
import org.fomm4j.io.weights.WeightFileWriter;
import org.fomm4j.tensor.Tensor;
import org.fomm4j.weights.StateDict;

/**
 * Training state in our weight file: the model's tensors under their state-dict names (so the file is
 * also a model {@code fomm animate --model} loads), the optimizer moments under {@code optimizer.*}, and
 * in the metadata the config (YAML text), the step, the seed and the data it was trained on.
 * {@code num_batches_tracked} buffers are written as int64, as PyTorch keeps them.
 */
public final class TrainingCheckpoint {
    static final String OPTIMIZER = "optimizer.";

    private TrainingCheckpoint() {
    }

    /** What a checkpoint holds. */
    public record Contents(StateDict model, Map<String, float[]> optimizer, Map<String, String> metadata) {
        public long step() {
            return Long.parseLong(metadata.getOrDefault("training_step", "0"));
        }
    }

    /**
     * Writes atomically. {@code optimizer} may be {@code null} (a model file only).
     *
     * @throws IOException if the file cannot be written (the previous file, if any, is left as it was)
     */
    public static void write(Path file, StateDict model, Map<String, float[]> optimizer, Map<String, String> metadata)
            throws IOException {
        Map<String, RawTensor> tensors = new LinkedHashMap<>();
        for (String name : model.names()) {
            Tensor t = model.get(name);
            if (name.endsWith(".num_batches_tracked")) {
                tensors.put(name, RawTensor.i64(new int[0], new float[] {t.get(0)}));
            } else {
                tensors.put(name, RawTensor.f32(t.shape(), t.toArray()));
            }
        }
        if (optimizer != null) {
            optimizer.forEach((k, v) -> tensors.put(OPTIMIZER + k, RawTensor.f32(new int[] {v.length}, v)));
        }
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", "fomm4j");
        meta.put("format_version", "1");
        meta.put("family", family(metadata));
        meta.putAll(metadata);
        WeightFileWriter.write(file, meta, tensors);
    }

    /**
     * Reads a checkpoint (or any FOMM or TPSMM weight file: then the optimizer state is empty); the
     * metadata's {@code family} says which.
     *
     * @throws WeightFileException if the file is not a fomm4j weight file or holds neither family
     */
    public static Contents read(Path file) throws IOException {
        try (WeightFile wf = WeightFile.open(file)) {
            if (!"fomm".equals(wf.family()) && !"tpsmm".equals(wf.family())) {
                throw new WeightFileException("model file " + file + " holds a " + wf.family() + " model; training supports FOMM and TPSMM");
            }
            StateDict all = wf.stateDict();
            Map<String, Tensor> model = new LinkedHashMap<>();
            Map<String, float[]> optimizer = new LinkedHashMap<>();
            for (String name : all.names()) {
                // Copies: the mapping is closed when this method returns.
                float[] v = all.get(name).toArray();
                if (name.startsWith(OPTIMIZER)) {
                    optimizer.put(name.substring(OPTIMIZER.length()), v);
                } else {
                    model.put(name, Tensor.of(v, all.get(name).shape()));
                }
            }
            return new Contents(StateDict.of(model), optimizer, new LinkedHashMap<>(wf.metadata()));
        }
    }

    /** {@code tpsmm} when the metadata's config is a TPSMM one, else {@code fomm}. */
    static String family(Map<String, String> metadata) {
        String yaml = metadata.get("config");
        if (yaml == null) {
            return "fomm";
        }
        try {
            return org.fomm4j.io.weights.ModelFamily.of(org.fomm4j.config.YamlConfig.parse(yaml))
                    == org.fomm4j.io.weights.ModelFamily.TPSMM ? "tpsmm" : "fomm";
        } catch (RuntimeException e) {
            return "fomm";
        }
    }

}
