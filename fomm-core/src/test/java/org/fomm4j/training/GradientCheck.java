package org.fomm4j.training;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import java.util.function.Function;
import org.fomm4j.training.autograd.Tape;
import org.fomm4j.training.autograd.Var;

/**
 * Finite-difference check of a backward pass: the loss {@code sum(out * r)} with fixed random weights
 * {@code r}, its analytic gradient from the tape against central differences {@code (L(x + h) - L(x - h)) / 2h}
 * evaluated in double from float32 forward passes, at every element of every input (or a sample of
 * {@code maxPerInput} of them).
 */
final class GradientCheck {
    private GradientCheck() {
    }

    static void check(String what, Function<Var[], Var> f, Var[] inputs, double h, double rtol, double atol, long seed) {
        check(what, f, inputs, h, rtol, atol, seed, false);
    }

    /**
     * As {@link #check(String, Function, Var[], double, double, double, long)}; {@code fivePoint} takes the
     * derivative from the 4th-order stencil {@code (-L(x+2h) + 8L(x+h) - 8L(x-h) + L(x-2h)) / 12h} instead of the
     * central difference. For smooth functions whose float32 forward pass is noisy (the TPS solve): the stencil's
     * O(h^4) error allows a step large enough that the rounding noise, divided by h, stays small. Not for
     * functions with kinks (ReLU, |x|): the wider stencil straddles more of them.
     */
    static void check(String what, Function<Var[], Var> f, Var[] inputs, double h, double rtol, double atol, long seed,
                      boolean fivePoint) {
        for (Var v : inputs) {
            v.zeroGrad();
        }
        Tape tape = new Tape();
        Var out = withTape(tape, f, inputs);
        // Not Random(seed): the properties draw their inputs from that stream, and weights equal to the
        // inputs make some gradients vanish identically (batch norm's input gradient with r = x is 0), which
        // left those checks comparing 0 with rounding noise.
        Random rng = new Random(seed * 0x9E3779B97F4A7C15L + 0x632BE59BD9B4E019L);
        float[] r = new float[out.size()];
        for (int i = 0; i < r.length; i++) {
            r[i] = (float) rng.nextGaussian();
        }
        out.grad();
        System.arraycopy(r, 0, out.grad(), 0, r.length);
        runBackward(tape);
        for (int q = 0; q < inputs.length; q++) {
            Var in = inputs[q];
            if (!in.requiresGrad()) {
                continue;
            }
            float[] analytic = in.grad().clone();
            float[] x = in.value();
            int step = Math.max(1, x.length / 60);
            for (int i = rng.nextInt(step); i < x.length; i += step) {
                float saved = x[i];
                x[i] = (float) (saved + h);
                double up = loss(f, inputs, r);
                x[i] = (float) (saved - h);
                double down = loss(f, inputs, r);
                double numeric;
                if (fivePoint) {
                    x[i] = (float) (saved + 2 * h);
                    double up2 = loss(f, inputs, r);
                    x[i] = (float) (saved - 2 * h);
                    double down2 = loss(f, inputs, r);
                    numeric = (8 * (up - down) - (up2 - down2)) / (12 * h);
                } else {
                    numeric = (up - down) / (2 * h);
                }
                x[i] = saved;
                double a = analytic[i];
                int at = i, qq = q;
                assertTrue(Math.abs(a - numeric) <= atol + rtol * Math.max(Math.abs(a), Math.abs(numeric)),
                        () -> what + ": input " + qq + " element " + at + ": analytic " + a + ", numeric " + numeric);
            }
        }
    }

    private static Var withTape(Tape t, Function<Var[], Var> f, Var[] inputs) {
        CURRENT.set(t);
        try {
            return f.apply(inputs);
        } finally {
            CURRENT.remove();
        }
    }

    private static double loss(Function<Var[], Var> f, Var[] inputs, float[] r) {
        Var out = withTape(new Tape(), f, inputs);
        double s = 0;
        float[] v = out.value();
        for (int i = 0; i < v.length; i++) {
            s += (double) v[i] * r[i];
        }
        return s;
    }

    /** Runs the recorded steps with the output gradient already set (no scalar loss). */
    private static void runBackward(Tape t) {
        Var one = t.output(new float[] {0f}, new int[] {1}, Var.parameter(new float[1], 1));
        // backward() seeds the given scalar; a detached dummy leaves the real seeds in place.
        t.backward(one);
    }

    static final ThreadLocal<Tape> CURRENT = new ThreadLocal<>();

    /** The tape of the check in progress, for the function under test. */
    static Tape tape() {
        return CURRENT.get();
    }

    static Var random(Random rng, boolean grad, double scale, int... shape) {
        int n = 1;
        for (int d : shape) {
            n *= d;
        }
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (rng.nextGaussian() * scale);
        }
        return new Var(v, grad, shape);
    }
}
