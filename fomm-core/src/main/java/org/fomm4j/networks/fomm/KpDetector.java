package org.fomm4j.networks.fomm;

import org.fomm4j.config.FommConfig;
import org.fomm4j.kernels.Activation;
import org.fomm4j.kernels.Conv2d;
import org.fomm4j.kernels.ConvSpec;
import org.fomm4j.kernels.ConvWeightGradient;
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
 * paper), and jacobians as heatmap-weighted means of the 4-channel jacobian maps. Those are computed without the
 * maps: the mean of a 7x7 convolution weighted by a heatmap is the convolution's weights applied to the
 * heatmap-weighted mean of the feature patches ({@code J = W . sum_p H(p) F(p + tap) + b sum_p H(p)}), so the
 * {@code 4K}-channel 7x7 convolution over every position becomes one correlation of the K heatmaps with the
 * features (4 times fewer multiply-adds) and a dot product per jacobian entry; equal up to float32 summation order.
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
    /** The {@code kp} 7x7 conv: K heatmap logits. */
    private final Conv2d heads;
    /** {@code jacobian.weight [4 M, F, 7, 7]} and {@code jacobian.bias [4 M]} (M jacobian maps), or {@code null}. */
    private final float[] jacobianWeight;
    private final float[] jacobianBias;
    private final int featureChannels;
    private final int pad;
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
        this.featureChannels = f;
        this.pad = p.pad();
        this.heads = Layers.conv(k, r.sub("kp"), ConvSpec.of(f, numKp, 7, p.pad()));
        if (c.estimateJacobian()) {
            this.numJacobianMaps = p.singleJacobianMap() ? 1 : numKp;
            WeightReader j = r.sub("jacobian");
            this.jacobianWeight = j.take("weight", 4 * numJacobianMaps, f, 7, 7);
            this.jacobianBias = j.take("bias", 4 * numJacobianMaps);
        } else {
            this.numJacobianMaps = 0;
            this.jacobianWeight = null;
            this.jacobianBias = null;
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
        Tensor raw = heads.apply(feature, Activation.NONE);
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
        Tensor jac = numJacobianMaps > 0
                ? jacobians(hm, feature.toHeap().data(), n, feature.dim(2), feature.dim(3), h, w) : null;
        return new Result(new Keypoints(Tensor.of(value, n, numKp, 2), jac), x, feature, raw);
    }

    /**
     * Jacobians {@code [N, K, 2, 2]} from the heatmaps {@code hm [N, K, oh, ow]} (softmax, each summing to 1 up to
     * rounding) and the feature map {@code [N, F, fh, fw]} ({@code oh = fh + 2 pad - 6}): per keypoint the heatmap-weighted feature patches
     * {@code P[i, ky, kx] = sum_p H(p) F_i(p + (ky, kx) - pad)} (zero padding), then {@code J[e] = W[r] . P + b[r]
     * sum_p H(p)} with {@code r = 4 m + e} for jacobian map {@code m}; as {@code training.autograd.MotionOps.jacobianHead}.
     */
    private Tensor jacobians(float[] hm, float[] features, int n, int fh, int fw, int oh, int ow) {
        int plane = oh * ow, taps = featureChannels * 49, fPlane = featureChannels * fh * fw;
        float[] patches = new float[numKp * taps];
        float[] j = new float[n * numKp * 4];
        for (int s = 0; s < n; s++) {
            float[] f = java.util.Arrays.copyOfRange(features, s * fPlane, (s + 1) * fPlane);
            float[] hs = java.util.Arrays.copyOfRange(hm, s * numKp * plane, (s + 1) * numKp * plane);
            java.util.Arrays.fill(patches, 0f);
            ConvWeightGradient.accumulate(k, f, hs, patches, 1, featureChannels, fh, fw, numKp, 7, pad, oh, ow);
            for (int kk = 0; kk < numKp; kk++) {
                double mass = 0;
                for (int p = 0; p < plane; p++) {
                    mass += hs[kk * plane + p];
                }
                int map = numJacobianMaps == 1 ? 0 : kk;
                for (int e = 0; e < 4; e++) {
                    int r = map * 4 + e;
                    double acc = jacobianBias[r] * mass;
                    for (int q = 0; q < taps; q++) {
                        acc += (double) jacobianWeight[r * taps + q] * patches[kk * taps + q];
                    }
                    j[(s * numKp + kk) * 4 + e] = (float) acc;
                }
            }
        }
        return Tensor.of(j, n, numKp, 2, 2);
    }
}
