package org.fomm4j.training;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.fomm4j.config.FommConfig;
import org.fomm4j.tensor.Tensor;
import org.fomm4j.weights.StateDict;

/**
 * Gives a trained FOMM more keypoints without changing what it computes: new keypoint {@code K + i} starts
 * as a copy of trained keypoint {@code i mod K} (Net2Net's split of a unit, Chen et al. 2016), so training
 * goes on from the trained motion with more parts to describe it instead of from scratch.
 *
 * <p>What the copy touches, with the reference's module names ({@code modules/keypoint_detector.py},
 * {@code modules/dense_motion.py}):
 * <ul>
 * <li>{@code kp_detector.kp}: the copy's heatmap row is the original's, so its keypoint (the heatmap's
 *     softmax mean) is the same point; {@code kp_detector.jacobian}: its four rows (channels
 *     {@code 4k .. 4k+3} of {@code [B, 4K, h, w]}) too, unless the config has a single jacobian map.</li>
 * <li>the dense motion hourglass input is {@code cat([heatmaps, deformed sources], dim=2)} viewed as
 *     {@code [B, (K+1)(C+1), h, w]}: group {@code g} (0 the identity, {@code k+1} keypoint {@code k}) is
 *     channels {@code g(C+1) .. g(C+1)+C}. The copy's group is appended and is equal to the original's
 *     (same heatmap difference, same deformed source), so every conv reading that input (the hourglass's
 *     first conv, and the {@code mask} and {@code occlusion} heads, which read {@code cat([up, input])})
 *     reads each of the two with half the original weight: the same sum.</li>
 * <li>{@code mask}: the copy's logit row is the original's, and both biases are lowered by {@code ln 2}:
 *     two equal logits {@code a - ln 2} have the softmax mass of one logit {@code a}, and the two equal
 *     local motions they weight sum to the original's share of the deformation.</li>
 * </ul>
 * The generator does not see keypoints. Exact copies would stay exact (equal parameters get equal
 * gradients, and the separation prior's gradient is zero at distance 0), so the copy's heatmap weights
 * get a small Gaussian jitter ({@code jitter} times their standard deviation) that moves its keypoint by a
 * fraction of a pixel; from there the separation prior ({@code loss_weights.keypoint_separation}) and the
 * reconstruction pull the pair apart. With jitter 0 the split model computes exactly what the trained one
 * did, up to float32 rounding.
 */
public final class KeypointSplitting {
    /** The default heatmap jitter, relative to the standard deviation of the copied row. */
    public static final double DEFAULT_JITTER = 0.01;

    private static final String DENSE = "generator.dense_motion_network.";
    private static final String FIRST_CONV = DENSE + "hourglass.encoder.down_blocks.0.conv.weight";

    private KeypointSplitting() {
    }

    /** {@code config} with {@code numKp} keypoints. */
    public static FommConfig withNumKp(FommConfig c, int numKp) {
        return new FommConfig(numKp, c.numChannels(), c.estimateJacobian(), c.kpDetector(), c.generator(),
                c.frameHeight(), c.frameWidth());
    }

    /**
     * The weights of {@code trained} (built with {@code config}) with {@code numKp} keypoints.
     *
     * @param jitter the copies' heatmap jitter relative to each row's standard deviation (0: exact copies)
     * @throws IllegalArgumentException if {@code numKp} is not larger than {@code config.numKp()}, or more
     *         than twice it (each trained keypoint is split at most once), or {@code trained} lacks a tensor
     *         of the keypoint detector or the dense motion network, or has another shape than {@code config} builds
     */
    public static StateDict split(StateDict trained, FommConfig config, int numKp, long seed, double jitter) {
        int k = config.numKp(), c = config.numChannels();
        if (numKp <= k || numKp > 2 * k) {
            throw new IllegalArgumentException("cannot split keypoints: from " + k + " to " + numKp
                    + " (each trained keypoint can be split once, so the new count must be in " + (k + 1) + ".." + (2 * k) + ")");
        }
        int added = numKp - k;
        Random rng = new Random(seed);
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (String name : trained.names()) {
            out.put(name, trained.get(name));
        }
        // heatmap head: rows copied, the copy jittered
        Tensor kpWeight = require(trained, "kp_detector.kp.weight", k);
        out.put("kp_detector.kp.weight", appendRows(kpWeight, added, 1, rng, jitter));
        out.put("kp_detector.kp.bias", appendRows(require(trained, "kp_detector.kp.bias", k), added, 1, null, 0));
        if (config.estimateJacobian() && !config.kpDetector().singleJacobianMap()) {
            out.put("kp_detector.jacobian.weight", appendRows(require(trained, "kp_detector.jacobian.weight", 4 * k), added, 4, null, 0));
            out.put("kp_detector.jacobian.bias", appendRows(require(trained, "kp_detector.jacobian.bias", 4 * k), added, 4, null, 0));
        }
        if (config.generator().denseMotion() == null) {
            return StateDict.of(out);
        }
        int group = c + 1, x = (k + 1) * group;
        Tensor first = require(trained, FIRST_CONV, -1);
        out.put(FIRST_CONV, splitInputGroups(first, 0, x, k, added, group));
        Tensor mask = require(trained, DENSE + "mask.weight", k + 1);
        int maskIn = mask.shape()[1];
        // the heads read cat([up (block_expansion), input x]): x starts at maskIn - x
        Tensor maskSplit = splitInputGroups(mask, maskIn - x, x, k, added, group);
        out.put(DENSE + "mask.weight", appendRows(maskSplit, added, 1, null, 0, 1));
        float[] maskBias = appendRows(require(trained, DENSE + "mask.bias", k + 1), added, 1, null, 0, 1).toArray();
        float ln2 = (float) Math.log(2);
        for (int i = 0; i < added; i++) {
            maskBias[1 + i] -= ln2;
            maskBias[k + 1 + i] -= ln2;
        }
        out.put(DENSE + "mask.bias", Tensor.of(maskBias, k + 1 + added));
        if (trained.contains(DENSE + "occlusion.weight")) {
            Tensor occ = trained.get(DENSE + "occlusion.weight");
            out.put(DENSE + "occlusion.weight", splitInputGroups(occ, occ.shape()[1] - x, x, k, added, group));
        }
        return StateDict.of(out);
    }

    private static Tensor require(StateDict d, String name, int rows) {
        if (!d.contains(name)) {
            throw new IllegalArgumentException("cannot split keypoints: the trained model lacks " + name);
        }
        Tensor t = d.get(name);
        if (rows >= 0 && t.shape()[0] != rows) {
            throw new IllegalArgumentException("cannot split keypoints: " + name + " has " + t.shape()[0]
                    + " output channels, the config's keypoints give " + rows);
        }
        return t;
    }

    /** Keypoint {@code i}'s block of {@code per} rows appended for each new keypoint, rows starting at 0. */
    private static Tensor appendRows(Tensor t, int added, int per, Random rng, double jitter) {
        return appendRows(t, added, per, rng, jitter, 0);
    }

    /**
     * {@code t} ({@code [rows, ...]}) with, for new keypoint {@code i < added}, a copy of the {@code per}
     * rows of keypoint {@code i} (which start at row {@code offset + i * per}) appended.
     */
    private static Tensor appendRows(Tensor t, int added, int per, Random rng, double jitter, int offset) {
        int[] shape = t.shape().clone();
        int rows = shape[0];
        int rowLen = t.size() / shape[0];
        float[] v = t.toArray();
        float[] w = Arrays.copyOf(v, v.length + added * per * rowLen);
        for (int i = 0; i < added; i++) {
            int src = (offset + i * per) * rowLen, dst = (rows + i * per) * rowLen;
            System.arraycopy(v, src, w, dst, per * rowLen);
            if (rng != null && jitter > 0) {
                double mean = 0, sq = 0;
                for (int j = 0; j < per * rowLen; j++) {
                    mean += v[src + j];
                }
                mean /= per * rowLen;
                for (int j = 0; j < per * rowLen; j++) {
                    sq += (v[src + j] - mean) * (v[src + j] - mean);
                }
                double sd = Math.sqrt(sq / (per * rowLen));
                for (int j = 0; j < per * rowLen; j++) {
                    w[dst + j] += (float) (rng.nextGaussian() * jitter * sd);
                }
            }
        }
        shape[0] += added * per;
        return Tensor.of(w, shape);
    }

    /**
     * A conv {@code [out, in, kh, kw]} whose inputs {@code xStart .. xStart + x} are the hourglass input:
     * groups {@code 1 .. added} (keypoints {@code 0 .. added-1}) halved, and their halves appended as the new
     * groups after the input (at the end of the input channels, which the input is).
     */
    private static Tensor splitInputGroups(Tensor t, int xStart, int x, int k, int added, int group) {
        int[] s = t.shape();
        if (s.length != 4 || xStart < 0 || xStart + x != s[1]) {
            throw new IllegalArgumentException("cannot split keypoints: a conv reading the dense motion input has shape "
                    + Arrays.toString(s) + ", expected " + x + " input channels last");
        }
        int kk = s[2] * s[3], in = s[1], newIn = in + added * group;
        float[] v = t.toArray();
        float[] w = new float[s[0] * newIn * kk];
        for (int o = 0; o < s[0]; o++) {
            System.arraycopy(v, o * in * kk, w, o * newIn * kk, in * kk);
            for (int i = 0; i < added; i++) {
                int srcCh = xStart + (1 + i) * group, dstCh = in + i * group;
                for (int j = 0; j < group * kk; j++) {
                    float half = v[(o * in + srcCh) * kk + j] * 0.5f;
                    w[(o * newIn + srcCh) * kk + j] = half;
                    w[(o * newIn + dstCh) * kk + j] = half;
                }
            }
        }
        return Tensor.of(w, s[0], newIn, s[2], s[3]);
    }
}
