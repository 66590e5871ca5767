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

    /**
     * The separation prior on keypoints of Zhang et al., "Unsupervised Discovery of Object Landmarks as
     * Structural Representations" (CVPR 2018), as a mean instead of a sum: over the batch and every
     * pair {@code i < j} of the {@code K} keypoints, {@code exp(-|kp_i - kp_j|^2 / (2 sigma^2))}. It is 1
     * for keypoints on top of each other and falls to 0.01 at a distance of {@code 3 sigma}.
     *
     * @param kp    {@code [N, K, 2]}, {@code (x, y)} in {@code [-1, 1]}
     * @param sigma its length scale, in the same units
     * @return a one-element tensor (0 when {@code K < 2})
     */
    public static Var keypointSeparation(Tape t, Var kp, float sigma) {
        if (kp.rank() != 3 || kp.dim(2) != 2) {
            throw new IllegalArgumentException("keypoint separation: keypoints must be [N, K, 2], got "
                    + java.util.Arrays.toString(kp.shape()));
        }
        int n = kp.dim(0), k = kp.dim(1);
        long pairs = (long) n * k * (k - 1) / 2;
        float[] v = kp.value();
        float inv = 1f / (2 * sigma * sigma);
        double s = 0;
        for (int b = 0; b < n; b++) {
            for (int i = 0; i < k; i++) {
                for (int j = i + 1; j < k; j++) {
                    float dx = v[(b * k + i) * 2] - v[(b * k + j) * 2], dy = v[(b * k + i) * 2 + 1] - v[(b * k + j) * 2 + 1];
                    s += Math.exp(-(dx * dx + dy * dy) * inv);
                }
            }
        }
        Var out = t.output(new float[] {pairs == 0 ? 0f : (float) (s / pairs)}, new int[] {1}, kp);
        if (pairs == 0) {
            return out;
        }
        t.record(out, () -> {
            float g = out.grad()[0] / pairs;
            float[] d = kp.grad();
            for (int b = 0; b < n; b++) {
                for (int i = 0; i < k; i++) {
                    for (int j = i + 1; j < k; j++) {
                        int a = (b * k + i) * 2, c = (b * k + j) * 2;
                        float dx = v[a] - v[c], dy = v[a + 1] - v[c + 1];
                        // d/d(kp_i) exp(-|d|^2 inv) = -2 inv d exp(...); kp_j gets the opposite.
                        float f = -2 * inv * (float) Math.exp(-(dx * dx + dy * dy) * inv) * g;
                        d[a] += f * dx;
                        d[a + 1] += f * dy;
                        d[c] -= f * dx;
                        d[c + 1] -= f * dy;
                    }
                }
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
