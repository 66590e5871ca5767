package org.fomm4j.networks.fomm;

import org.fomm4j.config.FommConfig;
import org.fomm4j.kernels.Activation;
import org.fomm4j.kernels.Conv2d;
import org.fomm4j.kernels.ConvSpec;
import org.fomm4j.kernels.CoordinateGrid;
import org.fomm4j.kernels.Kernels;
import org.fomm4j.nn.AntiAliasInterpolation2d;
import org.fomm4j.nn.Hourglass;
import org.fomm4j.nn.JacobianHead;
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

    /** Jacobians {@code [N, K, 2, 2]} from the heatmaps {@code [N, K, oh, ow]} and the features {@code [N, F, fh, fw]}. */
    private Tensor jacobians(float[] hm, float[] features, int n, int fh, int fw, int oh, int ow) {
        double[] mass = new double[n * numKp];
        float[] patches = JacobianHead.patches(k, hm, features, n, numKp, featureChannels, fh, fw, 7, pad, oh, ow, mass);
        float[] j = JacobianHead.jacobians(patches, mass, jacobianWeight, jacobianBias, n, numKp, featureChannels * 49,
                numJacobianMaps == 1);
        return Tensor.of(j, n, numKp, 2, 2);
    }
}
