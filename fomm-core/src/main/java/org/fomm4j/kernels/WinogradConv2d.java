package org.fomm4j.kernels;

import org.fomm4j.tensor.FrameArena;
import static org.fomm4j.kernels.PanamaKernels.SPECIES;
import static org.fomm4j.kernels.PanamaKernels.VL;

import jdk.incubator.vector.FloatVector;
import org.fomm4j.tensor.Tensor;

/**
 * A 3x3, stride-1, single-group convolution by Winograd's minimal filtering F(4x4, 3x3) (Lavin &amp; Gray,
 * "Fast Algorithms for Convolutional Neural Networks", CVPR 2016, interpolation points 0, ±1, ±2, ∞):
 * {@code Y = A^T [ (G g G^T) ⊙ (B^T d B) ] A} for every 4x4 output tile {@code Y}, its 6x6 input tile
 * {@code d} and the 3x3 filter {@code g}. It does 36 multiply-adds per 16 outputs and input channel
 * where the direct convolution does 144: 4x fewer.
 *
 * <p>Three passes over the layer, each parallel:
 * <ol>
 *   <li>input transform: 6x6 tiles of the zero-padded input, {@code VL} tiles at a time (one vector
 *       lane per tile), into 36 panels {@code V[xi][tileBlock][cin][NR]} laid out for the
 *       micro-kernel;</li>
 *   <li>36 GEMMs {@code M[xi] = U[xi] (cout x cin) . V[xi] (cin x tiles)} on {@link MicroKernel}'s
 *       register tile, with {@code U} transformed and packed once when the layer is built;</li>
 *   <li>output transform, with the bias and activation fused, scattered into the NCHW output.</li>
 * </ol>
 *
 * <p>Numerics: the transforms multiply by up to 5 (B) and 8 (A), so in float32 the result is much less
 * exact than a direct convolution: measured against the scalar reference on random layers (inputs and
 * weights in [-1, 1]) the worst error is 1.3e-5 with one input channel and 1.1e-3 with 256 (outputs of
 * magnitude up to ~50), 18-42x the direct GEMM's. Through the networks the predictions still match the
 * reference within the parity tests' bounds (see the README's "Numerics"); {@code -Dfomm4j.winograd=never}
 * turns it off. The weight transform is done in double.
 */
final class WinogradConv2d implements Conv2d {
    private static final int NR = MicroKernel.NR;
    private static final int MR = MicroKernel.MR;

    /** G of F(4, 3), 6 x 3. */
    private static final double[][] G = {
            {1.0 / 4, 0, 0},
            {-1.0 / 6, -1.0 / 6, -1.0 / 6},
            {-1.0 / 6, 1.0 / 6, -1.0 / 6},
            {1.0 / 24, 1.0 / 12, 1.0 / 6},
            {1.0 / 24, -1.0 / 12, 1.0 / 6},
            {0, 0, 1}};

    private final ConvSpec spec;
    private final float[] u;
    private final float[] bias;
    private final int coBlocks;
    private final int coPad;

    /**
     * @param weight OIHW {@code [cout, cin, 3, 3]}
     * @throws IllegalArgumentException if the convolution is not 3x3, stride 1, one group
     */
    WinogradConv2d(ConvSpec spec, float[] weight, float[] bias) {
        if (spec.kernelH() != 3 || spec.kernelW() != 3 || spec.stride() != 1 || spec.groups() != 1) {
            throw new IllegalArgumentException("Winograd F(4x4,3x3) needs a 3x3 stride-1 convolution, got " + spec);
        }
        this.spec = spec;
        int cin = spec.inChannels(), cout = spec.outChannels();
        this.bias = bias == null ? new float[cout] : bias.clone();
        this.coBlocks = (cout + MR - 1) / MR;
        this.coPad = coBlocks * MR;
        this.u = new float[36 * coBlocks * cin * MR];
        // Training builds every layer anew each step (the weights change): 4% of a two-shard training step's
        // samples. On the pool where this is not already inside a shard (a one-shard step, model loading).
        float[] u = this.u;
        Parallel.forEach(cout, co -> {
            double[] gg = new double[18];
            int cb = co / MR, j = co % MR;
            for (int ci = 0; ci < cin; ci++) {
                int wOff = (co * cin + ci) * 9;
                // gg = G g (6x3)
                for (int r = 0; r < 6; r++) {
                    for (int c = 0; c < 3; c++) {
                        gg[r * 3 + c] = G[r][0] * weight[wOff + c] + G[r][1] * weight[wOff + 3 + c]
                                + G[r][2] * weight[wOff + 6 + c];
                    }
                }
                // U = (G g) G^T (6x6)
                for (int r = 0; r < 6; r++) {
                    for (int c = 0; c < 6; c++) {
                        double v = gg[r * 3] * G[c][0] + gg[r * 3 + 1] * G[c][1] + gg[r * 3 + 2] * G[c][2];
                        u[(((r * 6 + c) * coBlocks + cb) * cin + ci) * MR + j] = (float) v;
                    }
                }
            }
        });
    }

    @Override
    public ConvSpec spec() {
        return spec;
    }

    @Override
    public Tensor apply(Tensor input, Activation activation) {
        return run(input, activation, false, null);
    }

    /** Adds the residual in the output transform's store (bit-identical to adding it afterwards). */
    @Override
    public Tensor applyAdd(Tensor input, Activation activation, Tensor residual) {
        int[] s = ScalarKernels.checkConvInput(spec, input);
        residual.requireShape("residual", s[0], spec.outChannels(), spec.outH(s[2]), spec.outW(s[3]));
        return run(input, activation, false, residual.toHeap().data());
    }

    /** Reads the input upsampled (nearest, x2) while copying it into the padded buffer: no upsampled copy. */
    @Override
    public Tensor applyUpsampled2x(Tensor input, Activation activation) {
        return run(input, activation, true, null);
    }

    private Tensor run(Tensor input, Activation activation, boolean up2, float[] residual) {
        int[] s = ScalarKernels.checkConvInput(spec, input);
        int u = up2 ? 2 : 1;
        // h, w: the size the convolution sees (upsampled); sh, sw: the stored input's.
        int n = s[0], sh = s[2], sw = s[3], h = u * sh, w = u * sw;
        int cin = spec.inChannels(), cout = spec.outChannels();
        int oh = spec.outH(h), ow = spec.outW(w);
        int th = (oh + 3) / 4, tw = (ow + 3) / 4, tiles = th * tw;
        int tBlocks = (tiles + NR - 1) / NR, tPad = tBlocks * NR;
        // Padded so that every 6x6 tile, including the last partial ones, lies inside.
        int hp = 4 * th + 2, wp = 4 * tw + 2;
        // Phased layout when a tile row is whole vectors: each padded row stored as its 4 column phases
        // (x mod 4), so column j of VL neighbouring tiles is one contiguous vector load.
        boolean phased = tw % VL == 0 && PHASED;
        int qLen = tw + 1;
        int rowStride = phased ? 4 * qLen : wp;
        int chStride = hp * rowStride;
        // Offset of each tile in the padded input, for the per-lane expansion (the phased layout needs none).
        int[] tileBase = phased ? null : new int[tPad];
        for (int t = 0; !phased && t < tiles; t++) {
            tileBase[t] = 4 * (t / tw) * wp + 4 * (t % tw);
        }
        float[] in = input.toHeap().data();
        float[] out = FrameArena.floats(n * cout * oh * ow);
        // Tiles go through the three passes a chunk at a time, so the transformed tiles stay bounded
        // (and mostly in cache) whatever the image size.
        int chunkBlocks = Math.max(1, Math.min(tBlocks, CHUNK_FLOATS / (36 * NR * (cin + coPad))));
        int chunkTiles = chunkBlocks * NR;
        // The phased layout is built per chunk, only the padded rows the chunk's tiles read (a band), so
        // it is still in cache when the input transform reads it; the other layout pads the whole input.
        int bandMax = phased ? Math.min(hp, 4 * ((chunkTiles + tw - 1) / tw + 1) + 2) : hp;
        float[] padded = Workspace.take(cin * bandMax * rowStride);
        float[] v = Workspace.take(36 * (chunkTiles * cin));
        float[] m = Workspace.take(36 * (coPad * chunkTiles));
        try {
            int threads = Parallel.threads();
            for (int b = 0; b < n; b++) {
                int inBatch = b * cin * sh * sw;
                if (!phased) {
                    java.util.Arrays.fill(padded, 0, cin * chStride, 0f);
                    for (int ci = 0; ci < cin; ci++) {
                        for (int y = 0; y < h; y++) {
                            int src = inBatch + (ci * sh + y / u) * sw, dst = ci * chStride + (y + spec.padH()) * wp + spec.padW();
                            if (u == 1) {
                                System.arraycopy(in, src, padded, dst, w);
                            } else {
                                for (int x = 0; x < w; x++) {
                                    padded[dst + x] = in[src + (x >> 1)];
                                }
                            }
                        }
                    }
                }
                int outBatch = b * cout * oh * ow;
                for (int tb0 = 0; tb0 < tBlocks; tb0 += chunkBlocks) {
                    int blocks = Math.min(chunkBlocks, tBlocks - tb0);
                    int tFirst = tb0 * NR, bandY0 = 0, bandStride = chStride;
                    if (phased) {
                        int ty0 = tFirst / tw, ty1 = (Math.min(tiles, tFirst + blocks * NR) - 1) / tw;
                        int rows = 4 * (ty1 - ty0) + 6;
                        bandY0 = 4 * ty0;
                        bandStride = rows * rowStride;
                        copyPhased(in, inBatch, sh, sw, u, padded, bandY0, rows, qLen);
                    }
                    chunk(padded, bandStride, bandY0, phased ? qLen : wp, phased, tileBase, tFirst, blocks, v, m, tiles,
                            tw, oh, ow, out, outBatch, activation, threads, residual);
                }
            }
        } finally {
            Workspace.give(m);
            Workspace.give(v);
            Workspace.give(padded);
        }
        return Tensor.of(out, n, cout, oh, ow);
    }

    /** {@code -Dfomm4j.winograd.phased=false} forces the per-lane expansion (for comparing). */
    private static final boolean PHASED = !"false".equals(System.getProperty("fomm4j.winograd.phased"));

    /** Floats of transformed input and output tiles per chunk (8 MB); measured on the vox-256 layers. */
    private static final int CHUNK_FLOATS = Integer.getInteger("fomm4j.winograd.chunk", 2 << 20);

    /** The three passes for the {@code blocks * NR} tiles from {@code tFirst}. */
    private void chunk(float[] padded, int chStride, int bandY0, int wp, boolean phased, int[] tileBase, int tFirst, int blocks, float[] v,
                       float[] m, int tiles, int tw, int oh, int ow, float[] out, int outBatch, Activation activation,
                       int threads, float[] residual) {
        int cin = spec.inChannels(), cout = spec.outChannels();
        int cTiles = blocks * NR;
        // Per-point strides of the panels.
        int vPoint = cTiles * cin, mPoint = coPad * cTiles;
        int vectors = cTiles / VL;
        // Both transforms split (channel, vector) pairs into a few contiguous ranges, not one task per
        // channel: neighbouring channels' panel rows share cache lines (arrays are not 64-byte aligned),
        // and handing them to alternate threads made two threads slower than one (measured).
        int inTotal = cin * vectors, inTasks = Math.min(inTotal, 4 * threads);
        Parallel.forEach(inTasks, task -> {
            float[] scratch = Workspace.local(0, 36 * VL);
            for (int k = (int) ((long) task * inTotal / inTasks), end = (int) ((long) (task + 1) * inTotal / inTasks); k < end; k++) {
                int ci = k / vectors, vi = k - ci * vectors;
                if (!phased) {
                    inputTile(padded, ci * chStride, wp, tileBase, tFirst, vi * VL, v, cin, blocks, ci, scratch);
                } else if (tFirst + vi * VL < tiles) {
                    // (Vectors past the last tile are padding: their products are never read.)
                    inputTilePhased(padded, ci * chStride - bandY0 * 4 * wp, wp, tw, tFirst, vi * VL, v, cin, blocks, ci, scratch);
                }
            }
        });
        // A task is one Winograd point and a range of output-channel blocks; each packed weight block
        // (cin x MR, in L1) is used for every tile panel of the chunk before moving on.
        int coSplit = Math.max(1, Math.min(coBlocks, (4 * threads + 35) / 36));
        int coPer = (coBlocks + coSplit - 1) / coSplit;
        int coParts = (coBlocks + coPer - 1) / coPer;
        Parallel.forEach(36 * coParts, task -> {
            int xi = task / coParts, part = task % coParts;
            for (int cb = part * coPer, end = Math.min(coBlocks, cb + coPer); cb < end; cb++) {
                int wOff = (xi * coBlocks + cb) * cin * MR;
                int mOff = xi * mPoint + cb * MR * cTiles;
                for (int tb = 0; tb < blocks; tb++) {
                    MicroKernel.gemm(u, wOff, v, xi * vPoint + tb * cin * NR, NR, cin, m, mOff + tb * NR, cTiles, true);
                }
            }
        });
        int outTotal = cout * vectors, outTasks = Math.min(outTotal, 4 * threads);
        Parallel.forEach(outTasks, task -> {
            float[] scratch = Workspace.local(0, 24 * VL);
            float[] tile = Workspace.local(1, 16 * VL);
            for (int k = (int) ((long) task * outTotal / outTasks), end = (int) ((long) (task + 1) * outTotal / outTasks); k < end; k++) {
                int co = k / vectors, vi = k - co * vectors;
                int t = tFirst + vi * VL;
                if (t >= tiles) {
                    continue;
                }
                outputTile(m, co, cTiles, mPoint, vi * VL, scratch, tile);
                if (phased && activation != Activation.SIGMOID && 4 * (t % tw + VL) <= ow) {
                    storeInterleaved(tile, t, tw, oh, ow, bias[co], out, outBatch + co * oh * ow,
                            activation == Activation.RELU, residual);
                } else {
                    scatter(tile, t, tiles, tw, oh, ow, bias[co], out, outBatch + co * oh * ow, activation, residual);
                }
            }
        });
    }

    /**
     * {@code V[xi][tb][ci][lane] = (B^T d B)[xi]} for the {@code VL} tiles from {@code tFirst + t0} ({@code t0}
     * within the chunk): the tiles are expanded into {@code scratch} (one lane per tile), transformed along
     * x in place, then along y into the panels.
     */
    private static void inputTile(float[] padded, int base, int wp, int[] tileBase, int tFirst, int t0, float[] v,
                                  int cin, int tBlocks, int ci, float[] scratch) {
        int g = tFirst + t0;
        // Expand the VL tiles' 6x6 inputs lane by lane (plain copies; as fast as 36 gathers here, and
        // no dependence on gather instructions), then transform along x in place.
        for (int lane = 0; lane < VL; lane++) {
            int src = base + tileBase[g + lane];
            for (int i = 0; i < 6; i++, src += wp) {
                int d = i * 6 * VL + lane;
                scratch[d] = padded[src];
                scratch[d + VL] = padded[src + 1];
                scratch[d + 2 * VL] = padded[src + 2];
                scratch[d + 3 * VL] = padded[src + 3];
                scratch[d + 4 * VL] = padded[src + 4];
                scratch[d + 5 * VL] = padded[src + 5];
            }
        }
        for (int i = 0; i < 6; i++) {
            int r = i * 6 * VL;
            FloatVector d0 = FloatVector.fromArray(SPECIES, scratch, r);
            FloatVector d1 = FloatVector.fromArray(SPECIES, scratch, r + VL);
            FloatVector d2 = FloatVector.fromArray(SPECIES, scratch, r + 2 * VL);
            FloatVector d3 = FloatVector.fromArray(SPECIES, scratch, r + 3 * VL);
            FloatVector d4 = FloatVector.fromArray(SPECIES, scratch, r + 4 * VL);
            FloatVector d5 = FloatVector.fromArray(SPECIES, scratch, r + 5 * VL);
            transformB(d0, d1, d2, d3, d4, d5, scratch, r, VL);
        }
        transformColumns(scratch, v, t0, cin, tBlocks, ci);
    }

    /**
     * Padded rows {@code y0 .. y0 + rows - 1} of the input in the phased layout {@code [cin][rows][4][qLen]}:
     * padded row {@code yy}, column {@code xx} (input {@code (yy - padH, xx - padW)}, zero outside) at phase
     * {@code xx & 3}, index {@code xx >> 2}; with {@code u = 2} the stored input is read upsampled
     * (nearest). Parallel over channels; see {@link #phasedRow}.
     */
    private void copyPhased(float[] in, int inBatch, int sh, int sw, int u, float[] padded, int y0, int rows, int qLen) {
        int cin = spec.inChannels(), ph = spec.padH(), pw = spec.padW(), h = u * sh;
        int rowStride = 4 * qLen;
        int total = cin * rows, tasks = Math.min(total, 4 * Parallel.threads());
        Parallel.forEach(tasks, task -> {
            for (int k = (int) ((long) task * total / tasks), end = (int) ((long) (task + 1) * total / tasks); k < end; k++) {
                int ci = k / rows, r = k - ci * rows;
                int y = y0 + r - ph, dst = k * rowStride;
                if (y < 0 || y >= h) {
                    java.util.Arrays.fill(padded, dst, dst + rowStride, 0f);
                } else {
                    phasedRow(in, inBatch + (ci * sh + y / u) * sw, sw, u, pw, padded, dst, qLen);
                }
            }
        });
    }

    /**
     * One padded row, {@code [4][qLen]} phases, from the stored row at {@code src} ({@code sw} floats, read
     * upsampled x{@code u}, {@code u} 1 or 2) shifted right by {@code pw}. In vectors, 4 VL padded columns
     * at a time: with {@code u = 1} a stride-4 deinterleave of 4 loads (two stages of even/odd lane
     * selection), with {@code u = 2} phase {@code r} is the even lanes of the source from
     * {@code (x0 + r) >> 1}. The vectors may read past the row's ends (within the array), so the padding
     * columns they covered are zeroed afterwards; the columns after the last whole vector are scalar.
     */
    static void phasedRow(float[] in, int src, int sw, int u, int pw, float[] padded, int dst, int qLen) {
        int w = u * sw, xxEnd = 4 * qLen, xx = 0;
        if (u == 1) {
            for (; xx + 4 * VL <= xxEnd; xx += 4 * VL) {
                int s = src + xx - pw, q = dst + (xx >> 2);
                if (s < 0 || s + 4 * VL > in.length) {
                    break;
                }
                FloatVector a0 = FloatVector.fromArray(SPECIES, in, s);
                FloatVector a1 = FloatVector.fromArray(SPECIES, in, s + VL);
                FloatVector a2 = FloatVector.fromArray(SPECIES, in, s + 2 * VL);
                FloatVector a3 = FloatVector.fromArray(SPECIES, in, s + 3 * VL);
                FloatVector e01 = VectorMath.unzipEven(a0, a1), o01 = VectorMath.unzipOdd(a0, a1);
                FloatVector e23 = VectorMath.unzipEven(a2, a3), o23 = VectorMath.unzipOdd(a2, a3);
                VectorMath.unzipEven(e01, e23).intoArray(padded, q);
                VectorMath.unzipEven(o01, o23).intoArray(padded, q + qLen);
                VectorMath.unzipOdd(e01, e23).intoArray(padded, q + 2 * qLen);
                VectorMath.unzipOdd(o01, o23).intoArray(padded, q + 3 * qLen);
            }
        } else if (u == 2) {
            for (; xx + 4 * VL <= xxEnd; xx += 4 * VL) {
                int x0 = xx - pw, q = dst + (xx >> 2);
                if (src + (x0 >> 1) < 0 || src + ((x0 + 3) >> 1) + 2 * VL > in.length) {
                    break;
                }
                for (int r = 0; r < 4; r++) {
                    int s = src + ((x0 + r) >> 1);
                    VectorMath.unzipEven(FloatVector.fromArray(SPECIES, in, s), FloatVector.fromArray(SPECIES, in, s + VL))
                            .intoArray(padded, q + r * qLen);
                }
            }
        }
        for (int i = 0; i < Math.min(pw, xx); i++) {
            padded[dst + (i & 3) * qLen + (i >> 2)] = 0f;
        }
        for (int i = pw + w; i < xx; i++) {
            padded[dst + (i & 3) * qLen + (i >> 2)] = 0f;
        }
        for (int i = xx; i < xxEnd; i++) {
            int x = i - pw;
            padded[dst + (i & 3) * qLen + (i >> 2)] = x >= 0 && x < w ? in[src + x / u] : 0f;
        }
    }

    /**
     * As {@link #inputTile} for the phased layout: the {@code VL} tiles from {@code tFirst + t0} lie in one
     * tile row, and column {@code j} of their 6x6 inputs is the contiguous vector at phase {@code j & 3},
     * offset {@code tx + (j >> 2)}.
     */
    private static void inputTilePhased(float[] padded, int base, int qLen, int tw, int tFirst, int t0, float[] v,
                                        int cin, int tBlocks, int ci, float[] scratch) {
        int g = tFirst + t0, ty = g / tw, tx = g - ty * tw;
        int rowStride = 4 * qLen;
        for (int i = 0; i < 6; i++) {
            int r = base + (4 * ty + i) * rowStride + tx;
            FloatVector d0 = FloatVector.fromArray(SPECIES, padded, r);
            FloatVector d1 = FloatVector.fromArray(SPECIES, padded, r + qLen);
            FloatVector d2 = FloatVector.fromArray(SPECIES, padded, r + 2 * qLen);
            FloatVector d3 = FloatVector.fromArray(SPECIES, padded, r + 3 * qLen);
            FloatVector d4 = FloatVector.fromArray(SPECIES, padded, r + 1);
            FloatVector d5 = FloatVector.fromArray(SPECIES, padded, r + qLen + 1);
            transformB(d0, d1, d2, d3, d4, d5, scratch, i * 6 * VL, VL);
        }
        transformColumns(scratch, v, t0, cin, tBlocks, ci);
    }

    /** The y-transform of the x-transformed rows in {@code scratch}, into the panels of Winograd points. */
    private static void transformColumns(float[] scratch, float[] v, int t0, int cin, int tBlocks, int ci) {
        int tb = t0 / NR, lane = t0 - tb * NR;
        int blockStride = tBlocks * cin * NR;
        int dst = (tb * cin + ci) * NR + lane;
        for (int j = 0; j < 6; j++) {
            FloatVector s0 = FloatVector.fromArray(SPECIES, scratch, j * VL);
            FloatVector s1 = FloatVector.fromArray(SPECIES, scratch, (6 + j) * VL);
            FloatVector s2 = FloatVector.fromArray(SPECIES, scratch, (12 + j) * VL);
            FloatVector s3 = FloatVector.fromArray(SPECIES, scratch, (18 + j) * VL);
            FloatVector s4 = FloatVector.fromArray(SPECIES, scratch, (24 + j) * VL);
            FloatVector s5 = FloatVector.fromArray(SPECIES, scratch, (30 + j) * VL);
            // Output row ii of the y-transform is Winograd point xi = ii * 6 + j.
            transformB(s0, s1, s2, s3, s4, s5, v, dst + j * blockStride, 6 * blockStride);
        }
    }

    /** {@code out[k * step] = (B^T d)[k]} for the six vectors {@code d}. */
    private static void transformB(FloatVector d0, FloatVector d1, FloatVector d2, FloatVector d3, FloatVector d4,
                                   FloatVector d5, float[] out, int off, int step) {
        FloatVector m4 = FloatVector.broadcast(SPECIES, -4f), m5 = FloatVector.broadcast(SPECIES, -5f);
        FloatVector a = d2.fma(m4, d4);
        FloatVector b = d1.fma(m4, d3);
        FloatVector c = d4.sub(d2);
        FloatVector e = d3.sub(d1).mul(2f);
        d0.mul(4f).add(d2.fma(m5, d4)).intoArray(out, off);
        a.add(b).intoArray(out, off + step);
        a.sub(b).intoArray(out, off + 2 * step);
        c.add(e).intoArray(out, off + 3 * step);
        c.sub(e).intoArray(out, off + 4 * step);
        d1.mul(4f).add(d3.fma(m5, d5)).intoArray(out, off + 5 * step);
    }

    /**
     * The 4x4 outputs of the {@code VL} tiles from {@code t0} for output channel {@code co},
     * {@code A^T M A}, into {@code tile[(i * 4 + j) * VL + lane]} (bias and activation come in
     * {@link #scatter}).
     */
    private static void outputTile(float[] m, int co, int tPad, int pointStride, int t0, float[] scratch,
                                   float[] tile) {
        int src = co * tPad + t0;
        for (int i = 0; i < 6; i++, src += 6 * pointStride) {
            FloatVector m0 = FloatVector.fromArray(SPECIES, m, src);
            FloatVector m1 = FloatVector.fromArray(SPECIES, m, src + pointStride);
            FloatVector m2 = FloatVector.fromArray(SPECIES, m, src + 2 * pointStride);
            FloatVector m3 = FloatVector.fromArray(SPECIES, m, src + 3 * pointStride);
            FloatVector m4 = FloatVector.fromArray(SPECIES, m, src + 4 * pointStride);
            FloatVector m5 = FloatVector.fromArray(SPECIES, m, src + 5 * pointStride);
            transformA(m0, m1, m2, m3, m4, m5, scratch, i * 4 * VL, VL);
        }
        for (int j = 0; j < 4; j++) {
            FloatVector s0 = FloatVector.fromArray(SPECIES, scratch, j * VL);
            FloatVector s1 = FloatVector.fromArray(SPECIES, scratch, (4 + j) * VL);
            FloatVector s2 = FloatVector.fromArray(SPECIES, scratch, (8 + j) * VL);
            FloatVector s3 = FloatVector.fromArray(SPECIES, scratch, (12 + j) * VL);
            FloatVector s4 = FloatVector.fromArray(SPECIES, scratch, (16 + j) * VL);
            FloatVector s5 = FloatVector.fromArray(SPECIES, scratch, (20 + j) * VL);
            transformA(s0, s1, s2, s3, s4, s5, tile, j * VL, 4 * VL);
        }
    }

    /** {@code out[k * step] = (A^T m)[k]}, k = 0..3, for the six vectors {@code m}. */
    private static void transformA(FloatVector m0, FloatVector m1, FloatVector m2, FloatVector m3, FloatVector m4,
                                   FloatVector m5, float[] out, int off, int step) {
        FloatVector s12 = m1.add(m2), d12 = m1.sub(m2), s34 = m3.add(m4), d34 = m3.sub(m4);
        m0.add(s12).add(s34).intoArray(out, off);
        d34.fma(FloatVector.broadcast(SPECIES, 2f), d12).intoArray(out, off + step);
        s34.fma(FloatVector.broadcast(SPECIES, 4f), s12).intoArray(out, off + 2 * step);
        d34.fma(FloatVector.broadcast(SPECIES, 8f), d12).add(m5).intoArray(out, off + 3 * step);
    }

    /** Second stage: pairs, lanes 4p..4p+1 from the first vector's 2p..2p+1, 4p+2..4p+3 from the second's. */
    private static final FloatVector ZIP2_LO = VectorMath.lanes(l -> (l & 3) < 2 ? 2 * (l / 4) + (l & 3) : VL + 2 * (l / 4) + (l & 3) - 2);
    private static final FloatVector ZIP2_HI = VectorMath.lanes(l -> (l & 3) < 2 ? VL / 2 + 2 * (l / 4) + (l & 3)
            : VL + VL / 2 + 2 * (l / 4) + (l & 3) - 2);

    /**
     * For {@code VL} tiles in one tile row whose 4 x VL outputs per row lie inside the image: bias and
     * ReLU as vectors, then each output row is the interleave of its four column vectors
     * ({@code out[x = 4 tx + j] = tile[i][j][tx]}), done with two stages of two-vector permutes
     * instead of a scalar scatter.
     */
    private static void storeInterleaved(float[] tile, int t0, int tw, int oh, int ow, float bias, float[] out, int plane,
                                         boolean relu, float[] residual) {
        int ty = t0 / tw, tx = t0 - ty * tw;
        FloatVector b = FloatVector.broadcast(SPECIES, bias), zero = FloatVector.zero(SPECIES);
        int rows = Math.min(4, oh - 4 * ty);
        for (int i = 0; i < rows; i++) {
            FloatVector a0 = FloatVector.fromArray(SPECIES, tile, (i * 4) * VL).add(b);
            FloatVector a1 = FloatVector.fromArray(SPECIES, tile, (i * 4 + 1) * VL).add(b);
            FloatVector a2 = FloatVector.fromArray(SPECIES, tile, (i * 4 + 2) * VL).add(b);
            FloatVector a3 = FloatVector.fromArray(SPECIES, tile, (i * 4 + 3) * VL).add(b);
            if (relu) {
                a0 = a0.max(zero);
                a1 = a1.max(zero);
                a2 = a2.max(zero);
                a3 = a3.max(zero);
            }
            // Stage 1 interleaves single lanes (a0 with a1, a2 with a3), stage 2 pairs of lanes.
            FloatVector lo01 = VectorMath.zipLo(a0, a1), hi01 = VectorMath.zipHi(a0, a1);
            FloatVector lo23 = VectorMath.zipLo(a2, a3), hi23 = VectorMath.zipHi(a2, a3);
            int o = plane + (4 * ty + i) * ow + 4 * tx;
            FloatVector o0 = ZIP2_LO.selectFrom(lo01, lo23), o1 = ZIP2_HI.selectFrom(lo01, lo23);
            FloatVector o2 = ZIP2_LO.selectFrom(hi01, hi23), o3 = ZIP2_HI.selectFrom(hi01, hi23);
            if (residual != null) {
                o0 = o0.add(FloatVector.fromArray(SPECIES, residual, o));
                o1 = o1.add(FloatVector.fromArray(SPECIES, residual, o + VL));
                o2 = o2.add(FloatVector.fromArray(SPECIES, residual, o + 2 * VL));
                o3 = o3.add(FloatVector.fromArray(SPECIES, residual, o + 3 * VL));
            }
            o0.intoArray(out, o);
            o1.intoArray(out, o + VL);
            o2.intoArray(out, o + 2 * VL);
            o3.intoArray(out, o + 3 * VL);
        }
    }

    /** Writes the valid outputs of the {@code VL} tiles from {@code t0}, adding the bias and the activation. */
    private static void scatter(float[] tile, int t0, int tiles, int tw, int oh, int ow, float bias, float[] out,
                                int plane, Activation activation, float[] residual) {
        int ty = t0 / tw, tx = t0 - ty * tw;
        boolean relu = activation == Activation.RELU;
        for (int lane = 0; lane < VL && t0 + lane < tiles; lane++, tx++) {
            if (tx == tw) {
                tx = 0;
                ty++;
            }
            int rows = Math.min(4, oh - 4 * ty), cols = Math.min(4, ow - 4 * tx);
            int o = plane + 4 * ty * ow + 4 * tx;
            if (rows == 4 && cols == 4 && activation != Activation.SIGMOID) {
                for (int i = 0; i < 4; i++, o += ow) {
                    int s = i * 4 * VL + lane;
                    float v0 = tile[s] + bias, v1 = tile[s + VL] + bias, v2 = tile[s + 2 * VL] + bias, v3 = tile[s + 3 * VL] + bias;
                    if (relu) {
                        v0 = Math.max(v0, 0f);
                        v1 = Math.max(v1, 0f);
                        v2 = Math.max(v2, 0f);
                        v3 = Math.max(v3, 0f);
                    }
                    if (residual != null) {
                        v0 = v0 + residual[o];
                        v1 = v1 + residual[o + 1];
                        v2 = v2 + residual[o + 2];
                        v3 = v3 + residual[o + 3];
                    }
                    out[o] = v0;
                    out[o + 1] = v1;
                    out[o + 2] = v2;
                    out[o + 3] = v3;
                }
            } else {
                for (int i = 0; i < rows; i++, o += ow) {
                    for (int j = 0; j < cols; j++) {
                        float v = ScalarKernels.activate(tile[(i * 4 + j) * VL + lane] + bias, activation);
                        out[o + j] = residual == null ? v : v + residual[o + j];
                    }
                }
            }
        }
    }
}
