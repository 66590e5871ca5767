package org.fomm4j.training;

import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.fomm4j.kernels.GridPadding;
import org.fomm4j.training.autograd.ConvOps;
import org.fomm4j.training.autograd.GridSampleOps;
import org.fomm4j.training.autograd.LossOps;
import org.fomm4j.training.autograd.MotionOps;
import org.fomm4j.training.autograd.NormOps;
import org.fomm4j.training.autograd.ResampleOps;
import org.fomm4j.training.autograd.SoftmaxOps;
import org.fomm4j.training.autograd.TensorOps;
import org.fomm4j.training.autograd.Var;

/**
 * Every backward pass of the training graph against finite differences ({@link GradientCheck}) on odd,
 * random shapes. Forward values of these operations are checked against PyTorch by
 * {@link TrainingStepParityTest}; here only the derivatives are. Tolerance: 2e-2 relative plus a small
 * absolute term (float32 forward passes, step 1e-2 or 1e-3).
 */
class BackwardProperties {
    private static final double RTOL = 2e-2;

    @Property(tries = 12)
    void convolution(@ForAll @IntRange(min = 1, max = 2) int n, @ForAll @IntRange(min = 1, max = 5) int ci,
                     @ForAll @IntRange(min = 1, max = 6) int co, @ForAll @IntRange(min = 0, max = 3) int kHalf,
                     @ForAll @IntRange(min = 0, max = 3) int pad, @ForAll @IntRange(min = 7, max = 13) int h, @ForAll long seed) {
        int k = 2 * kHalf + 1;
        Random rng = new Random(seed);
        Var x = GradientCheck.random(rng, true, 1, n, ci, h, h + 2);
        Var w = GradientCheck.random(rng, true, 0.5, co, ci, k, k);
        Var b = GradientCheck.random(rng, true, 0.5, co);
        // The loss is linear in each input, so central differences are exact at any step; a large one keeps the
        // forward's float32 error (Winograd F(2x2, 7x7) under -Dfomm4j.winograd=always: up to ~1e-4) from dominating
        // them (at step 1e-2 it made ~1e-2 of noise and failed some 7x7 cases).
        GradientCheck.check("conv2d", in -> ConvOps.conv2d(GradientCheck.tape(), in[0], in[1], in[2], pad),
                new Var[] {x, w, b}, 0.25, RTOL, 1e-2, seed);
    }

    @Property(tries = 8)
    void batchNormTrainingMode(@ForAll @IntRange(min = 1, max = 3) int n, @ForAll @IntRange(min = 1, max = 4) int c,
                               @ForAll @IntRange(min = 2, max = 7) int h, @ForAll long seed) {
        Random rng = new Random(seed);
        Var x = GradientCheck.random(rng, true, 1, n, c, h, h + 1);
        Var g = GradientCheck.random(rng, true, 1, c);
        Var b = GradientCheck.random(rng, true, 1, c);
        GradientCheck.check("batch norm", in -> NormOps.batchNorm(GradientCheck.tape(), in[0], in[1], in[2], null, null, 0.1, 1e-5),
                new Var[] {x, g, b}, 1e-2, RTOL, 2e-3, seed);
    }

    @Property(tries = 8)
    void batchNormFrozen(@ForAll @IntRange(min = 1, max = 3) int n, @ForAll @IntRange(min = 1, max = 4) int c,
                         @ForAll @IntRange(min = 2, max = 7) int h, @ForAll long seed) {
        Random rng = new Random(seed);
        Var x = GradientCheck.random(rng, true, 1, n, c, h, h + 1);
        Var g = GradientCheck.random(rng, true, 1, c);
        Var b = GradientCheck.random(rng, true, 1, c);
        float[] mean = new float[c], var = new float[c];
        for (int i = 0; i < c; i++) {
            mean[i] = (float) rng.nextGaussian() * 0.5f;
            var[i] = 0.2f + 2 * rng.nextFloat();
        }
        GradientCheck.check("frozen batch norm", in -> NormOps.batchNormFrozen(GradientCheck.tape(), in[0], in[1], in[2], mean, var, 1e-5),
                new Var[] {x, g, b}, 1e-2, RTOL, 2e-3, seed);
    }

    @Property(tries = 8)
    void resampling(@ForAll @IntRange(min = 1, max = 3) int c, @ForAll @IntRange(min = 4, max = 11) int h,
                    @ForAll @IntRange(min = 3, max = 17) int oh, @ForAll boolean alignCorners, @ForAll long seed) {
        Random rng = new Random(seed);
        Var x = GradientCheck.random(rng, true, 1, 2, c, h, h + 3);
        GradientCheck.check("avg pool", in -> ResampleOps.avgPool2x2(GradientCheck.tape(), in[0]), new Var[] {x}, 1e-2, RTOL, 1e-3, seed);
        GradientCheck.check("upsample", in -> ResampleOps.upsampleNearest2x(GradientCheck.tape(), in[0]), new Var[] {x}, 1e-2, RTOL, 1e-3, seed);
        GradientCheck.check("bilinear resize", in -> ResampleOps.resizeBilinear(GradientCheck.tape(), in[0], oh, oh + 1, alignCorners),
                new Var[] {x}, 1e-2, RTOL, 1e-3, seed);
        for (double scale : new double[] {0.5, 0.25}) {
            float[] kernel = ResampleOps.gaussianKernel(scale);
            GradientCheck.check("anti-alias " + scale, in -> ResampleOps.antiAlias(GradientCheck.tape(), in[0], scale, kernel),
                    new Var[] {x}, 1e-2, RTOL, 1e-3, seed);
        }
    }

    @Property(tries = 8)
    void pointwiseAndSoftmax(@ForAll @IntRange(min = 1, max = 4) int c, @ForAll @IntRange(min = 2, max = 9) int h, @ForAll long seed) {
        Random rng = new Random(seed);
        Var x = GradientCheck.random(rng, true, 1, 2, c, h, h);
        Var y = GradientCheck.random(rng, true, 1, 2, c, h, h);
        Var map = GradientCheck.random(rng, true, 1, 2, 1, h, h);
        GradientCheck.check("sigmoid", in -> TensorOps.sigmoid(GradientCheck.tape(), in[0]), new Var[] {x}, 1e-2, RTOL, 1e-3, seed);
        // relu has its kink at 0: inputs at least 0.05 away from it, far beyond the step.
        Var offKink = new Var(x.value().clone(), true, x.shape());
        for (int i = 0; i < offKink.size(); i++) {
            float v = offKink.value()[i];
            offKink.value()[i] = v + (v >= 0 ? 0.05f : -0.05f);
        }
        GradientCheck.check("relu", in -> TensorOps.relu(GradientCheck.tape(), in[0]), new Var[] {offKink}, 1e-3, RTOL, 2e-2, seed);
        GradientCheck.check("softmax spatial", in -> SoftmaxOps.spatial(GradientCheck.tape(), in[0], 0.1f), new Var[] {x}, 1e-3, RTOL, 2e-3, seed);
        GradientCheck.check("softmax channels", in -> SoftmaxOps.channels(GradientCheck.tape(), in[0]), new Var[] {x}, 1e-2, RTOL, 1e-3, seed);
        GradientCheck.check("mul map", in -> TensorOps.mulMap(GradientCheck.tape(), in[0], in[1]), new Var[] {x, map}, 1e-2, RTOL, 1e-3, seed);
        GradientCheck.check("concat", in -> TensorOps.concat(GradientCheck.tape(), 1, in[0], in[1], in[2]), new Var[] {x, map, y}, 1e-2, RTOL, 1e-3, seed);
        GradientCheck.check("permute", in -> TensorOps.nhwcToNchw(GradientCheck.tape(), TensorOps.nchwToNhwc(GradientCheck.tape(),
                TensorOps.sub(GradientCheck.tape(), in[0], in[1]))), new Var[] {x, y}, 1e-2, RTOL, 1e-3, seed);
        // |a - b| has a kink at a = b: the operands differ by at least 0.1 everywhere, far beyond the step.
        Var far = new Var(x.value().clone(), true, x.shape());
        for (int i = 0; i < far.size(); i++) {
            far.value()[i] += (rng.nextBoolean() ? 1 : -1) * (0.1f + (float) Math.abs(rng.nextGaussian()));
        }
        GradientCheck.check("L1", in -> LossOps.meanAbsDiff(GradientCheck.tape(), in[0], in[1]), new Var[] {x, far}, 1e-3, RTOL, 2e-3, seed);
    }

    @Property(tries = 10)
    void gridSample(@ForAll @IntRange(min = 1, max = 3) int c, @ForAll @IntRange(min = 3, max = 9) int h,
                    @ForAll @IntRange(min = 1, max = 3) int m, @ForAll boolean reflection, @ForAll boolean alignCorners,
                    @ForAll long seed) {
        Random rng = new Random(seed);
        Var x = GradientCheck.random(rng, true, 1, 2, c, h, h + 2);
        // Sample points from two pixels outside the image to two beyond it, at least 0.1 pixel from a pixel
        // centre (where bilinear interpolation has a kink that a finite difference would straddle).
        Var g = GradientCheck.random(rng, true, 1, 2 * m, h - 1, h + 1, 2);
        float[] gv = g.value();
        for (int i = 0; i < gv.length; i++) {
            int size = i % 2 == 0 ? h + 2 : h;
            double idx = Math.floor(rng.nextDouble() * (size + 3)) - 2 + 0.1 + 0.8 * rng.nextDouble();
            gv[i] = (float) (alignCorners ? idx * 2 / (size - 1) - 1 : (2 * idx + 1) / size - 1);
        }
        GridPadding pad = reflection ? GridPadding.REFLECTION : GridPadding.ZEROS;
        GradientCheck.check("grid_sample " + pad + " " + alignCorners,
                in -> GridSampleOps.gridSample(GradientCheck.tape(), in[0], in[1], pad, alignCorners),
                new Var[] {x, g}, 1e-3, 5e-2, 2e-2, seed);
    }

    @Property(tries = 10)
    void keypointsAndMotions(@ForAll @IntRange(min = 1, max = 5) int k, @ForAll @IntRange(min = 3, max = 9) int h,
                             @ForAll long seed) {
        Random rng = new Random(seed);
        Var heat = GradientCheck.random(rng, true, 1, 2, k, h, h + 1);
        Var maps = GradientCheck.random(rng, true, 1, 2, 4 * k, h, h + 1);
        Var kpD = GradientCheck.random(rng, true, 0.5, 2, k, 2);
        Var kpS = GradientCheck.random(rng, true, 0.5, 2, k, 2);
        Var a = GradientCheck.random(rng, true, 1, 2, k, 2, 2);
        Var b = GradientCheck.random(rng, true, 1, 2, k, 2, 2);
        Var masks = GradientCheck.random(rng, true, 1, 2, k + 1, h, h + 1);
        Var motions = GradientCheck.random(rng, true, 1, 2, k + 1, h, h + 1, 2);
        // Well-conditioned matrices for the inverse: identity plus a small perturbation.
        Var near = GradientCheck.random(rng, true, 0.2, 2, k, 2, 2);
        for (int i = 0; i < near.size(); i += 4) {
            near.value()[i] += 1;
            near.value()[i + 3] += 1;
        }
        GradientCheck.check("keypoints", in -> MotionOps.keypoints(GradientCheck.tape(), in[0]), new Var[] {heat}, 1e-2, RTOL, 1e-3, seed);
        GradientCheck.check("jacobians", in -> MotionOps.jacobians(GradientCheck.tape(), in[0], in[1]), new Var[] {heat, maps}, 1e-2, RTOL, 1e-3, seed);
        GradientCheck.check("gaussians", in -> MotionOps.gaussians(GradientCheck.tape(), in[0], h, h + 1, 0.05f), new Var[] {kpD}, 1e-3, RTOL, 1e-2, seed);
        GradientCheck.check("matmul", in -> MotionOps.matmul2x2(GradientCheck.tape(), in[0], in[1]), new Var[] {a, b}, 1e-2, RTOL, 1e-3, seed);
        GradientCheck.check("inverse", in -> MotionOps.inverse2x2(GradientCheck.tape(), in[0]), new Var[] {near}, 1e-3, RTOL, 1e-3, seed);
        GradientCheck.check("taylor", in -> MotionOps.taylorMotions(GradientCheck.tape(), in[0], in[1], in[2], h, h + 1),
                new Var[] {kpD, kpS, a}, 1e-2, RTOL, 1e-2, seed);
        GradientCheck.check("mix", in -> MotionOps.mixMotions(GradientCheck.tape(), in[0], in[1]), new Var[] {masks, motions}, 1e-2, RTOL, 1e-3, seed);
        // |I - x| has kinks where x is 0 or 1: matrices whose entries keep at least 0.05 away from both.
        Var awayFromKinks = new Var(a.value().clone(), true, a.shape());
        for (int i = 0; i < awayFromKinks.size(); i++) {
            float v = awayFromKinks.value()[i];
            awayFromKinks.value()[i] = Math.abs(v) < 0.05f || Math.abs(v - 1) < 0.05f ? v + 0.2f : v;
        }
        GradientCheck.check("from identity", in -> LossOps.meanAbsFromIdentity(GradientCheck.tape(), in[0]),
                new Var[] {awayFromKinks}, 1e-4, RTOL, 1e-3, seed);
    }

    @Property(tries = 10)
    void keypointSeparation(@ForAll @IntRange(min = 1, max = 3) int n, @ForAll @IntRange(min = 1, max = 11) int k,
                            @ForAll @IntRange(min = 5, max = 40) int sigmaHundredths, @ForAll long seed) {
        Random rng = new Random(seed);
        Var kp = GradientCheck.random(rng, true, 0.3, n, k, 2);
        float sigma = sigmaHundredths / 100f;
        GradientCheck.check("keypoint separation", in -> LossOps.keypointSeparation(GradientCheck.tape(), in[0], sigma),
                new Var[] {kp}, 1e-3, RTOL, 1e-3, seed);
    }

    @Property(tries = 10)
    void equivarianceTransform(@ForAll @IntRange(min = 1, max = 7) int points, @ForAll long seed) {
        Random rng = new Random(seed);
        EquivarianceTransform tr = EquivarianceTransform.random(2, 0.05, 0.05, 5, rng);
        // Away from the control points' lines x, y = -1, -0.5, ..., 1, where |z - c| has a kink.
        Var coords = GradientCheck.random(rng, true, 1, 2, points, 2);
        for (int i = 0; i < coords.size(); i++) {
            coords.value()[i] = (float) (Math.floor(rng.nextDouble() * 4) * 0.5 - 1 + 0.02 + 0.46 * rng.nextDouble());
        }
        GradientCheck.check("warp", in -> tr.warpCoordinates(GradientCheck.tape(), in[0]), new Var[] {coords}, 1e-3, RTOL, 2e-3, seed);
        GradientCheck.check("warp jacobian", in -> tr.jacobian(GradientCheck.tape(), in[0]), new Var[] {coords}, 1e-3, RTOL, 2e-3, seed);
        // The jacobian is the derivative of the warp.
        Var j = tr.jacobian(new org.fomm4j.training.autograd.Tape(), coords);
        float[] c = coords.value();
        for (int i = 0; i < 2 * points; i++) {
            for (int axis = 0; axis < 2; axis++) {
                float saved = c[2 * i + axis];
                c[2 * i + axis] = saved + 1e-3f;
                float[] up = tr.warpCoordinates(new org.fomm4j.training.autograd.Tape(), coords).value().clone();
                c[2 * i + axis] = saved - 1e-3f;
                float[] down = tr.warpCoordinates(new org.fomm4j.training.autograd.Tape(), coords).value().clone();
                c[2 * i + axis] = saved;
                for (int row = 0; row < 2; row++) {
                    double numeric = (up[2 * i + row] - down[2 * i + row]) / 2e-3;
                    double analytic = j.value()[4 * i + 2 * row + axis];
                    org.junit.jupiter.api.Assertions.assertEquals(numeric, analytic, 2e-3 + RTOL * Math.abs(analytic));
                }
            }
        }
    }
}
