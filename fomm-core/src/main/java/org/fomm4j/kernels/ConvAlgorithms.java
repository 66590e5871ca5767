package org.fomm4j.kernels;

import java.util.List;

/**
 * The Vector API convolution algorithms one by one, for benchmarks that time them per layer shape
 * (the rule that picks among them is {@code AdaptiveConv2d.choose}).
 */
public final class ConvAlgorithms {
    private ConvAlgorithms() {
    }

    /**
     * Names accepted by {@link #build}: {@code winograd}, {@code winograd7} (F(2x2,7x7)), {@code pixels} (stride 1 read in place),
     * {@code pixels-packed} (im2col panels at stride 1 too, the default before 2026-12-04), {@code channels}, {@code narrow}.
     */
    public static List<String> names() {
        return List.of("winograd", "winograd7", "pixels", "pixels-packed", "channels", "narrow");
    }

    /** Whether {@code algorithm} can run {@code spec} ({@code winograd}: 3x3, stride 1, one group). */
    public static boolean supports(String algorithm, ConvSpec spec) {
        if (spec.groups() != 1) {
            return false;
        }
        return switch (algorithm) {
            case "winograd" -> spec.kernelH() == 3 && spec.kernelW() == 3 && spec.stride() == 1;
            case "winograd7" -> Winograd7Conv2d.supports(spec);
            case "narrow" -> spec.outChannels() <= NarrowConv2d.MAX_OUT && spec.stride() == 1;
            default -> true;
        };
    }

    /** The algorithm the adaptive convolution picks for {@code spec} at output size {@code oh x ow}. */
    public static String chosen(ConvSpec spec, int oh, int ow) {
        return AdaptiveConv2d.choose(spec, oh, ow).name().toLowerCase(java.util.Locale.ROOT);
    }

    /**
     * Builds one algorithm.
     *
     * @throws IllegalArgumentException if the name is unknown or the algorithm cannot run {@code spec}
     * @throws UnsupportedOperationException if the Vector API is not enabled
     */
    public static Conv2d build(String algorithm, ConvSpec spec, float[] weight, float[] bias) {
        KernelProvider.panama();
        if (!supports(algorithm, spec)) {
            throw new IllegalArgumentException(algorithm + " cannot run " + spec);
        }
        return switch (algorithm) {
            case "winograd" -> new WinogradConv2d(spec, weight, bias);
            case "winograd7" -> new Winograd7Conv2d(spec, weight, bias);
            case "pixels" -> new PanamaConv2d(spec, weight, bias, false);
            case "pixels-packed" -> new PanamaConv2d(spec, weight, bias, true);
            case "channels" -> new ChannelVectorConv2d(spec, weight, bias);
            case "narrow" -> new NarrowConv2d(spec, weight, bias);
            default -> throw new IllegalArgumentException("unknown convolution algorithm " + algorithm
                    + " (known: " + names() + ")");
        };
    }
}
