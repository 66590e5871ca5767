package org.fomm4j.kernels;

import static org.fomm4j.kernels.PanamaKernels.SPECIES;
import static org.fomm4j.kernels.PanamaKernels.VL;

import jdk.incubator.vector.FloatVector;

/**
 * The register tile every SIMD convolution runs on: {@code C[MR][NR] (+)= W[k][MR] (x) X[k][NR]} over a
 * depth {@code k}, with {@code MR} output channels broadcast from packed weights and {@code NR} pixels
 * (or Winograd tiles) in {@code NV} vectors.
 *
 * <p>The tile is sized to the register file of the vector width this JVM runs at, so the
 * {@code MR * NV} accumulators plus {@code NV} loaded vectors and one broadcast stay in registers:
 * <ul>
 *   <li>512 bits (AVX-512, 32 registers): 6 x 4 vectors = 24 accumulators + 4 + 1 = 29 registers;</li>
 *   <li>256 and 128 bits (AVX2/SSE/NEON-sized, 16 registers): 4 x 2 vectors = 8 accumulators. Measured
 *       on AVX2: 12 accumulators (4 x 3) spill in C2 and run at under half speed.</li>
 * </ul>
 * Per depth step the 6 x 4 tile issues 24 FMAs for 4 vector loads and 6 broadcasts, so it stays
 * FMA-bound with two load ports. {@code -Dfomm4j.tile=small} forces the 4 x 2 tile on any width (for
 * comparing).
 *
 * <p>Weights are packed {@code [coBlock][k][MR]}; panels {@code [k][NR]}; {@code C} rows are
 * {@code ldc} floats apart. The branch on {@link #WIDE} folds away in C2 (a static final).
 */
final class MicroKernel {
    static final boolean WIDE = VL >= 16 && !"small".equals(System.getProperty("fomm4j.tile"));
    /** Output channels per tile. */
    static final int MR = WIDE ? 6 : 4;
    /** Vectors of pixels per tile. */
    static final int NV = WIDE ? 4 : 2;
    /** Pixels per tile. */
    static final int NR = NV * VL;

    private MicroKernel() {
    }

    /**
     * OIHW weights {@code [cout][depth]} packed as {@code [cout / block][depth][block]} (the last block's
     * missing output channels are zero weights): the broadcast operand of a {@code block}-row tile, or the
     * vector operand of a tile with output channels in the lanes.
     */
    static float[] packWeights(float[] weight, int cout, int depth, int block) {
        int blocks = (cout + block - 1) / block;
        float[] packed = new float[blocks * depth * block];
        for (int co = 0; co < cout; co++) {
            int cb = co / block, j = co % block;
            for (int k = 0; k < depth; k++) {
                packed[(cb * depth + k) * block + j] = weight[co * depth + k];
            }
        }
        return packed;
    }

    /**
     * {@code c[MR][NR] (+)= sum_k w[wi + k*MR .. +MR] (x) x[xi + k*ldx .. +NR]} for {@code k < depth}.
     *
     * @param ldx   floats between consecutive depth rows of {@code x} ({@code NR} for a packed panel)
     * @param first overwrite {@code c} instead of accumulating into it
     */
    static void gemm(float[] w, int wi, float[] x, int xi, int ldx, int depth, float[] c, int ci, int ldc,
                     boolean first) {
        if (WIDE) {
            gemm6x4(w, wi, x, xi, ldx, depth, c, ci, ldc, first);
        } else {
            gemm4x2(w, wi, x, xi, ldx, depth, c, ci, ldc, first);
        }
    }

    /**
     * As {@link #gemm} with depth {@code cin * taps}, reading the zero-padded input in place: depth row
     * {@code (ch, t)} is {@code x[xi + ch * chStride + tapOff[t] .. +NR]} (a direct convolution).
     */
    static void direct(float[] w, int wi, float[] x, int xi, int cin, int chStride, int[] tapOff,
                       float[] c, int ci, int ldc) {
        if (WIDE) {
            direct6x4(w, wi, x, xi, cin, chStride, tapOff, c, ci, ldc);
        } else {
            direct4x2(w, wi, x, xi, cin, chStride, tapOff, c, ci, ldc);
        }
    }

    private static void gemm4x2(float[] wt, int wi, float[] x, int xi, int ldx, int depth, float[] c, int ci, int ldc,
                                boolean first) {
        FloatVector a00, a01, a10, a11, a20, a21, a30, a31;
        if (first) {
            a00 = a01 = a10 = a11 = a20 = a21 = a30 = a31 = FloatVector.zero(SPECIES);
        } else {
            a00 = FloatVector.fromArray(SPECIES, c, ci);
            a01 = FloatVector.fromArray(SPECIES, c, ci + VL);
            a10 = FloatVector.fromArray(SPECIES, c, ci + ldc);
            a11 = FloatVector.fromArray(SPECIES, c, ci + ldc + VL);
            a20 = FloatVector.fromArray(SPECIES, c, ci + 2 * ldc);
            a21 = FloatVector.fromArray(SPECIES, c, ci + 2 * ldc + VL);
            a30 = FloatVector.fromArray(SPECIES, c, ci + 3 * ldc);
            a31 = FloatVector.fromArray(SPECIES, c, ci + 3 * ldc + VL);
        }
        for (int k = 0; k < depth; k++) {
            int o = xi + k * ldx, wk = wi + k * 4;
            FloatVector x0 = FloatVector.fromArray(SPECIES, x, o);
            FloatVector x1 = FloatVector.fromArray(SPECIES, x, o + VL);
            FloatVector w = FloatVector.broadcast(SPECIES, wt[wk]);
            a00 = x0.fma(w, a00);
            a01 = x1.fma(w, a01);
            w = FloatVector.broadcast(SPECIES, wt[wk + 1]);
            a10 = x0.fma(w, a10);
            a11 = x1.fma(w, a11);
            w = FloatVector.broadcast(SPECIES, wt[wk + 2]);
            a20 = x0.fma(w, a20);
            a21 = x1.fma(w, a21);
            w = FloatVector.broadcast(SPECIES, wt[wk + 3]);
            a30 = x0.fma(w, a30);
            a31 = x1.fma(w, a31);
        }
        a00.intoArray(c, ci);
        a01.intoArray(c, ci + VL);
        a10.intoArray(c, ci + ldc);
        a11.intoArray(c, ci + ldc + VL);
        a20.intoArray(c, ci + 2 * ldc);
        a21.intoArray(c, ci + 2 * ldc + VL);
        a30.intoArray(c, ci + 3 * ldc);
        a31.intoArray(c, ci + 3 * ldc + VL);
    }

    private static void direct4x2(float[] wt, int wi, float[] in, int q, int cin, int chStride, int[] tapOff,
                                  float[] c, int ci, int ldc) {
        FloatVector a00 = FloatVector.zero(SPECIES), a01 = a00, a10 = a00, a11 = a00;
        FloatVector a20 = a00, a21 = a00, a30 = a00, a31 = a00;
        int taps = tapOff.length;
        for (int ch = 0; ch < cin; ch++) {
            int base = ch * chStride + q;
            for (int t = 0; t < taps; t++, wi += 4) {
                int o = base + tapOff[t];
                FloatVector x0 = FloatVector.fromArray(SPECIES, in, o);
                FloatVector x1 = FloatVector.fromArray(SPECIES, in, o + VL);
                FloatVector w = FloatVector.broadcast(SPECIES, wt[wi]);
                a00 = x0.fma(w, a00);
                a01 = x1.fma(w, a01);
                w = FloatVector.broadcast(SPECIES, wt[wi + 1]);
                a10 = x0.fma(w, a10);
                a11 = x1.fma(w, a11);
                w = FloatVector.broadcast(SPECIES, wt[wi + 2]);
                a20 = x0.fma(w, a20);
                a21 = x1.fma(w, a21);
                w = FloatVector.broadcast(SPECIES, wt[wi + 3]);
                a30 = x0.fma(w, a30);
                a31 = x1.fma(w, a31);
            }
        }
        a00.intoArray(c, ci);
        a01.intoArray(c, ci + VL);
        a10.intoArray(c, ci + ldc);
        a11.intoArray(c, ci + ldc + VL);
        a20.intoArray(c, ci + 2 * ldc);
        a21.intoArray(c, ci + 2 * ldc + VL);
        a30.intoArray(c, ci + 3 * ldc);
        a31.intoArray(c, ci + 3 * ldc + VL);
    }

    private static void gemm6x4(float[] wt, int wi, float[] x, int xi, int ldx, int depth, float[] c, int ci, int ldc,
                                boolean first) {
        FloatVector a00, a01, a02, a03, a10, a11, a12, a13, a20, a21, a22, a23;
        FloatVector a30, a31, a32, a33, a40, a41, a42, a43, a50, a51, a52, a53;
        if (first) {
            a00 = a01 = a02 = a03 = a10 = a11 = a12 = a13 = a20 = a21 = a22 = a23 = FloatVector.zero(SPECIES);
            a30 = a31 = a32 = a33 = a40 = a41 = a42 = a43 = a50 = a51 = a52 = a53 = a00;
        } else {
            int r = ci;
            a00 = FloatVector.fromArray(SPECIES, c, r);
            a01 = FloatVector.fromArray(SPECIES, c, r + VL);
            a02 = FloatVector.fromArray(SPECIES, c, r + 2 * VL);
            a03 = FloatVector.fromArray(SPECIES, c, r + 3 * VL);
            r += ldc;
            a10 = FloatVector.fromArray(SPECIES, c, r);
            a11 = FloatVector.fromArray(SPECIES, c, r + VL);
            a12 = FloatVector.fromArray(SPECIES, c, r + 2 * VL);
            a13 = FloatVector.fromArray(SPECIES, c, r + 3 * VL);
            r += ldc;
            a20 = FloatVector.fromArray(SPECIES, c, r);
            a21 = FloatVector.fromArray(SPECIES, c, r + VL);
            a22 = FloatVector.fromArray(SPECIES, c, r + 2 * VL);
            a23 = FloatVector.fromArray(SPECIES, c, r + 3 * VL);
            r += ldc;
            a30 = FloatVector.fromArray(SPECIES, c, r);
            a31 = FloatVector.fromArray(SPECIES, c, r + VL);
            a32 = FloatVector.fromArray(SPECIES, c, r + 2 * VL);
            a33 = FloatVector.fromArray(SPECIES, c, r + 3 * VL);
            r += ldc;
            a40 = FloatVector.fromArray(SPECIES, c, r);
            a41 = FloatVector.fromArray(SPECIES, c, r + VL);
            a42 = FloatVector.fromArray(SPECIES, c, r + 2 * VL);
            a43 = FloatVector.fromArray(SPECIES, c, r + 3 * VL);
            r += ldc;
            a50 = FloatVector.fromArray(SPECIES, c, r);
            a51 = FloatVector.fromArray(SPECIES, c, r + VL);
            a52 = FloatVector.fromArray(SPECIES, c, r + 2 * VL);
            a53 = FloatVector.fromArray(SPECIES, c, r + 3 * VL);
        }
        for (int k = 0; k < depth; k++) {
            int o = xi + k * ldx, wk = wi + k * 6;
            FloatVector x0 = FloatVector.fromArray(SPECIES, x, o);
            FloatVector x1 = FloatVector.fromArray(SPECIES, x, o + VL);
            FloatVector x2 = FloatVector.fromArray(SPECIES, x, o + 2 * VL);
            FloatVector x3 = FloatVector.fromArray(SPECIES, x, o + 3 * VL);
            FloatVector w = FloatVector.broadcast(SPECIES, wt[wk]);
            a00 = x0.fma(w, a00);
            a01 = x1.fma(w, a01);
            a02 = x2.fma(w, a02);
            a03 = x3.fma(w, a03);
            w = FloatVector.broadcast(SPECIES, wt[wk + 1]);
            a10 = x0.fma(w, a10);
            a11 = x1.fma(w, a11);
            a12 = x2.fma(w, a12);
            a13 = x3.fma(w, a13);
            w = FloatVector.broadcast(SPECIES, wt[wk + 2]);
            a20 = x0.fma(w, a20);
            a21 = x1.fma(w, a21);
            a22 = x2.fma(w, a22);
            a23 = x3.fma(w, a23);
            w = FloatVector.broadcast(SPECIES, wt[wk + 3]);
            a30 = x0.fma(w, a30);
            a31 = x1.fma(w, a31);
            a32 = x2.fma(w, a32);
            a33 = x3.fma(w, a33);
            w = FloatVector.broadcast(SPECIES, wt[wk + 4]);
            a40 = x0.fma(w, a40);
            a41 = x1.fma(w, a41);
            a42 = x2.fma(w, a42);
            a43 = x3.fma(w, a43);
            w = FloatVector.broadcast(SPECIES, wt[wk + 5]);
            a50 = x0.fma(w, a50);
            a51 = x1.fma(w, a51);
            a52 = x2.fma(w, a52);
            a53 = x3.fma(w, a53);
        }
        int r = ci;
        a00.intoArray(c, r);
        a01.intoArray(c, r + VL);
        a02.intoArray(c, r + 2 * VL);
        a03.intoArray(c, r + 3 * VL);
        r += ldc;
        a10.intoArray(c, r);
        a11.intoArray(c, r + VL);
        a12.intoArray(c, r + 2 * VL);
        a13.intoArray(c, r + 3 * VL);
        r += ldc;
        a20.intoArray(c, r);
        a21.intoArray(c, r + VL);
        a22.intoArray(c, r + 2 * VL);
        a23.intoArray(c, r + 3 * VL);
        r += ldc;
        a30.intoArray(c, r);
        a31.intoArray(c, r + VL);
        a32.intoArray(c, r + 2 * VL);
        a33.intoArray(c, r + 3 * VL);
        r += ldc;
        a40.intoArray(c, r);
        a41.intoArray(c, r + VL);
        a42.intoArray(c, r + 2 * VL);
        a43.intoArray(c, r + 3 * VL);
        r += ldc;
        a50.intoArray(c, r);
        a51.intoArray(c, r + VL);
        a52.intoArray(c, r + 2 * VL);
        a53.intoArray(c, r + 3 * VL);
    }

    private static void direct6x4(float[] wt, int wi, float[] in, int q, int cin, int chStride, int[] tapOff,
                                  float[] c, int ci, int ldc) {
        FloatVector a00 = FloatVector.zero(SPECIES), a01 = a00, a02 = a00, a03 = a00, a10 = a00, a11 = a00, a12 = a00;
        FloatVector a13 = a00, a20 = a00, a21 = a00, a22 = a00, a23 = a00, a30 = a00, a31 = a00, a32 = a00, a33 = a00;
        FloatVector a40 = a00, a41 = a00, a42 = a00, a43 = a00, a50 = a00, a51 = a00, a52 = a00, a53 = a00;
        int taps = tapOff.length;
        for (int ch = 0; ch < cin; ch++) {
            int base = ch * chStride + q;
            for (int t = 0; t < taps; t++, wi += 6) {
                int o = base + tapOff[t];
                FloatVector x0 = FloatVector.fromArray(SPECIES, in, o);
                FloatVector x1 = FloatVector.fromArray(SPECIES, in, o + VL);
                FloatVector x2 = FloatVector.fromArray(SPECIES, in, o + 2 * VL);
                FloatVector x3 = FloatVector.fromArray(SPECIES, in, o + 3 * VL);
                FloatVector w = FloatVector.broadcast(SPECIES, wt[wi]);
                a00 = x0.fma(w, a00);
                a01 = x1.fma(w, a01);
                a02 = x2.fma(w, a02);
                a03 = x3.fma(w, a03);
                w = FloatVector.broadcast(SPECIES, wt[wi + 1]);
                a10 = x0.fma(w, a10);
                a11 = x1.fma(w, a11);
                a12 = x2.fma(w, a12);
                a13 = x3.fma(w, a13);
                w = FloatVector.broadcast(SPECIES, wt[wi + 2]);
                a20 = x0.fma(w, a20);
                a21 = x1.fma(w, a21);
                a22 = x2.fma(w, a22);
                a23 = x3.fma(w, a23);
                w = FloatVector.broadcast(SPECIES, wt[wi + 3]);
                a30 = x0.fma(w, a30);
                a31 = x1.fma(w, a31);
                a32 = x2.fma(w, a32);
                a33 = x3.fma(w, a33);
                w = FloatVector.broadcast(SPECIES, wt[wi + 4]);
                a40 = x0.fma(w, a40);
                a41 = x1.fma(w, a41);
                a42 = x2.fma(w, a42);
                a43 = x3.fma(w, a43);
                w = FloatVector.broadcast(SPECIES, wt[wi + 5]);
                a50 = x0.fma(w, a50);
                a51 = x1.fma(w, a51);
                a52 = x2.fma(w, a52);
                a53 = x3.fma(w, a53);
            }
        }
        int r = ci;
        a00.intoArray(c, r);
        a01.intoArray(c, r + VL);
        a02.intoArray(c, r + 2 * VL);
        a03.intoArray(c, r + 3 * VL);
        r += ldc;
        a10.intoArray(c, r);
        a11.intoArray(c, r + VL);
        a12.intoArray(c, r + 2 * VL);
        a13.intoArray(c, r + 3 * VL);
        r += ldc;
        a20.intoArray(c, r);
        a21.intoArray(c, r + VL);
        a22.intoArray(c, r + 2 * VL);
        a23.intoArray(c, r + 3 * VL);
        r += ldc;
        a30.intoArray(c, r);
        a31.intoArray(c, r + VL);
        a32.intoArray(c, r + 2 * VL);
        a33.intoArray(c, r + 3 * VL);
        r += ldc;
        a40.intoArray(c, r);
        a41.intoArray(c, r + VL);
        a42.intoArray(c, r + 2 * VL);
        a43.intoArray(c, r + 3 * VL);
        r += ldc;
        a50.intoArray(c, r);
        a51.intoArray(c, r + VL);
        a52.intoArray(c, r + 2 * VL);
        a53.intoArray(c, r + 3 * VL);
    }
}
