package org.fomm4j.training;

import java.util.ArrayList;
import java.util.List;
import org.fomm4j.config.TpsmmConfig;
import org.fomm4j.kernels.CoordinateGrid;
import org.fomm4j.kernels.GridPadding;
import org.fomm4j.training.autograd.ConvOps;
import org.fomm4j.training.autograd.GridSampleOps;
import org.fomm4j.training.autograd.LinearOps;
import org.fomm4j.training.autograd.MotionOps;
import org.fomm4j.training.autograd.NormOps;
import org.fomm4j.training.autograd.PoolOps;
import org.fomm4j.training.autograd.ResampleOps;
import org.fomm4j.training.autograd.SoftmaxOps;
import org.fomm4j.training.autograd.Tape;
import org.fomm4j.training.autograd.TensorOps;
import org.fomm4j.training.autograd.TpsOps;
import org.fomm4j.training.autograd.Var;

/**
 * TPSMM's {@code KPDetector}, {@code BGMotionPredictor}, {@code DenseMotionNetwork} and
 * {@code InpaintingNetwork} as differentiable graphs over {@link Parameters}, in training mode: the two
 * ResNet-18s normalize with the batch's statistics and move their running statistics by 0.1; every other
 * normalization is an {@code InstanceNorm2d(affine=True)}. Structure and parameter names follow the
 * reference ({@code modules/keypoint_detector.py}, {@code bg_motion_predictor.py}, {@code dense_motion.py},
 * {@code inpainting_network.py}, {@code util.py}; torchvision {@code resnet18}). Images {@code [N, 3, H, W]}
 * in {@code [0, 1]}; keypoints {@code (x, y)} in {@code [-1, 1]}; grids sampled with {@code align_corners=True}.
 */
public final class TpsmmTrainingModel {
    static final double MOMENTUM = 0.1;
    static final double EPS = 1e-5;
    /** Keypoints per thin-plate spline. */
    public static final int POINTS_PER_TPS = 5;

    private final TpsmmConfig config;
    private final Parameters p;

    public TpsmmTrainingModel(TpsmmConfig config, Parameters parameters) {
        this.config = config;
        this.p = parameters;
    }

    public TpsmmConfig config() {
        return config;
    }

    public Parameters parameters() {
        return p;
    }

    /**
     * {@code DenseMotionNetwork.forward}'s outputs at the motion resolution {@code h x w}:
     * {@code deformedSource [N, K+1, C, h, w]}, {@code contributionMaps [N, K+1, h, w]}, {@code deformation
     * [N, h, w, 2]}, and the occlusion masks from the coarsest to the finest resolution ({@code [N, 1, ., .]}).
     */
    public record DenseMotion(Var deformedSource, Var contributionMaps, Var deformation, List<Var> occlusion) {
    }

    /**
     * {@code InpaintingNetwork.forward}'s outputs: {@code prediction [N, 3, H, W]}, {@code deformed} (the source
     * warped by the deformation), and {@code warpedEncoderMaps}: the warped, occluded encoder features
     * computed from detached features and masks (only the deformation carries a gradient), coarsest first.
     */
    public record Generated(Var prediction, Var deformed, List<Var> warpedEncoderMaps) {
    }

    /** {@code KPDetector.forward}: ResNet-18, {@code sigmoid * 2 - 1}: {@code [N, K*5, 2]}. */
    public Var kpDetector(Tape t, Var image) {
        Var raw = resnet18(t, "kp_detector.fg_encoder", image);
        Var kp = TensorOps.affine(t, TensorOps.sigmoid(t, raw), 2f, -1f);
        return TensorOps.reshape(t, kp, image.dim(0), config.numTps() * POINTS_PER_TPS, 2);
    }

    /**
     * {@code BGMotionPredictor.forward(source, driving)}: the first two rows of the background affine,
     * {@code [N, 6]} ({@code a, b, c, d, e, f} of {@code [[a, b, c], [d, e, f], [0, 0, 1]]}).
     */
    public Var bgPredictor(Tape t, Var source, Var driving) {
        return resnet18(t, "bg_predictor.bg_encoder", TensorOps.concat(t, 1, source, driving));
    }

    /**
     * {@code DenseMotionNetwork.forward}.
     *
     * @param bg   {@code [N, 6]} background affine, or {@code null} for the identity
     * @param keep {@code [N, K+1]} TPS dropout keep mask ({@link SoftmaxOps#channelsDropout}), or {@code null}
     *             for a plain softmax
     */
    public DenseMotion denseMotion(Tape t, Var source, Var kpDriving, Var kpSource, Var bg, float[] keep) {
        TpsmmConfig.DenseMotion c = config.denseMotion();
        String pre = "dense_motion_network";
        Var src = ResampleOps.antiAlias(t, source, c.scaleFactor(), p.antiAliasKernel(pre + ".down.weight", c.scaleFactor()));
        int n = src.dim(0), ch = src.dim(1), h = src.dim(2), w = src.dim(3), k = config.numTps();
        Var gd = MotionOps.gaussians(t, kpDriving, h, w, (float) c.kpVariance());
        Var gs = MotionOps.gaussians(t, kpSource, h, w, (float) c.kpVariance());
        Var heat = TensorOps.concat(t, 1, Var.constant(new float[n * h * w], n, 1, h, w), TensorOps.sub(t, gd, gs));
        Var tps = TpsOps.motions(t, kpDriving, kpSource, POINTS_PER_TPS, h, w);
        Var identity = bg != null ? TpsOps.affineGrid(t, bg, h, w) : Var.constant(identityGrid(n, h, w), n, 1, h, w, 2);
        Var transformations = TensorOps.concat(t, 1, identity, tps);
        Var grids = TensorOps.reshape(t, transformations, n * (k + 1), h, w, 2);
        Var deformed = GridSampleOps.gridSample(t, src, grids, GridPadding.ZEROS, true);
        Var deformedSource = TensorOps.reshape(t, deformed, n, k + 1, ch, h, w);
        Var input = TensorOps.concat(t, 1, heat, TensorOps.reshape(t, deformed, n, (k + 1) * ch, h, w));
        List<Var> prediction = hourglass(t, pre + ".hourglass", input, c.numBlocks());
        Var logits = conv(t, pre + ".maps", last(prediction), 3);
        Var maps = keep != null ? SoftmaxOps.channelsDropout(t, logits, keep) : SoftmaxOps.channels(t, logits);
        Var deformation = MotionOps.mixMotions(t, maps, transformations);
        List<Var> occlusion = new ArrayList<>();
        if (config.multiMask()) {
            int upNums = (int) Math.round(Math.log(1 / c.scaleFactor()) / Math.log(2)), occlusionNum = 4;
            for (int i = 0; i < occlusionNum - upNums; i++) {
                Var features = prediction.get(prediction.size() + upNums - occlusionNum + i);
                occlusion.add(TensorOps.sigmoid(t, conv(t, pre + ".occlusion." + i, features, 3)));
            }
            Var features = last(prediction);
            for (int i = 0; i < upNums; i++) {
                features = upBlock(t, pre + ".up." + i, features);
                occlusion.add(TensorOps.sigmoid(t, conv(t, pre + ".occlusion." + (i + occlusionNum - upNums), features, 3)));
            }
        } else {
            occlusion.add(TensorOps.sigmoid(t, conv(t, pre + ".occlusion.0", last(prediction), 3)));
        }
        return new DenseMotion(deformedSource, maps, deformation, occlusion);
    }

    /** {@code InpaintingNetwork.forward(source, dense_motion)}. */
    public Generated inpainting(Tape t, Var source, DenseMotion dm) {
        String pre = "inpainting_network";
        int d = config.generator().numDownBlocks();
        Var out = sameBlock(t, pre + ".first", source);
        List<Var> encoder = new ArrayList<>();
        encoder.add(out);
        for (int i = 0; i < d; i++) {
            out = downBlock(t, pre + ".down_blocks." + i, out);
            encoder.add(out);
        }
        Var deformation = dm.deformation();
        List<Var> occ = dm.occlusion();
        Var outIj = occlude(t, deform(t, detach(out), deformation), detach(occ.get(0)));
        out = occlude(t, deform(t, out, deformation), occ.get(0));
        List<Var> warped = new ArrayList<>();
        warped.add(outIj);
        Var encodeI = null;
        for (int i = 0; i < d; i++) {
            out = resBlock(t, pre + ".resblock." + (2 * i), out);
            out = resBlock(t, pre + ".resblock." + (2 * i + 1), out);
            out = upBlock(t, pre + ".up_blocks." + i, out);
            Var e = encoder.get(encoder.size() - (i + 2));
            int oi = config.multiMask() ? i + 1 : 0;
            Var encodeIj = occlude(t, deform(t, detach(e), deformation), detach(occ.get(oi)));
            encodeI = occlude(t, deform(t, e, deformation), occ.get(oi));
            warped.add(encodeIj);
            if (i == d - 1) {
                break;
            }
            out = TensorOps.concat(t, 1, out, encodeI);
        }
        Var deformedSource = deform(t, source, deformation);
        Var occLast = last(occ);
        if (!config.multiMask()) {
            occLast = ResampleOps.resizeBilinear(t, occLast, out.dim(2), out.dim(3), true);
        }
        Var inverse = TensorOps.affine(t, occLast, -1f, 1f);
        out = TensorOps.add(t, TensorOps.mulMap(t, out, inverse), encodeI);
        out = TensorOps.sigmoid(t, conv(t, pre + ".final", out, 3));
        out = TensorOps.add(t, TensorOps.mulMap(t, out, inverse), TensorOps.mulMap(t, deformedSource, occLast));
        return new Generated(out, deformedSource, warped);
    }

    /**
     * {@code InpaintingNetwork.get_encode(driving, occlusion)}: the encoder's features of the driving frame,
     * occluded, finest first; constants (the reference detaches all of them).
     */
    public List<Var> encode(Var driving, List<Var> occlusion) {
        Tape scratch = new Tape();
        String pre = "inpainting_network";
        Var out = detach(sameBlock(scratch, pre + ".first", driving));
        List<Var> maps = new ArrayList<>();
        maps.add(detach(occlude(scratch, out, detach(last(occlusion)))));
        for (int i = 0; i < config.generator().numDownBlocks(); i++) {
            out = detach(downBlock(scratch, pre + ".down_blocks." + i, out));
            maps.add(detach(occlude(scratch, out, detach(occlusion.get(2 - i)))));
        }
        return maps;
    }

    private Var occlude(Tape t, Var x, Var occlusion) {
        if (!config.multiMask() && (x.dim(2) != occlusion.dim(2) || x.dim(3) != occlusion.dim(3))) {
            occlusion = ResampleOps.resizeBilinear(t, occlusion, x.dim(2), x.dim(3), true);
        }
        return TensorOps.mulMap(t, x, occlusion);
    }

    /** {@code deform_input}: the deformation resized (bilinear, corners aligned) to the input, then {@code grid_sample}. */
    private static Var deform(Tape t, Var input, Var deformation) {
        int h = input.dim(2), w = input.dim(3);
        Var d = deformation;
        if (d.dim(1) != h || d.dim(2) != w) {
            d = TensorOps.nchwToNhwc(t, ResampleOps.resizeBilinear(t, TensorOps.nhwcToNchw(t, d), h, w, true));
        }
        return GridSampleOps.gridSample(t, input, d, GridPadding.ZEROS, true);
    }

    static Var detach(Var v) {
        return Var.constant(v.value(), v.shape());
    }

    private static Var last(List<Var> list) {
        return list.get(list.size() - 1);
    }

    private static float[] identityGrid(int n, int h, int w) {
        float[] gx = CoordinateGrid.axis(w), gy = CoordinateGrid.axis(h), g = new float[n * h * w * 2];
        for (int s = 0; s < n; s++) {
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    int o = ((s * h + y) * w + x) * 2;
                    g[o] = gx[x];
                    g[o + 1] = gy[y];
                }
            }
        }
        return g;
    }

    /** torchvision {@code resnet18}: stem, four stages of two basic blocks, global average pool, {@code fc}. */
    private Var resnet18(Tape t, String pre, Var x) {
        Var out = TensorOps.relu(t, batchNorm(t, pre + ".bn1", ConvOps.conv2d(t, x, p.parameter(pre + ".conv1.weight"), null, 2, 3)));
        out = PoolOps.maxPool2d(t, out, 3, 2, 1);
        for (int stage = 1; stage <= 4; stage++) {
            for (int b = 0; b < 2; b++) {
                out = basicBlock(t, pre + ".layer" + stage + "." + b, out, stage > 1 && b == 0 ? 2 : 1);
            }
        }
        Var pooled = PoolOps.globalAvgPool(t, out);
        return LinearOps.linear(t, pooled, p.parameter(pre + ".fc.weight"), p.parameterOrNull(pre + ".fc.bias"));
    }

    private Var basicBlock(Tape t, String pre, Var x, int stride) {
        Var out = ConvOps.conv2d(t, x, p.parameter(pre + ".conv1.weight"), null, stride, 1);
        out = TensorOps.relu(t, batchNorm(t, pre + ".bn1", out));
        out = batchNorm(t, pre + ".bn2", ConvOps.conv2d(t, out, p.parameter(pre + ".conv2.weight"), null, 1, 1));
        Var identity = x;
        if (p.parameterOrNull(pre + ".downsample.0.weight") != null) {
            identity = batchNorm(t, pre + ".downsample.1",
                    ConvOps.conv2d(t, x, p.parameter(pre + ".downsample.0.weight"), null, stride, 0));
        }
        return TensorOps.relu(t, TensorOps.add(t, out, identity));
    }

    private Var batchNorm(Tape t, String pre, Var x) {
        return NormOps.batchNorm(t, x, p.parameter(pre + ".weight"), p.parameter(pre + ".bias"),
                p.buffer(pre + ".running_mean"), p.buffer(pre + ".running_var"), MOMENTUM, EPS);
    }

    /** TPSMM's {@code Hourglass.forward(mode=1)}: the decoder's outputs (each concatenated with its skip). */
    private List<Var> hourglass(Tape t, String pre, Var x, int numBlocks) {
        List<Var> skips = new ArrayList<>();
        skips.add(x);
        for (int i = 0; i < numBlocks; i++) {
            skips.add(downBlock(t, pre + ".encoder.down_blocks." + i, last(skips)));
        }
        Var out = skips.remove(skips.size() - 1);
        List<Var> outs = new ArrayList<>();
        for (int i = 0; i < numBlocks; i++) {
            out = upBlock(t, pre + ".decoder.up_blocks." + i, out);
            out = TensorOps.concat(t, 1, out, skips.remove(skips.size() - 1));
            outs.add(out);
        }
        return outs;
    }

    private Var sameBlock(Tape t, String pre, Var x) {
        return TensorOps.relu(t, instanceNorm(t, pre + ".norm", conv(t, pre + ".conv", x, padOf(pre + ".conv"))));
    }

    private Var downBlock(Tape t, String pre, Var x) {
        return ResampleOps.avgPool2x2(t, sameBlock(t, pre, x));
    }

    private Var upBlock(Tape t, String pre, Var x) {
        return sameBlock(t, pre, ResampleOps.upsampleNearest2x(t, x));
    }

    private Var resBlock(Tape t, String pre, Var x) {
        Var h = TensorOps.relu(t, instanceNorm(t, pre + ".norm1", x));
        h = conv(t, pre + ".conv1", h, padOf(pre + ".conv1"));
        h = TensorOps.relu(t, instanceNorm(t, pre + ".norm2", h));
        h = conv(t, pre + ".conv2", h, padOf(pre + ".conv2"));
        return TensorOps.add(t, h, x);
    }

    private int padOf(String conv) {
        return p.parameter(conv + ".weight").dim(2) / 2;
    }

    private Var conv(Tape t, String pre, Var x, int pad) {
        return ConvOps.conv2d(t, x, p.parameter(pre + ".weight"), p.parameterOrNull(pre + ".bias"), pad);
    }

    private Var instanceNorm(Tape t, String pre, Var x) {
        return NormOps.instanceNorm(t, x, p.parameter(pre + ".weight"), p.parameter(pre + ".bias"), EPS);
    }
}
