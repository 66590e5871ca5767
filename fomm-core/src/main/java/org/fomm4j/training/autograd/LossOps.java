package org.fomm4j.training.autograd;

/**
 * The reductions the training losses are made of. {@code |x|}'s derivative is {@code sign(x)}, zero at 0
 * (as {@code torch.abs}).
 */
public final class LossOps {
    private LossOps() {
    }

    /** {@code torch.abs(a - b).mean()}: a one-element tensor. */
    public static Var meanAbsDiff(Tape t, Var a, Var b) {
        a.requireShape("L1 operand", b.shape());
        float[] x = a.value(), y = b.value();
        double s = 0;
        for (int i = 0; i < x.length; i++) {
            s += Math.abs(x[i] - y[i]);
        }
        Var out = t.output(new float[] {(float) (s / x.length)}, new int[] {1}, a, b);
        t.record(out, () -> {
            float g = out.grad()[0] / x.length;
            float[] da = a.requiresGrad() ? a.grad() : null, db = b.requiresGrad() ? b.grad() : null;
            for (int i = 0; i < x.length; i++) {
                float d = Math.signum(x[i] - y[i]) * g;
                if (da != null) {
                    da[i] += d;
                }
                if (db != null) {
                    db[i] -= d;
                }
            }
        });
        return out;
    }

    /** {@code torch.abs(eye(2) - x).mean()} over a batch of 2x2 matrices {@code [..., 2, 2]}. */
    public static Var meanAbsFromIdentity(Tape t, Var x) {
        float[] v = x.value();
        double s = 0;
        for (int i = 0; i < v.length; i++) {
            s += Math.abs(eye(i) - v[i]);
        }
        Var out = t.output(new float[] {(float) (s / v.length)}, new int[] {1}, x);
        t.record(out, () -> {
            float g = out.grad()[0] / v.length;
            float[] dx = x.grad();
            for (int i = 0; i < v.length; i++) {
                dx[i] -= Math.signum(eye(i) - v[i]) * g;
            }
        });
        return out;
    }

    private static float eye(int i) {
        int r = i % 4;
        return r == 0 || r == 3 ? 1f : 0f;
    }

    /** {@code sum_i weights[i] * terms[i]} of one-element tensors. */
    public static Var weightedSum(Tape t, Var[] terms, float[] weights) {
        float s = 0f;
        for (int i = 0; i < terms.length; i++) {
            s += weights[i] * terms[i].item();
        }
        Var out = t.output(new float[] {s}, new int[] {1}, terms);
        t.record(out, () -> {
            float g = out.grad()[0];
            for (int i = 0; i < terms.length; i++) {
                if (terms[i].requiresGrad()) {
                    terms[i].grad()[0] += weights[i] * g;
                }
            }
        });
        return out;
    }
}
