package org.fomm4j.networks.fomm;

import org.fomm4j.config.FommConfig;
import org.fomm4j.kernels.Activation;
import org.fomm4j.kernels.Conv2d;
import org.fomm4j.kernels.ConvSpec;
import org.fomm4j.kernels.CoordinateGrid;
import org.fomm4j.kernels.Kernels;
import org.fomm4j.nn.AntiAliasInterpolation2d;
import org.fomm4j.nn.Hourglass;
import org.fomm4j.nn.Layers;
import org.fomm4j.tensor.Tensor;
import org.fomm4j.weights.WeightReader;

/**
 * FOMM keypoint detector ({@code modules/keypoint_detector.py: KPDetector}): anti-aliased
 * downsampling by {@code scale_factor}, hourglass, a 7x7 conv to K heatmaps, softmax over space with
 * the temperature, keypoints as the heatmap-weighted mean of the coordinate grid (eq. 2 of the
 * paper), and jacobians as heatmap-weighted means of the 4-channel jacobian maps.
 * Tensors under {@code kp_detector.}: {@code predictor.*}, {@code kp.*}, {@code jacobian.*},
 * {@code down.weight}.
 */
public final class KpDetector {
    /** Outputs and the intermediates the parity fixtures hold. */
    public record Result(Keypoints keypoints, Tensor downsampledInput, Tensor featureMap, Tensor rawHeatmap) {
    }

    private final Kernels k;
    private final AntiAliasInterpolation2d down;
    private final Hourglass predictor;
    /** {@code kp} and {@code jacobian} fused: one 7x7 conv over the feature map, heatmaps first. */
    private final Conv2d heads;
    private final int numKp;
    private final int numJacobianMaps;
    private final float temperature;

    public KpDetector(Kernels k, WeightReader r, FommConfig c) {
        this.k = k;
        FommConfig.KpDetector p = c.kpDetector();
        this.numKp = c.numKp();
        this.temperature = (float) p.temperature();
        this.predictor = new Hourglass(k, r.sub("predictor"), p.blockExpansion(), c.numChannels(), p.numBlocks(),
                p.maxFeatures());
        int f = predictor.outFilters();
        if (c.estimateJacobian()) {
            this.numJacobianMaps = p.singleJacobianMap() ? 1 : numKp;
            this.heads = Layers.convConcat(k, f, 7, p.pad(), new WeightReader[] {r.sub("kp"), r.sub("jacobian")},
                    new int[] {numKp, 4 * numJacobianMaps});
        } else {
            this.numJacobianMaps = 0;
            this.heads = Layers.conv(k, r.sub("kp"), ConvSpec.of(f, numKp, 7, p.pad()));
        }
        this.down = p.scaleFactor() != 1.0 ? new AntiAliasInterpolation2d(k, r.sub("down"), c.numChannels(), p.scaleFactor()) : null;
    }

    /**
     * @param image {@code [N, C, H, W]}, values in {@code [0, 1]}
     * @return keypoints {@code [N, K, 2]} and jacobians {@code [N, K, 2, 2]}
     */
    public Keypoints detect(Tensor image) {
        return detectWithIntermediates(image).keypoints();
    }

    public Result detectWithIntermediates(Tensor image) {
        Tensor x = down != null ? down.forward(image) : image;
        Tensor feature = predictor.forward(x);
        Tensor headOut = heads.apply(feature, Activation.NONE);
        Tensor raw = numJacobianMaps > 0 ? headOut.channels(0, numKp) : headOut;
        Tensor heat = k.softmaxSpatial(raw, temperature);
        int n = heat.dim(0), h = heat.dim(2), w = heat.dim(3), hw = h * w;
        float[] hm = heat.data();
        float[] gx = CoordinateGrid.axis(w), gy = CoordinateGrid.axis(h);
        float[] value = new float[n * numKp * 2];
        for (int p = 0; p < n * numKp; p++) {
            double sx = 0, sy = 0;
            for (int y = 0; y < h; y++) {
                for (int xx = 0; xx < w; xx++) {
                    float v = hm[p * hw + y * w + xx];
                    sx += v * gx[xx];
                    sy += v * gy[y];
                }
            }
            value[p * 2] = (float) sx;
            value[p * 2 + 1] = (float) sy;
        }
        Tensor jac = null;
        if (numJacobianMaps > 0) {
            float[] jm = headOut.channels(numKp, 4 * numJacobianMaps).data();
            float[] j = new float[n * numKp * 4];
            for (int b = 0; b < n; b++) {
                for (int kp = 0; kp < numKp; kp++) {
                    int map = numJacobianMaps == 1 ? 0 : kp;
                    int hBase = (b * numKp + kp) * hw;
                    for (int e = 0; e < 4; e++) {
                        int jBase = ((b * numJacobianMaps + map) * 4 + e) * hw;
                        double s = 0;
                        for (int i = 0; i < hw; i++) {
                            s += hm[hBase + i] * jm[jBase + i];
                        }
                        j[(b * numKp + kp) * 4 + e] = (float) s;
                    }
                }
            }
            jac = Tensor.of(j, n, numKp, 2, 2);
        }
        return new Result(new Keypoints(Tensor.of(value, n, numKp, 2), jac), x, feature, raw);
    }
}
