package org.fomm4j.kernels;

import org.fomm4j.tensor.Tensor;

/**
 * A 3x3 stride-1 convolution that picks, per input size, between Winograd F(4x4, 3x3)
 * ({@link WinogradConv2d}) and the direct/im2col GEMM ({@link PanamaConv2d}). Each is built (weights
 * transformed and packed) on first use, so a layer only ever run at one size holds one packing.
 *
 * <p>The rule ({@link #useWinograd}) comes from timing both on every 3x3 layer shape of the vox-256
 * FOMM and TPSMM models ({@code ConvShapeBenchmark} in fomm-bench). {@code -Dfomm4j.winograd=never}
 * or {@code always} overrides it (for comparing, and to run parity tests through either path).
 */
final class Conv3x3 implements Conv2d {
    private static final String MODE = System.getProperty("fomm4j.winograd", "auto");

    private final ConvSpec spec;
    private final float[] weight;
    private final float[] bias;
    private volatile Conv2d gemm;
    private volatile Conv2d winograd;

    Conv3x3(ConvSpec spec, float[] weight, float[] bias) {
        this.spec = spec;
        this.weight = weight.clone();
        this.bias = bias == null ? null : bias.clone();
    }

    /** Whether Winograd is used for this layer at output size {@code oh x ow}. */
    static boolean useWinograd(ConvSpec spec, int oh, int ow) {
        return switch (MODE) {
            case "never" -> false;
            case "always" -> true;
            default -> {
                long tiles = (long) ((oh + 3) / 4) * ((ow + 3) / 4);
                // Below these sizes the transforms and the padding of a tile block to NR tiles cost more
                // than the 4x fewer multiply-adds save.
                yield tiles >= 16 && spec.inChannels() >= 16 && spec.outChannels() >= 8;
            }
        };
    }

    @Override
    public ConvSpec spec() {
        return spec;
    }

    @Override
    public Tensor apply(Tensor input, Activation activation) {
        int[] s = ScalarKernels.checkConvInput(spec, input);
        return pick(spec.outH(s[2]), spec.outW(s[3])).apply(input, activation);
    }

    private Conv2d pick(int oh, int ow) {
        if (useWinograd(spec, oh, ow)) {
            Conv2d c = winograd;
            if (c == null) {
                synchronized (this) {
                    if (winograd == null) {
                        winograd = new WinogradConv2d(spec, weight, bias);
                    }
                    c = winograd;
                }
            }
            return c;
        }
        Conv2d c = gemm;
        if (c == null) {
            synchronized (this) {
                if (gemm == null) {
                    gemm = new PanamaConv2d(spec, weight, bias);
                }
                c = gemm;
            }
        }
        return c;
    }
}
