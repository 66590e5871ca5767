package org.fomm4j.training;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Random;
import org.fomm4j.training.autograd.ConvOps;
import org.fomm4j.training.autograd.LossOps;
import org.fomm4j.training.autograd.Tape;
import org.fomm4j.training.autograd.TensorOps;
import org.fomm4j.training.autograd.Var;
import org.junit.jupiter.api.Test;

/**
 * {@link ConvOps#shareBuiltConvolutions}: convolutions built once per weight array and reused give the values
 * and gradients that building them at every use gives, bit for bit, for every algorithm the shapes select
 * (Winograd at 16x16 and more, channel-vector and pixel GEMMs below, strided layers).
 */
class SharedConvolutionsTest {
    /** Two passes through the same layers (as TPSMM's keypoint detector runs on source, driving and warped frames). */
    static float[][] twoPasses(Var w1, Var b1, Var w2, Var x1, Var x2) {
        Tape t = new Tape();
        Var a = ConvOps.conv2d(t, TensorOps.relu(t, ConvOps.conv2d(t, x1, w1, b1, 1)), w2, null, 2, 1);
        Var b = ConvOps.conv2d(t, TensorOps.relu(t, ConvOps.conv2d(t, x2, w1, b1, 1)), w2, null, 2, 1);
        Var loss = LossOps.meanAbsDiff(t, a, b);
        t.backward(loss);
        return new float[][] {a.value(), b.value(), w1.grad().clone(), b1.grad().clone(), w2.grad().clone(), x1.grad().clone()};
    }

    @Test
    void sharedBuildsComputeWhatFreshBuildsCompute() {
        for (int size : new int[] {7, 20}) {
            Random rng = new Random(size);
            Var w1 = GradientCheck.random(rng, true, 0.3, 24, 5, 3, 3), b1 = GradientCheck.random(rng, true, 0.1, 24);
            Var w2 = GradientCheck.random(rng, true, 0.2, 40, 24, 3, 3);
            Var x1 = GradientCheck.random(rng, true, 1, 2, 5, size, size), x2 = GradientCheck.random(rng, true, 1, 2, 5, size, size);
            float[][] fresh = twoPasses(w1, b1, w2, x1, x2);
            for (Var v : new Var[] {w1, b1, w2, x1, x2}) {
                v.zeroGrad();
            }
            float[][] shared;
            try (ConvOps.Scope s = ConvOps.shareBuiltConvolutions()) {
                shared = twoPasses(w1, b1, w2, x1, x2);
            }
            for (int i = 0; i < fresh.length; i++) {
                assertArrayEquals(fresh[i], shared[i], "output or gradient " + i + " at " + size + "x" + size);
            }
        }
    }

    /**
     * Inside a scope a layer is built once from its weight array: a change in place is not seen until the scope
     * closes (which is why the optimizer steps outside it), and scopes do not nest.
     */
    @Test
    void insideAScopeEachWeightArrayIsBuiltOnce() {
        Random rng = new Random(3);
        Var w = GradientCheck.random(rng, false, 0.3, 16, 4, 3, 3), x = GradientCheck.random(rng, false, 1, 1, 4, 18, 18);
        float[] before, stale, after;
        try (ConvOps.Scope s = ConvOps.shareBuiltConvolutions()) {
            before = ConvOps.conv2d(new Tape(), x, w, null, 1).value();
            w.value()[0] += 1f;
            stale = ConvOps.conv2d(new Tape(), x, w, null, 1).value();
        }
        after = ConvOps.conv2d(new Tape(), x, w, null, 1).value();
        assertArrayEquals(before, stale);
        org.junit.jupiter.api.Assertions.assertFalse(java.util.Arrays.equals(before, after), "outside the scope the new weight counts");
        try (ConvOps.Scope s = ConvOps.shareBuiltConvolutions()) {
            assertThrows(IllegalStateException.class, ConvOps::shareBuiltConvolutions);
        }
        ConvOps.shareBuiltConvolutions().close();
    }
}
