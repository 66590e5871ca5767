package org.fomm4j.config;

import static org.fomm4j.config.YamlConfig.boolValue;
import static org.fomm4j.config.YamlConfig.doubleValue;
import static org.fomm4j.config.YamlConfig.intValue;
import static org.fomm4j.config.YamlConfig.object;
import static org.fomm4j.config.YamlConfig.positive;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;

/**
 * The {@code model_params} of an official FOMM config ({@code config/*.yaml} of
 * first-order-model), plus the frame shape from {@code dataset_params.frame_shape}.
 *
 * @param frameHeight  frame height in pixels (default 256 when the config has no frame shape)
 * @param frameWidth   frame width in pixels
 */
public record FommConfig(int numKp, int numChannels, boolean estimateJacobian,
                         KpDetector kpDetector, Generator generator, int frameHeight, int frameWidth) {

    /** {@code kp_detector_params}. {@code pad} is the padding of the 7x7 keypoint and jacobian convs. */
    public record KpDetector(double temperature, int blockExpansion, int maxFeatures, double scaleFactor,
                             int numBlocks, boolean singleJacobianMap, int pad) {
    }

    /** {@code generator_params}; {@code denseMotion} is {@code null} when the config has none. */
    public record Generator(int blockExpansion, int maxFeatures, int numDownBlocks, int numBottleneckBlocks,
                            boolean estimateOcclusionMap, DenseMotion denseMotion) {
    }

    /** {@code generator_params.dense_motion_params}; {@code kpVariance} defaults to 0.01 as in the reference. */
    public record DenseMotion(int blockExpansion, int maxFeatures, int numBlocks, double scaleFactor, double kpVariance) {
    }

    /** @throws ConfigException if the file cannot be read or lacks a required field */
    public static FommConfig load(Path yaml) {
        return fromTree(YamlConfig.read(yaml));
    }

    /** @throws ConfigException if a required field is missing or invalid */
    public static FommConfig fromTree(JsonNode root) {
        JsonNode mp = object(root, "", "model_params");
        JsonNode common = object(mp, "model_params.", "common_params");
        String cp = "model_params.common_params.";
        int numKp = intValue(common, cp, "num_kp");
        int numChannels = intValue(common, cp, "num_channels");
        boolean jac = boolValue(common, cp, "estimate_jacobian", false);
        positive("num_kp", numKp);
        positive("num_channels", numChannels);

        String kpp = "model_params.kp_detector_params.";
        JsonNode kp = object(mp, "model_params.", "kp_detector_params");
        KpDetector kd = new KpDetector(doubleValue(kp, kpp, "temperature", null), intValue(kp, kpp, "block_expansion"),
                intValue(kp, kpp, "max_features"), doubleValue(kp, kpp, "scale_factor", 1.0), intValue(kp, kpp, "num_blocks"),
                boolValue(kp, kpp, "single_jacobian_map", false), kp.has("pad") ? intValue(kp, kpp, "pad") : 0);

        String gp = "model_params.generator_params.";
        JsonNode g = object(mp, "model_params.", "generator_params");
        DenseMotion dm = null;
        if (g.has("dense_motion_params") && !g.get("dense_motion_params").isNull()) {
            JsonNode d = object(g, gp, "dense_motion_params");
            String dp = gp + "dense_motion_params.";
            dm = new DenseMotion(intValue(d, dp, "block_expansion"), intValue(d, dp, "max_features"),
                    intValue(d, dp, "num_blocks"), doubleValue(d, dp, "scale_factor", 1.0),
                    doubleValue(d, dp, "kp_variance", 0.01));
        }
        Generator gen = new Generator(intValue(g, gp, "block_expansion"), intValue(g, gp, "max_features"),
                intValue(g, gp, "num_down_blocks"), intValue(g, gp, "num_bottleneck_blocks"),
                boolValue(g, gp, "estimate_occlusion_map", false), dm);

        int h = 256, w = 256;
        JsonNode ds = root.get("dataset_params");
        if (ds != null && ds.has("frame_shape")) {
            JsonNode fs = ds.get("frame_shape");
            if (!fs.isArray() || fs.size() < 2) {
                throw new ConfigException("config: dataset_params.frame_shape must be [height, width, channels], got " + fs);
            }
            h = fs.get(0).intValue();
            w = fs.get(1).intValue();
        }
        FommConfig c = new FommConfig(numKp, numChannels, jac, kd, gen, h, w);
        c.validate();
        return c;
    }

    private void validate() {
        positive("kp_detector_params.block_expansion", kpDetector.blockExpansion);
        positive("kp_detector_params.max_features", kpDetector.maxFeatures);
        positive("kp_detector_params.num_blocks", kpDetector.numBlocks);
        positive("generator_params.block_expansion", generator.blockExpansion);
        positive("generator_params.max_features", generator.maxFeatures);
        if (kpDetector.temperature <= 0) {
            throw new ConfigException("config: kp_detector_params.temperature must be positive, got " + kpDetector.temperature);
        }
        checkScale("kp_detector_params.scale_factor", kpDetector.scaleFactor);
        if (generator.denseMotion != null) {
            checkScale("dense_motion_params.scale_factor", generator.denseMotion.scaleFactor);
        }
        positive("frame height", frameHeight);
        positive("frame width", frameWidth);
        YamlConfig.atMost("frame height", frameHeight, YamlConfig.MAX_FRAME);
        YamlConfig.atMost("frame width", frameWidth, YamlConfig.MAX_FRAME);
    }

    private static void checkScale(String what, double s) {
        if (!(s > 0 && s <= 1)) {
            throw new ConfigException("config: " + what + " must be in (0, 1], got " + s);
        }
    }
}
