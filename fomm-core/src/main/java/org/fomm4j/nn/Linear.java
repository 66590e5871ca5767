package org.fomm4j.nn;

import org.fomm4j.weights.WeightReader;

/**
 * {@code nn.Linear}, optionally with a following {@code BatchNorm1d} (eval mode) folded in and ReLU.
 * Tensors {@code weight [out, in]}, {@code bias [out]}. Input and output are {@code [N, features]} rows.
 */
public final class Linear {
    private final int in;
    private final int out;
    private final float[] weight;
    private final float[] bias;
    private final boolean relu;

    private Linear(int in, int out, float[] weight, float[] bias, boolean relu) {
        this.in = in;
        this.out = out;
        this.weight = weight;
        this.bias = bias;
        this.relu = relu;
    }

    public static Linear read(WeightReader r, int in, int out) {
        return new Linear(in, out, r.take("weight", out, in), r.take("bias", out), false);
    }

    /** Linear then BatchNorm1d (folded) then ReLU. */
    public static Linear readWithBatchNormRelu(WeightReader linear, WeightReader norm, int in, int out) {
        float[] w = linear.take("weight", out, in);
        float[] b = linear.take("bias", out);
        float[] folded = BatchNorm.fold(w, b, BatchNorm.readStats(norm, out));
        return new Linear(in, out, w, folded, true);
    }

    public int outFeatures() {
        return out;
    }

    /** @param x {@code n} rows of {@code in} values; returns {@code n} rows of {@code out} values */
    public float[] forward(float[] x, int n) {
        if (x.length != n * in) {
            throw new IllegalArgumentException("linear layer expects rows of " + in + " values, got " + x.length + " for " + n + " rows");
        }
        float[] y = new float[n * out];
        for (int b = 0; b < n; b++) {
            for (int o = 0; o < out; o++) {
                double s = bias[o];
                for (int i = 0; i < in; i++) {
                    s += (double) weight[o * in + i] * x[b * in + i];
                }
                float v = (float) s;
                y[b * out + o] = relu && v < 0f ? 0f : v;
            }
        }
        return y;
    }
}
