package org.fomm4j.training.autograd;

import org.fomm4j.kernels.Parallel;

/**
 * ResNet-18's pooling with backward passes: {@code nn.MaxPool2d(3, stride=2, padding=1)} after the stem and
 * {@code nn.AdaptiveAvgPool2d(1)} before {@code fc} (torchvision {@code resnet.py}).
 */
public final class PoolOps {
    private PoolOps() {
    }

    /**
     * Max over {@code k x k} windows with a stride, padding that never wins (as PyTorch's {@code -inf}).
     * The gradient goes to the first maximum of each window in row-major order.
     *
     * @param x {@code [N, C, H, W]}
     * @return {@code [N, C, (H + 2 pad - k) / stride + 1, (W + 2 pad - k) / stride + 1]}
     * @throws IllegalArgumentException if a window would lie wholly in the padding
     */
    public static Var maxPool2d(Tape t, Var x, int k, int stride, int pad) {
        int planes = x.dim(0) * x.dim(1), h = x.dim(2), w = x.dim(3);
        if (pad > k / 2) {
            throw new IllegalArgumentException("max pool: padding " + pad + " wider than half the kernel " + k);
        }
        int oh = (h + 2 * pad - k) / stride + 1, ow = (w + 2 * pad - k) / stride + 1;
        float[] in = x.value(), out = new float[planes * oh * ow];
        int[] arg = new int[out.length];
        Parallel.forEach(planes, p -> {
            int base = p * h * w;
            for (int oy = 0; oy < oh; oy++) {
                for (int ox = 0; ox < ow; ox++) {
                    float best = Float.NEGATIVE_INFINITY;
                    int at = -1;
                    for (int ky = 0; ky < k; ky++) {
                        int yy = oy * stride - pad + ky;
                        if (yy < 0 || yy >= h) {
                            continue;
                        }
                        for (int kx = 0; kx < k; kx++) {
                            int xx = ox * stride - pad + kx;
                            if (xx < 0 || xx >= w) {
                                continue;
                            }
                            float v = in[base + yy * w + xx];
                            if (v > best || at < 0 || Float.isNaN(v)) {
                                best = v;
                                at = base + yy * w + xx;
                            }
                        }
                    }
                    int o = (p * oh + oy) * ow + ox;
                    out[o] = best;
                    arg[o] = at;
                }
            }
        });
        Var y = t.output(out, new int[] {x.dim(0), x.dim(1), oh, ow}, x);
        t.record(y, () -> {
            float[] dy = y.grad(), dx = x.grad();
            for (int o = 0; o < dy.length; o++) {
                dx[arg[o]] += dy[o];
            }
        });
        return y;
    }

    /**
     * The mean of every plane ({@code AdaptiveAvgPool2d(1)} then {@code flatten(1)}).
     *
     * @param x {@code [N, C, H, W]}
     * @return {@code [N, C]}
     */
    public static Var globalAvgPool(Tape t, Var x) {
        int planes = x.dim(0) * x.dim(1), len = x.dim(2) * x.dim(3);
        float[] in = x.value(), out = new float[planes];
        for (int p = 0; p < planes; p++) {
            float acc = 0;
            for (int i = 0; i < len; i++) {
                acc += in[p * len + i];
            }
            out[p] = acc / len;
        }
        Var y = t.output(out, new int[] {x.dim(0), x.dim(1)}, x);
        t.record(y, () -> {
            float[] dy = y.grad(), dx = x.grad();
            for (int p = 0; p < planes; p++) {
                float g = dy[p] / len;
                for (int i = 0; i < len; i++) {
                    dx[p * len + i] += g;
                }
            }
        });
        return y;
    }
}
