package org.fomm4j.nn;

import org.fomm4j.weights.WeightReader;

/**
 * {@code BatchNorm2d} in eval mode: {@code y = (x - mean) / sqrt(var + eps) * gamma + beta}, as a
 * per-channel {@code scale, shift} pair computed in double, and folded into a preceding
 * convolution when there is one. {@code eps = 1e-5} (PyTorch's default, used by both references).
 */
public final class BatchNorm {
    public static final double EPS = 1e-5;

    /** Per-channel {@code scale} and {@code shift} with {@code y = x * scale + shift}. */
    public record Affine(float[] scale, float[] shift) {
    }

    private BatchNorm() {
    }

    /** The tensors of a {@code BatchNorm2d}/{@code BatchNorm1d}: {@code weight, bias, running_mean, running_var}. */
    public record Stats(float[] gamma, float[] beta, float[] mean, float[] var) {
    }

    /** Reads {@code weight, bias, running_mean, running_var} (and accepts {@code num_batches_tracked}). */
    public static Stats readStats(WeightReader r, int channels) {
        Stats s = new Stats(r.take("weight", channels), r.take("bias", channels), r.take("running_mean", channels),
                r.take("running_var", channels));
        r.ignore("num_batches_tracked");
        return s;
    }

    /** Reads a BatchNorm as a per-channel affine (for one that cannot be folded). */
    public static Affine read(WeightReader r, int channels) {
        Stats s = readStats(r, channels);
        return affine(s.gamma(), s.beta(), s.mean(), s.var());
    }

    /** {@link #fold(float[], float[], float[], float[], float[], float[])} with read statistics. */
    public static float[] fold(float[] weight, float[] bias, Stats s) {
        return fold(weight, bias, s.gamma(), s.beta(), s.mean(), s.var());
    }

    public static Affine affine(float[] gamma, float[] beta, float[] mean, float[] var) {
        int c = gamma.length;
        float[] scale = new float[c], shift = new float[c];
        for (int i = 0; i < c; i++) {
            double s = gamma[i] / Math.sqrt(var[i] + EPS);
            scale[i] = (float) s;
            shift[i] = (float) (beta[i] - mean[i] * s);
        }
        return new Affine(scale, shift);
    }

    /**
     * Folds BatchNorm into the convolution before it: {@code w'[o] = w[o] * s[o]},
     * {@code b'[o] = (b[o] - mean[o]) * s[o] + beta[o]} with {@code s = gamma / sqrt(var + eps)}.
     *
     * @param weight OIHW weights, modified in place
     * @param bias   conv bias or {@code null}
     * @return the folded bias
     */
    public static float[] fold(float[] weight, float[] bias, float[] gamma, float[] beta, float[] mean, float[] var) {
        int c = gamma.length;
        int per = weight.length / c;
        float[] out = new float[c];
        for (int o = 0; o < c; o++) {
            double s = gamma[o] / Math.sqrt(var[o] + EPS);
            for (int i = 0; i < per; i++) {
                weight[o * per + i] = (float) (weight[o * per + i] * s);
            }
            double b = bias == null ? 0 : bias[o];
            out[o] = (float) ((b - mean[o]) * s + beta[o]);
        }
        return out;
    }
}
