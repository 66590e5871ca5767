package org.fomm4j.kernels;

import org.fomm4j.tensor.FrameArena;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.fomm4j.tensor.Tensor;

/**
 * {@link Kernels} on the JDK Vector API: convolution ({@link AdaptiveConv2d}: Winograd, pixel- or
 * channel-vectorized GEMM per layer shape), the element-wise passes, and the per-pixel kernels of
 * {@link PanamaMaps} (instance norm, sigmoid, upsampling, both softmaxes, motion mixing, Taylor motions, TPS motions,
 * and on x86 {@code grid_sample} and bilinear resizing, which gather). Pooling stays the scalar
 * reference's (parallel; a few milliseconds per step). Loaded only through {@link KernelProvider}, so
 * that a JVM without {@code jdk.incubator.vector} never touches this class.
 *
 * <p>The vector width is fixed per JVM by {@code -Dfomm4j.vector.bits=128|256|512} (default: the
 * platform's preferred width), so tests can cover every width on one machine.
 */
final class PanamaKernels extends ScalarKernels {
    static final VectorSpecies<Float> SPECIES = pickSpecies();
    static final int VL = SPECIES.length();

    private static VectorSpecies<Float> pickSpecies() {
        String bits = System.getProperty("fomm4j.vector.bits");
        if (bits == null || bits.isBlank()) {
            return FloatVector.SPECIES_PREFERRED;
        }
        return switch (bits.trim()) {
            case "128" -> FloatVector.SPECIES_128;
            case "256" -> FloatVector.SPECIES_256;
            case "512" -> FloatVector.SPECIES_512;
            default -> throw new IllegalArgumentException("fomm4j.vector.bits must be 128, 256 or 512, got " + bits);
        };
    }

    @Override
    public String name() {
        return "panama-" + SPECIES.vectorBitSize();
    }

    @Override
    public boolean vectorApi() {
        return true;
    }

    @Override
    public Conv2d conv2d(ConvSpec spec, float[] weight, float[] bias) {
        checkConvWeights(spec, weight, bias);
        if (spec.groups() != 1) {
            // Grouped convolutions do not occur in the models (the anti-aliasing blur has its own code).
            return super.conv2d(spec, weight, bias);
        }
        return new AdaptiveConv2d(spec, weight, bias);
    }

    @Override
    public Tensor relu(Tensor x) {
        float[] in = x.toHeap().data();
        float[] out = FrameArena.floats(in.length);
        FloatVector zero = FloatVector.zero(SPECIES);
        int i = 0;
        for (int bound = SPECIES.loopBound(in.length); i < bound; i += VL) {
            FloatVector.fromArray(SPECIES, in, i).max(zero).intoArray(out, i);
        }
        for (; i < in.length; i++) {
            out[i] = in[i] > 0f ? in[i] : 0f;
        }
        return Tensor.of(out, x.shape());
    }

    @Override
    public Tensor channelAffine(Tensor x, float[] scale, float[] shift, boolean relu) {
        x.requireRank("channelAffine input", 4);
        int n = x.dim(0), c = x.dim(1), hw = x.dim(2) * x.dim(3);
        if (scale.length != c || shift.length != c) {
            throw new IllegalArgumentException("channelAffine: " + c + " channels but " + scale.length + " scales and "
                    + shift.length + " shifts");
        }
        float[] in = x.toHeap().data();
        float[] out = FrameArena.floats(in.length);
        FloatVector zero = FloatVector.zero(SPECIES);
        Parallel.forEach(n * c, p -> {
            int ch = p % c, base = p * hw;
            float s = scale[ch], t = shift[ch];
            FloatVector vs = FloatVector.broadcast(SPECIES, s), vt = FloatVector.broadcast(SPECIES, t);
            int i = 0;
            for (int bound = SPECIES.loopBound(hw); i < bound; i += VL) {
                FloatVector v = FloatVector.fromArray(SPECIES, in, base + i).fma(vs, vt);
                (relu ? v.max(zero) : v).intoArray(out, base + i);
            }
            for (; i < hw; i++) {
                float v = Math.fma(in[base + i], s, t);
                out[base + i] = relu && v < 0f ? 0f : v;
            }
        });
        return Tensor.of(out, x.shape());
    }

    @Override
    public Tensor add(Tensor a, Tensor b) {
        b.requireShape("add operand", a.shape());
        float[] x = a.toHeap().data(), y = b.toHeap().data();
        float[] out = FrameArena.floats(x.length);
        int i = 0;
        for (int bound = SPECIES.loopBound(x.length); i < bound; i += VL) {
            FloatVector.fromArray(SPECIES, x, i).add(FloatVector.fromArray(SPECIES, y, i)).intoArray(out, i);
        }
        for (; i < x.length; i++) {
            out[i] = x[i] + y[i];
        }
        return Tensor.of(out, a.shape());
    }

    @Override
    public Tensor multiplyByMap(Tensor x, Tensor map) {
        x.requireRank("multiplyByMap input", 4);
        int n = x.dim(0), c = x.dim(1), hw = x.dim(2) * x.dim(3);
        map.requireShape("multiplyByMap map", n, 1, x.dim(2), x.dim(3));
        float[] in = x.toHeap().data(), m = map.toHeap().data();
        float[] out = FrameArena.floats(in.length);
        Parallel.forEach(n * c, p -> {
            int base = p * hw, mb = (p / c) * hw;
            int i = 0;
            for (int bound = SPECIES.loopBound(hw); i < bound; i += VL) {
                FloatVector.fromArray(SPECIES, in, base + i).mul(FloatVector.fromArray(SPECIES, m, mb + i))
                        .intoArray(out, base + i);
            }
            for (; i < hw; i++) {
                out[base + i] = in[base + i] * m[mb + i];
            }
        });
        return Tensor.of(out, x.shape());
    }

    @Override
    public Tensor sigmoid(Tensor x) {
        return PanamaMaps.sigmoid(x);
    }

    @Override
    public Tensor instanceNorm(Tensor x, float[] gamma, float[] beta, boolean relu) {
        return PanamaMaps.instanceNorm(x, gamma, beta, relu);
    }

    @Override
    public Tensor upsampleNearest2x(Tensor x) {
        return PanamaMaps.upsampleNearest2x(x);
    }

    @Override
    public Tensor softmaxSpatial(Tensor x, float temperature) {
        return PanamaMaps.softmaxSpatial(x, temperature);
    }

    @Override
    public Tensor softmaxChannels(Tensor x) {
        return PanamaMaps.softmaxChannels(x);
    }

    @Override
    public Tensor mixMotions(Tensor masks, Tensor motions) {
        return PanamaMaps.mixMotions(masks, motions);
    }

    @Override
    public Tensor taylorMotions(Tensor kpDriving, Tensor kpSource, Tensor affine, int height, int width) {
        return PanamaMaps.taylorMotions(kpDriving, kpSource, affine, height, width);
    }

    @Override
    public Tensor gridSample(Tensor input, Tensor grid, boolean alignCorners, GridPadding padding) {
        return PanamaMaps.GATHER ? PanamaMaps.gridSample(input, grid, alignCorners, padding)
                : super.gridSample(input, grid, alignCorners, padding);
    }

    @Override
    public Tensor resizeBilinear(Tensor x, int outH, int outW, boolean alignCorners) {
        return PanamaMaps.GATHER ? PanamaMaps.resizeBilinear(x, outH, outW, alignCorners)
                : super.resizeBilinear(x, outH, outW, alignCorners);
    }

    @Override
    public Tensor tpsMotions(Tensor kpDriving, Tensor kpSource, int groupSize, int height, int width) {
        return PanamaMaps.tpsMotions(kpDriving, kpSource, groupSize, height, width);
    }

    /** 2x4 tiles of dot products: 8 accumulators, 6 loads per 8 FMAs; scalar tails. */
    @Override
    public void gemmTN(float[] a, int m, float[] b, int n, int q, float[] c, int j0, int j1) {
        // Tile: 4 rows of C x 2 vectors of columns = 8 accumulators; per t, 2 loads of B and 4 broadcasts of A.
        int i = 0;
        for (; i + 3 < m; i += 4) {
            int j = j0;
            for (; j + 2 * VL <= j1; j += 2 * VL) {
                FloatVector c00 = FloatVector.zero(SPECIES), c01 = c00, c10 = c00, c11 = c00;
                FloatVector c20 = c00, c21 = c00, c30 = c00, c31 = c00;
                for (int t = 0; t < q; t++) {
                    int bt = t * n + j, at = t * m + i;
                    FloatVector b0 = FloatVector.fromArray(SPECIES, b, bt), b1 = FloatVector.fromArray(SPECIES, b, bt + VL);
                    FloatVector x = FloatVector.broadcast(SPECIES, a[at]);
                    c00 = x.fma(b0, c00);
                    c01 = x.fma(b1, c01);
                    x = FloatVector.broadcast(SPECIES, a[at + 1]);
                    c10 = x.fma(b0, c10);
                    c11 = x.fma(b1, c11);
                    x = FloatVector.broadcast(SPECIES, a[at + 2]);
                    c20 = x.fma(b0, c20);
                    c21 = x.fma(b1, c21);
                    x = FloatVector.broadcast(SPECIES, a[at + 3]);
                    c30 = x.fma(b0, c30);
                    c31 = x.fma(b1, c31);
                }
                addInto(c, i * n + j, c00, c01);
                addInto(c, (i + 1) * n + j, c10, c11);
                addInto(c, (i + 2) * n + j, c20, c21);
                addInto(c, (i + 3) * n + j, c30, c31);
            }
            for (; j + VL <= j1; j += VL) {
                FloatVector c0 = FloatVector.zero(SPECIES), c1 = c0, c2 = c0, c3 = c0;
                for (int t = 0; t < q; t++) {
                    FloatVector bv = FloatVector.fromArray(SPECIES, b, t * n + j);
                    int at = t * m + i;
                    c0 = FloatVector.broadcast(SPECIES, a[at]).fma(bv, c0);
                    c1 = FloatVector.broadcast(SPECIES, a[at + 1]).fma(bv, c1);
                    c2 = FloatVector.broadcast(SPECIES, a[at + 2]).fma(bv, c2);
                    c3 = FloatVector.broadcast(SPECIES, a[at + 3]).fma(bv, c3);
                }
                FloatVector.fromArray(SPECIES, c, i * n + j).add(c0).intoArray(c, i * n + j);
                FloatVector.fromArray(SPECIES, c, (i + 1) * n + j).add(c1).intoArray(c, (i + 1) * n + j);
                FloatVector.fromArray(SPECIES, c, (i + 2) * n + j).add(c2).intoArray(c, (i + 2) * n + j);
                FloatVector.fromArray(SPECIES, c, (i + 3) * n + j).add(c3).intoArray(c, (i + 3) * n + j);
            }
            if (j < j1) {
                gemmTNRows(a, m, b, n, q, c, i, i + 4, j, j1);
            }
        }
        if (i < m) {
            for (int j = j0; j + VL <= j1; j += VL) {
                for (int r = i; r < m; r++) {
                    FloatVector acc = FloatVector.zero(SPECIES);
                    for (int t = 0; t < q; t++) {
                        acc = FloatVector.broadcast(SPECIES, a[t * m + r]).fma(FloatVector.fromArray(SPECIES, b, t * n + j), acc);
                    }
                    FloatVector.fromArray(SPECIES, c, r * n + j).add(acc).intoArray(c, r * n + j);
                }
            }
            int tail = j0 + (j1 - j0) / VL * VL;
            gemmTNRows(a, m, b, n, q, c, i, m, tail, j1);
        }
    }

    private static void addInto(float[] c, int at, FloatVector v0, FloatVector v1) {
        FloatVector.fromArray(SPECIES, c, at).add(v0).intoArray(c, at);
        FloatVector.fromArray(SPECIES, c, at + VL).add(v1).intoArray(c, at + VL);
    }

    @Override
    public void convWeightGradient(float[] x, int xOff, int xSample, float[] dy, int dyOff, int dySample, int n,
                                   int oCount, int k, int wp, int len, float[] dw, int dwOff, int dwStride) {
        // Register tiles, with accumulators over the whole batch so each output is reduced across lanes once:
        // 4 output channels x (2 rows x 3 taps) = 24 accumulators + 4 gradient vectors + 1 input vector where
        // there are 32 vector registers (AVX-512); 3 x 3 = 9 + 3 + 1 within AVX2's 16 (see narrowTiles). The
        // wider tile reads 5 streams per 24 FMAs instead of 5 per 12. Output channels are the outer loop so that
        // their gradient planes stay in cache across all k * k taps. Each tile kernel adds its own results to dw
        // (see flush).
        int body = SPECIES.loopBound(len);
        int group = WIDE_TILE ? 4 : 3;
        for (int o = 0; o < oCount; o += group) {
            // A group short of channels runs the full tiles with its last channel's gradient read again for the
            // missing ones and their sums dropped: 3/4 or 1/2 of the tile's speed is still above the one-channel
            // kernels' (the generator's 3-channel output layer, the keypoint head's 15 = 3 x 4 + 3).
            int outputs = Math.min(group, oCount - o);
            int d = dyOff + o * len, wo = dwOff + o * dwStride;
            if (outputs == 1) {
                oneChannel(x, xOff, xSample, dy, d, dySample, n, k, wp, len, body, dw, wo, dwStride);
                continue;
            }
            if (!WIDE_TILE) {
                narrowTiles(x, xOff, xSample, dy, d, dySample, outputs, n, k, wp, len, body, dw, wo, dwStride);
                continue;
            }
            int ky = 0;
            for (; ky + 1 < k; ky += 2) {
                int xk = xOff + ky * wp, wb = wo + ky * k;
                for (int kx = 0; kx + 2 < k; kx += 3) {
                    wg4x6(x, xk + kx, xSample, wp, 1, dy, d, dySample, outputs, n, len, body, dw, wb + kx, dwStride,
                            k, 1);
                }
            }
            // The columns the triples left (the 7x7 heads' last one) over those row pairs: six rows of one column
            // are a 4 x 6 tile too.
            for (int kx = k - k % 3; kx < k; kx++) {
                int r = 0;
                for (; r + 5 < ky; r += 6) {
                    wg4x6(x, xOff + r * wp + kx, xSample, 3 * wp, wp, dy, d, dySample, outputs, n, len, body, dw,
                            wo + r * k + kx, dwStride, 3 * k, k);
                }
                for (; r < ky; r++) {
                    wg4x1(x, xOff + r * wp + kx, xSample, dy, d, dySample, outputs, n, len, body, dw, wo + r * k + kx,
                            dwStride);
                }
            }
            for (; ky < k; ky++) {
                int xk = xOff + ky * wp, wb = wo + ky * k;
                int kx = 0;
                // The odd kernels' last row: six taps of one row are a 4 x 6 tile too (the 7x7 heads read 5 streams
                // per 24 FMAs here instead of 7 per 12 in two 4 x 3 tiles).
                for (; kx + 5 < k; kx += 6) {
                    wg4x6(x, xk + kx, xSample, 3, 1, dy, d, dySample, outputs, n, len, body, dw, wb + kx, dwStride,
                            3, 1);
                }
                for (; kx + 2 < k; kx += 3) {
                    wg4x3(x, xk + kx, xSample, dy, d, dySample, outputs, n, len, body, dw, wb + kx, dwStride);
                }
                for (; kx < k; kx++) {
                    wg4x1(x, xk + kx, xSample, dy, d, dySample, outputs, n, len, body, dw, wb + kx, dwStride);
                }
            }
        }
    }

    /**
     * The 16-register tiles (AVX2 and narrower) for 2 or 3 output channels: every row's tap triples as a 3 x 3
     * tile, its single taps (the 7x7 heads' last column) as the 4 x 1 tile with the missing channels dropped.
     */
    private static void narrowTiles(float[] x, int xOff, int xSample, float[] dy, int d, int dySample, int outputs,
                                    int n, int k, int wp, int len, int body, float[] dw, int wo, int dwStride) {
        for (int ky = 0; ky < k; ky++) {
            int xk = xOff + ky * wp, wb = wo + ky * k;
            int kx = 0;
            for (; kx + 2 < k; kx += 3) {
                wg3x3(x, xk + kx, xSample, dy, d, dySample, outputs, n, len, body, dw, wb + kx, dwStride);
            }
            for (; kx < k; kx++) {
                wg4x1(x, xk + kx, xSample, dy, d, dySample, outputs, n, len, body, dw, wb + kx, dwStride);
            }
        }
    }

    /**
     * The stride of {@link #wg3x3}'s position loop, read from an array so that C2 cannot see it as a constant:
     * a loop with a constant stride is a counted loop, which C2 unrolls 4 times and then, with the loads of four
     * iterations hoisted, spills accumulators to the stack on 16 registers (measured on Zen 3, JDK 25: the 4 x 3
     * tile's loop had 40 stack loads and stores per 48 FMAs, and ran at about 40% of the FMA peak). Array
     * elements are never constant-folded; the price is a bounds check per load.
     */
    private static final int[] NARROW_STRIDE = {VL};

    /**
     * 3 output channels x the taps {@code (0, 0..2)} (row, column): 9 accumulators + 3 input vectors + 1 gradient
     * vector = 13 of AVX2's 16 registers, which leaves C2 room for the loop's addresses (a 4 x 3 tile needs all 16
     * and spills). Only the first {@code outputs} (2 or 3) channels are real; see {@link #wg4x6}.
     */
    private static void wg3x3(float[] x, int xb, int xSample, float[] dy, int db, int dySample, int outputs, int n,
                              int len, int body, float[] dw, int wb, int dwStride) {
        int e1 = Math.min(1, outputs - 1) * len, e2 = (outputs - 1) * len;
        int[] stride = NARROW_STRIDE;
        FloatVector a00 = FloatVector.zero(SPECIES), a01 = a00, a02 = a00, a10 = a00, a11 = a00, a12 = a00;
        FloatVector a20 = a00, a21 = a00, a22 = a00;
        for (int s = 0; s < n; s++) {
            int xs = xb + s * xSample, d0 = db + s * dySample, d1 = d0 + e1, d2 = d0 + e2;
            for (int p = 0; p < body; p += stride[0]) {
                FloatVector x0 = FloatVector.fromArray(SPECIES, x, xs + p);
                FloatVector x1 = FloatVector.fromArray(SPECIES, x, xs + p + 1);
                FloatVector x2 = FloatVector.fromArray(SPECIES, x, xs + p + 2);
                FloatVector g = FloatVector.fromArray(SPECIES, dy, d0 + p);
                a00 = g.fma(x0, a00);
                a01 = g.fma(x1, a01);
                a02 = g.fma(x2, a02);
                g = FloatVector.fromArray(SPECIES, dy, d1 + p);
                a10 = g.fma(x0, a10);
                a11 = g.fma(x1, a11);
                a12 = g.fma(x2, a12);
                g = FloatVector.fromArray(SPECIES, dy, d2 + p);
                a20 = g.fma(x0, a20);
                a21 = g.fma(x1, a21);
                a22 = g.fma(x2, a22);
            }
        }
        float[] acc = new float[9 * VL];
        a00.intoArray(acc, 0);
        a01.intoArray(acc, VL);
        a02.intoArray(acc, 2 * VL);
        a10.intoArray(acc, 3 * VL);
        a11.intoArray(acc, 4 * VL);
        a12.intoArray(acc, 5 * VL);
        a20.intoArray(acc, 6 * VL);
        a21.intoArray(acc, 7 * VL);
        a22.intoArray(acc, 8 * VL);
        flush(acc, outputs, 3, x, xb, xSample, 0, 1, dy, db, dySample, n, len, body, dw, wb, dwStride, 0, 1);
    }

    /** All {@code k * k} taps of one output channel, with the one-channel kernels. */
    private static void oneChannel(float[] x, int xOff, int xSample, float[] dy, int d, int dySample, int n, int k,
                                   int wp, int len, int body, float[] dw, int wo, int dwStride) {
        for (int ky = 0; ky < k; ky++) {
            int xk = xOff + ky * wp, wb = wo + ky * k;
            int kx = 0;
            for (; kx + 2 < k; kx += 3) {
                wg1x3(x, xk + kx, xSample, dy, d, dySample, n, len, body, dw, wb + kx);
            }
            for (; kx < k; kx++) {
                wg1x1(x, xk + kx, xSample, dy, d, dySample, n, len, body, dw, wb + kx);
            }
        }
    }

    /**
     * Whether {@link #convWeightGradient} uses the 4 x 6 register tile: 512-bit vectors are only preferred
     * where the CPU has AVX-512's 32 vector registers; narrower vectors may mean AVX2's 16, where 29 live
     * vectors would spill.
     */
    private static final boolean WIDE_TILE = VL >= 16;

    /**
     * 4 output channels x 6 taps {@code (r, c)}, {@code r < 2, c < 3}, at input offset {@code r * rs + c * cs}
     * from {@code xb} and weight offset {@code r * wrs + c * wcs} from {@code wb} (two rows of three taps:
     * {@code rs = wp, cs = 1}; six rows of one column: {@code rs = 3 wp, cs = wp}), over {@code [0, body)} of
     * every sample; the accumulators go lane by lane into a local array for {@link #flush}. Only the first
     * {@code outputs} (1-4) channels are real: the streams past the last one read it again, and their sums are
     * dropped.
     * Two measured traps (Zen 5, C2 of JDK 25): reducing the 24 vectors inline pushes C2 past its node
     * budget and leaves them boxed (4x slower), and an accumulator array passed in by the caller instead of
     * allocated here made this loop about 1.5x slower.
     */
    private static void wg4x6(float[] x, int xb, int xSample, int rs, int cs, float[] dy, int db, int dySample,
                              int outputs, int n, int len, int body, float[] dw, int wb, int dwStride, int wrs, int wcs) {
        int e1 = Math.min(1, outputs - 1) * len, e2 = Math.min(2, outputs - 1) * len, e3 = (outputs - 1) * len;
        FloatVector a00 = FloatVector.zero(SPECIES), a01 = a00, a02 = a00, a03 = a00, a04 = a00, a05 = a00;
        FloatVector a10 = a00, a11 = a00, a12 = a00, a13 = a00, a14 = a00, a15 = a00;
        FloatVector a20 = a00, a21 = a00, a22 = a00, a23 = a00, a24 = a00, a25 = a00;
        FloatVector a30 = a00, a31 = a00, a32 = a00, a33 = a00, a34 = a00, a35 = a00;
        for (int s = 0; s < n; s++) {
            int xs = xb + s * xSample, xs1 = xs + cs, xs2 = xs1 + cs, xt = xs + rs, xt1 = xt + cs, xt2 = xt1 + cs;
            int d0 = db + s * dySample, d1 = d0 + e1, d2 = d0 + e2, d3 = d0 + e3;
            for (int p = 0; p < body; p += VL) {
                FloatVector g0 = FloatVector.fromArray(SPECIES, dy, d0 + p);
                FloatVector g1 = FloatVector.fromArray(SPECIES, dy, d1 + p);
                FloatVector g2 = FloatVector.fromArray(SPECIES, dy, d2 + p);
                FloatVector g3 = FloatVector.fromArray(SPECIES, dy, d3 + p);
                FloatVector v = FloatVector.fromArray(SPECIES, x, xs + p);
                a00 = g0.fma(v, a00);
                a10 = g1.fma(v, a10);
                a20 = g2.fma(v, a20);
                a30 = g3.fma(v, a30);
                v = FloatVector.fromArray(SPECIES, x, xs1 + p);
                a01 = g0.fma(v, a01);
                a11 = g1.fma(v, a11);
                a21 = g2.fma(v, a21);
                a31 = g3.fma(v, a31);
                v = FloatVector.fromArray(SPECIES, x, xs2 + p);
                a02 = g0.fma(v, a02);
                a12 = g1.fma(v, a12);
                a22 = g2.fma(v, a22);
                a32 = g3.fma(v, a32);
                v = FloatVector.fromArray(SPECIES, x, xt + p);
                a03 = g0.fma(v, a03);
                a13 = g1.fma(v, a13);
                a23 = g2.fma(v, a23);
                a33 = g3.fma(v, a33);
                v = FloatVector.fromArray(SPECIES, x, xt1 + p);
                a04 = g0.fma(v, a04);
                a14 = g1.fma(v, a14);
                a24 = g2.fma(v, a24);
                a34 = g3.fma(v, a34);
                v = FloatVector.fromArray(SPECIES, x, xt2 + p);
                a05 = g0.fma(v, a05);
                a15 = g1.fma(v, a15);
                a25 = g2.fma(v, a25);
                a35 = g3.fma(v, a35);
            }
        }
        float[] acc = new float[24 * VL];
        a00.intoArray(acc, 0);
        a01.intoArray(acc, VL);
        a02.intoArray(acc, 2 * VL);
        a03.intoArray(acc, 3 * VL);
        a04.intoArray(acc, 4 * VL);
        a05.intoArray(acc, 5 * VL);
        a10.intoArray(acc, 6 * VL);
        a11.intoArray(acc, 7 * VL);
        a12.intoArray(acc, 8 * VL);
        a13.intoArray(acc, 9 * VL);
        a14.intoArray(acc, 10 * VL);
        a15.intoArray(acc, 11 * VL);
        a20.intoArray(acc, 12 * VL);
        a21.intoArray(acc, 13 * VL);
        a22.intoArray(acc, 14 * VL);
        a23.intoArray(acc, 15 * VL);
        a24.intoArray(acc, 16 * VL);
        a25.intoArray(acc, 17 * VL);
        a30.intoArray(acc, 18 * VL);
        a31.intoArray(acc, 19 * VL);
        a32.intoArray(acc, 20 * VL);
        a33.intoArray(acc, 21 * VL);
        a34.intoArray(acc, 22 * VL);
        a35.intoArray(acc, 23 * VL);
        flush(acc, outputs, 6, x, xb, xSample, rs, cs, dy, db, dySample, n, len, body, dw, wb, dwStride, wrs, wcs);
    }

    /** As {@link #wg4x6} for the taps {@code (0, 0..2)} (row, column) only. */
    private static void wg4x3(float[] x, int xb, int xSample, float[] dy, int db, int dySample, int outputs, int n,
                              int len, int body, float[] dw, int wb, int dwStride) {
        int e1 = Math.min(1, outputs - 1) * len, e2 = Math.min(2, outputs - 1) * len, e3 = (outputs - 1) * len;
        FloatVector a00 = FloatVector.zero(SPECIES), a01 = a00, a02 = a00, a10 = a00, a11 = a00, a12 = a00;
        FloatVector a20 = a00, a21 = a00, a22 = a00, a30 = a00, a31 = a00, a32 = a00;
        for (int s = 0; s < n; s++) {
            int xs = xb + s * xSample, d0 = db + s * dySample, d1 = d0 + e1, d2 = d0 + e2, d3 = d0 + e3;
            for (int p = 0; p < body; p += VL) {
                FloatVector x0 = FloatVector.fromArray(SPECIES, x, xs + p);
                FloatVector x1 = FloatVector.fromArray(SPECIES, x, xs + p + 1);
                FloatVector x2 = FloatVector.fromArray(SPECIES, x, xs + p + 2);
                FloatVector g = FloatVector.fromArray(SPECIES, dy, d0 + p);
                a00 = g.fma(x0, a00);
                a01 = g.fma(x1, a01);
                a02 = g.fma(x2, a02);
                g = FloatVector.fromArray(SPECIES, dy, d1 + p);
                a10 = g.fma(x0, a10);
                a11 = g.fma(x1, a11);
                a12 = g.fma(x2, a12);
                g = FloatVector.fromArray(SPECIES, dy, d2 + p);
                a20 = g.fma(x0, a20);
                a21 = g.fma(x1, a21);
                a22 = g.fma(x2, a22);
                g = FloatVector.fromArray(SPECIES, dy, d3 + p);
                a30 = g.fma(x0, a30);
                a31 = g.fma(x1, a31);
                a32 = g.fma(x2, a32);
            }
        }
        float[] acc = new float[12 * VL];
        a00.intoArray(acc, 0);
        a01.intoArray(acc, VL);
        a02.intoArray(acc, 2 * VL);
        a10.intoArray(acc, 3 * VL);
        a11.intoArray(acc, 4 * VL);
        a12.intoArray(acc, 5 * VL);
        a20.intoArray(acc, 6 * VL);
        a21.intoArray(acc, 7 * VL);
        a22.intoArray(acc, 8 * VL);
        a30.intoArray(acc, 9 * VL);
        a31.intoArray(acc, 10 * VL);
        a32.intoArray(acc, 11 * VL);
        flush(acc, outputs, 3, x, xb, xSample, 0, 1, dy, db, dySample, n, len, body, dw, wb, dwStride, 0, 1);
    }

    /** As {@link #wg4x6} for one output channel and the taps {@code (0, 0..2)}. */
    private static void wg1x3(float[] x, int xb, int xSample, float[] dy, int db, int dySample, int n, int len, int body,
                              float[] dw, int wb) {
        FloatVector a0 = FloatVector.zero(SPECIES), a1 = a0, a2 = a0, b0 = a0, b1 = a0, b2 = a0;
        for (int s = 0; s < n; s++) {
            int xs = xb + s * xSample, d = db + s * dySample;
            int p = 0;
            // Two independent chains per tap hide the FMA latency, which 3 accumulators alone would not.
            for (; p + VL < body; p += 2 * VL) {
                FloatVector g = FloatVector.fromArray(SPECIES, dy, d + p);
                a0 = g.fma(FloatVector.fromArray(SPECIES, x, xs + p), a0);
                a1 = g.fma(FloatVector.fromArray(SPECIES, x, xs + p + 1), a1);
                a2 = g.fma(FloatVector.fromArray(SPECIES, x, xs + p + 2), a2);
                g = FloatVector.fromArray(SPECIES, dy, d + p + VL);
                b0 = g.fma(FloatVector.fromArray(SPECIES, x, xs + p + VL), b0);
                b1 = g.fma(FloatVector.fromArray(SPECIES, x, xs + p + VL + 1), b1);
                b2 = g.fma(FloatVector.fromArray(SPECIES, x, xs + p + VL + 2), b2);
            }
            for (; p < body; p += VL) {
                FloatVector g = FloatVector.fromArray(SPECIES, dy, d + p);
                a0 = g.fma(FloatVector.fromArray(SPECIES, x, xs + p), a0);
                a1 = g.fma(FloatVector.fromArray(SPECIES, x, xs + p + 1), a1);
                a2 = g.fma(FloatVector.fromArray(SPECIES, x, xs + p + 2), a2);
            }
        }
        float[] acc = new float[3 * VL];
        a0.add(b0).intoArray(acc, 0);
        a1.add(b1).intoArray(acc, VL);
        a2.add(b2).intoArray(acc, 2 * VL);
        flush(acc, 1, 3, x, xb, xSample, 0, 1, dy, db, dySample, n, len, body, dw, wb, 0, 0, 1);
    }

    /**
     * As {@link #wg4x6} for one tap (a 7x7 kernel's corner): the four channels' gradients against one input stream,
     * where one-channel tiles read that stream four times. Two vectors of positions per iteration, so that 8
     * chains hide the FMA latency.
     */
    private static void wg4x1(float[] x, int xb, int xSample, float[] dy, int db, int dySample, int outputs, int n,
                              int len, int body, float[] dw, int wb, int dwStride) {
        int e1 = Math.min(1, outputs - 1) * len, e2 = Math.min(2, outputs - 1) * len, e3 = (outputs - 1) * len;
        FloatVector a0 = FloatVector.zero(SPECIES), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
        for (int s = 0; s < n; s++) {
            int xs = xb + s * xSample, d0 = db + s * dySample, d1 = d0 + e1, d2 = d0 + e2, d3 = d0 + e3;
            int p = 0;
            for (; p + VL < body; p += 2 * VL) {
                FloatVector v = FloatVector.fromArray(SPECIES, x, xs + p);
                FloatVector w = FloatVector.fromArray(SPECIES, x, xs + p + VL);
                a0 = FloatVector.fromArray(SPECIES, dy, d0 + p).fma(v, a0);
                b0 = FloatVector.fromArray(SPECIES, dy, d0 + p + VL).fma(w, b0);
                a1 = FloatVector.fromArray(SPECIES, dy, d1 + p).fma(v, a1);
                b1 = FloatVector.fromArray(SPECIES, dy, d1 + p + VL).fma(w, b1);
                a2 = FloatVector.fromArray(SPECIES, dy, d2 + p).fma(v, a2);
                b2 = FloatVector.fromArray(SPECIES, dy, d2 + p + VL).fma(w, b2);
                a3 = FloatVector.fromArray(SPECIES, dy, d3 + p).fma(v, a3);
                b3 = FloatVector.fromArray(SPECIES, dy, d3 + p + VL).fma(w, b3);
            }
            for (; p < body; p += VL) {
                FloatVector v = FloatVector.fromArray(SPECIES, x, xs + p);
                a0 = FloatVector.fromArray(SPECIES, dy, d0 + p).fma(v, a0);
                a1 = FloatVector.fromArray(SPECIES, dy, d1 + p).fma(v, a1);
                a2 = FloatVector.fromArray(SPECIES, dy, d2 + p).fma(v, a2);
                a3 = FloatVector.fromArray(SPECIES, dy, d3 + p).fma(v, a3);
            }
        }
        float[] acc = new float[4 * VL];
        a0.add(b0).intoArray(acc, 0);
        a1.add(b1).intoArray(acc, VL);
        a2.add(b2).intoArray(acc, 2 * VL);
        a3.add(b3).intoArray(acc, 3 * VL);
        flush(acc, outputs, 1, x, xb, xSample, 0, 1, dy, db, dySample, n, len, body, dw, wb, dwStride, 0, 1);
    }

    /** As {@link #wg4x6} for one output channel and one tap. */
    private static void wg1x1(float[] x, int xb, int xSample, float[] dy, int db, int dySample, int n, int len, int body,
                              float[] dw, int wb) {
        FloatVector a0 = FloatVector.zero(SPECIES), a1 = a0;
        for (int s = 0; s < n; s++) {
            int xs = xb + s * xSample, d = db + s * dySample;
            int p = 0;
            for (; p + VL < body; p += 2 * VL) {
                a0 = FloatVector.fromArray(SPECIES, dy, d + p).fma(FloatVector.fromArray(SPECIES, x, xs + p), a0);
                a1 = FloatVector.fromArray(SPECIES, dy, d + p + VL).fma(FloatVector.fromArray(SPECIES, x, xs + p + VL), a1);
            }
            for (; p < body; p += VL) {
                a0 = FloatVector.fromArray(SPECIES, dy, d + p).fma(FloatVector.fromArray(SPECIES, x, xs + p), a0);
            }
        }
        float[] acc = new float[1 * VL];
        a0.add(a1).intoArray(acc, 0);
        flush(acc, 1, 1, x, xb, xSample, 0, 1, dy, db, dySample, n, len, body, dw, wb, 0, 0, 1);
    }

    /**
     * Adds a tile's accumulators to {@code dw}: accumulator {@code (q, t)} of {@code acc} ({@code [q * taps + t][VL]})
     * belongs to output channel {@code q} and tap {@code (r, c) = (t / 3, t % 3)}, at input offset {@code r * rs
     * + c * cs} from {@code xb} and weight offset {@code r * wrs + c * wcs} from {@code wb}, and gets the positions
     * {@code [body, len)} added. Lanes are summed in lane order in double: {@code
     * reduceLanes(ADD)} on floats sums in an unspecified order that differs between the interpreter and C2
     * (measured: lane order interpreted, another order compiled), so training steps taken before and after
     * the JIT compiled a kernel were not reproducible.
     */
    private static void flush(float[] acc, int outputs, int taps, float[] x, int xb, int xSample, int rs, int cs,
                              float[] dy, int db, int dySample, int n, int len, int body, float[] dw, int wb, int dwStride,
                              int wrs, int wcs) {
        // Lane-major, so the accumulators' sums are independent chains (each one's additions still in lane
        // order). On short-loop planes this is still about 6% of a training step's samples (JFR, Zen 5); a
        // pairwise float tree instead was no faster.
        int m = outputs * taps;
        double[] sums = new double[m];
        for (int l = 0; l < VL; l++) {
            for (int a = 0; a < m; a++) {
                sums[a] += acc[a * VL + l];
            }
        }
        for (int q = 0; q < outputs; q++) {
            for (int t = 0; t < taps; t++) {
                int r = t / 3, c = t % 3;
                dw[wb + q * dwStride + r * wrs + c * wcs] += (float) sums[q * taps + t]
                        + tail(x, xb + r * rs + c * cs, xSample, dy, db + q * len, dySample, n, len, body);
            }
        }
    }

    /** The positions {@code [body, len)} of one (output channel, tap) pair, over the batch. */
    private static float tail(float[] x, int xb, int xSample, float[] dy, int db, int dySample, int n, int len, int body) {
        float acc = 0f;
        for (int s = 0; s < n; s++) {
            int xs = xb + s * xSample, d = db + s * dySample;
            for (int p = body; p < len; p++) {
                acc += dy[d + p] * x[xs + p];
            }
        }
        return acc;
    }
}
