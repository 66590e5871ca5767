package org.fomm4j.kernels;

import org.fomm4j.tensor.Tensor;

/**
 * A single-group convolution that picks its algorithm per input size, the way ncnn and oneDNN pick per
 * layer shape:
 * <ul>
 *   <li>{@link Algorithm#WINOGRAD} ({@link WinogradConv2d}, F(4x4, 3x3)) for 3x3 stride-1 layers with
 *       enough tiles and channels: 4x fewer multiply-adds;</li>
 *   <li>{@link Algorithm#CHANNELS} ({@link ChannelVectorConv2d}) for small images, where output channels
 *       fill the vectors better than pixels;</li>
 *   <li>{@link Algorithm#NARROW} ({@link NarrowConv2d}) for stride-1 layers with 1-3 output channels
 *       on AVX-512;</li>
 *   <li>{@link Algorithm#PIXELS} ({@link PanamaConv2d}) otherwise.</li>
 * </ul>
 * Each is built (weights transformed and packed) on first use, so a layer only ever run at one size
 * holds one packing. The rule ({@link #choose}) comes from timing all three on every layer shape of the
 * vox-256 FOMM and TPSMM models ({@code ConvShapeBenchmark} in fomm-bench).
 *
 * <p>Overrides, for comparing and for running the parity tests through one path:
 * {@code -Dfomm4j.winograd=never|always} (always: every 3x3 stride-1 layer) and
 * {@code -Dfomm4j.conv=pixels|channels|narrow} (every layer not taken by Winograd; narrow where it applies).
 */
final class AdaptiveConv2d implements Conv2d {
    /** The convolution algorithms. */
    enum Algorithm { WINOGRAD, WINOGRAD7, PIXELS, CHANNELS, NARROW }

    static final String WINOGRAD_MODE = System.getProperty("fomm4j.winograd", "auto");
    private static final String CONV_MODE = System.getProperty("fomm4j.conv", "auto");

    private final ConvSpec spec;
    private final float[] weight;
    private final float[] bias;
    private final Conv2d[] built = new Conv2d[Algorithm.values().length];

    AdaptiveConv2d(ConvSpec spec, float[] weight, float[] bias) {
        if (spec.groups() != 1) {
            throw new IllegalArgumentException("adaptive convolution needs one group, got " + spec);
        }
        this.spec = spec;
        this.weight = weight.clone();
        this.bias = bias == null ? null : bias.clone();
    }

    /** The algorithm used for this layer at output size {@code oh x ow}. */
    static Algorithm choose(ConvSpec spec, int oh, int ow) {
        if (Winograd7Conv2d.supports(spec)) {
            switch (WINOGRAD_MODE) {
                case "always" -> {
                    return Algorithm.WINOGRAD7;
                }
                case "never" -> {
                }
                default -> {
                    // Measured on Zen 3 (AVX2, one thread, 64x64 outputs): 260 -> 62 (the dense motion network's mask
                    // and occlusion head at 60 keypoints) 97-117 ms against 180-222 direct; 64 -> 64 and 62 -> 260 about
                    // even; 19 -> 60 and 35 -> 64 slower (the input transform, per input channel, dominates). Batch 8,
                    // two threads: 82 -> 340 (the input gradient of the 80-keypoint mask head in training) 548-829 ms
                    // against 1,107-1,339 direct; 80 -> 19 slower (143 vs 80). Not measured on AVX-512, whose direct
                    // tile is wider: there it stays direct.
                    int cin = spec.inChannels(), cout = spec.outChannels();
                    if (!MicroKernel.WIDE && oh >= 16 && ow >= 16
                            && (cin >= 128 && cout >= 16 || cin >= 64 && cout >= 128)) {
                        return Algorithm.WINOGRAD7;
                    }
                }
            }
        }
        boolean winogradable = spec.kernelH() == 3 && spec.kernelW() == 3 && spec.stride() == 1;
        if (winogradable) {
            switch (WINOGRAD_MODE) {
                case "always" -> {
                    return Algorithm.WINOGRAD;
                }
                case "never" -> {
                }
                default -> {
                    long tiles = (long) ((oh + 3) / 4) * ((ow + 3) / 4);
                    // Measured on the vox-256 layers (AVX-512): from 16 tiles (a 16x16 output) Winograd beats
                    // both GEMMs on every shape, even with 3 input channels; below, the padding of the
                    // tiles to a block of NR costs more than the 4x fewer multiply-adds save.
                    if (tiles >= 16 && spec.outChannels() >= 8) {
                        return Algorithm.WINOGRAD;
                    }
                }
            }
        }
        switch (CONV_MODE) {
            case "pixels" -> {
                return Algorithm.PIXELS;
            }
            case "channels" -> {
                return Algorithm.CHANNELS;
            }
            case "narrow" -> {
                if (spec.outChannels() <= NarrowConv2d.MAX_OUT && spec.stride() == 1) {
                    return Algorithm.NARROW;
                }
                return Algorithm.PIXELS;
            }
            default -> {
                // Measured: with at most 16x16 outputs and 32+ output channels, channels in the lanes win
                // (1.4-4x at 4x4 and 8x8), and so do strided layers with 64+ output channels (their pixel
                // panels are gathers either way); large images with few output channels (the 7x7 heads)
                // need pixels.
                long pixels = (long) oh * ow;
                // 1-3 output channels (the 7x7 heads): their own 3 x 8-vector tile, where AVX-512 holds it.
                if (MicroKernel.WIDE && spec.outChannels() <= NarrowConv2d.MAX_OUT && spec.stride() == 1) {
                    return Algorithm.NARROW;
                }
                boolean channels = pixels <= 256 && spec.outChannels() >= 32
                        || spec.stride() > 1 && spec.outChannels() >= 64;
                return channels ? Algorithm.CHANNELS : Algorithm.PIXELS;
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
        return get(choose(spec, spec.outH(s[2]), spec.outW(s[3]))).apply(input, activation);
    }

    @Override
    public Tensor applyAdd(Tensor input, Activation activation, Tensor residual) {
        int[] s = ScalarKernels.checkConvInput(spec, input);
        return get(choose(spec, spec.outH(s[2]), spec.outW(s[3]))).applyAdd(input, activation, residual);
    }

    @Override
    public Tensor applyUpsampled2x(Tensor input, Activation activation) {
        int[] s = ScalarKernels.checkConvInput(spec, input);
        Algorithm a = choose(spec, spec.outH(2 * s[2]), spec.outW(2 * s[3]));
        if (a == Algorithm.WINOGRAD) {
            return get(a).applyUpsampled2x(input, activation);
        }
        return get(a).apply(PanamaMaps.upsampleNearest2x(input), activation);
    }

    /** The implementation of {@code a} for this layer, built on first use. */
    Conv2d get(Algorithm a) {
        synchronized (built) {
            Conv2d c = built[a.ordinal()];
            if (c == null) {
                c = switch (a) {
                    case WINOGRAD -> new WinogradConv2d(spec, weight, bias);
                    case WINOGRAD7 -> new Winograd7Conv2d(spec, weight, bias);
                    case PIXELS -> new PanamaConv2d(spec, weight, bias);
                    case CHANNELS -> new ChannelVectorConv2d(spec, weight, bias);
                    case NARROW -> new NarrowConv2d(spec, weight, bias);
                };
                built[a.ordinal()] = c;
            }
            return c;
        }
    }
}
