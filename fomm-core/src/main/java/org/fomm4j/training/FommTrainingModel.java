package org.fomm4j.training;

import java.util.ArrayList;
import java.util.List;
import org.fomm4j.config.FommConfig;
import org.fomm4j.kernels.GridPadding;
import org.fomm4j.training.autograd.ConvOps;
import org.fomm4j.training.autograd.GridSampleOps;
import org.fomm4j.training.autograd.MotionOps;
import org.fomm4j.training.autograd.NormOps;
import org.fomm4j.training.autograd.ResampleOps;
import org.fomm4j.training.autograd.SoftmaxOps;
import org.fomm4j.training.autograd.Tape;
import org.fomm4j.training.autograd.TensorOps;
import org.fomm4j.training.autograd.Var;

/**
 * FOMM's {@code KPDetector} and {@code OcclusionAwareGenerator} (with its {@code DenseMotionNetwork}) as
 * differentiable graphs over {@link Parameters}, in training mode: every BatchNorm normalizes with the
 * statistics of the current batch and moves its running statistics by {@value #MOMENTUM}. The structure
 * and the parameter names follow the reference modules ({@code modules/keypoint_detector.py},
 * {@code generator.py}, {@code dense_motion.py}, {@code util.py}); inputs are images {@code [N, 3, H, W]}
 * in {@code [0, 1]}, keypoints {@code (x, y)} in {@code [-1, 1]}.
 */
public final class FommTrainingModel {
    static final double MOMENTUM = 0.1;
    static final double EPS = 1e-5;

    private final FommConfig config;
    private final Parameters p;
    private final boolean frozenBatchNorm;

    public FommTrainingModel(FommConfig config, Parameters parameters) {
        this(config, parameters, false);
    }

    /**
     * @param frozenBatchNorm every BatchNorm normalizes with its running statistics and leaves them alone
     *                        ({@link NormOps#batchNormFrozen}): the network trained is the one inference runs
     */
    public FommTrainingModel(FommConfig config, Parameters parameters, boolean frozenBatchNorm) {
        this.config = config;
        this.p = parameters;
        this.frozenBatchNorm = frozenBatchNorm;
    }

    public FommConfig config() {
        return config;
    }

    public Parameters parameters() {
        return p;
    }

    /** Keypoints {@code value [N, K, 2]} and, with jacobians, {@code jacobian [N, K, 2, 2]} (else {@code null}). */
    public record Keypoints(Var value, Var jacobian) {
    }

    /** The generator's outputs: {@code prediction [N, 3, H, W]}, and at the dense motion resolution
     * {@code mask [N, K+1, h, w]}, {@code deformation [N, h, w, 2]}, {@code occlusionMap [N, 1, h, w]} (or
     * {@code null}); {@code deformed [N, 3, H, W]} is the source warped by the deformation. */
    public record Generated(Var prediction, Var mask, Var deformation, Var occlusionMap, Var deformed) {
    }

    /**
     * Whether the jacobian head runs fused with its heatmap-weighted sum ({@link MotionOps#jacobianHead}; off with
     * {@code -Dfomm4j.fusedJacobianHead=false}, which convolves the full {@code 4K}-channel maps as the reference).
     */
    static final boolean FUSED_JACOBIAN_HEAD = Boolean.parseBoolean(System.getProperty("fomm4j.fusedJacobianHead", "true"));

    /** {@code KPDetector.forward}: anti-aliased downsampling, hourglass, heatmap softmax, keypoints and jacobians. */
    public Keypoints kpDetector(Tape t, Var image) {
        FommConfig.KpDetector c = config.kpDetector();
        Var x = ResampleOps.antiAlias(t, image, c.scaleFactor(), p.antiAliasKernel("kp_detector.down.weight", c.scaleFactor()));
        Var features = hourglass(t, "kp_detector.predictor", x, c.numBlocks());
        Var raw = conv(t, "kp_detector.kp", features, c.pad());
        Var heat = SoftmaxOps.spatial(t, raw, (float) c.temperature());
        Var value = MotionOps.keypoints(t, heat);
        Var jacobian = null;
        if (config.estimateJacobian() && FUSED_JACOBIAN_HEAD) {
            jacobian = MotionOps.jacobianHead(t, heat, features, p.parameter("kp_detector.jacobian.weight"),
                    p.parameterOrNull("kp_detector.jacobian.bias"), c.pad());
        } else if (config.estimateJacobian()) {
            Var maps = conv(t, "kp_detector.jacobian", features, c.pad());
            jacobian = MotionOps.jacobians(t, heat, maps);
        }
        return new Keypoints(value, jacobian);
    }

    /** {@code OcclusionAwareGenerator.forward(source, kp_driving, kp_source)}. */
    public Generated generator(Tape t, Var source, Keypoints kpDriving, Keypoints kpSource) {
        FommConfig.Generator g = config.generator();
        Var out = convNorm(t, "generator.first", source, 3, true);
        for (int i = 0; i < g.numDownBlocks(); i++) {
            out = downBlock(t, "generator.down_blocks." + i, out);
        }
        Var mask = null, deformation = null, occlusion = null, deformed = null;
        if (g.denseMotion() != null) {
            Var[] dm = denseMotion(t, source, kpDriving, kpSource);
            mask = dm[0];
            deformation = dm[1];
            occlusion = dm[2];
            out = deform(t, out, deformation);
            if (occlusion != null) {
                Var occ = ResampleOps.resizeBilinear(t, occlusion, out.dim(2), out.dim(3), false);
                out = TensorOps.mulMap(t, out, occ);
            }
            deformed = deform(t, source, deformation);
        }
        for (int i = 0; i < g.numBottleneckBlocks(); i++) {
            out = resBlock(t, "generator.bottleneck.r" + i, out);
        }
        for (int i = 0; i < g.numDownBlocks(); i++) {
            out = upBlock(t, "generator.up_blocks." + i, out);
        }
        Var prediction = TensorOps.sigmoid(t, conv(t, "generator.final", out, 3));
        return new Generated(prediction, mask, deformation, occlusion, deformed);
    }

    /** {@code deform_input}: the deformation resized (bilinear) to the input's size, then {@code grid_sample}. */
    private static Var deform(Tape t, Var input, Var deformation) {
        int h = input.dim(2), w = input.dim(3);
        Var d = deformation;
        if (d.dim(1) != h || d.dim(2) != w) {
            d = TensorOps.nchwToNhwc(t, ResampleOps.resizeBilinear(t, TensorOps.nhwcToNchw(t, d), h, w, false));
        }
        return GridSampleOps.gridSample(t, input, d, GridPadding.ZEROS, false);
    }

    /** {@code DenseMotionNetwork.forward}: {@code {mask, deformation, occlusion map or null}}. */
    private Var[] denseMotion(Tape t, Var source, Keypoints kpDriving, Keypoints kpSource) {
        FommConfig.DenseMotion c = config.generator().denseMotion();
        String pre = "generator.dense_motion_network";
        Var src = ResampleOps.antiAlias(t, source, c.scaleFactor(), p.antiAliasKernel(pre + ".down.weight", c.scaleFactor()));
        int n = src.dim(0), ch = src.dim(1), h = src.dim(2), w = src.dim(3), k = config.numKp();
        // Heatmap representation (eq. 6): zeros for the background, then driving minus source Gaussians.
        Var gd = MotionOps.gaussians(t, kpDriving.value(), h, w, (float) c.kpVariance());
        Var gs = MotionOps.gaussians(t, kpSource.value(), h, w, (float) c.kpVariance());
        Var heat = TensorOps.concat(t, 1, Var.constant(new float[n * h * w], n, 1, h, w), TensorOps.sub(t, gd, gs));
        heat = TensorOps.reshape(t, heat, n, k + 1, 1, h, w);
        Var affine = null;
        if (kpDriving.jacobian() != null) {
            affine = MotionOps.matmul2x2(t, kpSource.jacobian(), MotionOps.inverse2x2(t, kpDriving.jacobian()));
        }
        Var sparse = MotionOps.taylorMotions(t, kpDriving.value(), kpSource.value(), affine, h, w);
        Var grids = TensorOps.reshape(t, sparse, n * (k + 1), h, w, 2);
        Var deformedSource = GridSampleOps.gridSample(t, src, grids, GridPadding.ZEROS, false);
        deformedSource = TensorOps.reshape(t, deformedSource, n, k + 1, ch, h, w);
        Var input = TensorOps.reshape(t, TensorOps.concat(t, 2, heat, deformedSource), n, (k + 1) * (ch + 1), h, w);
        Var prediction = hourglass(t, pre + ".hourglass", input, c.numBlocks());
        Var mask = SoftmaxOps.channels(t, conv(t, pre + ".mask", prediction, 3));
        Var deformation = MotionOps.mixMotions(t, mask, sparse);
        Var occlusion = config.generator().estimateOcclusionMap()
                ? TensorOps.sigmoid(t, conv(t, pre + ".occlusion", prediction, 3)) : null;
        return new Var[] {mask, deformation, occlusion};
    }

    private Var hourglass(Tape t, String pre, Var x, int numBlocks) {
        List<Var> outs = new ArrayList<>();
        outs.add(x);
        for (int i = 0; i < numBlocks; i++) {
            outs.add(downBlock(t, pre + ".encoder.down_blocks." + i, outs.get(outs.size() - 1)));
        }
        Var out = outs.remove(outs.size() - 1);
        for (int i = 0; i < numBlocks; i++) {
            out = upBlock(t, pre + ".decoder.up_blocks." + i, out);
            out = TensorOps.concat(t, 1, out, outs.remove(outs.size() - 1));
        }
        return out;
    }

    private Var downBlock(Tape t, String pre, Var x) {
        return ResampleOps.avgPool2x2(t, convNorm(t, pre, x, 1, true));
    }

    private Var upBlock(Tape t, String pre, Var x) {
        return convNorm(t, pre, ResampleOps.upsampleNearest2x(t, x), 1, true);
    }

    private Var resBlock(Tape t, String pre, Var x) {
        Var h = TensorOps.relu(t, batchNorm(t, pre + ".norm1", x));
        h = conv(t, pre + ".conv1", h, padOf(pre + ".conv1"));
        h = TensorOps.relu(t, batchNorm(t, pre + ".norm2", h));
        h = conv(t, pre + ".conv2", h, padOf(pre + ".conv2"));
        return TensorOps.add(t, h, x);
    }

    private int padOf(String conv) {
        return p.parameter(conv + ".weight").dim(2) / 2;
    }

    private Var convNorm(Tape t, String pre, Var x, int pad, boolean relu) {
        Var y = batchNorm(t, pre + ".norm", conv(t, pre + ".conv", x, pad));
        return relu ? TensorOps.relu(t, y) : y;
    }

    private Var conv(Tape t, String pre, Var x, int pad) {
        return ConvOps.conv2d(t, x, p.parameter(pre + ".weight"), p.parameterOrNull(pre + ".bias"), pad);
    }

    private Var batchNorm(Tape t, String pre, Var x) {
        if (frozenBatchNorm) {
            return NormOps.batchNormFrozen(t, x, p.parameter(pre + ".weight"), p.parameter(pre + ".bias"),
                    p.buffer(pre + ".running_mean"), p.buffer(pre + ".running_var"), EPS);
        }
        return NormOps.batchNorm(t, x, p.parameter(pre + ".weight"), p.parameter(pre + ".bias"),
                p.buffer(pre + ".running_mean"), p.buffer(pre + ".running_var"), MOMENTUM, EPS);
    }
}
