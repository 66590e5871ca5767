package org.fomm4j.training.autograd;

import org.fomm4j.kernels.Parallel;
import org.fomm4j.tensor.Tensor;

/** Softmax over spatial positions and over channels, with backward {@code dx = y (dy - sum(dy y))}. */
public final class SoftmaxOps {
    private SoftmaxOps() {
    }

    /**
     * {@code F.softmax(x.view(N, C, -1) / temperature, dim=2).view(N, C, H, W)}: the keypoint detector's heatmaps.
     */
    public static Var spatial(Tape t, Var x, float temperature) {
        int planes = x.dim(0) * x.dim(1), len = x.dim(2) * x.dim(3);
        float[] out = ConvOps.K.softmaxSpatial(Tensor.of(x.value(), x.shape()), temperature).data();
        Var y = t.output(out, x.shape(), x);
        t.record(y, () -> {
            float[] dy = y.grad(), dx = x.grad();
            Parallel.forEach(planes, p -> {
                int b = p * len;
                double dot = 0;
                for (int i = 0; i < len; i++) {
                    dot += dy[b + i] * out[b + i];
                }
                float d = (float) dot;
                for (int i = 0; i < len; i++) {
                    dx[b + i] += out[b + i] * (dy[b + i] - d) / temperature;
                }
            });
        });
        return y;
    }

    /** {@code F.softmax(x, dim=1)} of {@code [N, C, H, W]}: the dense motion network's masks. */
    public static Var channels(Tape t, Var x) {
        int n = x.dim(0), c = x.dim(1), plane = x.dim(2) * x.dim(3);
        float[] out = ConvOps.K.softmaxChannels(Tensor.of(x.value(), x.shape())).data();
        Var y = t.output(out, x.shape(), x);
        t.record(y, () -> {
            float[] dy = y.grad(), dx = x.grad();
            Parallel.forEach(n, s -> {
                for (int p = 0; p < plane; p++) {
                    int b = s * c * plane + p;
                    float dot = 0;
                    for (int ch = 0; ch < c; ch++) {
                        dot += dy[b + ch * plane] * out[b + ch * plane];
                    }
                    for (int ch = 0; ch < c; ch++) {
                        dx[b + ch * plane] += out[b + ch * plane] * (dy[b + ch * plane] - dot);
                    }
                }
            });
        });
        return y;
    }

    /**
     * TPSMM's {@code dropout_softmax} (paper eqs. 7-8) with a given keep mask: {@code y_c = m_c exp(x_c - M)
     * / (sum_k m_k exp(x_k - M) + 1e-6)}, {@code M} the channel maximum (over dropped channels too), so
     * a dropped transformation contributes nothing. (The reference also divides its logits by
     * {@code 1 - p} after taking their exponentials, which changes nothing.) Backward: {@code dx_c =
     * y_c (dy_c - sum_k y_k dy_k)}, plus the small term through {@code M} (the 1e-6 is not shift-invariant)
     * on the channel holding the maximum.
     *
     * @param x    {@code [N, C, H, W]} logits
     * @param keep {@code [N, C]}: 1 to keep a channel, 0 to drop it
     * @return {@code [N, C, H, W]}
     */
    public static Var channelsDropout(Tape t, Var x, float[] keep) {
        int n = x.dim(0), c = x.dim(1), plane = x.dim(2) * x.dim(3);
        if (keep.length != n * c) {
            throw new IllegalArgumentException("dropout mask of " + keep.length + " values for " + x);
        }
        float[] in = x.value(), out = new float[in.length];
        int[] argmax = new int[n * plane];
        Parallel.forEach(n, s -> {
            for (int p = 0; p < plane; p++) {
                int b = s * c * plane + p, at = 0;
                float max = in[b];
                for (int ch = 1; ch < c; ch++) {
                    if (in[b + ch * plane] > max) {
                        max = in[b + ch * plane];
                        at = ch;
                    }
                }
                argmax[s * plane + p] = at;
                float sum = 0;
                for (int ch = 0; ch < c; ch++) {
                    float e = keep[s * c + ch] == 0f ? 0f : (float) Math.exp(in[b + ch * plane] - max);
                    out[b + ch * plane] = e;
                    sum += e;
                }
                sum += 1e-6f;
                for (int ch = 0; ch < c; ch++) {
                    out[b + ch * plane] /= sum;
                }
            }
        });
        Var y = t.output(out, x.shape(), x);
        t.record(y, () -> {
            float[] dy = y.grad(), dx = x.grad();
            Parallel.forEach(n, s -> {
                for (int p = 0; p < plane; p++) {
                    int b = s * c * plane + p;
                    float dot = 0, total = 0;
                    for (int ch = 0; ch < c; ch++) {
                        dot += dy[b + ch * plane] * out[b + ch * plane];
                        total += out[b + ch * plane];
                    }
                    for (int ch = 0; ch < c; ch++) {
                        dx[b + ch * plane] += out[b + ch * plane] * (dy[b + ch * plane] - dot);
                    }
                    // d y_c / d M = -y_c (1 - sum_k y_k)
                    dx[b + argmax[s * plane + p] * plane] -= dot * (1 - total);
                }
            });
        });
        return y;
    }
}
