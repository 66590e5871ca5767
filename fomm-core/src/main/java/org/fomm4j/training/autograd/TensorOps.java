package org.fomm4j.training.autograd;

import java.util.Arrays;
import org.fomm4j.tensor.Tensor;

/** Element-wise operations, concatenation, views and permutations, with their backward passes. */
public final class TensorOps {
    private TensorOps() {
    }

    /** {@code max(x, 0)}; the gradient passes where the output is positive. */
    public static Var relu(Tape t, Var x) {
        float[] out = ConvOps.K.relu(Tensor.of(x.value(), x.shape())).data();
        Var y = t.output(out, x.shape(), x);
        t.record(y, () -> {
            float[] dy = y.grad(), dx = x.grad();
            for (int i = 0; i < dx.length; i++) {
                if (out[i] > 0f) {
                    dx[i] += dy[i];
                }
            }
        });
        return y;
    }

    /** {@code 1 / (1 + exp(-x))}; {@code dx = dy * y (1 - y)}. */
    public static Var sigmoid(Tape t, Var x) {
        float[] out = ConvOps.K.sigmoid(Tensor.of(x.value(), x.shape())).data();
        Var y = t.output(out, x.shape(), x);
        t.record(y, () -> {
            float[] dy = y.grad(), dx = x.grad();
            for (int i = 0; i < dx.length; i++) {
                dx[i] += dy[i] * out[i] * (1 - out[i]);
            }
        });
        return y;
    }

    /** {@code a + b}, same shapes. */
    public static Var add(Tape t, Var a, Var b) {
        return linear(t, a, b, 1f);
    }

    /** {@code a - b}, same shapes. */
    public static Var sub(Tape t, Var a, Var b) {
        return linear(t, a, b, -1f);
    }

    private static Var linear(Tape t, Var a, Var b, float sb) {
        a.requireShape("second operand", b.shape());
        float[] x = a.value(), z = b.value(), out = new float[x.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = x[i] + sb * z[i];
        }
        Var y = t.output(out, a.shape(), a, b);
        t.record(y, () -> {
            float[] dy = y.grad();
            if (a.requiresGrad()) {
                float[] da = a.grad();
                for (int i = 0; i < da.length; i++) {
                    da[i] += dy[i];
                }
            }
            if (b.requiresGrad()) {
                float[] db = b.grad();
                for (int i = 0; i < db.length; i++) {
                    db[i] += sb * dy[i];
                }
            }
        });
        return y;
    }

    /** {@code s * x}. */
    public static Var scale(Tape t, Var x, float s) {
        float[] in = x.value(), out = new float[in.length];
        for (int i = 0; i < in.length; i++) {
            out[i] = s * in[i];
        }
        Var y = t.output(out, x.shape(), x);
        t.record(y, () -> {
            float[] dy = y.grad(), dx = x.grad();
            for (int i = 0; i < dx.length; i++) {
                dx[i] += s * dy[i];
            }
        });
        return y;
    }

    /** {@code a * x + b} element-wise ({@code sigmoid * 2 - 1} of TPSMM's keypoints, {@code 1 - occlusion}). */
    public static Var affine(Tape t, Var x, float a, float b) {
        float[] in = x.value(), out = new float[in.length];
        for (int i = 0; i < in.length; i++) {
            out[i] = a * in[i] + b;
        }
        Var y = t.output(out, x.shape(), x);
        t.record(y, () -> {
            float[] dy = y.grad(), dx = x.grad();
            for (int i = 0; i < dx.length; i++) {
                dx[i] += a * dy[i];
            }
        });
        return y;
    }

    /**
     * {@code x[n, c, h, w] * map[n, 0, h, w]}: every channel times a one-channel map (the generator's
     * occlusion).
     */
    public static Var mulMap(Tape t, Var x, Var map) {
        int n = x.dim(0), c = x.dim(1), plane = x.dim(2) * x.dim(3);
        map.requireShape("map", n, 1, x.dim(2), x.dim(3));
        float[] in = x.value(), m = map.value(), out = new float[in.length];
        for (int s = 0; s < n; s++) {
            for (int ch = 0; ch < c; ch++) {
                int base = (s * c + ch) * plane;
                for (int p = 0; p < plane; p++) {
                    out[base + p] = in[base + p] * m[s * plane + p];
                }
            }
        }
        Var y = t.output(out, x.shape(), x, map);
        t.record(y, () -> {
            float[] dy = y.grad();
            float[] dx = x.requiresGrad() ? x.grad() : null, dm = map.requiresGrad() ? map.grad() : null;
            for (int s = 0; s < n; s++) {
                for (int ch = 0; ch < c; ch++) {
                    int base = (s * c + ch) * plane;
                    for (int p = 0; p < plane; p++) {
                        if (dx != null) {
                            dx[base + p] += dy[base + p] * m[s * plane + p];
                        }
                        if (dm != null) {
                            dm[s * plane + p] += dy[base + p] * in[base + p];
                        }
                    }
                }
            }
        });
        return y;
    }

    /**
     * {@code torch.cat(parts, dim)}: all parts have the same rank and the same sizes except along {@code dim}.
     */
    public static Var concat(Tape t, int dim, Var... parts) {
        int rank = parts[0].rank();
        int[] shape = parts[0].shape();
        int total = 0;
        for (Var p : parts) {
            int[] s = p.shape();
            if (s.length != rank) {
                throw new IllegalArgumentException("concat: ranks differ: " + Arrays.toString(shape) + " and " + Arrays.toString(s));
            }
            for (int i = 0; i < rank; i++) {
                if (i != dim && s[i] != shape[i]) {
                    throw new IllegalArgumentException("concat along " + dim + ": shapes " + Arrays.toString(shape)
                            + " and " + Arrays.toString(s));
                }
            }
            total += s[dim];
        }
        shape[dim] = total;
        int outer = 1, inner = 1;
        for (int i = 0; i < dim; i++) {
            outer *= shape[i];
        }
        for (int i = dim + 1; i < rank; i++) {
            inner *= shape[i];
        }
        float[] out = new float[outer * total * inner];
        int[] offsets = new int[parts.length];
        int at = 0;
        for (int q = 0; q < parts.length; q++) {
            offsets[q] = at;
            int len = parts[q].dim(dim) * inner;
            float[] v = parts[q].value();
            for (int o = 0; o < outer; o++) {
                System.arraycopy(v, o * len, out, o * total * inner + at * inner, len);
            }
            at += parts[q].dim(dim);
        }
        int fInner = inner, fTotal = total, fOuter = outer;
        Var y = t.output(out, shape, parts);
        t.record(y, () -> {
            float[] dy = y.grad();
            for (int q = 0; q < parts.length; q++) {
                if (!parts[q].requiresGrad()) {
                    continue;
                }
                int len = parts[q].dim(dim) * fInner;
                float[] g = parts[q].grad();
                for (int o = 0; o < fOuter; o++) {
                    int src = o * fTotal * fInner + offsets[q] * fInner;
                    for (int i = 0; i < len; i++) {
                        g[o * len + i] += dy[src + i];
                    }
                }
            }
        });
        return y;
    }

    /** The same values under another shape ({@code view}); the gradient is passed through. */
    public static Var reshape(Tape t, Var x, int... shape) {
        Var y = t.output(x.value(), shape, x);
        t.record(y, () -> {
            float[] dy = y.grad(), dx = x.grad();
            for (int i = 0; i < dx.length; i++) {
                dx[i] += dy[i];
            }
        });
        return y;
    }

    /** {@code x.permute(0, 3, 1, 2)}: {@code [N, H, W, C] -> [N, C, H, W]}. */
    public static Var nhwcToNchw(Tape t, Var x) {
        return permute(t, x, false);
    }

    /** {@code x.permute(0, 2, 3, 1)}: {@code [N, C, H, W] -> [N, H, W, C]}. */
    public static Var nchwToNhwc(Tape t, Var x) {
        return permute(t, x, true);
    }

    private static Var permute(Tape t, Var x, boolean toNhwc) {
        int n = x.dim(0);
        int c = toNhwc ? x.dim(1) : x.dim(3), h = toNhwc ? x.dim(2) : x.dim(1), w = toNhwc ? x.dim(3) : x.dim(2);
        float[] in = x.value(), out = new float[in.length];
        int plane = h * w;
        for (int s = 0; s < n; s++) {
            for (int ch = 0; ch < c; ch++) {
                for (int p = 0; p < plane; p++) {
                    int nchw = (s * c + ch) * plane + p, nhwc = (s * plane + p) * c + ch;
                    if (toNhwc) {
                        out[nhwc] = in[nchw];
                    } else {
                        out[nchw] = in[nhwc];
                    }
                }
            }
        }
        int[] shape = toNhwc ? new int[] {n, h, w, c} : new int[] {n, c, h, w};
        Var y = t.output(out, shape, x);
        t.record(y, () -> {
            float[] dy = y.grad(), dx = x.grad();
            for (int s = 0; s < n; s++) {
                for (int ch = 0; ch < c; ch++) {
                    for (int p = 0; p < plane; p++) {
                        int nchw = (s * c + ch) * plane + p, nhwc = (s * plane + p) * c + ch;
                        if (toNhwc) {
                            dx[nchw] += dy[nhwc];
                        } else {
                            dx[nhwc] += dy[nchw];
                        }
                    }
                }
            }
        });
        return y;
    }
}
