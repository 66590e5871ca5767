package org.fomm4j.io;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.fomm4j.animation.AnimationMode;
import org.fomm4j.animation.Animator;
import org.fomm4j.animation.FommAnimator;
import org.fomm4j.animation.TpsmmAnimator;
import org.fomm4j.config.ConfigException;
import org.fomm4j.config.FommConfig;
import org.fomm4j.config.TpsmmConfig;
import org.fomm4j.config.YamlConfig;
import org.fomm4j.io.checkpoint.TorchCheckpoint;
import org.fomm4j.io.weights.CheckpointConverter;
import org.fomm4j.io.weights.ModelFamily;
import org.fomm4j.io.weights.ModelFiles;
import org.fomm4j.io.weights.WeightFile;
import org.fomm4j.networks.fomm.FommModel;
import org.fomm4j.networks.tpsmm.TpsmmModel;
import org.fomm4j.tensor.Tensor;
import org.fomm4j.weights.StateDict;

/**
 * A model of either family ready to animate, loaded from our weight file or directly from a published
 * {@code .pth.tar} checkpoint plus its config (converted in memory, nothing written).
 */
public final class LoadedModel implements AutoCloseable {
    private final ModelFamily family;
    private final FommModel fomm;
    private final TpsmmModel tpsmm;

    private LoadedModel(FommModel fomm, TpsmmModel tpsmm) {
        this.family = fomm != null ? ModelFamily.FOMM : ModelFamily.TPSMM;
        this.fomm = fomm;
        this.tpsmm = tpsmm;
    }

    /**
     * @param model  our weight file, or a {@code .pth.tar} checkpoint (then {@code config} is required)
     * @param config the official YAML config for a checkpoint; ignored for our weight files
     * @throws IOException for unreadable, foreign or corrupt files (clear messages)
     */
    public static LoadedModel open(Path model, Path config) throws IOException {
        if (!java.nio.file.Files.isRegularFile(model)) {
            throw new org.fomm4j.io.weights.WeightFileException("model " + model + " does not exist or is not a file");
        }
        if (isWeightFile(model)) {
            return switch (ModelFiles.family(model)) {
                case FOMM -> new LoadedModel(ModelFiles.loadFomm(model), null);
                case TPSMM -> new LoadedModel(null, ModelFiles.loadTpsmm(model));
            };
        }
        String name = model.getFileName().toString().toLowerCase(Locale.ROOT);
        boolean checkpoint = name.endsWith(".pth") || name.endsWith(".tar") || name.endsWith(".pt") || name.endsWith(".ckpt");
        if (!checkpoint) {
            throw new org.fomm4j.io.weights.WeightFileException("model " + model
                    + " is neither a fomm4j weight file nor a PyTorch checkpoint (.pth.tar)");
        }
        if (config == null) {
            throw new ConfigException("a PyTorch checkpoint needs its YAML config: add --config CONFIG.yaml");
        }
        JsonNode tree = YamlConfig.read(config);
        ModelFamily family = ModelFamily.of(tree);
        TorchCheckpoint ckpt = TorchCheckpoint.open(model);
        var raw = CheckpointConverter.readNetworks(ckpt, family);
        CheckpointConverter.check(raw, family.expectedTensors(tree, raw.keySet()), model, config);
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        for (var e : raw.entrySet()) {
            tensors.put(e.getKey(), Tensor.of(e.getValue().toFloats(), e.getValue().shape()));
        }
        StateDict sd = StateDict.of(tensors);
        return switch (family) {
            case FOMM -> new LoadedModel(FommModel.create(FommConfig.fromTree(tree), sd), null);
            case TPSMM -> new LoadedModel(null, TpsmmModel.create(TpsmmConfig.fromTree(tree), sd));
        };
    }

    private static boolean isWeightFile(Path p) {
        try (WeightFile wf = WeightFile.open(p)) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    public ModelFamily family() {
        return family;
    }

    public int frameHeight() {
        return fomm != null ? fomm.config().frameHeight() : tpsmm.config().frameHeight();
    }

    public int frameWidth() {
        return fomm != null ? fomm.config().frameWidth() : tpsmm.config().frameWidth();
    }

    /**
     * @throws IllegalArgumentException for {@code avd} on a FOMM model, or background motion without a predictor
     */
    public Animator animator(Tensor source, AnimationMode mode, boolean backgroundMotion) {
        if (fomm != null) {
            if (mode == AnimationMode.AVD) {
                throw new IllegalArgumentException("mode avd needs a TPSMM model; this is a FOMM model");
            }
            if (backgroundMotion) {
                throw new IllegalArgumentException("background motion needs a TPSMM model with a bg_predictor");
            }
            return new FommAnimator(fomm, source, mode);
        }
        return new TpsmmAnimator(tpsmm, source, mode, backgroundMotion);
    }

    @Override
    public void close() {
        if (fomm != null) {
            fomm.close();
        } else {
            tpsmm.close();
        }
    }
}
