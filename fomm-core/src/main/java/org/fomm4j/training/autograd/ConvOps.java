package org.fomm4j.training.autograd;

import org.fomm4j.kernels.Activation;
import org.fomm4j.kernels.ConvSpec;
import org.fomm4j.kernels.KernelProvider;
import org.fomm4j.kernels.Kernels;
import org.fomm4j.kernels.Parallel;
import org.fomm4j.tensor.Tensor;

/**
 * {@code nn.Conv2d} (stride 1, zero padding, one group, square kernel) with its backward pass.
 *
 * <p>Forward and input gradient run on the inference convolutions of {@link Kernels} (Winograd or direct,
 * vectorized, parallel): for stride 1 the input gradient is the convolution of the output gradient with
 * the weights transposed ({@code O <-> I}) and flipped, padded {@code k - 1 - pad}. The weight gradient
 * is {@code dW[o, (i, ky, kx)] = sum_{n, p} dY[n, o, p] * unfold(X)[n, (i, ky, kx), p]}: the input is
 * unfolded per sample (im2col) and multiplied with {@link Kernels#gemmNT}, split over rows of the
 * unfolded input across the pool.
 */
public final class ConvOps {
    /** The kernels every forward pass of this package runs on (the inference ones). */
    static final Kernels K = KernelProvider.get();
    /** Floating-point operations (2 per multiply-add) of every convolution run here, forward and backward. */
    private static final java.util.concurrent.atomic.LongAdder FLOPS = new java.util.concurrent.atomic.LongAdder();

    /** Convolution FLOPs (2 per multiply-add) done so far by this class: forward, input and weight gradients. */
    public static long flops() {
        return FLOPS.sum();
    }

    private ConvOps() {
    }

    /**
     * @param x    {@code [N, I, H, W]}
     * @param w    {@code [O, I, k, k]}
     * @param b    {@code [O]} or {@code null}
     * @param pad  zero padding on every side
     * @return {@code [N, O, H + 2 pad - k + 1, W + 2 pad - k + 1]}
     * @throws IllegalArgumentException if the shapes do not match
     */
    public static Var conv2d(Tape t, Var x, Var w, Var b, int pad) {
        if (x.rank() != 4 || w.rank() != 4 || w.dim(1) != x.dim(1) || w.dim(2) != w.dim(3)) {
            throw new IllegalArgumentException("conv2d: input " + x + " and weight " + w + " do not match");
        }
        int n = x.dim(0), ci = x.dim(1), h = x.dim(2), wd = x.dim(3);
        int co = w.dim(0), k = w.dim(2);
        if (b != null) {
            b.requireShape("conv2d bias", co);
        }
        ConvSpec spec = ConvSpec.of(ci, co, k, pad);
        int oh = spec.outH(h), ow = spec.outW(wd);
        Tensor y = K.conv2d(spec, w.value(), b == null ? null : b.value())
                .apply(Tensor.of(x.value(), n, ci, h, wd), Activation.NONE);
        long macs = (long) n * co * ci * k * k * oh * ow;
        FLOPS.add(2 * macs);
        Var out = t.output(y.data(), new int[] {n, co, oh, ow}, x, w, b);
        t.record(out, () -> {
            float[] dy = out.grad();
            if (b != null && b.requiresGrad()) {
                float[] db = b.grad();
                int plane = oh * ow;
                for (int s = 0; s < n; s++) {
                    for (int o = 0; o < co; o++) {
                        double acc = 0;
                        int base = (s * co + o) * plane;
                        for (int p = 0; p < plane; p++) {
                            acc += dy[base + p];
                        }
                        db[o] += (float) acc;
                    }
                }
            }
            if (w.requiresGrad()) {
                FLOPS.add(2 * macs);
                weightGradient(x.value(), dy, w.grad(), n, ci, h, wd, co, k, pad, oh, ow);
            }
            if (x.requiresGrad()) {
                FLOPS.add(2 * macs);
                float[] dx = inputGradient(dy, w.value(), n, ci, co, k, pad, oh, ow);
                float[] g = x.grad();
                for (int i = 0; i < g.length; i++) {
                    g[i] += dx[i];
                }
            }
        });
        return out;
    }

    /** {@code conv(dY, flip(W)^T, pad k-1-pad)}: {@code [N, I, H, W]}. */
    static float[] inputGradient(float[] dy, float[] w, int n, int ci, int co, int k, int pad, int oh, int ow) {
        float[] wt = new float[w.length];
        int kk = k * k;
        for (int o = 0; o < co; o++) {
            for (int i = 0; i < ci; i++) {
                int src = (o * ci + i) * kk, dst = (i * co + o) * kk;
                for (int q = 0; q < kk; q++) {
                    wt[dst + q] = w[src + kk - 1 - q];
                }
            }
        }
        int tp = k - 1 - pad;
        float[] full = K.conv2d(ConvSpec.of(co, ci, k, Math.max(tp, 0)), wt, null)
                .apply(Tensor.of(dy, n, co, oh, ow), Activation.NONE).data();
        if (tp >= 0) {
            return full;
        }
        // Padding wider than the kernel: the gradient is the inner part of the unpadded transposed convolution.
        int fh = oh - k + 1, fw = ow - k + 1, h = oh - 2 * pad + k - 1, wd = ow - 2 * pad + k - 1, off = -tp;
        float[] dx = new float[n * ci * h * wd];
        for (int p = 0; p < n * ci; p++) {
            for (int y = 0; y < h; y++) {
                System.arraycopy(full, (p * fh + y + off) * fw + off, dx, (p * h + y) * wd, wd);
            }
        }
        return dx;
    }

    /** Adds {@code dW} of every sample to {@code dw} ({@code [O, I*k*k]} row-major, = OIHW). */
    static void weightGradient(float[] x, float[] dy, float[] dw, int n, int ci, int h, int wd, int co, int k, int pad,
                               int oh, int ow) {
        int rows = ci * k * k, plane = oh * ow;
        float[] col = new float[rows * plane];
        // The transposed product dW^T[(i,ky,kx), o] is formed so that each task owns whole rows of it.
        float[] dwt = new float[rows * co];
        int tasks = Math.min(rows, Parallel.threads() * 4);
        for (int s = 0; s < n; s++) {
            int sample = s;
            Parallel.forEach(tasks, task -> {
                int r0 = (int) ((long) rows * task / tasks), r1 = (int) ((long) rows * (task + 1) / tasks);
                for (int r = r0; r < r1; r++) {
                    unfoldRow(x, col, sample, r, ci, h, wd, k, pad, oh, ow);
                }
                K.gemmNT(col, r0 * plane, dy, sample * co * plane, dwt, r0 * co, co, r1 - r0, co, plane);
            });
        }
        for (int r = 0; r < rows; r++) {
            for (int o = 0; o < co; o++) {
                dw[o * rows + r] += dwt[r * co + o];
            }
        }
    }

    /** Row {@code r = (i, ky, kx)} of the unfolded input of one sample: {@code X[i, y + ky - pad, x + kx - pad]}. */
    private static void unfoldRow(float[] x, float[] col, int s, int r, int ci, int h, int wd, int k, int pad, int oh, int ow) {
        int i = r / (k * k), ky = (r / k) % k, kx = r % k;
        int src = (s * ci + i) * h * wd, dst = r * oh * ow;
        for (int y = 0; y < oh; y++) {
            int iy = y + ky - pad;
            int d = dst + y * ow;
            if (iy < 0 || iy >= h) {
                java.util.Arrays.fill(col, d, d + ow, 0f);
                continue;
            }
            int row = src + iy * wd;
            int x0 = Math.max(0, pad - kx), x1 = Math.min(ow, wd + pad - kx);
            for (int xx = 0; xx < x0; xx++) {
                col[d + xx] = 0f;
            }
            if (x1 > x0) {
                System.arraycopy(x, row + x0 + kx - pad, col, d + x0, x1 - x0);
            }
            for (int xx = Math.max(x1, x0); xx < ow; xx++) {
                col[d + xx] = 0f;
            }
        }
    }
}
