package org.fomm4j.training;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import java.util.function.Function;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.fomm4j.training.autograd.ConvOps;
import org.fomm4j.training.autograd.MotionOps;
import org.fomm4j.training.autograd.SoftmaxOps;
import org.fomm4j.training.autograd.Tape;
import org.fomm4j.training.autograd.Var;

/**
 * The fused jacobian head ({@link MotionOps#jacobianHead}) against what it replaces, the reference's
 * {@code jacobians(heat, conv2d(features, weight, bias, pad))}: the same jacobians and the same gradients
 * for heatmaps, features, weights and bias, on odd shapes, per-keypoint and single jacobian maps, with and
 * without bias and padding; and its own gradients against finite differences.
 */
class JacobianHeadProperties {
    @Property(tries = 16)
    void fusedHeadComputesTheConvolvedMapsSum(@ForAll @IntRange(min = 1, max = 2) int n, @ForAll @IntRange(min = 1, max = 5) int k,
                                             @ForAll @IntRange(min = 1, max = 6) int c, @ForAll @IntRange(min = 0, max = 3) int kHalf,
                                             @ForAll @IntRange(min = 0, max = 3) int pad, @ForAll @IntRange(min = 8, max = 19) int h,
                                             @ForAll boolean single, @ForAll boolean withBias, @ForAll long seed) {
        int kw = 2 * kHalf + 1, oh = h + 2 * pad - kw + 1, ow = h + 1 + 2 * pad - kw + 1, rows = single ? 4 : 4 * k;
        Random rng = new Random(seed);
        Var logits = GradientCheck.random(rng, true, 3, n, k, oh, ow);
        Var features = GradientCheck.random(rng, true, 1, n, c, h, h + 1);
        Var weight = GradientCheck.random(rng, true, 0.3, rows, c, kw, kw);
        Var bias = withBias ? GradientCheck.random(rng, true, 0.5, rows) : null;
        float[] dj = new float[n * k * 4];
        for (int i = 0; i < dj.length; i++) {
            dj[i] = (float) rng.nextGaussian();
        }
        Function<Tape, Var> fused = t -> MotionOps.jacobianHead(t, SoftmaxOps.spatial(t, logits, 0.1f), features, weight, bias, pad);
        Function<Tape, Var> reference = t -> MotionOps.jacobians(t, SoftmaxOps.spatial(t, logits, 0.1f),
                ConvOps.conv2d(t, features, weight, bias, pad));
        Var[] inputs = bias == null ? new Var[] {logits, features, weight} : new Var[] {logits, features, weight, bias};
        float[][] a = run(fused, inputs, dj), b = run(reference, inputs, dj);
        String[] names = {"jacobians", "heatmap logits' gradient", "features' gradient", "weight gradient", "bias gradient"};
        for (int i = 0; i < a.length; i++) {
            double diff = 0, norm = 0;
            for (int j = 0; j < a[i].length; j++) {
                diff += Math.pow(a[i][j] - b[i][j], 2);
                norm += Math.pow(b[i][j], 2);
            }
            double rel = Math.sqrt(diff / Math.max(norm, 1e-30));
            String what = names[i];
            assertTrue(rel < 1e-4, () -> what + ": fused and unfused differ by " + rel + " relative (L2)");
        }
    }

    @Property(tries = 8)
    void finiteDifferences(@ForAll @IntRange(min = 1, max = 2) int n, @ForAll @IntRange(min = 1, max = 3) int k,
                           @ForAll @IntRange(min = 1, max = 4) int c, @ForAll @IntRange(min = 0, max = 2) int kHalf,
                           @ForAll @IntRange(min = 0, max = 2) int pad, @ForAll @IntRange(min = 6, max = 11) int h,
                           @ForAll boolean single, @ForAll long seed) {
        int kw = 2 * kHalf + 1, oh = h + 2 * pad - kw + 1, ow = h + 2 * pad - kw + 1, rows = single ? 4 : 4 * k;
        Random rng = new Random(seed);
        Var heat = GradientCheck.random(rng, true, 1, n, k, oh, ow);
        Var features = GradientCheck.random(rng, true, 1, n, c, h, h);
        Var weight = GradientCheck.random(rng, true, 0.5, rows, c, kw, kw);
        Var bias = GradientCheck.random(rng, true, 0.5, rows);
        GradientCheck.check("jacobian head", in -> MotionOps.jacobianHead(GradientCheck.tape(), in[0], in[1], in[2], in[3], pad),
                new Var[] {heat, features, weight, bias}, 1e-2, 2e-2, 1e-2, seed);
    }

    /** The output and the gradient of every input for the output gradient {@code dj}. */
    private static float[][] run(Function<Tape, Var> f, Var[] inputs, float[] dj) {
        for (Var v : inputs) {
            v.zeroGrad();
        }
        Tape t = new Tape();
        Var out = f.apply(t);
        Var loss = t.output(new float[] {0f}, new int[] {1}, out);
        double s = 0;
        for (int i = 0; i < dj.length; i++) {
            s += (double) dj[i] * out.value()[i];
        }
        loss.value()[0] = (float) s;
        t.record(loss, () -> {
            float[] g = out.grad();
            for (int i = 0; i < dj.length; i++) {
                g[i] += dj[i] * loss.grad()[0];
            }
        });
        t.backward(loss);
        float[][] r = new float[inputs.length + 1][];
        r[0] = out.value().clone();
        for (int i = 0; i < inputs.length; i++) {
            r[i + 1] = inputs[i].grad().clone();
        }
        return r;
    }
}
