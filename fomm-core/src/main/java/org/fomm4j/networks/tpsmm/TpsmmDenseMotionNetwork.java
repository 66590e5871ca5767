package org.fomm4j.networks.tpsmm;

import org.fomm4j.tensor.FrameArena;
import java.util.ArrayList;
import java.util.List;
import org.fomm4j.config.TpsmmConfig;
import org.fomm4j.kernels.Activation;
import org.fomm4j.kernels.Conv2d;
import org.fomm4j.kernels.ConvSpec;
import org.fomm4j.kernels.CoordinateGrid;
import org.fomm4j.kernels.Kernels;
import org.fomm4j.nn.AntiAliasInterpolation2d;
import org.fomm4j.nn.Heatmaps;
import org.fomm4j.nn.Hourglass;
import org.fomm4j.nn.Layers;
import org.fomm4j.nn.Norm;
import org.fomm4j.nn.UpBlock2d;
import org.fomm4j.nn.Warps;
import org.fomm4j.tensor.Tensor;
import org.fomm4j.weights.WeightReader;

/**
 * TPSMM dense motion network ({@code modules/dense_motion.py}), on the source downsampled by
 * {@code scale_factor} ({@code h x w}): heatmap differences of the {@code K * 5} keypoints (plus a
 * zero channel), K TPS transforms plus the background (identity, or the background affine in
 * homogeneous coordinates), the source warped by each ({@code grid_sample}, {@code align_corners=True}),
 * an InstanceNorm hourglass, softmax contribution maps mixing the transforms into the deformation
 * (paper eq. 6) and multi-resolution occlusion masks (4 of them with {@code multi_mask}: two from the
 * last two decoder levels, two after extra up blocks). Tensors under {@code dense_motion_network.}.
 */
public final class TpsmmDenseMotionNetwork {
    /**
     * @param deformedSource   {@code [N, K+1, C, h, w]}
     * @param contributionMaps {@code [N, K+1, h, w]}
     * @param deformation      {@code [N, h, w, 2]}, sampling grid into the source, {@code (x, y)} in {@code [-1, 1]}
     * @param occlusionMaps    {@code [N, 1, h_i, w_i]} from coarse to fine (4 with multi_mask: h/2 .. 4h)
     */
    public record Output(Tensor deformedSource, Tensor contributionMaps, Tensor deformation, List<Tensor> occlusionMaps) {
    }

    private static final int OCCLUSION_NUM = 4;

    private final Kernels k;
    private final AntiAliasInterpolation2d down;
    private final Hourglass hourglass;
    private final Conv2d maps;
    private final List<UpBlock2d> up = new ArrayList<>();
    private final List<Conv2d> occlusion = new ArrayList<>();
    private final int numTps;
    private final int numChannels;
    private final int upNums;
    private final boolean multiMask;
    private final float kpVariance;
    /** The source keypoints are the same every frame: their Gaussians are computed once. */
    private final Heatmaps.SourceCache sourceHeatmaps = new Heatmaps.SourceCache();

    public TpsmmDenseMotionNetwork(Kernels k, WeightReader r, TpsmmConfig c) {
        this.k = k;
        TpsmmConfig.DenseMotion p = c.denseMotion();
        this.numTps = c.numTps();
        this.numChannels = c.numChannels();
        this.multiMask = c.multiMask();
        this.kpVariance = (float) p.kpVariance();
        this.down = p.scaleFactor() != 1.0 ? new AntiAliasInterpolation2d(k, r.sub("down"), numChannels, p.scaleFactor()) : null;
        this.hourglass = new Hourglass(k, r.sub("hourglass"), p.blockExpansion(), numChannels * (numTps + 1) + numTps * 5 + 1,
                p.numBlocks(), p.maxFeatures(), Norm.INSTANCE);
        int[] out = hourglass.decoderChannels();
        int last = out[out.length - 1];
        this.maps = Layers.conv(k, r.sub("maps"), ConvSpec.of(last, numTps + 1, 7, 3));
        if (multiMask) {
            this.upNums = (int) Math.round(Math.log(1 / p.scaleFactor()) / Math.log(2));
            for (int i = 0; i < upNums; i++) {
                up.add(new UpBlock2d(k, r.sub("up").sub(Integer.toString(i)), last >> i, (last >> i) / 2, Norm.INSTANCE));
            }
            List<Integer> channels = new ArrayList<>();
            for (int i = OCCLUSION_NUM - upNums - 1; i >= 0; i--) {
                channels.add(out[out.length - 1 - i]);
            }
            for (int i = 0; i < upNums; i++) {
                channels.add(last >> (i + 1));
            }
            for (int i = 0; i < OCCLUSION_NUM; i++) {
                occlusion.add(Layers.conv(k, r.sub("occlusion").sub(Integer.toString(i)), ConvSpec.of(channels.get(i), 1, 7, 3)));
            }
        } else {
            this.upNums = 0;
            occlusion.add(Layers.conv(k, r.sub("occlusion").sub("0"), ConvSpec.of(last, 1, 7, 3)));
        }
    }

    /** The source as this network sees it (downsampled): depends on the source only. */
    public Tensor prepareSource(Tensor sourceImage) {
        return down != null ? down.forward(sourceImage) : sourceImage;
    }

    /**
     * @param source   {@link #prepareSource} output {@code [N, C, h, w]}
     * @param kpDriving {@code [N, K*5, 2]} (normalized by the animation mode)
     * @param kpSource  {@code [N, K*5, 2]}
     * @param bgParam   {@code [N, 3, 3]} background affine, or {@code null} for the identity
     */
    public Output forward(Tensor source, Tensor kpDriving, Tensor kpSource, Tensor bgParam) {
        int n = source.dim(0), c = numChannels, h = source.dim(2), w = source.dim(3), hw = h * w, m = numTps + 1;
        int points = numTps * 5;
        kpDriving.requireShape("TPSMM driving keypoints", n, points, 2);
        kpSource.requireShape("TPSMM source keypoints", n, points, 2);

        // Transformations: background then K TPS, [N, K+1, h, w, 2].
        Tensor tps = k.tpsMotions(kpDriving, kpSource, 5, h, w);
        float[] gx = CoordinateGrid.axis(w), gy = CoordinateGrid.axis(h);
        float[] trans = FrameArena.zeros(n * m * hw * 2);
        float[] tp = tps.data();
        for (int b = 0; b < n; b++) {
            int base = b * m * hw * 2;
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    int o = base + (y * w + x) * 2;
                    if (bgParam == null) {
                        trans[o] = gx[x];
                        trans[o + 1] = gy[y];
                    } else {
                        int q = b * 9;
                        float tx = bgParam.get(q) * gx[x] + bgParam.get(q + 1) * gy[y] + bgParam.get(q + 2);
                        float ty = bgParam.get(q + 3) * gx[x] + bgParam.get(q + 4) * gy[y] + bgParam.get(q + 5);
                        float tz = bgParam.get(q + 6) * gx[x] + bgParam.get(q + 7) * gy[y] + bgParam.get(q + 8);
                        trans[o] = tx / tz;
                        trans[o + 1] = ty / tz;
                    }
                }
            }
            System.arraycopy(tp, b * numTps * hw * 2, trans, base + hw * 2, numTps * hw * 2);
        }
        Tensor transformations = Tensor.of(trans, n, m, h, w, 2);

        Tensor deformed = Warps.sampleEach(k, source, transformations, true);

        // Input: [zero, gaussian differences] then the deformed sources, region-major.
        float[] gd = Heatmaps.gaussians(kpDriving, h, w, kpVariance), gs = sourceHeatmaps.gaussians(kpSource, h, w, kpVariance);
        int inC = points + 1 + m * c;
        float[] input = FrameArena.zeros(n * inC * hw);
        float[] def = deformed.data();
        for (int b = 0; b < n; b++) {
            int base = b * inC * hw;
            for (int p = 0; p < points; p++) {
                int g = (b * points + p) * hw;
                for (int i = 0; i < hw; i++) {
                    input[base + (p + 1) * hw + i] = gd[g + i] - gs[g + i];
                }
            }
            System.arraycopy(def, b * m * c * hw, input, base + (points + 1) * hw, m * c * hw);
        }
        List<Tensor> prediction = hourglass.forwardAll(Tensor.of(input, n, inC, h, w));
        Tensor last = prediction.get(prediction.size() - 1);
        Tensor contribution = k.softmaxChannels(maps.apply(last, Activation.NONE));
        Tensor deformation = k.mixMotions(contribution, transformations);

        List<Tensor> occ = new ArrayList<>();
        if (multiMask) {
            for (int i = 0; i < OCCLUSION_NUM - upNums; i++) {
                Tensor p = prediction.get(prediction.size() + upNums - OCCLUSION_NUM + i);
                occ.add(occlusion.get(i).apply(p, Activation.SIGMOID));
            }
            Tensor p = last;
            for (int i = 0; i < upNums; i++) {
                p = up.get(i).forward(p);
                occ.add(occlusion.get(i + OCCLUSION_NUM - upNums).apply(p, Activation.SIGMOID));
            }
        } else {
            occ.add(occlusion.get(0).apply(last, Activation.SIGMOID));
        }
        return new Output(deformed, contribution, deformation, occ);
    }
}
