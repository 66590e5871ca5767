package org.fomm4j.kernels;

import static org.fomm4j.kernels.PanamaKernels.SPECIES;
import static org.fomm4j.kernels.PanamaKernels.VL;

import jdk.incubator.vector.FloatVector;
import org.fomm4j.tensor.FrameArena;
import org.fomm4j.tensor.Tensor;

/**
 * Stride-1 convolution with at most 3 output channels (the 7x7 heads: the generators' final RGB
 * convolution, TPSMM's occlusion heads), as a direct convolution with its own register tile: 3 output
 * channels x 8 vectors of pixels = 24 accumulators. {@link MicroKernel}'s 6-channel tile would leave half
 * (3 channels) to five sixths (1 channel) of its FMAs on zero weights. Used on AVX-512, whose 32
 * registers hold the tile; reads the zero-padded input in place on the padded row pitch, like
 * {@link PanamaConv2d}'s direct variant.
 */
final class NarrowConv2d implements Conv2d {
    static final int MAX_OUT = 3;
    private static final int NV = 8;
    private static final int NRN = NV * VL;

    private final ConvSpec spec;
    /** {@code [ci * taps + tap][3]}, output channels past the last are zero. */
    private final float[] packed;
    private final float[] bias;
    private final int taps;

    NarrowConv2d(ConvSpec spec, float[] weight, float[] bias) {
        if (spec.outChannels() > MAX_OUT || spec.stride() != 1 || spec.groups() != 1) {
            throw new IllegalArgumentException("narrow convolution needs stride 1, one group, at most " + MAX_OUT
                    + " output channels, got " + spec);
        }
        this.spec = spec;
        int cout = spec.outChannels();
        this.bias = new float[MAX_OUT];
        if (bias != null) {
            System.arraycopy(bias, 0, this.bias, 0, cout);
        }
        this.taps = spec.kernelH() * spec.kernelW();
        int depth = spec.inChannels() * taps;
        this.packed = MicroKernel.packWeights(weight, cout, depth, MAX_OUT);
    }

    @Override
    public ConvSpec spec() {
        return spec;
    }

    @Override
    public Tensor apply(Tensor input, Activation activation) {
        int[] s = ScalarKernels.checkConvInput(spec, input);
        int n = s[0], h = s[2], w = s[3];
        int cin = spec.inChannels(), cout = spec.outChannels(), kh = spec.kernelH(), kw = spec.kernelW();
        int hp = h + 2 * spec.padH(), wp = w + 2 * spec.padW();
        int oh = spec.outH(h), ow = spec.outW(w);
        int flat = oh * wp, tiles = (flat + NRN - 1) / NRN, flatR = tiles * NRN;
        // The last tile reads up to (flatR - flat) + kw - 1 floats past the padded image.
        int chStride = hp * wp + (flatR - flat) + kw;
        int[] tapOff = new int[taps];
        for (int ky = 0; ky < kh; ky++) {
            for (int kx = 0; kx < kw; kx++) {
                tapOff[ky * kw + kx] = ky * wp + kx;
            }
        }
        float[] in = input.toHeap().data();
        float[] out = FrameArena.floats(n * cout * oh * ow);
        float[] padded = FrameArena.zeros(cin * chStride);
        for (int b = 0; b < n; b++) {
            if (b > 0) {
                java.util.Arrays.fill(padded, 0f);
            }
            for (int ci = 0; ci < cin; ci++) {
                for (int y = 0; y < h; y++) {
                    System.arraycopy(in, ((b * cin + ci) * h + y) * w, padded,
                            ci * chStride + (y + spec.padH()) * wp + spec.padW(), w);
                }
            }
            int outBatch = b * cout * oh * ow;
            Parallel.forEach(tiles, t -> {
                float[] c = Workspace.local(0, MAX_OUT * NRN);
                direct3x8(packed, padded, t * NRN, cin, chStride, tapOff, c);
                int q = t * NRN, y = q / wp, x = q - y * wp;
                for (int i = 0; i < NRN; i++, x++) {
                    if (x == wp) {
                        x = 0;
                        y++;
                    }
                    if (y >= oh) {
                        break;
                    }
                    if (x < ow) {
                        for (int co = 0; co < cout; co++) {
                            out[outBatch + (co * oh + y) * ow + x] =
                                    ScalarKernels.activate(c[co * NRN + i] + bias[co], activation);
                        }
                    }
                }
            });
        }
        return Tensor.of(out, n, cout, oh, ow);
    }

    /** {@code c[co][0 .. NRN) = sum over (ch, tap) of w[ch, tap][co] * in[ch][q + tapOff[tap] ..]}. */
    private static void direct3x8(float[] wt, float[] in, int q, int cin, int chStride, int[] tapOff, float[] c) {
        FloatVector z = FloatVector.zero(SPECIES);
        FloatVector a00 = z, a01 = z, a02 = z, a03 = z, a04 = z, a05 = z, a06 = z, a07 = z;
        FloatVector a10 = z, a11 = z, a12 = z, a13 = z, a14 = z, a15 = z, a16 = z, a17 = z;
        FloatVector a20 = z, a21 = z, a22 = z, a23 = z, a24 = z, a25 = z, a26 = z, a27 = z;
        int taps = tapOff.length, wi = 0;
        for (int ch = 0; ch < cin; ch++) {
            int base = ch * chStride + q;
            for (int t = 0; t < taps; t++, wi += MAX_OUT) {
                int o = base + tapOff[t];
                FloatVector w0 = FloatVector.broadcast(SPECIES, wt[wi]);
                FloatVector w1 = FloatVector.broadcast(SPECIES, wt[wi + 1]);
                FloatVector w2 = FloatVector.broadcast(SPECIES, wt[wi + 2]);
                FloatVector x = FloatVector.fromArray(SPECIES, in, o);
                a00 = x.fma(w0, a00);
                a10 = x.fma(w1, a10);
                a20 = x.fma(w2, a20);
                x = FloatVector.fromArray(SPECIES, in, o + VL);
                a01 = x.fma(w0, a01);
                a11 = x.fma(w1, a11);
                a21 = x.fma(w2, a21);
                x = FloatVector.fromArray(SPECIES, in, o + 2 * VL);
                a02 = x.fma(w0, a02);
                a12 = x.fma(w1, a12);
                a22 = x.fma(w2, a22);
                x = FloatVector.fromArray(SPECIES, in, o + 3 * VL);
                a03 = x.fma(w0, a03);
                a13 = x.fma(w1, a13);
                a23 = x.fma(w2, a23);
                x = FloatVector.fromArray(SPECIES, in, o + 4 * VL);
                a04 = x.fma(w0, a04);
                a14 = x.fma(w1, a14);
                a24 = x.fma(w2, a24);
                x = FloatVector.fromArray(SPECIES, in, o + 5 * VL);
                a05 = x.fma(w0, a05);
                a15 = x.fma(w1, a15);
                a25 = x.fma(w2, a25);
                x = FloatVector.fromArray(SPECIES, in, o + 6 * VL);
                a06 = x.fma(w0, a06);
                a16 = x.fma(w1, a16);
                a26 = x.fma(w2, a26);
                x = FloatVector.fromArray(SPECIES, in, o + 7 * VL);
                a07 = x.fma(w0, a07);
                a17 = x.fma(w1, a17);
                a27 = x.fma(w2, a27);
            }
        }
        a00.intoArray(c, 0);
        a01.intoArray(c, VL);
        a02.intoArray(c, 2 * VL);
        a03.intoArray(c, 3 * VL);
        a04.intoArray(c, 4 * VL);
        a05.intoArray(c, 5 * VL);
        a06.intoArray(c, 6 * VL);
        a07.intoArray(c, 7 * VL);
        a10.intoArray(c, NRN);
        a11.intoArray(c, NRN + VL);
        a12.intoArray(c, NRN + 2 * VL);
        a13.intoArray(c, NRN + 3 * VL);
        a14.intoArray(c, NRN + 4 * VL);
        a15.intoArray(c, NRN + 5 * VL);
        a16.intoArray(c, NRN + 6 * VL);
        a17.intoArray(c, NRN + 7 * VL);
        a20.intoArray(c, 2 * NRN);
        a21.intoArray(c, 2 * NRN + VL);
        a22.intoArray(c, 2 * NRN + 2 * VL);
        a23.intoArray(c, 2 * NRN + 3 * VL);
        a24.intoArray(c, 2 * NRN + 4 * VL);
        a25.intoArray(c, 2 * NRN + 5 * VL);
        a26.intoArray(c, 2 * NRN + 6 * VL);
        a27.intoArray(c, 2 * NRN + 7 * VL);
    }
}
