package org.fomm4j.kernels;

import org.fomm4j.tensor.FrameArena;

/** The weight gradient of a stride-1, zero-padded convolution over a whole batch, laid out for {@link Kernels#convWeightGradient}. */
public final class ConvWeightGradient {
    private ConvWeightGradient() {
    }

    /**
     * Adds {@code dW[o, i, ky, kx] = sum_{s, y, x} dY[s, o, y, x] X[s, i, y + ky - pad, x + kx - pad]} (X zero outside
     * its {@code H x W} plane) summed over the batch to {@code dw} ({@code [O, I, k, k]}): the weight gradient of a
     * stride-1 convolution {@code X [N, I, H, W] -> dY [N, O, oh, ow]}, and equally the correlation of any maps
     * {@code dY} with {@code X} (the fused jacobian head's heatmap-weighted patches). Input planes are
     * zero-padded and output-gradient rows widened to the same row length once, so that every tap is a
     * contiguous run for {@link Kernels#convWeightGradient}; tasks own disjoint (input channel, output
     * block) pairs of {@code dw}. 3x3 and 7x7 layers with many channels go through {@link WinogradWeightGradient} on the
     * Vector API kernels. Runs on {@link Parallel}.
     */
    public static void accumulate(Kernels kernels, float[] x, float[] dy, float[] dw, int n, int ci, int h, int wd, int co,
                                  int k, int pad, int oh, int ow) {
        WinogradWeightGradient winograd = kernels.vectorApi()
                ? WinogradWeightGradient.forLayer(n, ci, co, k, oh, ow) : null;
        if (winograd != null) {
            winograd.accumulate(x, dy, dw, n, ci, h, wd, co, pad, oh, ow);
            return;
        }
        if (oh * ow <= SMALL_PLANE) {
            smallPlane(kernels, x, dy, dw, n, ci, h, wd, co, k, pad, oh, ow);
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
            kernels.convWeightGradient(xp, i * xPlane, ci * xPlane, dp, o0 * len, co * len, n, o1 - o0, k, wp, len,
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
    private static void smallPlane(Kernels kernels, float[] x, float[] dy, float[] dw, int n, int ci, int h, int wd, int co,
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
        Parallel.forEach(tasks, t -> kernels.gemmTN(dyT, co, col, rows, q, dw, t * chunk, Math.min(rows, (t + 1) * chunk)));
    }
}
