package org.fomm4j.training;

import java.util.LinkedHashMap;
import java.util.Map;
import org.fomm4j.training.autograd.Var;

/**
 * {@code torch.optim.Adam} as the reference trainers configure it ({@code betas=(0.5, 0.999)}, {@code eps=1e-8};
 * FOMM without weight decay, TPSMM with {@code weight_decay=1e-4}): {@code g += wd p}, {@code m = b1 m + (1 - b1) g},
 * {@code v = b2 v + (1 - b2) g^2}, {@code p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)}. Moments are kept per parameter
 * and saved with checkpoints so that training resumes exactly.
 */
public final class Adam {
    public static final double BETA1 = 0.5;
    public static final double BETA2 = 0.999;
    public static final double EPS = 1e-8;

    private final Map<String, Var> params;
    private final Map<String, float[]> m = new LinkedHashMap<>();
    private final Map<String, float[]> v = new LinkedHashMap<>();
    private final double weightDecay;
    private long step;
    private double lr;

    public Adam(Map<String, Var> params, double lr) {
        this(params, lr, 0);
    }

    /** @param weightDecay L2 penalty added to the gradient ({@code torch.optim.Adam}'s {@code weight_decay}) */
    public Adam(Map<String, Var> params, double lr, double weightDecay) {
        this.params = params;
        this.lr = lr;
        this.weightDecay = weightDecay;
        params.forEach((k, p) -> {
            m.put(k, new float[p.size()]);
            v.put(k, new float[p.size()]);
        });
    }

    public void setLearningRate(double lr) {
        this.lr = lr;
    }

    public double learningRate() {
        return lr;
    }

    public long steps() {
        return step;
    }

    /** Takes one step with the current gradients (a parameter without a gradient is treated as zero gradient). */
    public void step() {
        step++;
        double bc1 = 1 - Math.pow(BETA1, step), bc2 = 1 - Math.pow(BETA2, step);
        float stepSize = (float) (lr / bc1);
        float sqrtBc2 = (float) Math.sqrt(bc2);
        float b1 = (float) BETA1, b2 = (float) BETA2, wd = (float) weightDecay;
        params.forEach((k, p) -> {
            float[] g = p.hasGrad() ? p.grad() : new float[p.size()];
            float[] mm = m.get(k), vv = v.get(k), w = p.value();
            for (int i = 0; i < w.length; i++) {
                float gi = wd == 0 ? g[i] : g[i] + wd * w[i];
                mm[i] = mm[i] * b1 + (1 - b1) * gi;
                vv[i] = vv[i] * b2 + (1 - b2) * gi * gi;
                float denom = (float) Math.sqrt(vv[i]) / sqrtBc2 + (float) EPS;
                w[i] -= stepSize * mm[i] / denom;
            }
        });
    }

    /** The moments ({@code NAME.exp_avg}, {@code NAME.exp_avg_sq}) and the step count, for a checkpoint. */
    public Map<String, float[]> state() {
        Map<String, float[]> s = new LinkedHashMap<>();
        m.forEach((k, a) -> s.put(k + ".exp_avg", a));
        v.forEach((k, a) -> s.put(k + ".exp_avg_sq", a));
        s.put("step", new float[] {step});
        return s;
    }

    /** Restores {@link #state()}; entries that do not match a parameter's size are an error. */
    public void load(Map<String, float[]> s) {
        m.forEach((k, a) -> copy(s, k + ".exp_avg", a));
        v.forEach((k, a) -> copy(s, k + ".exp_avg_sq", a));
        float[] st = s.get("step");
        step = st == null ? 0 : (long) st[0];
    }

    private static void copy(Map<String, float[]> s, String key, float[] into) {
        float[] src = s.get(key);
        if (src == null || src.length != into.length) {
            throw new IllegalArgumentException("optimizer state " + key + " is missing or has the wrong size");
        }
        System.arraycopy(src, 0, into, 0, into.length);
    }

    /**
     * {@code torch.nn.utils.clip_grad_norm_(params, max_norm, norm_type=inf)}: every gradient times
     * {@code min(1, maxNorm / (max |g| + 1e-6))} (TPSMM's trainer, {@code max_norm=10}, per network).
     *
     * @return the largest absolute gradient before clipping
     */
    public static double clipGradNormInf(Iterable<Var> params, double maxNorm) {
        float total = 0;
        for (Var p : params) {
            if (p.hasGrad()) {
                for (float g : p.grad()) {
                    total = Math.max(total, Math.abs(g));
                }
            }
        }
        float coef = (float) Math.min(1.0, maxNorm / (total + 1e-6));
        for (Var p : params) {
            if (p.hasGrad()) {
                float[] g = p.grad();
                for (int i = 0; i < g.length; i++) {
                    g[i] *= coef;
                }
            }
        }
        return total;
    }
}
