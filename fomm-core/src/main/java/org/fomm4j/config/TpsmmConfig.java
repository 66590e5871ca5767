package org.fomm4j.config;

import static org.fomm4j.config.YamlConfig.boolValue;
import static org.fomm4j.config.YamlConfig.doubleValue;
import static org.fomm4j.config.YamlConfig.intValue;
import static org.fomm4j.config.YamlConfig.object;
import static org.fomm4j.config.YamlConfig.positive;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;

/**
 * The {@code model_params} of an official TPSMM config ({@code config/*.yaml} of
 * Thin-Plate-Spline-Motion-Model). The official configs have no frame shape
 * ({@code frame_shape: null}); the frame size then defaults to 256x256 (the demo's {@code --img_shape}).
 */
public record TpsmmConfig(int numTps, int numChannels, boolean bg, boolean multiMask, Generator generator,
                          DenseMotion denseMotion, Avd avd, int frameHeight, int frameWidth) {

    /** {@code generator_params} (the inpainting network). */
    public record Generator(int blockExpansion, int maxFeatures, int numDownBlocks) {
    }

    /** {@code dense_motion_params}. */
    public record DenseMotion(int blockExpansion, int maxFeatures, int numBlocks, double scaleFactor, double kpVariance) {
    }

    /** {@code avd_network_params}. */
    public record Avd(int idBottleSize, int poseBottleSize) {
    }

    /** @throws ConfigException if the file cannot be read or lacks a required field */
    public static TpsmmConfig load(Path yaml) {
        return fromTree(YamlConfig.read(yaml));
    }

    /** @throws ConfigException if a required field is missing or invalid */
    public static TpsmmConfig fromTree(JsonNode root) {
        JsonNode mp = object(root, "", "model_params");
        String cp = "model_params.common_params.";
        JsonNode common = object(mp, "model_params.", "common_params");
        int numTps = intValue(common, cp, "num_tps");
        int channels = intValue(common, cp, "num_channels");
        positive("num_tps", numTps);
        positive("num_channels", channels);
        boolean bg = boolValue(common, cp, "bg", false);
        boolean multiMask = boolValue(common, cp, "multi_mask", true);

        String gp = "model_params.generator_params.";
        JsonNode g = object(mp, "model_params.", "generator_params");
        Generator gen = new Generator(intValue(g, gp, "block_expansion"), intValue(g, gp, "max_features"),
                intValue(g, gp, "num_down_blocks"));
        if (gen.numDownBlocks() != 3) {
            throw new ConfigException("config: generator_params.num_down_blocks must be 3 for TPSMM (the reference"
                    + " inpainting network is built for 3), got " + gen.numDownBlocks());
        }
        String dp = "model_params.dense_motion_params.";
        JsonNode d = object(mp, "model_params.", "dense_motion_params");
        DenseMotion dm = new DenseMotion(intValue(d, dp, "block_expansion"), intValue(d, dp, "max_features"),
                intValue(d, dp, "num_blocks"), doubleValue(d, dp, "scale_factor", 0.25), doubleValue(d, dp, "kp_variance", 0.01));
        double inv = 1 / dm.scaleFactor();
        if (multiMask && (Math.abs(inv - Math.rint(inv)) > 1e-9 || Integer.bitCount((int) Math.rint(inv)) != 1 || inv > 16)) {
            throw new ConfigException("config: dense_motion_params.scale_factor must be 1/2^k with multi_mask, got " + dm.scaleFactor());
        }
        String ap = "model_params.avd_network_params.";
        JsonNode a = mp.get("avd_network_params");
        Avd avd = a == null ? new Avd(64, 64) : new Avd(intValue(a, ap, "id_bottle_size"), intValue(a, ap, "pose_bottle_size"));

        int h = 256, w = 256;
        JsonNode ds = root.get("dataset_params");
        if (ds != null && ds.has("frame_shape") && ds.get("frame_shape").isArray() && ds.get("frame_shape").size() >= 2) {
            h = ds.get("frame_shape").get(0).intValue();
            w = ds.get("frame_shape").get(1).intValue();
        }
        positive("generator_params.block_expansion", gen.blockExpansion());
        positive("dense_motion_params.block_expansion", dm.blockExpansion());
        return new TpsmmConfig(numTps, channels, bg, multiMask, gen, dm, avd, h, w);
    }

    /** The same config for another frame size (TPSMM's networks are fully convolutional but for the frame size the user trains with). */
    public TpsmmConfig withFrameSize(int height, int width) {
        positive("frame height", height);
        positive("frame width", width);
        YamlConfig.atMost("frame height", height, YamlConfig.MAX_FRAME);
        YamlConfig.atMost("frame width", width, YamlConfig.MAX_FRAME);
        return new TpsmmConfig(numTps, numChannels, bg, multiMask, generator, denseMotion, avd, height, width);
    }
}
