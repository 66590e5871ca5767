package org.fomm4j.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;
import org.fomm4j.tensor.Tensor;

/**
 * {@link Kernels} on the JDK Vector API. Overrides the kernels that carry the work (convolution and
 * the element-wise passes over feature maps); index-heavy ones (grid_sample, resizing) stay the
 * scalar reference's. Loaded only through {@link KernelProvider}, so that a JVM without
 * {@code jdk.incubator.vector} never touches this class.
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
        if (spec.kernelH() == 3 && spec.kernelW() == 3 && spec.stride() == 1) {
            return new Conv3x3(spec, weight, bias);
        }
        return new PanamaConv2d(spec, weight, bias);
    }

    @Override
    public Tensor relu(Tensor x) {
        float[] in = x.toHeap().data();
        float[] out = new float[in.length];
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
        float[] out = new float[in.length];
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
        float[] out = new float[x.length];
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
        float[] out = new float[in.length];
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
}
