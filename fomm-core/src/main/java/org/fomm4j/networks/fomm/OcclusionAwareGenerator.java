package org.fomm4j.networks.fomm;

import java.util.ArrayList;
import java.util.List;
import org.fomm4j.config.FommConfig;
import org.fomm4j.kernels.Activation;
import org.fomm4j.kernels.Conv2d;
import org.fomm4j.kernels.ConvSpec;
import org.fomm4j.kernels.Kernels;
import org.fomm4j.nn.DownBlock2d;
import org.fomm4j.nn.Layers;
import org.fomm4j.nn.Warps;
import org.fomm4j.nn.Norm;
import org.fomm4j.nn.ResBlock2d;
import org.fomm4j.nn.SameBlock2d;
import org.fomm4j.nn.UpBlock2d;
import org.fomm4j.tensor.Tensor;
import org.fomm4j.weights.WeightReader;

/**
 * FOMM occlusion-aware generator ({@code modules/generator.py: OcclusionAwareGenerator}): encodes
 * the source ({@code first}, down blocks), warps the features by the dense motion's deformation
 * ({@code grid_sample}, {@code align_corners=False}, the deformation resized bilinearly when the
 * resolutions differ), multiplies by the occlusion map, then bottleneck ResBlocks, up blocks,
 * {@code final} 7x7 conv and sigmoid.
 *
 * <p>The source side ({@link #encodeSource}) does not depend on the driving frame: the animation
 * computes it once and {@link #generate} reuses it for every frame.
 * Tensors under {@code generator.}: {@code first.*}, {@code down_blocks.i.*}, {@code up_blocks.i.*},
 * {@code bottleneck.rI.*}, {@code final.*}, {@code dense_motion_network.*}.
 */
public final class OcclusionAwareGenerator {
    /** Source-side values reused for every driving frame. */
    public record SourceFeatures(Tensor source, Tensor encoded, Tensor denseMotionSource) {
    }

    /**
     * @param prediction {@code [N, C, H, W]} in {@code (0, 1)}
     * @param deformed   the source image warped by the deformation {@code [N, C, H, W]}, or {@code null} if not asked for
     * @param denseMotion the dense motion network's outputs, or {@code null} without a dense motion network
     */
    public record Output(Tensor prediction, Tensor deformed, DenseMotionNetwork.Output denseMotion) {
    }

    private final Kernels k;
    private final DenseMotionNetwork denseMotion;
    private final SameBlock2d first;
    private final List<DownBlock2d> downBlocks = new ArrayList<>();
    private final List<UpBlock2d> upBlocks = new ArrayList<>();
    private final List<ResBlock2d> bottleneck = new ArrayList<>();
    private final Conv2d last;

    public OcclusionAwareGenerator(Kernels k, WeightReader r, FommConfig c) {
        this.k = k;
        FommConfig.Generator g = c.generator();
        int be = g.blockExpansion(), mf = g.maxFeatures(), nd = g.numDownBlocks();
        this.denseMotion = g.denseMotion() != null ? new DenseMotionNetwork(k, r.sub("dense_motion_network"), c) : null;
        this.first = new SameBlock2d(k, r.sub("first"), c.numChannels(), be, 7, 3, Norm.BATCH);
        for (int i = 0; i < nd; i++) {
            downBlocks.add(new DownBlock2d(k, r.sub("down_blocks").sub(Integer.toString(i)),
                    Math.min(mf, be << i), Math.min(mf, be << (i + 1)), Norm.BATCH));
        }
        for (int i = 0; i < nd; i++) {
            upBlocks.add(new UpBlock2d(k, r.sub("up_blocks").sub(Integer.toString(i)),
                    Math.min(mf, be << (nd - i)), Math.min(mf, be << (nd - i - 1)), Norm.BATCH));
        }
        int bf = Math.min(mf, be << nd);
        for (int i = 0; i < g.numBottleneckBlocks(); i++) {
            bottleneck.add(new ResBlock2d(k, r.sub("bottleneck").sub("r" + i), bf, 3, 1, Norm.BATCH));
        }
        this.last = Layers.conv(k, r.sub("final"), ConvSpec.of(be, c.numChannels(), 7, 3));
    }

    /** @param source {@code [N, C, H, W]} in {@code [0, 1]} */
    public SourceFeatures encodeSource(Tensor source) {
        Tensor out = first.forward(source);
        for (DownBlock2d d : downBlocks) {
            out = d.forward(out);
        }
        Tensor dm = denseMotion != null ? denseMotion.prepareSource(source) : null;
        return new SourceFeatures(source, out, dm);
    }

    /**
     * Generates the frame for one set of driving keypoints.
     *
     * @param keepDeformed also warp the full-size source image (an output for inspection; costs a
     *                     full-resolution {@code grid_sample})
     */
    public Output generate(SourceFeatures src, Keypoints kpDriving, Keypoints kpSource, boolean keepDeformed) {
        Tensor out = src.encoded();
        DenseMotionNetwork.Output dm = null;
        Tensor deformed = null;
        if (denseMotion != null) {
            dm = denseMotion.forward(src.denseMotionSource(), kpDriving, kpSource);
            out = deform(out, dm.deformation());
            if (dm.occlusionMap() != null) {
                Tensor occ = dm.occlusionMap();
                if (occ.dim(2) != out.dim(2) || occ.dim(3) != out.dim(3)) {
                    occ = k.resizeBilinear(occ, out.dim(2), out.dim(3), false);
                }
                out = k.multiplyByMap(out, occ);
            }
            if (keepDeformed) {
                deformed = deform(src.source(), dm.deformation());
            }
        }
        for (ResBlock2d r : bottleneck) {
            out = r.forward(out);
        }
        for (UpBlock2d u : upBlocks) {
            out = u.forward(out);
        }
        Tensor prediction = last.apply(out, Activation.SIGMOID);
        return new Output(prediction, deformed, dm);
    }

    private Tensor deform(Tensor input, Tensor deformation) {
        return Warps.deform(k, input, deformation, false);
    }
}
