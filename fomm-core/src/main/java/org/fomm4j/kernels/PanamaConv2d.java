package org.fomm4j.kernels;

import static org.fomm4j.kernels.PanamaKernels.SPECIES;
import static org.fomm4j.kernels.PanamaKernels.VL;

import jdk.incubator.vector.FloatVector;
import org.fomm4j.tensor.Tensor;

/**
 * Stride-1, single-group convolution as a packed SIMD GEMM.
 *
 * <p>Layout: the input is copied once into a zero-padded buffer and outputs are computed on the
 * padded row pitch {@code Wp}: output position {@code q = y * Wp + x} reads input
 * {@code q + ky * Wp + kx} for every tap, so the im2col panel of {@link #NR} consecutive outputs is
 * one contiguous copy per (channel, tap), with no border cases. The {@code Wp - Wout} extra columns
 * per row are computed and dropped; buffers are padded to a whole tile, so there are no tails.
 *
 * <p>Micro-kernel: {@value #MR} output channels times 2 vectors, 8 accumulators. Measured on AVX2
 * (16 registers): 12 accumulators spill in C2 and run at under half the speed, 8 run at the FMA
 * peak. Weights are packed once here as {@code [coBlock][ci * taps + tap][MR]}; channels missing in
 * the last block are zero weights whose results are never stored.
 */
final class PanamaConv2d implements Conv2d {
    static final int MR = 4;
    static final int NR = 2 * VL;
    /** Micro-tiles packed together, so each weight block read from cache serves this many tiles. */
    private static final int PT = 4;

    private final ConvSpec spec;
    private final float[] packed;
    private final float[] bias;
    private final int coBlocks;
    private final int taps;
    private final int depth;

    PanamaConv2d(ConvSpec spec, float[] weight, float[] bias) {
        this.spec = spec;
        this.bias = bias == null ? new float[spec.outChannels()] : bias.clone();
        int cin = spec.inChannels(), cout = spec.outChannels();
        this.taps = spec.kernelH() * spec.kernelW();
        this.depth = cin * taps;
        this.coBlocks = (cout + MR - 1) / MR;
        this.packed = new float[coBlocks * depth * MR];
        for (int co = 0; co < cout; co++) {
            int cb = co / MR, j = co % MR;
            for (int k = 0; k < depth; k++) {
                packed[(cb * depth + k) * MR + j] = weight[co * depth + k];
            }
        }
    }

    @Override
    public ConvSpec spec() {
        return spec;
    }

    @Override
    public Tensor apply(Tensor input, Activation activation) {
        int[] s = ScalarKernels.checkConvInput(spec, input);
        int n = s[0], h = s[2], w = s[3];
        int cin = spec.inChannels(), cout = spec.outChannels();
        int kh = spec.kernelH(), kw = spec.kernelW();
        int hp = h + 2 * spec.padH(), wp = w + 2 * spec.padW();
        int oh = spec.outH(h), ow = spec.outW(w);
        int flat = oh * wp;
        int tiles = (flat + NR - 1) / NR;
        int flatR = tiles * NR;
        // The last tile of the last row reads up to kw - 1 floats past the padded image.
        int chStride = hp * wp + (flatR - flat) + kw;
        int[] tapOff = new int[taps];
        for (int ky = 0; ky < kh; ky++) {
            for (int kx = 0; kx < kw; kx++) {
                tapOff[ky * kw + kx] = ky * wp + kx;
            }
        }
        float[] in = input.toHeap().data();
        float[] out = new float[n * cout * oh * ow];
        float[] padded = new float[cin * chStride];

        int tileGroups = (tiles + PT - 1) / PT;
        // Split output channels only when there are too few pixel tiles to keep the threads busy.
        int coSplit = Math.max(1, Math.min(coBlocks, (2 * Parallel.threads() + tileGroups - 1) / tileGroups));
        int coPer = (coBlocks + coSplit - 1) / coSplit;
        int coParts = (coBlocks + coPer - 1) / coPer;
        for (int b = 0; b < n; b++) {
            int inBatch = b * cin * h * w;
            for (int ci = 0; ci < cin; ci++) {
                for (int y = 0; y < h; y++) {
                    System.arraycopy(in, inBatch + (ci * h + y) * w, padded,
                            ci * chStride + (y + spec.padH()) * wp + spec.padW(), w);
                }
            }
            int outBatch = b * cout * oh * ow;
            Parallel.forEach(tileGroups * coParts, task -> {
                int tg = task / coParts, part = task % coParts;
                int t0 = tg * PT, t1 = Math.min(tiles, t0 + PT);
                int cb0 = part * coPer, cb1 = Math.min(coBlocks, cb0 + coPer);
                float[] panel = new float[(t1 - t0) * depth * NR];
                float[] acc = new float[MR * NR];
                for (int t = t0; t < t1; t++) {
                    int pBase = (t - t0) * depth * NR;
                    int q = t * NR;
                    for (int ci = 0; ci < cin; ci++) {
                        int src = ci * chStride + q;
                        int dst = pBase + ci * taps * NR;
                        for (int tap = 0; tap < taps; tap++) {
                            System.arraycopy(padded, src + tapOff[tap], panel, dst + tap * NR, NR);
                        }
                    }
                }
                for (int cb = cb0; cb < cb1; cb++) {
                    for (int t = t0; t < t1; t++) {
                        kernel(packed, cb * depth * MR, panel, (t - t0) * depth * NR, depth, acc);
                        store(acc, t * NR, cb, wp, oh, ow, cout, out, outBatch, activation);
                    }
                }
            });
        }
        return Tensor.of(out, n, cout, oh, ow);
    }

    /** Writes the valid columns of one micro-tile result, adding the bias and the activation. */
    private void store(float[] acc, int q0, int cb, int wp, int oh, int ow, int cout, float[] out, int outBatch,
                       Activation activation) {
        int y = q0 / wp, x = q0 - y * wp;
        for (int i = 0; i < NR; i++, x++) {
            if (x == wp) {
                x = 0;
                y++;
            }
            if (x >= ow || y >= oh) {
                continue;
            }
            for (int j = 0; j < MR; j++) {
                int co = cb * MR + j;
                if (co < cout) {
                    out[outBatch + (co * oh + y) * ow + x] = ScalarKernels.activate(acc[j * NR + i] + bias[co], activation);
                }
            }
        }
    }

    /** {@code acc[MR][NR] = sum_k w[k][MR] (x) panel[k][NR]}. */
    private static void kernel(float[] wt, int wi, float[] panel, int pi, int depth, float[] acc) {
        FloatVector a00 = FloatVector.zero(SPECIES), a01 = a00, a10 = a00, a11 = a00;
        FloatVector a20 = a00, a21 = a00, a30 = a00, a31 = a00;
        for (int k = 0; k < depth; k++) {
            int o = pi + k * NR, wk = wi + k * MR;
            FloatVector x0 = FloatVector.fromArray(SPECIES, panel, o);
            FloatVector x1 = FloatVector.fromArray(SPECIES, panel, o + VL);
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
        a00.intoArray(acc, 0);
        a01.intoArray(acc, VL);
        a10.intoArray(acc, NR);
        a11.intoArray(acc, NR + VL);
        a20.intoArray(acc, 2 * NR);
        a21.intoArray(acc, 2 * NR + VL);
        a30.intoArray(acc, 3 * NR);
        a31.intoArray(acc, 3 * NR + VL);
    }
}
