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
    public void gemmNT(float[] a, int aOff, float[] b, int bOff, float[] c, int cOff, int ldc, int m, int n, int len) {
        int body = SPECIES.loopBound(len);
        int i = 0;
        for (; i + 1 < m; i += 2) {
            int a0 = aOff + i * len, a1 = a0 + len;
            int j = 0;
            for (; j + 3 < n; j += 4) {
                int b0 = bOff + j * len, b1 = b0 + len, b2 = b1 + len, b3 = b2 + len;
                FloatVector s00 = FloatVector.zero(SPECIES), s01 = s00, s02 = s00, s03 = s00;
                FloatVector s10 = s00, s11 = s00, s12 = s00, s13 = s00;
                for (int p = 0; p < body; p += VL) {
                    FloatVector x0 = FloatVector.fromArray(SPECIES, a, a0 + p);
                    FloatVector x1 = FloatVector.fromArray(SPECIES, a, a1 + p);
                    FloatVector y = FloatVector.fromArray(SPECIES, b, b0 + p);
                    s00 = x0.fma(y, s00);
                    s10 = x1.fma(y, s10);
                    y = FloatVector.fromArray(SPECIES, b, b1 + p);
                    s01 = x0.fma(y, s01);
                    s11 = x1.fma(y, s11);
                    y = FloatVector.fromArray(SPECIES, b, b2 + p);
                    s02 = x0.fma(y, s02);
                    s12 = x1.fma(y, s12);
                    y = FloatVector.fromArray(SPECIES, b, b3 + p);
                    s03 = x0.fma(y, s03);
                    s13 = x1.fma(y, s13);
                }
                float[] t = {s00.reduceLanes(VectorOperators.ADD), s01.reduceLanes(VectorOperators.ADD),
                        s02.reduceLanes(VectorOperators.ADD), s03.reduceLanes(VectorOperators.ADD),
                        s10.reduceLanes(VectorOperators.ADD), s11.reduceLanes(VectorOperators.ADD),
                        s12.reduceLanes(VectorOperators.ADD), s13.reduceLanes(VectorOperators.ADD)};
                for (int p = body; p < len; p++) {
                    float x0 = a[a0 + p], x1 = a[a1 + p];
                    float y0 = b[b0 + p], y1 = b[b1 + p], y2 = b[b2 + p], y3 = b[b3 + p];
                    t[0] += x0 * y0;
                    t[1] += x0 * y1;
                    t[2] += x0 * y2;
                    t[3] += x0 * y3;
                    t[4] += x1 * y0;
                    t[5] += x1 * y1;
                    t[6] += x1 * y2;
                    t[7] += x1 * y3;
                }
                int c0 = cOff + i * ldc + j, c1 = c0 + ldc;
                for (int q = 0; q < 4; q++) {
                    c[c0 + q] += t[q];
                    c[c1 + q] += t[4 + q];
                }
            }
            if (j < n) {
                dotRows(a, a0, b, bOff + j * len, c, cOff + i * ldc + j, n - j, len);
                dotRows(a, a1, b, bOff + j * len, c, cOff + (i + 1) * ldc + j, n - j, len);
            }
        }
        if (i < m) {
            dotRows(a, aOff + i * len, b, bOff, c, cOff + i * ldc, n, len);
        }
    }

    private static void dotRows(float[] a, int ai, float[] b, int bOff, float[] c, int ci, int n, int len) {
        int body = SPECIES.loopBound(len);
        for (int j = 0; j < n; j++) {
            int bj = bOff + j * len;
            FloatVector s = FloatVector.zero(SPECIES);
            for (int p = 0; p < body; p += VL) {
                s = FloatVector.fromArray(SPECIES, a, ai + p).fma(FloatVector.fromArray(SPECIES, b, bj + p), s);
            }
            float t = s.reduceLanes(VectorOperators.ADD);
            for (int p = body; p < len; p++) {
                t += a[ai + p] * b[bj + p];
            }
            c[ci + j] += t;
        }
    }
}
