package org.fomm4j.training.autograd;

import org.fomm4j.kernels.Activation;
import org.fomm4j.kernels.ConvSpec;
import org.fomm4j.kernels.KernelProvider;
import org.fomm4j.kernels.Kernels;
import org.fomm4j.kernels.Parallel;
import org.fomm4j.tensor.FrameArena;
import org.fomm4j.tensor.Tensor;

/**
 * {@code nn.Conv2d} (stride 1, zero padding, one group, square kernel) with its backward pass.
 *
 * <p>Forward and input gradient run on the inference convolutions of {@link Kernels} (Winograd or direct,
 * vectorized, parallel): for stride 1 the input gradient is the convolution of the output gradient with
 * the weights transposed ({@code O <-> I}) and flipped, padded {@code k - 1 - pad}. The weight gradient
 * is {@code dW[o, i, ky, kx] = sum_{n, y, x} dY[n, o, y, x] * X[n, i, y + ky - pad, x + kx - pad]}, a
 * correlation of each input plane with each output-gradient plane ({@link Kernels#convWeightGradient},
 * no im2col), split over (input channel, output block) pairs across the pool.
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

    /** Counts {@code flops} convolution FLOPs done outside {@link #conv2d} (the fused jacobian head). */
    static void countFlops(long flops) {
        FLOPS.add(flops);
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

    /**
     * Adds {@code dW} summed over the batch to {@code dw} ({@code [O, I, k, k]}). Input planes are
     * zero-padded and output-gradient rows widened to the same row length once, so that every tap is a
     * contiguous run for {@link Kernels#convWeightGradient}; tasks own disjoint (input channel, output
     * block) pairs of {@code dw}.
     */
    static void weightGradient(float[] x, float[] dy, float[] dw, int n, int ci, int h, int wd, int co, int k, int pad,
                               int oh, int ow) {
        if (oh * ow <= SMALL_PLANE) {
            smallPlaneWeightGradient(x, dy, dw, n, ci, h, wd, co, k, pad, oh, ow);
            return;
        }
        int hp = h + 2 * pad, wp = wd + 2 * pad, xPlane = hp * wp + k - 1, len = oh * wp;
        float[] xp = FrameArena.zeros(n * ci * xPlane);
        float[] dp = FrameArena.zeros(n * co * len);
        Parallel.forEach(n * ci, plane -> {
            for (int y = 0; y < h; y++) {
                System.arraycopy(x, (plane * h + y) * wd, xp, plane * xPlane + (y + pad) * wp + pad, wd);
            }
        });
        Parallel.forEach(n * co, plane -> {
            for (int y = 0; y < oh; y++) {
                System.arraycopy(dy, (plane * oh + y) * ow, dp, plane * len + y * wp, ow);
            }
        });
        int oChunk = ci * ((co + 7) / 8) >= 4 * Parallel.threads() ? 8 : 4;
        int blocks = (co + oChunk - 1) / oChunk, kk = k * k;
        Parallel.forEach(ci * blocks, task -> {
            int i = task / blocks, o0 = (task % blocks) * oChunk, o1 = Math.min(co, o0 + oChunk);
            K.convWeightGradient(xp, i * xPlane, ci * xPlane, dp, o0 * len, co * len, n, o1 - o0, k, wp, len,
                    dw, (o0 * ci + i) * kk, ci * kk);
        });
    }

    /**
     * Output planes of at most this many positions (the hourglasses' 8x8 and smaller levels) have too
     * short rows for {@link Kernels#convWeightGradient}'s vectors; there the long axis is the unfolded
     * input's {@code I * k * k}. Measured (Zen 5, batch 4, 2 threads): at 8x8, 128->128 3x3, 34 GFLOP/s
     * direct against 100 this way; at 16x16 the two are within noise, so 16x16 stays direct.
     */
    static final int SMALL_PLANE = 64;

    /** {@code dW[o, r] += sum_{s, p} dY[s, o, p] * unfold(X)[s, p, r]} with {@code r = (i, ky, kx)}, via {@link Kernels#gemmTN}. */
    private static void smallPlaneWeightGradient(float[] x, float[] dy, float[] dw, int n, int ci, int h, int wd, int co,
                                                 int k, int pad, int oh, int ow) {
        int kk = k * k, rows = ci * kk, plane = oh * ow, q = n * plane;
        float[] col = FrameArena.zeros(q * rows);
        float[] dyT = FrameArena.zeros(q * co);
        Parallel.forEach(n, s -> {
            for (int p = 0; p < plane; p++) {
                int y = p / ow, xx = p % ow, base = (s * plane + p) * rows;
                for (int i = 0; i < ci; i++) {
                    int src = (s * ci + i) * h * wd;
                    for (int ky = 0; ky < k; ky++) {
                        int iy = y + ky - pad;
                        if (iy < 0 || iy >= h) {
                            continue;
                        }
                        for (int kx = 0; kx < k; kx++) {
                            int ix = xx + kx - pad;
                            if (ix >= 0 && ix < wd) {
                                col[base + i * kk + ky * k + kx] = x[src + iy * wd + ix];
                            }
                        }
                    }
                }
                for (int o = 0; o < co; o++) {
                    dyT[(s * plane + p) * co + o] = dy[(s * co + o) * plane + p];
                }
            }
        });
        int chunk = Math.max(32, (rows / (4 * Parallel.threads()) + 31) / 32 * 32);
        int tasks = (rows + chunk - 1) / chunk;
        Parallel.forEach(tasks, t -> K.gemmTN(dyT, co, col, rows, q, dw, t * chunk, Math.min(rows, (t + 1) * chunk)));
    }
}
