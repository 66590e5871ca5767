package org.fomm4j.kernels;


import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import org.fomm4j.tensor.FrameArena;
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
 * <p>Stride 1 reads the padded input in place ({@link MicroKernel#direct}: each depth row of a tile is
 * {@code NR} contiguous floats at a fixed offset from the tile's first output), so nothing is copied per
 * tile. An im2col panel ({@link #pack}, copied once per tile group and reused by every output-channel
 * block) is the other way, and was the default for more than two blocks until 2026-12-04: on Zen 5
 * (AVX-512, 1 and 2 threads, and with 256-bit vectors forced) reading in place was as fast or faster on
 * every stride-1 layer shape of the FOMM networks measured, 1.3-1.4x on the 7x7 heads of the dense motion
 * network and the keypoint detector (their im2col panels are 49 taps deep per channel and reused by only a
 * few output blocks); {@code -Dfomm4j.conv.packed=true} brings the panels back, to compare on other CPUs.
 * Both sum every output in the same order (depth row by depth row, one fused multiply-add each), so
 * they give the same floats.
 *
 * <p>Strided convolutions index outputs densely and gather each panel row with the stride (a scalar
 * gather, amortized over all output channel blocks).
 *
 * <p>Micro-kernel: {@link MicroKernel}'s register tile ({@code MR} output channels times {@code NR}
 * pixels, sized to the register file of the vector width). Weights are packed once here as {@code [coBlock][ci * taps + tap][MR]}; channels missing in
 * the last block are zero weights whose results are never stored.
 */
final class PanamaConv2d implements Conv2d {
    static final int MR = MicroKernel.MR;
    static final int NR = MicroKernel.NR;
    /** Micro-tiles packed together, so each weight block read from cache serves this many tiles. */
    private static final int PT = 4;
    /** Depth (input channels x taps) per panel slice; measured best of 128..2304 on the vox-256 layers. */
    private static final int KC = 512;
    /** Panels instead of reading in place for stride-1 layers of more than two output-channel blocks. */
    static final boolean PANELS_AT_STRIDE_1 = Boolean.getBoolean("fomm4j.conv.packed");

    private final ConvSpec spec;
    private final float[] packed;
    private final float[] bias;
    private final int coBlocks;
    private final int taps;
    private final int depth;
    private final boolean panelsAtStride1;

    PanamaConv2d(ConvSpec spec, float[] weight, float[] bias) {
        this(spec, weight, bias, PANELS_AT_STRIDE_1);
    }

    /** @param panelsAtStride1 im2col panels for stride-1 layers of more than two output-channel blocks */
    PanamaConv2d(ConvSpec spec, float[] weight, float[] bias, boolean panelsAtStride1) {
        this.panelsAtStride1 = panelsAtStride1;
        this.spec = spec;
        this.bias = bias == null ? new float[spec.outChannels()] : bias.clone();
        int cin = spec.inChannels(), cout = spec.outChannels();
        this.taps = spec.kernelH() * spec.kernelW();
        this.depth = cin * taps;
        this.coBlocks = (cout + MR - 1) / MR;
        this.packed = MicroKernel.packWeights(weight, cout, depth, MR);
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
        float[] out = FrameArena.floats(n * cout * oh * ow);
        float[] padded = FrameArena.zeros(cin * chStride);
        int tileGroups = (tiles + PT - 1) / PT;
        // Split output channels only when there are too few pixel tiles to keep the threads busy.
        int coSplit = Math.max(1, Math.min(coBlocks, (2 * Parallel.threads() + tileGroups - 1) / tileGroups));
        int coPer = (coBlocks + coSplit - 1) / coSplit;
        int coParts = (coBlocks + coPer - 1) / coPer;
        // Stride 1 reads in place (class comment); with one or two output blocks a panel would be copied
        // for little reuse even where panels are asked for.
        boolean direct = !strided && (!panelsAtStride1 || coBlocks <= 2);
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
                // This thread's, reused between tasks and calls: every element read is written first (the
                // kernels overwrite at k0 == 0). Thread-local rather than the shared pool: a task is short, and
                // the pool (Workspace.give) was 3% of a training step's JFR samples (40 keypoints).
                float[] cbuf = Workspace.local(2, (cb1 - cb0) * MR * ldc);
                float[] panel = direct ? null : Workspace.local(3, PT * KC * NR);
                if (direct) {
                    for (int cb = cb0; cb < cb1; cb++) {
                        for (int t = t0; t < t1; t++) {
                            MicroKernel.direct(packed, cb * depth * MR, padded, t * NR, cin, chStride, tapOff,
                                    cbuf, (cb - cb0) * MR * ldc + (t - t0) * NR, ldc);
                        }
                    }
                } else {
                    for (int k0 = 0; k0 < depth; k0 += KC) {
                        int kc = Math.min(KC, depth - k0);
                        for (int t = t0; t < t1; t++) {
                            pack(padded, chStride, tapOff, gather, flat, t * NR, k0, kc, panel, (t - t0) * KC * NR);
                        }
                        for (int cb = cb0; cb < cb1; cb++) {
                            for (int t = t0; t < t1; t++) {
                                MicroKernel.gemm(packed, (cb * depth + k0) * MR, panel, (t - t0) * KC * NR, NR, kc,
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

    /**
     * Writes the valid columns of one micro-tile result, adding the bias and the activation: per output
     * channel, each run of the tile's pixels on one output row (a tile spans row ends of the padded pitch,
     * whose pad columns are dropped) is a contiguous copy from the tile's row to the output plane's.
     */
    private void store(float[] acc, int ai, int ldc, int q0, int cb, int wp, int oh, int ow, int cout, float[] out,
                       int outBatch, Activation activation) {
        int y = q0 / wp, x = q0 - y * wp;
        int channels = Math.min(MR, cout - cb * MR);
        for (int i = 0; i < NR && y < oh; ) {
            int run = Math.min(NR - i, wp - x), valid = Math.min(run, ow - x);
            for (int j = 0; j < channels; j++) {
                int co = cb * MR + j;
                storeRun(acc, ai + j * ldc + i, out, outBatch + (co * oh + y) * ow + x, valid, bias[co], activation);
            }
            i += run;
            x += run;
            if (x == wp) {
                x = 0;
                y++;
            }
        }
    }

    /** {@code out[dst + i] = activate(acc[src + i] + bias)} for {@code i < count} ({@code count <= 0}: nothing). */
    private static void storeRun(float[] acc, int src, float[] out, int dst, int count, float bias, Activation activation) {
        int i = 0;
        if (activation != Activation.SIGMOID) {
            FloatVector b = FloatVector.broadcast(PanamaKernels.SPECIES, bias);
            for (int bound = count - PanamaKernels.VL; i <= bound; i += PanamaKernels.VL) {
                FloatVector v = FloatVector.fromArray(PanamaKernels.SPECIES, acc, src + i).add(b);
                if (activation == Activation.RELU) {
                    // As ScalarKernels.activate (v > 0 ? v : 0): NaN and -0 give 0, where max would keep NaN.
                    v = v.blend(0f, v.compare(VectorOperators.GT, 0f).not());
                }
                v.intoArray(out, dst + i);
            }
        }
        for (; i < count; i++) {
            out[dst + i] = ScalarKernels.activate(acc[src + i] + bias, activation);
        }
    }
}
