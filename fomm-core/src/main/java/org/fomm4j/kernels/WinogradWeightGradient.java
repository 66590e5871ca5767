package org.fomm4j.kernels;

import static org.fomm4j.kernels.PanamaKernels.SPECIES;
import static org.fomm4j.kernels.PanamaKernels.VL;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * The weight gradient of a stride-1 convolution by Winograd's minimal filtering F(m x m, r x r), the backward pass
 * of the Winograd forward: every m x m output block is {@code A^T [U (.) V] A} with {@code U = G g G^T} and
 * {@code V = B^T d B} over its {@code alpha x alpha} input patch ({@code alpha = m + r - 1}), so
 * {@code dU[t][o][i] = sum_tiles (A dY A^T)[t][o] * V[t][i]} for the {@code alpha^2} transform points {@code t}, and
 * {@code dg = G^T dU G} (Lavin and Gray 2016, section 5). The multiply-adds against the data are {@code alpha^2} per
 * {@code m x m} outputs and channel pair instead of {@code m^2 r^2}; they are dot products over tiles, consecutive in
 * memory in both transforms, so no transposition is needed.
 *
 * <p>Two instances: {@link #F2_7} (F(2x2, 7x7), the matrices of {@link Winograd7Conv2d}: 3.1 times fewer
 * multiply-adds) and {@link #F2_3} (F(2x2, 3x3), points 0, 1, -1, infinity: 2.25 times fewer, transforms with
 * coefficients 0 and 1 only, so as exact as a direct sum up to summation order).
 *
 * <p>Work goes in chunks of tile rows of one sample (about {@link #CHUNK_TILES} tiles): transforms of every input
 * and output-gradient plane in parallel, then the dot products in parallel over (point, block of 5 output
 * channels), accumulated in float per chunk and summed over chunks; the final {@code G^T dU G} is in double.
 * Checked against the scalar weight gradient by {@code ConvolutionAlgorithmProperties}.
 */
final class WinogradWeightGradient {
    /** Tiles per chunk: the dot products run over this many tiles (one vector per lane group). */
    private static final int CHUNK_TILES = 256;
    /** Output channels per dot-product task ({@link #dots}' register tile rows). */
    private static final int OROWS = 5;
    /** A loop stride C2 cannot see as a constant, so that it does not unroll the 5 x 2 tile loop and spill. */
    private static final int[] STRIDE = {VL};

    /** F(2x2, 7x7) with {@link Winograd7Conv2d}'s matrices and its structured input transform. */
    static final WinogradWeightGradient F2_7 = new WinogradWeightGradient(2, 7, Winograd7Conv2d.AT, Winograd7Conv2d.BT,
            Winograd7Conv2d.G, true);
    /** F(2x2, 3x3) at the points 0, 1, -1 and infinity. */
    static final WinogradWeightGradient F2_3 = new WinogradWeightGradient(2, 3,
            new float[][] {{1, 1, 1, 0}, {0, 1, -1, -1}},
            new float[][] {{1, 0, -1, 0}, {0, 1, 1, 0}, {0, -1, 1, 0}, {0, 1, 0, -1}},
            new double[][] {{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}}, false);

    private final int m;
    private final int r;
    private final int alpha;
    private final int points;
    private final float[][] bt;
    private final double[][] g;
    /** {@code A = AT^T} ({@code alpha x m}). */
    private final float[][] atT;
    /** Whether the input transform is {@link Winograd7Conv2d#transformInput} (else {@link #transformInput}). */
    private final boolean winograd7Input;

    /**
     * @param winograd7Input {@link Winograd7Conv2d#transformInput} for {@code B^T}; otherwise {@code B^T}'s rows, like
     *                       {@code A}'s, must have one or two nonzero coefficients ({@link #transform})
     * @throws IllegalArgumentException if a row used by {@link #transform} has none or more than two
     */
    private WinogradWeightGradient(int m, int r, float[][] at, float[][] bt, double[][] g, boolean winograd7Input) {
        this.m = m;
        this.r = r;
        this.alpha = m + r - 1;
        this.points = alpha * alpha;
        this.bt = bt;
        this.g = g;
        this.atT = new float[alpha][m];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < alpha; j++) {
                atT[j][i] = at[i][j];
            }
        }
        this.winograd7Input = winograd7Input;
        requireTwoTerms(atT);
        if (!winograd7Input) {
            requireTwoTerms(bt);
        }
    }

    private static void requireTwoTerms(float[][] mat) {
        for (float[] row : mat) {
            int nonzero = 0;
            for (float c : row) {
                nonzero += c != 0f ? 1 : 0;
            }
            if (nonzero < 1 || nonzero > 2) {
                throw new IllegalArgumentException("transform rows need one or two nonzero coefficients, got "
                        + java.util.Arrays.toString(row));
            }
        }
    }

    /**
     * The Winograd weight gradient for {@code x [n, ci, h, w] -> dY [n, co, oh, ow]} (stride 1, {@code k x k}), or
     * {@code null} for the direct one. {@code -Dfomm4j.winograd=always}: every 3x3 and 7x7 layer; {@code never}: none.
     * By default, on outputs of at least 16x16:
     * <ul>
     *   <li>7x7 with 64+ input and 16+ output channels (the dense motion mask head; measured on Zen 3, 340 -> 82 at
     *       64x64, batch 4 on one thread as in a training shard: 0.69-0.74 s against 1.47-1.78 s direct, 441-475 ms
     *       with the 5 x 2 tile of {@link #dots}; not
     *       measured on AVX-512, taken there too for its 3 times fewer multiply-adds), and on 16-register machines
     *       also 16+ input and 64+ output channels in batches of 4 or more (the keypoint head, 19 -> 80: 57-62 ms
     *       against 93-119). Stays direct: 35 -> 16, 3 -> 64 and 64 -> 3 (slower), 19 -> 60 at batch 1 (no clear
     *       difference);</li>
     *   <li>3x3 with 64+ input and 64+ output channels (the generator's; Zen 3, batch 4, one thread, medians of 5 calls
     *       in two processes each: 64 -> 128 at 64x64 61.5 and 54.4 ms against 77.7 and 86.8 direct, 128 -> 64 53.0 and
     *       64.8 against 70.7 and 79.2, 128 -> 128 at 32x32 29.2 and 60.5 against 38.3 and 54.9). Stays direct: 324 -> 32
     *       (no gain: the input transform of 324 channels serves only 32 outputs), 64 -> 16 and 32 -> 64 (slower).</li>
     * </ul>
     */
    static WinogradWeightGradient forLayer(int n, int ci, int co, int k, int oh, int ow) {
        if (k != 7 && k != 3) {
            return null;
        }
        WinogradWeightGradient f = k == 7 ? F2_7 : F2_3;
        return switch (AdaptiveConv2d.WINOGRAD_MODE) {
            case "always" -> f;
            case "never" -> null;
            default -> {
                boolean big = oh >= 16 && ow >= 16;
                boolean take = k == 7
                        ? big && (ci >= 64 && co >= 16 || !MicroKernel.WIDE && ci >= 16 && co >= 64 && n >= 4)
                        : big && ci >= 64 && co >= 64;
                yield take ? f : null;
            }
        };
    }

    /**
     * Adds {@code dW[o, i, ky, kx] = sum_{s, y, x} dY[s, o, y, x] X[s, i, y + ky - pad, x + kx - pad]} to {@code dw}
     * ({@code [co, ci, r, r]}), X zero outside its plane; {@code oh = h + 2 pad - r + 1}, {@code ow = w + 2 pad - r + 1}.
     * Runs on {@link Parallel}.
     */
    void accumulate(float[] x, float[] dy, float[] dw, int n, int ci, int h, int w, int co, int pad, int oh, int ow) {
        int th = (oh + m - 1) / m, tw = (ow + m - 1) / m;
        int band = Math.max(1, Math.min(th, CHUNK_TILES / tw));
        int ctMax = roundUp(band * tw);
        int pts = points;
        float[] v = Workspace.take(pts * ci * ctMax);
        float[] gr = Workspace.take(pts * co * ctMax);
        float[] du = Workspace.take(pts * co * ci);
        java.util.Arrays.fill(du, 0, pts * co * ci, 0f);
        int oBlocks = (co + OROWS - 1) / OROWS;
        try {
            for (int s = 0; s < n; s++) {
                for (int ty0 = 0; ty0 < th; ty0 += band) {
                    int rowsT = Math.min(band, th - ty0), tiles = rowsT * tw, ct = roundUp(tiles);
                    int sample = s, top = ty0;
                    Parallel.forEach(ci + co, task -> {
                        if (task < ci) {
                            int plane = (sample * ci + task) * h * w;
                            if (winograd7Input) {
                                Winograd7Conv2d.transformInput(x, plane, h, w, pad, top, rowsT, tw, v, task * ct, ci * ct);
                            } else {
                                transformInput(x, plane, h, w, pad, top, rowsT, tw, v, task * ct, ci * ct);
                            }
                            zeroTails(v, task * ct, ci * ct, tiles, ct);
                        } else {
                            int o = task - ci;
                            transformGradient(dy, (sample * co + o) * oh * ow, oh, ow, top, rowsT, tw, gr, o * ct, co * ct);
                            zeroTails(gr, o * ct, co * ct, tiles, ct);
                        }
                    });
                    Parallel.forEach(pts * oBlocks, task -> {
                        int t = task / oBlocks, o0 = (task % oBlocks) * OROWS;
                        dots(gr, t * co * ct, v, t * ci * ct, ct, co, ci, o0, du, t * co * ci);
                    });
                }
            }
            int rr = r * r;
            // dW = G^T dU G per (o, i): gu[b][k] = sum_a G[a][k] dU[a][b], then dW[k][l] = sum_b gu[b][k] G[b][l]; loops
            // over i innermost, along dU's rows (i is its contiguous index), skipping G's zeros.
            Parallel.forEach(co, o -> {
                double[] gu = new double[alpha * r * ci];
                double[] acc = new double[ci];
                for (int b = 0; b < alpha; b++) {
                    for (int k = 0; k < r; k++) {
                        int dst = (b * r + k) * ci;
                        for (int a = 0; a < alpha; a++) {
                            double gk = g[a][k];
                            if (gk == 0) {
                                continue;
                            }
                            int src = ((a * alpha + b) * co + o) * ci;
                            for (int i = 0; i < ci; i++) {
                                gu[dst + i] += gk * du[src + i];
                            }
                        }
                    }
                }
                for (int k = 0; k < r; k++) {
                    for (int l = 0; l < r; l++) {
                        java.util.Arrays.fill(acc, 0);
                        for (int b = 0; b < alpha; b++) {
                            double gl = g[b][l];
                            if (gl == 0) {
                                continue;
                            }
                            int src = (b * r + k) * ci;
                            for (int i = 0; i < ci; i++) {
                                acc[i] += gu[src + i] * gl;
                            }
                        }
                        int w0 = o * ci * rr + k * r + l;
                        for (int i = 0; i < ci; i++) {
                            dw[w0 + i * rr] += (float) acc[i];
                        }
                    }
                }
            });
        } finally {
            Workspace.give(v);
            Workspace.give(gr);
            Workspace.give(du);
        }
    }

    private static int roundUp(int tiles) {
        return (tiles + VL - 1) / VL * VL;
    }

    /** Zeroes columns {@code [tiles, ct)} of the point rows {@code off + t * tStride}: the dot products run to {@code ct}. */
    private void zeroTails(float[] a, int off, int tStride, int tiles, int ct) {
        if (tiles < ct) {
            for (int t = 0; t < points; t++) {
                java.util.Arrays.fill(a, off + t * tStride + tiles, off + t * tStride + ct, 0f);
            }
        }
    }

    /**
     * The input transform {@code B^T d B} of tile rows {@code [ty0, ty0 + rowsT)} of one input plane (zero outside its
     * {@code h x w}, padded by {@code pad}), any {@code m} and {@code alpha}: point {@code t = a * alpha + b} of tile
     * {@code (ty, tx)} goes to {@code v[vOff + t * tStride + ty * tw + tx]}. Columns are split by phase
     * ({@code x mod m}) so that the patch columns of consecutive tiles are consecutive floats. Uses this thread's
     * {@link Workspace#local} slot 2.
     */
    private void transformInput(float[] in, int plane, int h, int w, int pad, int ty0, int rowsT, int tw, float[] v,
                                int vOff, int tStride) {
        int rows = m * (rowsT - 1) + alpha, phaseLen = tw + (alpha - 1) / m, pitch = m * phaseLen;
        float[] split = Workspace.local(2, rows * pitch + alpha * rows * tw);
        int xt = rows * pitch;
        for (int rr = 0; rr < rows; rr++) {
            int iy = m * ty0 + rr - pad;
            boolean inside = iy >= 0 && iy < h;
            for (int p = 0; p < m; p++) {
                for (int q = 0; q < phaseLen; q++) {
                    int ix = m * q + p - pad;
                    split[rr * pitch + p * phaseLen + q] = inside && ix >= 0 && ix < w ? in[plane + iy * w + ix] : 0f;
                }
            }
        }
        int[] rowTaps = new int[alpha];
        int[] colTaps = new int[alpha];
        for (int c = 0; c < alpha; c++) {
            rowTaps[c] = (c % m) * phaseLen + c / m;
            colTaps[c] = c * tw;
        }
        // Along rows: xt[b][row][tx] = sum_c BT[b][c] d[row][m tx + c].
        for (int rr = 0; rr < rows; rr++) {
            transform(bt, split, rr * pitch, rowTaps, split, xt + rr * tw, rows * tw, tw);
        }
        // Along columns: v[(a, b)][ty][tx] = sum_c BT[a][c] xt[b][m ty + c][tx].
        for (int b = 0; b < alpha; b++) {
            for (int ty = 0; ty < rowsT; ty++) {
                transform(bt, split, xt + (b * rows + m * ty) * tw, colTaps, v, vOff + b * tStride + ty * tw,
                        alpha * tStride, tw);
            }
        }
    }

    /**
     * {@code dst[d + j * dStride + t] = sum_c M[j][c] src[s + taps[c] + t]} for every row {@code j} of {@code M} and
     * {@code t < count}, in one pass per row: every row has one or two nonzero coefficients (checked when built).
     */
    private static void transform(float[][] mat, float[] src, int s, int[] taps, float[] dst, int d, int dStride,
                                  int count) {
        for (int j = 0; j < mat.length; j++) {
            float[] row = mat[j];
            int c0 = -1, c1 = -1;
            for (int c = 0; c < row.length; c++) {
                if (row[c] != 0f) {
                    if (c0 < 0) {
                        c0 = c;
                    } else {
                        c1 = c;
                    }
                }
            }
            // One nonzero: the second term reads the same floats with coefficient 0.
            float k0 = row[c0], k1 = c1 < 0 ? 0f : row[c1];
            int q0 = s + taps[c0], q1 = s + taps[c1 < 0 ? c0 : c1], o = d + j * dStride;
            FloatVector v0 = FloatVector.broadcast(SPECIES, k0), v1 = FloatVector.broadcast(SPECIES, k1);
            int t = 0;
            for (; t + VL <= count; t += VL) {
                FloatVector.fromArray(SPECIES, src, q1 + t).fma(v1, FloatVector.fromArray(SPECIES, src, q0 + t).mul(v0))
                        .intoArray(dst, o + t);
            }
            for (; t < count; t++) {
                dst[o + t] = Math.fma(src[q1 + t], k1, src[q0 + t] * k0);
            }
        }
    }

    /**
     * {@code A dY A^T} ({@code A = AT^T}, {@code alpha x m}) of the {@code m x m} blocks of tile rows
     * {@code [ty0, ty0 + rowsT)} of one output-gradient plane (zero past {@code oh x ow}): point
     * {@code t = a * alpha + b} of tile {@code (ty, tx)} goes to {@code g[gOff + t * tStride + ty * tw + tx]}. Uses this
     * thread's {@link Workspace#local} slot 3.
     */
    private void transformGradient(float[] dy, int plane, int oh, int ow, int ty0, int rowsT, int tw, float[] gOut,
                                   int gOff, int tStride) {
        // The block's m rows, each split into m column phases: d[i][j][tx] = dY[m ty + i][m tx + j]; then
        // e[i][b][tx] = sum_j AT[j][b] d[i][j][tx] and g[a][b] = sum_i AT[i][a] e[i][b].
        int e = m * m * tw;
        float[] buf = Workspace.local(3, e + m * alpha * tw);
        float[][] a = atT;
        int[] phaseTaps = new int[m];
        int[] rowTaps = new int[m];
        for (int j = 0; j < m; j++) {
            phaseTaps[j] = j * tw;
            rowTaps[j] = j * alpha * tw;
        }
        for (int ty = 0; ty < rowsT; ty++) {
            for (int i = 0; i < m; i++) {
                int oy = m * (ty0 + ty) + i;
                boolean row = oy < oh;
                for (int j = 0; j < m; j++) {
                    int d = (i * m + j) * tw;
                    for (int tx = 0; tx < tw; tx++) {
                        int ox = m * tx + j;
                        buf[d + tx] = row && ox < ow ? dy[plane + oy * ow + ox] : 0f;
                    }
                }
            }
            for (int i = 0; i < m; i++) {
                transform(a, buf, i * m * tw, phaseTaps, buf, e + i * alpha * tw, tw, tw);
            }
            for (int b = 0; b < alpha; b++) {
                transform(a, buf, e + b * tw, rowTaps, gOut, gOff + b * tStride + ty * tw, alpha * tStride, tw);
            }
        }
    }

    /**
     * {@code du[duOff + o * ci + i] += sum_{p < len} g[gOff + o * len + p] * v[vOff + i * len + p]} for output channels
     * {@code o0 .. o0 + 4} (those below {@code co}) and every input channel, as 5 x 2 register tiles (10 accumulators,
     * 2 input vectors, 1 gradient vector: 13 of AVX2's 16 registers; 7 loads per 10 multiply-adds). The task's 5
     * gradient rows stay in L1 while the point's transformed inputs stream from L2 once per task; {@code len} is a
     * multiple of the vector length.
     */
    private static void dots(float[] g, int gOff, float[] v, int vOff, int len, int co, int ci, int o0, float[] du,
                             int duOff) {
        int oRows = Math.min(OROWS, co - o0);
        int g0 = gOff + o0 * len, last = oRows - 1;
        int g1 = g0 + Math.min(1, last) * len, g2 = g0 + Math.min(2, last) * len, g3 = g0 + Math.min(3, last) * len;
        int g4 = g0 + Math.min(4, last) * len;
        int[] stride = STRIDE;
        for (int i0 = 0; i0 < ci; i0 += 2) {
            int x0 = vOff + i0 * len, x1 = vOff + Math.min(i0 + 1, ci - 1) * len;
            FloatVector a00 = FloatVector.zero(SPECIES), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00;
            FloatVector a30 = a00, a31 = a00, a40 = a00, a41 = a00;
            for (int p = 0; p < len; p += stride[0]) {
                FloatVector v0 = FloatVector.fromArray(SPECIES, v, x0 + p);
                FloatVector v1 = FloatVector.fromArray(SPECIES, v, x1 + p);
                FloatVector d = FloatVector.fromArray(SPECIES, g, g0 + p);
                a00 = d.fma(v0, a00);
                a01 = d.fma(v1, a01);
                d = FloatVector.fromArray(SPECIES, g, g1 + p);
                a10 = d.fma(v0, a10);
                a11 = d.fma(v1, a11);
                d = FloatVector.fromArray(SPECIES, g, g2 + p);
                a20 = d.fma(v0, a20);
                a21 = d.fma(v1, a21);
                d = FloatVector.fromArray(SPECIES, g, g3 + p);
                a30 = d.fma(v0, a30);
                a31 = d.fma(v1, a31);
                d = FloatVector.fromArray(SPECIES, g, g4 + p);
                a40 = d.fma(v0, a40);
                a41 = d.fma(v1, a41);
            }
            boolean two = i0 + 1 < ci;
            int row = duOff + o0 * ci + i0;
            add(du, row, a00, a01, two);
            if (oRows > 1) {
                add(du, row + ci, a10, a11, two);
            }
            if (oRows > 2) {
                add(du, row + 2 * ci, a20, a21, two);
            }
            if (oRows > 3) {
                add(du, row + 3 * ci, a30, a31, two);
            }
            if (oRows > 4) {
                add(du, row + 4 * ci, a40, a41, two);
            }
        }
    }

    private static void add(float[] du, int at, FloatVector first, FloatVector second, boolean two) {
        du[at] += first.reduceLanes(VectorOperators.ADD);
        if (two) {
            du[at + 1] += second.reduceLanes(VectorOperators.ADD);
        }
    }
}
