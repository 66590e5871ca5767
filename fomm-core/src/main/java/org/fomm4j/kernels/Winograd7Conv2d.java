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
        // This thread's buffers (Workspace.local), reused from call to call; every element read is written first,
        // except v's columns past the last tile, whose GEMM results in m are never read.
        float[] v = Workspace.local(0, 64 * cin * ct);
        for (int ci = 0; ci < cin; ci++) {
            transformInput(in, (s * cin + ci) * h * w, h, w, pad, ty0, rowsT, tw, v, ci * ct, cin * ct);
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
        int tStride = coPad * ct;
        for (int co = 0; co < cout; co++) {
            // m's columns run to ct, a multiple of the vector length: the last vector may read past the last tile
            // (results never stored).
            for (int tb = 0; tb < tiles; tb += VL) {
                for (int b = 0; b < 8; b++) {
                    outputTransform(m, co * ct + tb + b * tStride, 8 * tStride, zy, z + b * ct + tb, 8 * ct);
                }
                for (int i2 = 0; i2 < 2; i2++) {
                    outputTransform(zy, z + i2 * 8 * ct + tb, ct, zy, y + i2 * 2 * ct + tb, ct);
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

    private static final FloatVector HALF = FloatVector.broadcast(SPECIES, 0.5f);
    private static final FloatVector TWO = FloatVector.broadcast(SPECIES, 2f);

    /**
     * The 1-D transform {@code A^T} of 8 values into 2 on one vector of tiles: {@code dst[d] = sum_{c < 7} src[s + c step]},
     * {@code dst[d + dStride] = (src_1 - src_2) + 2 (src_3 - src_4) + (src_5 - src_6) / 2 + src_7}.
     */
    private static void outputTransform(float[] src, int s, int step, float[] dst, int d, int dStride) {
        FloatVector m0 = FloatVector.fromArray(SPECIES, src, s);
        FloatVector m1 = FloatVector.fromArray(SPECIES, src, s + step);
        FloatVector m2 = FloatVector.fromArray(SPECIES, src, s + 2 * step);
        FloatVector m3 = FloatVector.fromArray(SPECIES, src, s + 3 * step);
        FloatVector m4 = FloatVector.fromArray(SPECIES, src, s + 4 * step);
        FloatVector m5 = FloatVector.fromArray(SPECIES, src, s + 5 * step);
        FloatVector m6 = FloatVector.fromArray(SPECIES, src, s + 6 * step);
        FloatVector m7 = FloatVector.fromArray(SPECIES, src, s + 7 * step);
        m0.add(m1.add(m2)).add(m3.add(m4)).add(m5.add(m6)).intoArray(dst, d);
        m3.sub(m4).fma(TWO, m1.sub(m2)).add(m5.sub(m6).fma(HALF, m7)).intoArray(dst, d + dStride);
    }

    /**
     * The 2-D input transform {@code B^T d B} of tile rows {@code [ty0, ty0 + rowsT)} of one input plane (zero outside
     * its {@code h x w}, padded by {@code pad}): point {@code t = a * 8 + b} of tile {@code (ty, tx)} goes to
     * {@code v[vOff + t * tStride + ty * tw + tx]}. Uses this thread's {@link Workspace#local} slot 2.
     */
    static void transformInput(float[] in, int plane, int h, int w, int pad, int ty0, int rowsT, int tw, float[] v,
                               int vOff, int tStride) {
        int rows = 2 * rowsT + 6, half = tw + 3, pitch = 2 * half;
        float[] split = Workspace.local(2, rows * pitch + 8 * rows * tw);
        int xt = rows * pitch;
        // Row r of the padded input, columns split: split[r][q] = column 2q - pad, split[r][half + q] = 2q + 1 - pad,
        // so that the patch columns of consecutive tiles are consecutive floats.
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
        // Along rows: xt[b][r][tx] = sum_c BT[b][c] d[r][2 tx + c].
        int[] rowTaps = {0, half, 1, half + 1, 2, half + 2, 3, half + 3};
        for (int r = 0; r < rows; r++) {
            transform8(split, r * pitch, rowTaps, split, xt + r * tw, rows * tw, tw);
        }
        // Along columns: v[(a, b)][ty][tx] = sum_c BT[a][c] xt[b][2 ty + c][tx].
        int[] colTaps = new int[8];
        for (int c = 0; c < 8; c++) {
            colTaps[c] = c * tw;
        }
        for (int b = 0; b < 8; b++) {
            for (int ty = 0; ty < rowsT; ty++) {
                transform8(split, xt + (b * rows + 2 * ty) * tw, colTaps, v, vOff + b * tStride + ty * tw, 8 * tStride, tw);
            }
        }
    }

    private static final FloatVector C525 = FloatVector.broadcast(SPECIES, 5.25f);
    private static final FloatVector CM425 = FloatVector.broadcast(SPECIES, -4.25f);
    private static final FloatVector C025 = FloatVector.broadcast(SPECIES, 0.25f);
    private static final FloatVector CM125 = FloatVector.broadcast(SPECIES, -1.25f);
    private static final FloatVector C05 = FloatVector.broadcast(SPECIES, 0.5f);
    private static final FloatVector CM25 = FloatVector.broadcast(SPECIES, -2.5f);
    private static final FloatVector C2 = FloatVector.broadcast(SPECIES, 2f);
    private static final FloatVector C4 = FloatVector.broadcast(SPECIES, 4f);
    private static final FloatVector CM5 = FloatVector.broadcast(SPECIES, -5f);

    /**
     * The 1-D transform {@code B^T} of 8 values into 8, over {@code count} consecutive tiles:
     * {@code dst[d + j * dStride + t] = sum_c BT[j][c] src[s + taps[c] + t]}. All 8 rows from one set of loads, using
     * {@code B^T}'s structure (rows 1-2, 3-4 and 5-6 are even part plus and minus odd part): 26 operations per
     * 8 outputs instead of 64.
     */
    static void transform8(float[] src, int s, int[] taps, float[] dst, int d, int dStride, int count) {
        int t0 = taps[0], t1 = taps[1], t2 = taps[2], t3 = taps[3], t4 = taps[4], t5 = taps[5], t6 = taps[6], t7 = taps[7];
        int t = 0;
        for (; t + VL <= count; t += VL) {
            int q = s + t;
            FloatVector d0 = FloatVector.fromArray(SPECIES, src, q + t0);
            FloatVector d1 = FloatVector.fromArray(SPECIES, src, q + t1);
            FloatVector d2 = FloatVector.fromArray(SPECIES, src, q + t2);
            FloatVector d3 = FloatVector.fromArray(SPECIES, src, q + t3);
            FloatVector d4 = FloatVector.fromArray(SPECIES, src, q + t4);
            FloatVector d5 = FloatVector.fromArray(SPECIES, src, q + t5);
            FloatVector d6 = FloatVector.fromArray(SPECIES, src, q + t6);
            FloatVector d7 = FloatVector.fromArray(SPECIES, src, q + t7);
            int o = d + t;
            d2.sub(d4).fma(C525, d6.sub(d0)).intoArray(dst, o);
            d3.sub(d5).fma(C525, d7.sub(d1)).intoArray(dst, o + 7 * dStride);
            FloatVector e = d4.fma(CM425, d2.add(d6));
            FloatVector f = d3.fma(CM425, d1.add(d5));
            e.add(f).intoArray(dst, o + dStride);
            e.sub(f).intoArray(dst, o + 2 * dStride);
            e = d4.fma(CM125, d2.fma(C025, d6));
            f = d5.fma(C2, d3.fma(CM25, d1.mul(C05)));
            e.add(f).intoArray(dst, o + 3 * dStride);
            e.sub(f).intoArray(dst, o + 4 * dStride);
            e = d4.fma(CM5, d2.fma(C4, d6));
            f = d5.fma(C05, d3.fma(CM25, d1.mul(C2)));
            e.add(f).intoArray(dst, o + 5 * dStride);
            e.sub(f).intoArray(dst, o + 6 * dStride);
        }
        for (; t < count; t++) {
            int q = s + t;
            float d0 = src[q + t0], d1 = src[q + t1], d2 = src[q + t2], d3 = src[q + t3];
            float d4 = src[q + t4], d5 = src[q + t5], d6 = src[q + t6], d7 = src[q + t7];
            int o = d + t;
            dst[o] = Math.fma(d2 - d4, 5.25f, d6 - d0);
            dst[o + 7 * dStride] = Math.fma(d3 - d5, 5.25f, d7 - d1);
            float e = Math.fma(d4, -4.25f, d2 + d6), f = Math.fma(d3, -4.25f, d1 + d5);
            dst[o + dStride] = e + f;
            dst[o + 2 * dStride] = e - f;
            e = Math.fma(d4, -1.25f, Math.fma(d2, 0.25f, d6));
            f = Math.fma(d5, 2f, Math.fma(d3, -2.5f, d1 * 0.5f));
            dst[o + 3 * dStride] = e + f;
            dst[o + 4 * dStride] = e - f;
            e = Math.fma(d4, -5f, Math.fma(d2, 4f, d6));
            f = Math.fma(d5, 0.5f, Math.fma(d3, -2.5f, d1 * 2f));
            dst[o + 5 * dStride] = e + f;
            dst[o + 6 * dStride] = e - f;
        }
    }
}
