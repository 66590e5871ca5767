package org.fomm4j.training;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.fomm4j.config.FommConfig;
import org.fomm4j.networks.fomm.FommModel;
import org.fomm4j.tensor.Tensor;
import org.fomm4j.weights.StateDict;

/**
 * Grows a trained FOMM to a wider config without changing what it computes, so training goes on from the
 * trained model with more capacity instead of starting the wider network from scratch (function-preserving
 * widening, as Net2Net, Chen et al. 2016, and zero-initialized adapters do). The widths that may grow are
 * {@code block_expansion} and {@code max_features} of the generator, of the keypoint detector
 * ({@code kp_detector_params}) and of the dense motion network ({@code dense_motion_params}).
 *
 * <p>Every channel dimension keeps its trained channels first and appends new ones. A new channel's
 * incoming weights and bias are the config's random initialization ({@link FommInit}, PyTorch's defaults);
 * its BatchNorm starts at {@code gamma = 1, beta = 0}, running mean 0 and variance 1. The weights by which
 * a trained output channel would read a new input channel are zero. Where a layer reads a concatenation
 * (the hourglass decoder's {@code cat([up, skip])} in {@code modules/util.py}, and the heads {@code kp},
 * {@code jacobian}, {@code mask}, {@code occlusion} that read {@code cat([up, x])}), each part keeps its
 * trained channels first, so the trained input channels are found at their new offsets. Everything else is
 * per channel (BatchNorm, ReLU, pooling, upsampling, the deformation and occlusion of the generator's
 * features, softmax over space), so every trained channel, and therefore the keypoints, the jacobians,
 * the dense motion and the predicted image, is exactly what the trained model computed. The new channels
 * start to matter as soon as a gradient step moves those zero weights (their gradient is the new channels'
 * activation times the output's). BatchNorm must then be used with its running statistics
 * ({@code freeze_batch_norm}, or inference): a batch's statistics would renormalize the trained channels
 * differently anyway.
 *
 * <p>The generator may also grow deeper: bottleneck ResBlocks ({@code num_bottleneck_blocks}) are appended
 * after the trained ones. A new block {@code bottleneck.rI} is {@code x + conv2(relu(norm2(conv1(relu(norm1(x))))))}
 * ({@code ResBlock2d} in {@code modules/util.py}); its {@code conv2} starts at zero weights and bias, so it adds
 * exactly 0 and passes its input through, and the rest is the config's random initialization. The gradient of
 * {@code conv2} is nonzero from the first step (its input times the output's gradient), and {@code conv1}'s
 * follows once {@code conv2} has left zero: the zero-initialized residual of Goyal et al. 2017 and Fixup.
 */
public final class ModelWidening {
    private static final Pattern BOTTLENECK_BLOCK = Pattern.compile("generator\\.bottleneck\\.r(\\d+)\\..+");

    private ModelWidening() {
    }

    /**
     * The weights of {@code wider}'s model: {@code trained} widened as described above, new weights from
     * {@code seed}.
     *
     * @throws IllegalArgumentException if the two models differ other than in channel widths (a tensor
     *         missing on either side, another rank or kernel size, a narrower channel dimension, or a
     *         channel count that is not a width: keypoints, image channels)
     */
    public static StateDict widen(StateDict trained, FommConfig wider, long seed) {
        int[] kp = trained.contains("kp_detector.kp.weight") ? trained.get("kp_detector.kp.weight").shape() : null;
        int[] image = trained.contains("generator.final.weight") ? trained.get("generator.final.weight").shape() : null;
        if (kp != null && kp[0] != wider.numKp() || image != null && image[0] != wider.numChannels()) {
            throw new IllegalArgumentException("cannot widen: the trained model has " + (kp == null ? "?" : kp[0])
                    + " keypoints and " + (image == null ? "?" : image[0]) + " image channels, the wider config "
                    + wider.numKp() + " and " + wider.numChannels() + " (only widths and the generator's bottleneck depth may grow)");
        }
        StateDict init = FommInit.random(wider, seed);
        Set<String> expected = FommModel.expectedTensors(wider).keySet();
        for (String name : trained.names()) {
            if (!init.contains(name) && !name.endsWith("num_batches_tracked")) {
                throw new IllegalArgumentException("cannot widen: the trained model has " + name
                        + ", which the wider config does not build (only widths and the generator's bottleneck depth may grow)");
            }
        }
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (String name : init.names()) {
            Tensor fresh = init.get(name);
            if (!trained.contains(name)) {
                if (isNewBottleneckBlock(name, trained)) {
                    out.put(name, name.matches(".*\\.conv2\\.(weight|bias)") ? Tensor.zeros(fresh.shape()) : fresh);
                    continue;
                }
                if (name.endsWith("num_batches_tracked") && !expected.contains(name)) {
                    out.put(name, fresh);
                    continue;
                }
                throw new IllegalArgumentException("cannot widen: the trained model lacks " + name
                        + " (only widths and the generator's bottleneck depth may grow)");
            }
            Tensor old = trained.get(name);
            int[] from = old.shape(), to = fresh.shape();
            if (Arrays.equals(from, to)) {
                out.put(name, old);
                continue;
            }
            boolean widenable = (name.startsWith("generator.") || name.startsWith("kp_detector."))
                    && from.length == to.length && (to.length == 1 || to.length == 4)
                    && (to.length == 1 || from[2] == to[2] && from[3] == to[3]);
            for (int i = 0; widenable && i < Math.min(2, to.length); i++) {
                widenable = from[i] <= to[i];
            }
            int[][] parts = widenable && to.length == 4 ? inputParts(name, from[1], to[1], wider) : null;
            if (!widenable || to.length == 4 && parts == null) {
                throw new IllegalArgumentException("cannot widen " + name + " from " + Arrays.toString(from) + " to "
                        + Arrays.toString(to) + " (only block_expansion and max_features may grow)");
            }
            out.put(name, to.length == 1 ? widenVector(old, fresh) : widenConv(old, fresh, parts[0], parts[1]));
        }
        return StateDict.of(out);
    }

    /**
     * {@link #widen(StateDict, FommConfig, long)} after checking that {@code trainedConfig}, the config
     * {@code trained} was built with, differs from {@code wider} in widths, the generator's bottleneck
     * depth and the number of keypoints only. More keypoints are first made by splitting trained ones
     * ({@link KeypointSplitting}, with {@link KeypointSplitting#DEFAULT_JITTER}), then the widths grow.
     *
     * @throws IllegalArgumentException if another model parameter differs (keypoints, other blocks, scale
     *         factors, temperature, frame shape...) or the weights cannot be widened
     */
    public static StateDict widen(StateDict trained, FommConfig trainedConfig, FommConfig wider, long seed) {
        if (wider.numKp() > trainedConfig.numKp()) {
            trained = KeypointSplitting.split(trained, trainedConfig, wider.numKp(), seed, KeypointSplitting.DEFAULT_JITTER);
            trainedConfig = KeypointSplitting.withNumKp(trainedConfig, wider.numKp());
        }
        if (!withGrowableOf(wider, trainedConfig).equals(trainedConfig)) {
            throw new IllegalArgumentException("cannot widen: the configs differ in more than block_expansion, "
                    + "max_features, num_bottleneck_blocks and a larger num_kp (trained " + trainedConfig + ", wider " + wider + ")");
        }
        return widen(trained, wider, seed);
    }

    /** Whether {@code name} belongs to a generator bottleneck block of which {@code trained} has no tensor. */
    private static boolean isNewBottleneckBlock(String name, StateDict trained) {
        Matcher m = BOTTLENECK_BLOCK.matcher(name);
        if (!m.matches()) {
            return false;
        }
        String block = "generator.bottleneck.r" + m.group(1) + ".";
        return trained.names().stream().noneMatch(t -> t.startsWith(block));
    }

    /**
     * {@code c} with the generator's, the keypoint detector's and the dense motion network's widths, and the
     * generator's bottleneck depth, of {@code w}.
     */
    private static FommConfig withGrowableOf(FommConfig c, FommConfig w) {
        FommConfig.KpDetector k = c.kpDetector(), wk = w.kpDetector();
        FommConfig.Generator g = c.generator(), wg = w.generator();
        FommConfig.DenseMotion d = g.denseMotion(), wd = wg.denseMotion();
        FommConfig.DenseMotion dense = d == null || wd == null ? d
                : new FommConfig.DenseMotion(wd.blockExpansion(), wd.maxFeatures(), d.numBlocks(), d.scaleFactor(), d.kpVariance());
        return new FommConfig(c.numKp(), c.numChannels(), c.estimateJacobian(),
                new FommConfig.KpDetector(k.temperature(), wk.blockExpansion(), wk.maxFeatures(), k.scaleFactor(), k.numBlocks(),
                        k.singleJacobianMap(), k.pad()),
                new FommConfig.Generator(wg.blockExpansion(), wg.maxFeatures(), g.numDownBlocks(), wg.numBottleneckBlocks(),
                        g.estimateOcclusionMap(), dense),
                c.frameHeight(), c.frameWidth());
    }

    /**
     * How a conv's input channels split into the parts of a concatenation, trained and wider:
     * {@code {trainedParts, widerParts}}, or null if the widths cannot be a widening.
     */
    private static int[][] inputParts(String name, int from, int to, FommConfig c) {
        if (name.matches(".*\\.decoder\\.up_blocks\\.[1-9]\\d*\\.conv\\.weight")) {
            // cat([up block output, encoder skip]) of equal widths (Hourglass in modules/util.py)
            return from % 2 == 0 && to % 2 == 0 ? new int[][] {{from / 2, from / 2}, {to / 2, to / 2}} : null;
        }
        int x = -1;
        if (name.equals("kp_detector.kp.weight") || name.equals("kp_detector.jacobian.weight")) {
            x = c.numChannels();
        } else if (name.equals("generator.dense_motion_network.mask.weight")
                || name.equals("generator.dense_motion_network.occlusion.weight")) {
            x = (c.numKp() + 1) * (c.numChannels() + 1);
        }
        if (x >= 0) {
            // cat([last up block output (block_expansion), hourglass input x])
            return from > x && to > x ? new int[][] {{from - x, x}, {to - x, x}} : null;
        }
        return new int[][] {{from}, {to}};
    }

    /** Trained values first, the fresh initialization for the new channels. */
    private static Tensor widenVector(Tensor old, Tensor fresh) {
        float[] v = fresh.data().clone();
        System.arraycopy(old.toArray(), 0, v, 0, old.shape()[0]);
        return Tensor.of(v, fresh.shape());
    }

    /**
     * {@code [out, in, kh, kw]}: each trained output channel keeps its weights on the trained input channels
     * of every input part, at their offsets in the wider layout, and reads the new ones with weight 0.
     */
    private static Tensor widenConv(Tensor old, Tensor fresh, int[] fromParts, int[] toParts) {
        int[] f = old.shape(), t = fresh.shape();
        int k = t[2] * t[3];
        float[] v = fresh.data().clone();
        float[] w = old.toArray();
        for (int o = 0; o < f[0]; o++) {
            Arrays.fill(v, o * t[1] * k, (o + 1) * t[1] * k, 0f);
            int src = 0, dst = 0;
            for (int p = 0; p < fromParts.length; p++) {
                System.arraycopy(w, (o * f[1] + src) * k, v, (o * t[1] + dst) * k, fromParts[p] * k);
                src += fromParts[p];
                dst += toParts[p];
            }
        }
        return Tensor.of(v, t);
    }
}
