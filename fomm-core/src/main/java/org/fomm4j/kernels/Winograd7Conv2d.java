package org.fomm4j.kernels;

import static org.fomm4j.kernels.PanamaKernels.SPECIES;
import static org.fomm4j.kernels.PanamaKernels.VL;

import jdk.incubator.vector.FloatVector;
import org.fomm4j.tensor.FrameArena;
import org.fomm4j.tensor.Tensor;

/**
 * A 7x7 stride-1 convolution by Winograd's minimal filtering F(2x2, 7x7) (Lavin and Gray 2016, Toom-Cook at the
 * points 0, 1, -1, 2, -2, 1/2, -1/2 and infinity): every 2x2 block of outputs is {@code A^T [(G g G^T) (.) (B^T d B)] A}
 * over its 8x8 input patch {@code d}, so the multiply-adds against the input are 64 per 4 outputs instead of 4 x 49
 * (3.1 times fewer); per transform point they are one GEMM over the input channels ({@link MicroKernel#gemm}).
 * For the 7x7 heads with many channels on large planes (the dense motion network's mask and occlusion head).
 *
 * <p>The input transform runs along rows on the even and odd columns split apart, so that the patch columns of
 * consecutive tiles are consecutive floats; tiles are grouped in bands of tile rows, one task each, so the
 * transformed inputs of a band ({@code 64 x cin x tiles}) stay small. Transforms are in float32 with the weight
 * transform in double; the result equals the direct convolution up to float32 rounding (larger than a direct
 * sum's: the transform's coefficients reach 5.25; checked against the scalar reference by
 * {@code ConvolutionAlgorithmProperties}).
 */
final class Winograd7Conv2d implements Conv2d {
    private static final int MR = MicroKernel.MR;
    private static final int NR = MicroKernel.NR;
    /** Tile rows per task. */
    private static final int BAND = 4;

    /** {@code A^T} (2 x 8). */
    static final float[][] AT = {
            {1, 1, 1, 1, 1, 1, 1, 0},
            {0, 1, -1, 2, -2, 0.5f, -0.5f, 1}};
    /** {@code B^T} (8 x 8). */
    static final float[][] BT = {
            {-1, 0, 5.25f, 0, -5.25f, 0, 1, 0},
            {0, 1, 1, -4.25f, -4.25f, 1, 1, 0},
            {0, -1, 1, 4.25f, -4.25f, -1, 1, 0},
            {0, 0.5f, 0.25f, -2.5f, -1.25f, 2, 1, 0},
            {0, -0.5f, 0.25f, 2.5f, -1.25f, -2, 1, 0},
            {0, 2, 4, -2.5f, -5, 0.5f, 1, 0},
            {0, -2, 4, 2.5f, -5, -0.5f, 1, 0},
            {0, -1, 0, 5.25f, 0, -5.25f, 0, 1}};
    /** {@code G} (8 x 7): {@code G[j][k] = p_j^k / prod_{l != j} (p_j - p_l)} at the finite points, the last row {@code e_6}. */
    static final double[][] G = gMatrix();

    private final ConvSpec spec;
    private final float[] u;
    private final float[] bias;
    private final int coBlocks;
    private final int coPad;

    /**
     * @param weight OIHW {@code [cout, cin, 7, 7]}
     * @throws IllegalArgumentException if the convolution is not 7x7, stride 1, one group, equal paddings
     */
    Winograd7Conv2d(ConvSpec spec, float[] weight, float[] bias) {
        if (!supports(spec)) {
            throw new IllegalArgumentException("Winograd F(2x2,7x7) needs a 7x7 stride-1 convolution, got " + spec);
        }
        this.spec = spec;
        int cin = spec.inChannels(), cout = spec.outChannels();
        this.bias = bias == null ? new float[cout] : bias.clone();
        this.coBlocks = (cout + MR - 1) / MR;
        this.coPad = coBlocks * MR;
        float[] u = new float[64 * coBlocks * cin * MR];
        this.u = u;
        Parallel.forEach(cout, co -> {
            double[] gg = new double[8 * 7];
            int cb = co / MR, j = co % MR;
            for (int ci = 0; ci < cin; ci++) {
                int wOff = (co * cin + ci) * 49;
                for (int a = 0; a < 8; a++) {
                    for (int c = 0; c < 7; c++) {
                        double s = 0;
                        for (int k = 0; k < 7; k++) {
                            s += G[a][k] * weight[wOff + k * 7 + c];
                        }
                        gg[a * 7 + c] = s;
                    }
                }
                for (int a = 0; a < 8; a++) {
                    for (int b = 0; b < 8; b++) {
                        double s = 0;
                        for (int c = 0; c < 7; c++) {
                            s += gg[a * 7 + c] * G[b][c];
                        }
                        u[(((a * 8 + b) * coBlocks + cb) * cin + ci) * MR + j] = (float) s;
                    }
                }
            }
        });
    }

    static boolean supports(ConvSpec spec) {
        return spec.kernelH() == 7 && spec.kernelW() == 7 && spec.stride() == 1 && spec.groups() == 1
                && spec.padH() == spec.padW();
    }

    private static double[][] gMatrix() {
        double[] p = {0, 1, -1, 2, -2, 0.5, -0.5};
        double[][] g = new double[8][7];
        for (int j = 0; j < 7; j++) {
            double norm = 1;
            for (int l = 0; l < 7; l++) {
                if (l != j) {
                    norm *= p[j] - p[l];
                }
            }
            for (int k = 0; k < 7; k++) {
                g[j][k] = Math.pow(p[j], k) / norm;
            }
        }
        g[7][6] = 1;
        return g;
    }

    @Override
    public ConvSpec spec() {
        return spec;
    }

    @Override
    public Tensor apply(Tensor input, Activation activation) {
        int[] s = ScalarKernels.checkConvInput(spec, input);
        int n = s[0], cin = s[1], h = s[2], w = s[3], pad = spec.padH(), cout = spec.outChannels();
        int oh = h + 2 * pad - 6, ow = w + 2 * pad - 6;
        if (oh <= 0 || ow <= 0) {
            throw new IllegalArgumentException("convolution " + spec + " of a " + h + "x" + w + " input has no output");
        }
        int th = (oh + 1) / 2, tw = (ow + 1) / 2, bands = (th + BAND - 1) / BAND;
        float[] in = input.toHeap().data();
        float[] out = FrameArena.floats(n * cout * oh * ow);
        Parallel.forEach(n * bands, task -> band(in, out, task / bands, (task % bands) * BAND, cin, h, w, pad, oh, ow,
                th, tw, activation));
        return Tensor.of(out, n, cout, oh, ow);
    }

    /** Tile rows {@code [ty0, ty0 + BAND)} of sample {@code s}. */
    private void band(float[] in, float[] out, int s, int ty0, int cin, int h, int w, int pad, int oh, int ow, int th,
                      int tw, Activation activation) {
        int rowsT = Math.min(BAND, th - ty0), tiles = rowsT * tw, ct = (tiles + NR - 1) / NR * NR;
        int rows = 2 * rowsT + 6, half = tw + 3, pitch = 2 * half;
        // This thread's buffers (Workspace.local), reused from call to call; every element read is written first,
        // except v's columns past the last tile, whose GEMM results in m are never read.
        float[] v = Workspace.local(0, 64 * cin * ct);
        float[] split = Workspace.local(2, rows * pitch + 8 * rows * tw);
        int xt = rows * pitch;
        // Row r of the padded input, columns split: split[r][q] = column 2q - pad, split[r][half + q] = 2q + 1 - pad.
        int[] rowTaps = {0, half, 1, half + 1, 2, half + 2, 3, half + 3};
        int[] colTaps = new int[8];
        for (int c = 0; c < 8; c++) {
            colTaps[c] = c * tw;
        }
        for (int ci = 0; ci < cin; ci++) {
            int plane = (s * cin + ci) * h * w;
            for (int r = 0; r < rows; r++) {
                int iy = 2 * ty0 + r - pad;
                boolean inside = iy >= 0 && iy < h;
                for (int q = 0; q < half; q++) {
                    int ix = 2 * q - pad;
                    split[r * pitch + q] = inside && ix >= 0 && ix < w ? in[plane + iy * w + ix] : 0f;
                    ix++;
                    split[r * pitch + half + q] = inside && ix >= 0 && ix < w ? in[plane + iy * w + ix] : 0f;
                }
            }
            // Along rows: xt[j][r][tx] = sum_c BT[j][c] d[r][2 tx + c].
            for (int j = 0; j < 8; j++) {
                for (int r = 0; r < rows; r++) {
                    combine8(split, r * pitch, rowTaps, j, split, xt + (j * rows + r) * tw, tw);
                }
            }
            // Along columns: v[(a, j)][ci][tile] = sum_c BT[a][c] xt[j][2 ty + c][tx].
            for (int a = 0; a < 8; a++) {
                for (int j = 0; j < 8; j++) {
                    int dst = ((a * 8 + j) * cin + ci) * ct;
                    for (int ty = 0; ty < rowsT; ty++) {
                        combine8(split, xt + (j * rows + 2 * ty) * tw, colTaps, a, v, dst + ty * tw, tw);
                    }
                }
            }
        }
        // Per transform point, [coPad x ct] = U_t [coPad x cin] V_t [cin x ct].
        float[] m = Workspace.local(1, 64 * coPad * ct);
        for (int t = 0; t < 64; t++) {
            for (int cb = 0; cb < coBlocks; cb++) {
                for (int tb = 0; tb < ct; tb += NR) {
                    MicroKernel.gemm(u, (t * coBlocks + cb) * cin * MR, v, t * cin * ct + tb, ct, cin, m,
                            (t * coPad + cb * MR) * ct + tb, ct, true);
                }
            }
        }
        // Output: y = A^T m A per tile, tiles in the innermost loops.
        int cout = spec.outChannels();
        float[] zy = Workspace.local(3, 20 * ct);
        int z = 0, y = 16 * ct;
        for (int co = 0; co < cout; co++) {
            java.util.Arrays.fill(zy, 0f);
            for (int a = 0; a < 8; a++) {
                for (int b = 0; b < 8; b++) {
                    int src = ((a * 8 + b) * coPad + co) * ct;
                    float c0 = AT[0][a], c1 = AT[1][a];
                    int z0 = z + b * ct, z1 = z + (8 + b) * ct;
                    for (int i = 0; i < tiles; i++) {
                        float mv = m[src + i];
                        zy[z0 + i] += c0 * mv;
                        zy[z1 + i] += c1 * mv;
                    }
                }
            }
            for (int i2 = 0; i2 < 2; i2++) {
                for (int b = 0; b < 8; b++) {
                    float c0 = AT[0][b], c1 = AT[1][b];
                    int src = z + (i2 * 8 + b) * ct, y0 = y + (i2 * 2) * ct, y1 = y + (i2 * 2 + 1) * ct;
                    for (int i = 0; i < tiles; i++) {
                        float zv = zy[src + i];
                        zy[y0 + i] += c0 * zv;
                        zy[y1 + i] += c1 * zv;
                    }
                }
            }
            float bo = bias[co];
            int outPlane = (s * cout + co) * oh * ow;
            for (int ty = 0; ty < rowsT; ty++) {
                for (int i2 = 0; i2 < 2; i2++) {
                    int oy = 2 * (ty0 + ty) + i2;
                    if (oy >= oh) {
                        continue;
                    }
                    for (int tx = 0; tx < tw; tx++) {
                        int tile = ty * tw + tx;
                        for (int j2 = 0; j2 < 2; j2++) {
                            int ox = 2 * tx + j2;
                            if (ox < ow) {
                                out[outPlane + oy * ow + ox] = ScalarKernels.activate(zy[y + (i2 * 2 + j2) * ct + tile] + bo,
                                        activation);
                            }
                        }
                    }
                }
            }
        }
    }

    /** {@code B^T}'s rows as broadcast vectors. */
    private static final FloatVector[][] BT_LANES = new FloatVector[8][8];

    static {
        for (int j = 0; j < 8; j++) {
            for (int c = 0; c < 8; c++) {
                BT_LANES[j][c] = FloatVector.broadcast(SPECIES, BT[j][c]);
            }
        }
    }

    /**
     * One row of a 1-D input transform over consecutive tiles: {@code dst[d + t] = sum_c BT[row][c] src[s + taps[c] + t]}
     * for {@code t < count}.
     */
    private static void combine8(float[] src, int s, int[] taps, int row, float[] dst, int d, int count) {
        FloatVector[] b = BT_LANES[row];
        float[] bt = BT[row];
        int t0 = taps[0], t1 = taps[1], t2 = taps[2], t3 = taps[3], t4 = taps[4], t5 = taps[5], t6 = taps[6], t7 = taps[7];
        int t = 0;
        for (; t + VL <= count; t += VL) {
            int q = s + t;
            FloatVector acc = FloatVector.fromArray(SPECIES, src, q + t0).mul(b[0]);
            acc = FloatVector.fromArray(SPECIES, src, q + t1).fma(b[1], acc);
            acc = FloatVector.fromArray(SPECIES, src, q + t2).fma(b[2], acc);
            acc = FloatVector.fromArray(SPECIES, src, q + t3).fma(b[3], acc);
            acc = FloatVector.fromArray(SPECIES, src, q + t4).fma(b[4], acc);
            acc = FloatVector.fromArray(SPECIES, src, q + t5).fma(b[5], acc);
            acc = FloatVector.fromArray(SPECIES, src, q + t6).fma(b[6], acc);
            acc = FloatVector.fromArray(SPECIES, src, q + t7).fma(b[7], acc);
            acc.intoArray(dst, d + t);
        }
        for (; t < count; t++) {
            int q = s + t;
            dst[d + t] = bt[0] * src[q + t0] + bt[1] * src[q + t1] + bt[2] * src[q + t2] + bt[3] * src[q + t3]
                    + bt[4] * src[q + t4] + bt[5] * src[q + t5] + bt[6] * src[q + t6] + bt[7] * src[q + t7];
        }
    }
}
