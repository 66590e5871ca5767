package org.fomm4j.kernels;

import static org.fomm4j.kernels.PanamaKernels.SPECIES;
import static org.fomm4j.kernels.PanamaKernels.VL;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

/**
 * The weight gradient of a 7x7 stride-1 convolution by Winograd's F(2x2, 7x7), the backward pass of
 * {@link Winograd7Conv2d}: every 2x2 output block is {@code A^T [U (.) V] A} with {@code U = G g G^T} and
 * {@code V = B^T d B}, so {@code dU[t][o][i] = sum_tiles (A dY A^T)[t][o] * V[t][i]} for the 64 transform points
 * {@code t}, and {@code dg = G^T dU G} (Lavin and Gray 2016, section 5). The multiply-adds against the data are
 * 64 per 2x2 outputs and channel pair instead of 4 x 49; they are dot products over tiles, consecutive in memory in
 * both transforms, so no transposition is needed.
 *
 * <p>Work goes in chunks of {@link #BAND} tile rows of one sample: transforms of every input and output-gradient
 * plane in parallel, then the dot products in parallel over (point, block of 3 output channels), accumulated in
 * float per chunk and summed over chunks; the final {@code G^T dU G} is in double. Results equal the direct sum up
 * to float32 rounding, larger than a direct sum's (the transforms' coefficients reach 5.25); checked against the
 * scalar weight gradient by {@code ConvolutionAlgorithmProperties}.
 */
final class Winograd7WeightGradient {
    /** Tile rows per chunk: the dot products run over {@code BAND * tiles per row} tiles (256 at 64x64 outputs). */
    private static final int BAND = 8;
    /** A loop stride C2 cannot see as a constant, so that it does not unroll the 3 x 3 tile loop and spill. */
    private static final int[] STRIDE = {VL};

    private Winograd7WeightGradient() {
    }

    /**
     * Whether the weight gradient of {@code x [N, ci, h, w] -> dY [N, co, oh, ow]} (7x7, stride 1) goes this way:
     * {@code -Dfomm4j.winograd=always} for every 7x7 layer, {@code never} for none; by default (measured on Zen 3,
     * batch 8, 64x64) for 64+ input and 16+ output channels on outputs of at least 16x16.
     */
    static boolean chosen(int ci, int co, int k, int oh, int ow) {
        if (k != 7) {
            return false;
        }
        return switch (AdaptiveConv2d.WINOGRAD_MODE) {
            case "always" -> true;
            case "never" -> false;
            default -> ci >= 64 && co >= 16 && oh >= 16 && ow >= 16;
        };
    }

    /**
     * Adds {@code dW[o, i, ky, kx] = sum_{s, y, x} dY[s, o, y, x] X[s, i, y + ky - pad, x + kx - pad]} to {@code dw}
     * ({@code [co, ci, 7, 7]}), X zero outside its plane; {@code oh = h + 2 pad - 6}, {@code ow = w + 2 pad - 6}.
     * Runs on {@link Parallel}.
     */
    static void accumulate(float[] x, float[] dy, float[] dw, int n, int ci, int h, int w, int co, int pad, int oh,
                           int ow) {
        int th = (oh + 1) / 2, tw = (ow + 1) / 2;
        int ctMax = roundUp(Math.min(BAND, th) * tw);
        float[] v = Workspace.take(64 * ci * ctMax);
        float[] g = Workspace.take(64 * co * ctMax);
        float[] du = Workspace.take(64 * co * ci);
        java.util.Arrays.fill(du, 0, 64 * co * ci, 0f);
        int oBlocks = (co + 2) / 3;
        try {
            for (int s = 0; s < n; s++) {
                for (int ty0 = 0; ty0 < th; ty0 += BAND) {
                    int rowsT = Math.min(BAND, th - ty0), tiles = rowsT * tw, ct = roundUp(tiles);
                    int sample = s, top = ty0;
                    Parallel.forEach(ci + co, task -> {
                        if (task < ci) {
                            Winograd7Conv2d.transformInput(x, (sample * ci + task) * h * w, h, w, pad, top, rowsT, tw,
                                    v, task * ct, ci * ct);
                            zeroTails(v, task * ct, ci * ct, tiles, ct);
                        } else {
                            int o = task - ci;
                            transformGradient(dy, (sample * co + o) * oh * ow, oh, ow, top, rowsT, tw, g, o * ct, co * ct);
                            zeroTails(g, o * ct, co * ct, tiles, ct);
                        }
                    });
                    Parallel.forEach(64 * oBlocks, task -> {
                        int t = task / oBlocks, o0 = (task % oBlocks) * 3;
                        dots(g, t * co * ct, v, t * ci * ct, ct, co, ci, o0, du, t * co * ci);
                    });
                }
            }
            Parallel.forEach(co, o -> {
                double[] gu = new double[8 * 7];
                for (int i = 0; i < ci; i++) {
                    // dW = G^T dU G: gu[b][k] = sum_a G[a][k] dU[a][b], then dW[k][l] = sum_b gu[b][k] G[b][l].
                    for (int b = 0; b < 8; b++) {
                        for (int k = 0; k < 7; k++) {
                            double acc = 0;
                            for (int a = 0; a < 8; a++) {
                                acc += Winograd7Conv2d.G[a][k] * du[((a * 8 + b) * co + o) * ci + i];
                            }
                            gu[b * 7 + k] = acc;
                        }
                    }
                    int wOff = (o * ci + i) * 49;
                    for (int k = 0; k < 7; k++) {
                        for (int l = 0; l < 7; l++) {
                            double acc = 0;
                            for (int b = 0; b < 8; b++) {
                                acc += gu[b * 7 + k] * Winograd7Conv2d.G[b][l];
                            }
                            dw[wOff + k * 7 + l] += (float) acc;
                        }
                    }
                }
            });
        } finally {
            Workspace.give(v);
            Workspace.give(g);
            Workspace.give(du);
        }
    }

    private static int roundUp(int tiles) {
        return (tiles + VL - 1) / VL * VL;
    }

    /** Zeroes columns {@code [tiles, ct)} of the 64 rows {@code off + t * tStride}: the dot products run to {@code ct}. */
    private static void zeroTails(float[] a, int off, int tStride, int tiles, int ct) {
        if (tiles < ct) {
            for (int t = 0; t < 64; t++) {
                java.util.Arrays.fill(a, off + t * tStride + tiles, off + t * tStride + ct, 0f);
            }
        }
    }

    /**
     * {@code A dY A^T} ({@code A = AT^T}, 8 x 2) of the 2x2 blocks of tile rows {@code [ty0, ty0 + rowsT)} of one
     * output-gradient plane (zero past {@code oh x ow}): point {@code t = a * 8 + b} of tile {@code (ty, tx)} goes to
     * {@code g[gOff + t * tStride + ty * tw + tx]}. Uses this thread's {@link Workspace#local} slot 3.
     */
    static void transformGradient(float[] dy, int plane, int oh, int ow, int ty0, int rowsT, int tw, float[] g,
                                  int gOff, int tStride) {
        // Rows 0, 1 of the block, split into even and odd columns; then e[i][b] = AT[0][b] d[i][even] + AT[1][b] d[i][odd].
        float[] buf = Workspace.local(3, 4 * tw + 16 * tw);
        int e = 4 * tw;
        float[] at0 = Winograd7Conv2d.AT[0], at1 = Winograd7Conv2d.AT[1];
        for (int ty = 0; ty < rowsT; ty++) {
            for (int i = 0; i < 2; i++) {
                int oy = 2 * (ty0 + ty) + i;
                for (int tx = 0; tx < tw; tx++) {
                    int ox = 2 * tx;
                    boolean row = oy < oh;
                    buf[(2 * i) * tw + tx] = row ? dy[plane + oy * ow + ox] : 0f;
                    buf[(2 * i + 1) * tw + tx] = row && ox + 1 < ow ? dy[plane + oy * ow + ox + 1] : 0f;
                }
            }
            for (int i = 0; i < 2; i++) {
                for (int b = 0; b < 8; b++) {
                    combine2(buf, (2 * i) * tw, at0[b], buf, (2 * i + 1) * tw, at1[b], buf, e + (i * 8 + b) * tw, tw);
                }
            }
            for (int a = 0; a < 8; a++) {
                for (int b = 0; b < 8; b++) {
                    combine2(buf, e + b * tw, at0[a], buf, e + (8 + b) * tw, at1[a], g,
                            gOff + (a * 8 + b) * tStride + ty * tw, tw);
                }
            }
        }
    }

    /** {@code dst[d + t] = c0 p[p0 + t] + c1 q[q0 + t]} for {@code t < count}. */
    private static void combine2(float[] p, int p0, float c0, float[] q, int q0, float c1, float[] dst, int d, int count) {
        FloatVector v0 = FloatVector.broadcast(SPECIES, c0), v1 = FloatVector.broadcast(SPECIES, c1);
        int t = 0;
        for (; t + VL <= count; t += VL) {
            FloatVector.fromArray(SPECIES, q, q0 + t).fma(v1, FloatVector.fromArray(SPECIES, p, p0 + t).mul(v0))
                    .intoArray(dst, d + t);
        }
        for (; t < count; t++) {
            dst[d + t] = Math.fma(q[q0 + t], c1, p[p0 + t] * c0);
        }
    }

    /**
     * {@code du[duOff + o * ci + i] += sum_{p < len} g[gOff + o * len + p] * v[vOff + i * len + p]} for output channels
     * {@code o0 .. o0 + 2} (those below {@code co}) and every input channel, as 3 x 3 register tiles (9 accumulators,
     * 6 loads per 9 multiply-adds); {@code len} is a multiple of the vector length.
     */
    private static void dots(float[] g, int gOff, float[] v, int vOff, int len, int co, int ci, int o0, float[] du,
                             int duOff) {
        int oRows = Math.min(3, co - o0);
        int g0 = gOff + o0 * len, g1 = gOff + (o0 + Math.min(1, oRows - 1)) * len, g2 = gOff + (o0 + oRows - 1) * len;
        int[] stride = STRIDE;
        for (int i0 = 0; i0 < ci; i0 += 3) {
            int iCols = Math.min(3, ci - i0);
            int x0 = vOff + i0 * len, x1 = vOff + (i0 + Math.min(1, iCols - 1)) * len, x2 = vOff + (i0 + iCols - 1) * len;
            FloatVector a00 = FloatVector.zero(SPECIES), a01 = a00, a02 = a00, a10 = a00, a11 = a00, a12 = a00;
            FloatVector a20 = a00, a21 = a00, a22 = a00;
            for (int p = 0; p < len; p += stride[0]) {
                FloatVector v0 = FloatVector.fromArray(SPECIES, v, x0 + p);
                FloatVector v1 = FloatVector.fromArray(SPECIES, v, x1 + p);
                FloatVector v2 = FloatVector.fromArray(SPECIES, v, x2 + p);
                FloatVector d = FloatVector.fromArray(SPECIES, g, g0 + p);
                a00 = d.fma(v0, a00);
                a01 = d.fma(v1, a01);
                a02 = d.fma(v2, a02);
                d = FloatVector.fromArray(SPECIES, g, g1 + p);
                a10 = d.fma(v0, a10);
                a11 = d.fma(v1, a11);
                a12 = d.fma(v2, a12);
                d = FloatVector.fromArray(SPECIES, g, g2 + p);
                a20 = d.fma(v0, a20);
                a21 = d.fma(v1, a21);
                a22 = d.fma(v2, a22);
            }
            int r0 = duOff + o0 * ci + i0;
            du[r0] += a00.reduceLanes(VectorOperators.ADD);
            if (iCols > 1) {
                du[r0 + 1] += a01.reduceLanes(VectorOperators.ADD);
            }
            if (iCols > 2) {
                du[r0 + 2] += a02.reduceLanes(VectorOperators.ADD);
            }
            if (oRows > 1) {
                int r1 = r0 + ci;
                du[r1] += a10.reduceLanes(VectorOperators.ADD);
                if (iCols > 1) {
                    du[r1 + 1] += a11.reduceLanes(VectorOperators.ADD);
                }
                if (iCols > 2) {
                    du[r1 + 2] += a12.reduceLanes(VectorOperators.ADD);
                }
            }
            if (oRows > 2) {
                int r2 = r0 + 2 * ci;
                du[r2] += a20.reduceLanes(VectorOperators.ADD);
                if (iCols > 1) {
                    du[r2 + 1] += a21.reduceLanes(VectorOperators.ADD);
                }
                if (iCols > 2) {
                    du[r2 + 2] += a22.reduceLanes(VectorOperators.ADD);
                }
            }
        }
    }
}
