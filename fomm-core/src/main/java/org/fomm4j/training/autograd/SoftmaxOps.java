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
}
