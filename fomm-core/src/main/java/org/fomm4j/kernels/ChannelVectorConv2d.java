package org.fomm4j.kernels;

import org.fomm4j.tensor.FrameArena;
import org.fomm4j.tensor.Tensor;

/**
 * Single-group convolution for small images (the 2x2 to 16x16 bottoms of the hourglasses, ResNet-18's
 * last stages), with {@link MicroKernel}'s register tile turned around: {@code MR} output pixels are
 * broadcast and {@code NR} output channels fill the vectors.
 *
 * <p>Why: the pixel-vectorized GEMM ({@link PanamaConv2d}) pads the pixels of a layer to whole tiles of
 * {@code NR} (64 on AVX-512), so a 4x4 image fills a quarter of its lanes; these layers have hundreds
 * to thousands of output channels, which fill the vectors exactly. Their weights (up to 38 MB for
 * 1024 -&gt; 1024) dominate the traffic, so each depth slice of {@code KC} packed weights is used for
 * every pixel block while it is in cache.
 *
 * <p>Layouts: weights packed {@code [coBlock][ci * taps + tap][NR]} (output channels past the last
 * padded with zeros); the input panel is a zero-padded im2col {@code [pixelBlock][depth][MR]}, built
 * once per call (small here by construction).
 */
final class ChannelVectorConv2d implements Conv2d {
    private static final int MR = MicroKernel.MR;
    private static final int NR = MicroKernel.NR;
    /** Depth per weight slice: {@code KC * NR} floats (64 KB on AVX-512) stay in L2 across pixel blocks. */
    private static final int KC = 256;

    private final ConvSpec spec;
    private final float[] packed;
    private final float[] bias;
    private final int coBlocks;
    private final int taps;
    private final int depth;

    ChannelVectorConv2d(ConvSpec spec, float[] weight, float[] bias) {
        if (spec.groups() != 1) {
            throw new IllegalArgumentException("channel-vectorized convolution needs one group, got " + spec);
        }
        this.spec = spec;
        int cout = spec.outChannels();
        this.bias = bias == null ? new float[cout] : bias.clone();
        this.taps = spec.kernelH() * spec.kernelW();
        this.depth = spec.inChannels() * taps;
        this.coBlocks = (cout + NR - 1) / NR;
        this.packed = MicroKernel.packWeights(weight, cout, depth, NR);
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
        int kh = spec.kernelH(), kw = spec.kernelW(), ph = spec.padH(), pw = spec.padW();
        int oh = spec.outH(h), ow = spec.outW(w), pixels = oh * ow;
        int pBlocks = (pixels + MR - 1) / MR;
        float[] in = input.toHeap().data();
        float[] out = FrameArena.floats(n * cout * pixels);
        float[] panel = Workspace.take(pBlocks * depth * MR);
        try {
            for (int b = 0; b < n; b++) {
                int inBatch = b * cin * h * w;
                // im2col, zero padded, pixel-block major: panel[pb][k][MR].
                Parallel.forEach(pBlocks, pb -> {
                    int base = pb * depth * MR;
                    for (int j = 0; j < MR; j++) {
                        int p = pb * MR + j;
                        boolean valid = p < pixels;
                        int oy = valid ? p / ow : 0, ox = valid ? p % ow : 0;
                        int k = 0;
                        for (int ci = 0; ci < cin; ci++) {
                            int plane = inBatch + ci * h * w;
                            for (int ky = 0; ky < kh; ky++) {
                                int iy = oy * st - ph + ky;
                                boolean rowIn = valid && iy >= 0 && iy < h;
                                for (int kx = 0; kx < kw; kx++, k++) {
                                    int ix = ox * st - pw + kx;
                                    panel[base + k * MR + j] = rowIn && ix >= 0 && ix < w ? in[plane + iy * w + ix] : 0f;
                                }
                            }
                        }
                    }
                });
                int outBatch = b * cout * pixels;
                // Tasks: output-channel blocks times ranges of pixel blocks, enough to keep every thread busy.
                int pSplit = Math.max(1, Math.min(pBlocks, (4 * Parallel.threads() + coBlocks - 1) / coBlocks));
                Parallel.forEach(coBlocks * pSplit, task -> {
                    int cb = task / pSplit, part = task % pSplit;
                    int pb0 = part * pBlocks / pSplit, pb1 = (part + 1) * pBlocks / pSplit;
                    float[] c = Workspace.local(0, (pb1 - pb0) * MR * NR);
                    for (int k0 = 0; k0 < depth; k0 += KC) {
                        int kc = Math.min(KC, depth - k0);
                        for (int pb = pb0; pb < pb1; pb++) {
                            MicroKernel.gemm(panel, (pb * depth + k0) * MR, packed, (cb * depth + k0) * NR, NR, kc,
                                    c, (pb - pb0) * MR * NR, NR, k0 == 0);
                        }
                    }
                    int co1 = Math.min(cout, (cb + 1) * NR);
                    for (int pb = pb0; pb < pb1; pb++) {
                        for (int j = 0; j < MR; j++) {
                            int p = pb * MR + j;
                            if (p >= pixels) {
                                break;
                            }
                            int row = (pb - pb0) * MR * NR + j * NR;
                            for (int co = cb * NR; co < co1; co++) {
                                out[outBatch + co * pixels + p] =
                                        ScalarKernels.activate(c[row + co - cb * NR] + bias[co], activation);
                            }
                        }
                    }
                });
            }
        } finally {
            Workspace.give(panel);
        }
        return Tensor.of(out, n, cout, oh, ow);
    }
}
