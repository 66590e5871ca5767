package org.fomm4j.nn;

import java.util.Arrays;
import org.fomm4j.kernels.ConvWeightGradient;
import org.fomm4j.kernels.Kernels;

/**
 * The jacobian head of FOMM's {@code KPDetector} ({@code modules/keypoint_detector.py}: a {@code k x k} convolution to
 * {@code 4M} jacobian maps, then their means weighted by the keypoints' heatmaps) computed without the maps: since the
 * maps are only ever summed against the heatmaps, {@code J[n, k, e] = sum_{i, tap} W[r, i, tap] A[n, k, i, tap] + b[r]
 * sum_p H[n, k, p]} with {@code r = 4 m(k) + e} ({@code m(k) = k}, or 0 for a single jacobian map) and the
 * heatmap-weighted patches {@code A[n, k, i, tap] = sum_p H[n, k, p] F[n, i, p + tap - pad]} (features zero outside
 * their plane). {@code A} is one {@code K}-channel correlation ({@link ConvWeightGradient}) where the maps are a
 * {@code 4M}-channel convolution: 4 times fewer multiply-adds. Equal to the reference up to float32 summation order.
 * Used by inference ({@code KpDetector}) and training ({@code MotionOps.jacobianHead}, which also keeps {@code A} and
 * the masses for its backward pass).
 */
public final class JacobianHead {
    private JacobianHead() {
    }

    /**
     * The heatmap-weighted patches {@code A}, {@code [N, K, C * kw * kw]}, and into {@code mass} ({@code [N * K]}) each
     * heatmap's sum.
     *
     * @param heat     {@code [N, K, oh, ow]} (softmax over space: each sums to 1 up to rounding)
     * @param features {@code [N, C, h, w]} with {@code oh = h + 2 pad - kw + 1}, {@code ow} likewise
     */
    public static float[] patches(Kernels kernels, float[] heat, float[] features, int n, int k, int c, int h, int w,
                                  int kw, int pad, int oh, int ow, double[] mass) {
        int plane = oh * ow, taps = c * kw * kw, fPlane = c * h * w;
        float[] patches = new float[n * k * taps];
        for (int s = 0; s < n; s++) {
            float[] f = Arrays.copyOfRange(features, s * fPlane, (s + 1) * fPlane);
            float[] hs = Arrays.copyOfRange(heat, s * k * plane, (s + 1) * k * plane);
            float[] a = new float[k * taps];
            ConvWeightGradient.accumulate(kernels, f, hs, a, 1, c, h, w, k, kw, pad, oh, ow);
            System.arraycopy(a, 0, patches, s * k * taps, k * taps);
            for (int kk = 0; kk < k; kk++) {
                double m = 0;
                for (int p = 0; p < plane; p++) {
                    m += hs[kk * plane + p];
                }
                mass[s * k + kk] = m;
            }
        }
        return patches;
    }

    /**
     * {@code J = W . A + b mass}, in double per entry.
     *
     * @param weight {@code [4K, C, kw, kw]}, or {@code [4, C, kw, kw]} when {@code single}
     * @param bias   {@code [4K]} / {@code [4]}, or {@code null}
     * @return {@code [N, K, 2, 2]}, the 2x2 matrices row-major
     */
    public static float[] jacobians(float[] patches, double[] mass, float[] weight, float[] bias, int n, int k, int taps,
                                    boolean single) {
        float[] out = new float[n * k * 4];
        for (int s = 0; s < n; s++) {
            for (int kk = 0; kk < k; kk++) {
                int pb = (s * k + kk) * taps;
                for (int e = 0; e < 4; e++) {
                    int r = single ? e : 4 * kk + e;
                    double acc = bias == null ? 0 : bias[r] * mass[s * k + kk];
                    for (int q = 0; q < taps; q++) {
                        acc += (double) weight[r * taps + q] * patches[pb + q];
                    }
                    out[(s * k + kk) * 4 + e] = (float) acc;
                }
            }
        }
        return out;
    }
}
