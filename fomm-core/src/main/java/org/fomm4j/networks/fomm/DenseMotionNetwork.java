package org.fomm4j.networks.fomm;

import org.fomm4j.tensor.FrameArena;
import org.fomm4j.config.FommConfig;
import org.fomm4j.kernels.Activation;
import org.fomm4j.kernels.Conv2d;
import org.fomm4j.kernels.ConvSpec;
import org.fomm4j.kernels.CoordinateGrid;
import org.fomm4j.kernels.Kernels;
import org.fomm4j.nn.AntiAliasInterpolation2d;
import org.fomm4j.nn.Heatmaps;
import org.fomm4j.nn.Hourglass;
import org.fomm4j.nn.Layers;
import org.fomm4j.nn.Warps;
import org.fomm4j.tensor.Tensor;
import org.fomm4j.weights.WeightReader;

/**
 * FOMM dense motion network ({@code modules/dense_motion.py: DenseMotionNetwork}), on the source
 * downsampled by {@code scale_factor} ({@code h x w}, e.g. 64x64):
 * <ol>
 *   <li>heatmap representation: Gaussians ({@code kp_variance}) at the driving keypoints minus those at
 *       the source keypoints, plus a zero background channel;</li>
 *   <li>sparse motions: identity plus, per keypoint, the first-order expansion
 *       {@code T(z) = kp_s + J_s J_d^-1 (z - kp_d)} (paper eq. 4);</li>
 *   <li>sparse deformed: the source warped by each of the K+1 motions ({@code grid_sample},
 *       {@code align_corners=False});</li>
 *   <li>an hourglass on {@code [heatmap_k, deformed_k]} for k = 0..K, then softmax masks (7x7 conv),
 *       their mix of the motions into the deformation, and the occlusion map (7x7 conv, sigmoid).</li>
 * </ol>
 * Tensors under {@code generator.dense_motion_network.}: {@code hourglass.*}, {@code mask.*},
 * {@code occlusion.*}, {@code down.weight}.
 */
public final class DenseMotionNetwork {
    /**
     * @param sparseDeformed {@code [N, K+1, C, h, w]}
     * @param mask           {@code [N, K+1, h, w]} softmax over regions
     * @param deformation    {@code [N, h, w, 2]} backward flow: where each output pixel samples the source, {@code (x, y)} in {@code [-1, 1]}
     * @param occlusionMap   {@code [N, 1, h, w]} in {@code (0, 1)}, or {@code null}
     */
    public record Output(Tensor sparseDeformed, Tensor mask, Tensor deformation, Tensor occlusionMap) {
    }

    private final Kernels k;
    private final AntiAliasInterpolation2d down;
    private final Hourglass hourglass;
    /** {@code mask} and {@code occlusion} fused: one 7x7 conv over the hourglass output. */
    private final Conv2d heads;
    private final boolean hasOcclusion;
    private final int numKp;
    private final int numChannels;
    private final float kpVariance;
    /** The source keypoints are the same every frame: their Gaussians are computed once. */
    private final Heatmaps.SourceCache sourceHeatmaps = new Heatmaps.SourceCache();

    public DenseMotionNetwork(Kernels k, WeightReader r, FommConfig c) {
        this.k = k;
        FommConfig.DenseMotion p = c.generator().denseMotion();
        this.numKp = c.numKp();
        this.numChannels = c.numChannels();
        this.kpVariance = (float) p.kpVariance();
        this.hourglass = new Hourglass(k, r.sub("hourglass"), p.blockExpansion(), (numKp + 1) * (numChannels + 1),
                p.numBlocks(), p.maxFeatures());
        int f = hourglass.outFilters();
        this.hasOcclusion = c.generator().estimateOcclusionMap();
        this.heads = hasOcclusion
                ? Layers.convConcat(k, f, 7, 3, new WeightReader[] {r.sub("mask"), r.sub("occlusion")}, new int[] {numKp + 1, 1})
                : Layers.conv(k, r.sub("mask"), ConvSpec.of(f, numKp + 1, 7, 3));
        this.down = p.scaleFactor() != 1.0 ? new AntiAliasInterpolation2d(k, r.sub("down"), numChannels, p.scaleFactor()) : null;
    }

    /** The source as this network sees it (downsampled): depends on the source only, so callers cache it. */
    public Tensor prepareSource(Tensor sourceImage) {
        return down != null ? down.forward(sourceImage) : sourceImage;
    }

    /**
     * @param source     the output of {@link #prepareSource} {@code [N, C, h, w]}
     * @param kpDriving  keypoints of the driving frame (normalized by the animation mode)
     * @param kpSource   keypoints of the source
     */
    public Output forward(Tensor source, Keypoints kpDriving, Keypoints kpSource) {
        int n = source.dim(0), h = source.dim(2), w = source.dim(3), hw = h * w;
        if (kpDriving.count() != numKp || kpSource.count() != numKp) {
            throw new IllegalArgumentException("dense motion expects " + numKp + " keypoints");
        }
        Tensor affine = null;
        if (kpDriving.jacobian() != null && kpSource.jacobian() != null) {
            affine = Jacobians.matmul(kpSource.jacobian(), Jacobians.inverse(kpDriving.jacobian()));
        }
        Tensor sparseMotion = k.taylorMotions(kpDriving.value(), kpSource.value(), affine, h, w);

        int m = numKp + 1, c = numChannels;
        Tensor deformed = Warps.sampleEach(k, source, sparseMotion, false);
        float[] def = deformed.data();

        float[] gd = Heatmaps.gaussians(kpDriving.value(), h, w, kpVariance);
        float[] gs = sourceHeatmaps.gaussians(kpSource.value(), h, w, kpVariance);
        float[] input = FrameArena.zeros(n * m * (c + 1) * hw);
        for (int b = 0; b < n; b++) {
            for (int r = 0; r < m; r++) {
                int base = ((b * m + r) * (c + 1)) * hw;
                if (r > 0) {
                    int g = (b * numKp + r - 1) * hw;
                    for (int i = 0; i < hw; i++) {
                        input[base + i] = gd[g + i] - gs[g + i];
                    }
                }
                System.arraycopy(def, (b * m + r) * c * hw, input, base + hw, c * hw);
            }
        }
        Tensor prediction = hourglass.forward(Tensor.of(input, n, m * (c + 1), h, w));
        Tensor headOut = heads.apply(prediction, Activation.NONE);
        Tensor masks = k.softmaxChannels(hasOcclusion ? headOut.channels(0, m) : headOut);
        Tensor deformation = k.mixMotions(masks, sparseMotion);
        Tensor occ = hasOcclusion ? k.sigmoid(headOut.channels(m, 1)) : null;
        return new Output(deformed, masks, deformation, occ);
    }
}
