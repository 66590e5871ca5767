package org.fomm4j.kernels;

import static org.fomm4j.kernels.PanamaKernels.SPECIES;
import static org.fomm4j.kernels.PanamaKernels.VL;

import jdk.incubator.vector.FloatVector;
import org.fomm4j.tensor.Tensor;

/**
 * Single-group convolution as a packed SIMD GEMM.
 *
 * <p>Layout: the input is copied once into a zero-padded buffer and outputs are computed on the
 * padded row pitch {@code Wp}: output position {@code q = y * Wp + x} reads input
 * {@code q + ky * Wp + kx} for every tap, so the im2col panel of {@link #NR} consecutive outputs is
 * one contiguous copy per (channel, tap), with no border cases. The {@code Wp - Wout} extra columns
 * per row are computed and dropped; buffers are padded to a whole tile, so there are no tails.
 *
 * <p>Strided convolutions index outputs densely and gather each panel row with the stride (a scalar
 * gather, amortized over all output channel blocks).
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
    /** Depth (input channels x taps) per panel slice; measured best of 128..2304 on the vox-256 layers. */
    private static final int KC = 512;

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
        int cin = spec.inChannels(), cout = spec.outChannels(), st = spec.stride();
        int kh = spec.kernelH(), kw = spec.kernelW();
        int hp = h + 2 * spec.padH(), wp = w + 2 * spec.padW();
        int oh = spec.outH(h), ow = spec.outW(w);
        boolean strided = st != 1;
        // Stride 1: outputs on the padded pitch (panel rows are contiguous copies, Wp - Wout columns
        // per row are computed and dropped). Strided: dense outputs, panel rows gathered.
        int pitch = strided ? ow : wp;
        int flat = oh * pitch;
        int tiles = (flat + NR - 1) / NR;
        int flatR = tiles * NR;
        // Stride 1: the last tile of the last row reads up to kw - 1 floats past the padded image.
        int chStride = strided ? hp * wp : hp * wp + (flatR - flat) + kw;
        int[] tapOff = new int[taps];
        for (int ky = 0; ky < kh; ky++) {
            for (int kx = 0; kx < kw; kx++) {
                tapOff[ky * kw + kx] = ky * wp + kx;
            }
        }
        // Strided: input offset of the first tap of every output position.
        int[] base = null;
        if (strided) {
            base = new int[flat];
            for (int q = 0; q < flat; q++) {
                base[q] = (q / ow) * st * wp + (q % ow) * st;
            }
        }
        int[] gather = base;
        float[] in = input.toHeap().data();
        float[] out = new float[n * cout * oh * ow];
        float[] padded = new float[cin * chStride];
        int tileGroups = (tiles + PT - 1) / PT;
        // Split output channels only when there are too few pixel tiles to keep the threads busy.
        int coSplit = Math.max(1, Math.min(coBlocks, (2 * Parallel.threads() + tileGroups - 1) / tileGroups));
        int coPer = (coBlocks + coSplit - 1) / coSplit;
        int coParts = (coBlocks + coPer - 1) / coPer;
        // With one or two output blocks an im2col panel would be copied for little reuse: read directly.
        boolean direct = !strided && coBlocks <= 2;
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
                int ldc = PT * NR;
                float[] cbuf = new float[(cb1 - cb0) * MR * ldc];
                if (direct) {
                    for (int cb = cb0; cb < cb1; cb++) {
                        for (int t = t0; t < t1; t++) {
                            direct(packed, cb * depth * MR, padded, t * NR, cin, chStride, tapOff,
                                    cbuf, (cb - cb0) * MR * ldc + (t - t0) * NR, ldc);
                        }
                    }
                } else {
                    float[] panel = new float[PT * KC * NR];
                    for (int k0 = 0; k0 < depth; k0 += KC) {
                        int kc = Math.min(KC, depth - k0);
                        for (int t = t0; t < t1; t++) {
                            pack(padded, chStride, tapOff, gather, flat, t * NR, k0, kc, panel, (t - t0) * KC * NR);
                        }
                        for (int cb = cb0; cb < cb1; cb++) {
                            for (int t = t0; t < t1; t++) {
                                kernel(packed, (cb * depth + k0) * MR, panel, (t - t0) * KC * NR, kc,
                                        cbuf, (cb - cb0) * MR * ldc + (t - t0) * NR, ldc, k0 == 0);
                            }
                        }
                    }
                }
                for (int cb = cb0; cb < cb1; cb++) {
                    for (int t = t0; t < t1; t++) {
                        store(cbuf, (cb - cb0) * MR * ldc + (t - t0) * NR, ldc, t * NR, cb, pitch, oh, ow, cout, out,
                                outBatch, activation);
                    }
                }
            });
        }
        return Tensor.of(out, n, cout, oh, ow);
    }

    /**
     * Panel rows {@code k0 .. k0 + kc} (one per input channel and tap) of the tile starting at output
     * {@code q}: a contiguous copy on the padded pitch, or a gather through {@code gather} (strided).
     */
    private void pack(float[] padded, int chStride, int[] tapOff, int[] gather, int flat, int q, int k0, int kc,
                      float[] panel, int dst) {
        int valid = Math.min(NR, flat - q);
        for (int k = k0; k < k0 + kc; k++, dst += NR) {
            int ci = k / taps, tap = k - ci * taps;
            int src = ci * chStride + tapOff[tap];
            if (gather == null) {
                System.arraycopy(padded, src + q, panel, dst, NR);
            } else {
                for (int i = 0; i < valid; i++) {
                    panel[dst + i] = padded[src + gather[q + i]];
                }
                java.util.Arrays.fill(panel, dst + valid, dst + NR, 0f);
            }
        }
    }

    /** Writes the valid columns of one micro-tile result, adding the bias and the activation. */
    private void store(float[] acc, int ai, int ldc, int q0, int cb, int wp, int oh, int ow, int cout, float[] out,
                       int outBatch, Activation activation) {
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
                    out[outBatch + (co * oh + y) * ow + x] = ScalarKernels.activate(acc[ai + j * ldc + i] + bias[co], activation);
                }
            }
        }
    }

    /** {@code c[MR][NR] (+)= sum_k w[k][MR] (x) panel[k][NR]}; rows of {@code c} are {@code ldc} apart. */
    private static void kernel(float[] wt, int wi, float[] panel, int pi, int depth, float[] c, int ci, int ldc,
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
        a00.intoArray(c, ci);
        a01.intoArray(c, ci + VL);
        a10.intoArray(c, ci + ldc);
        a11.intoArray(c, ci + ldc + VL);
        a20.intoArray(c, ci + 2 * ldc);
        a21.intoArray(c, ci + 2 * ldc + VL);
        a30.intoArray(c, ci + 3 * ldc);
        a31.intoArray(c, ci + 3 * ldc + VL);
    }

    /** As {@link #kernel} but reading the padded input in place through the tap offsets (no panel). */
    private static void direct(float[] wt, int wi, float[] in, int q, int cin, int chStride, int[] tapOff,
                               float[] c, int ci, int ldc) {
        FloatVector a00 = FloatVector.zero(SPECIES), a01 = a00, a10 = a00, a11 = a00;
        FloatVector a20 = a00, a21 = a00, a30 = a00, a31 = a00;
        int taps = tapOff.length;
        for (int ch = 0; ch < cin; ch++) {
            int base = ch * chStride + q;
            for (int t = 0; t < taps; t++, wi += MR) {
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
}
