package org.fomm4j.training.autograd;

import org.fomm4j.kernels.Parallel;

/**
 * {@code nn.Linear}: {@code y = x W^T + b} with its backward pass (ResNet-18's {@code fc}, the AVD network's
 * MLPs). All three products run on {@link org.fomm4j.kernels.Kernels#gemmTN} ({@code C += A^T B}), split by
 * column blocks over the pool: forward {@code y = (x^T)^T W^T}, weight gradient {@code dW = dY^T x} and input
 * gradient {@code dx = (dY^T)^T W}; the transposes they need are of the small operands.
 */
public final class LinearOps {
    /** Columns per parallel block: a multiple of every vector width. */
    private static final int BLOCK = 64;

    private LinearOps() {
    }

    /**
     * @param x {@code [N, in]}
     * @param w {@code [out, in]}
     * @param b {@code [out]} or {@code null}
     * @return {@code [N, out]}
     * @throws IllegalArgumentException if the shapes do not match
     */
    public static Var linear(Tape t, Var x, Var w, Var b) {
        if (x.rank() != 2 || w.rank() != 2 || x.dim(1) != w.dim(1)) {
            throw new IllegalArgumentException("linear: input " + x + " and weight " + w + " do not match");
        }
        int n = x.dim(0), in = x.dim(1), out = w.dim(0);
        if (b != null) {
            b.requireShape("linear bias", out);
        }
        float[] xv = x.value(), wv = w.value(), y = new float[n * out];
        if (b != null) {
            for (int s = 0; s < n; s++) {
                System.arraycopy(b.value(), 0, y, s * out, out);
            }
        }
        gemmTN(transpose(xv, n, in), n, transpose(wv, out, in), out, in, y);
        ConvOps.countFlops(2L * n * in * out);
        Var r = t.output(y, new int[] {n, out}, x, w, b);
        t.record(r, () -> {
            float[] dy = r.grad();
            if (b != null && b.requiresGrad()) {
                float[] db = b.grad();
                for (int s = 0; s < n; s++) {
                    for (int o = 0; o < out; o++) {
                        db[o] += dy[s * out + o];
                    }
                }
            }
            if (w.requiresGrad()) {
                ConvOps.countFlops(2L * n * in * out);
                gemmTN(dy, out, xv, in, n, w.grad());
            }
            if (x.requiresGrad()) {
                ConvOps.countFlops(2L * n * in * out);
                gemmTN(transpose(dy, n, out), n, wv, in, out, x.grad());
            }
        });
        return r;
    }

    /** {@code c[m x n] += a^T b}, {@code a} {@code q x m}, {@code b} {@code q x n}, column blocks in parallel. */
    private static void gemmTN(float[] a, int m, float[] b, int n, int q, float[] c) {
        int blocks = (n + BLOCK - 1) / BLOCK;
        Parallel.forEach(blocks, k -> ConvOps.K.gemmTN(a, m, b, n, q, c, k * BLOCK, Math.min(n, (k + 1) * BLOCK)));
    }

    /** {@code [rows, cols] -> [cols, rows]}. */
    private static float[] transpose(float[] a, int rows, int cols) {
        float[] t = new float[a.length];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                t[c * rows + r] = a[r * cols + c];
            }
        }
        return t;
    }
}
