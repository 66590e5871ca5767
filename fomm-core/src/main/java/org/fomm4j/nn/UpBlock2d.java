package org.fomm4j.nn;

import org.fomm4j.kernels.ConvSpec;
import org.fomm4j.kernels.Kernels;
import org.fomm4j.tensor.Tensor;
import org.fomm4j.weights.WeightReader;

/**
 * {@code UpBlock2d}: nearest x2 upsampling, 3x3 conv, norm, ReLU. {@code [N,in,H,W] -> [N,out,2H,2W]}. The
 * upsampling is fused into the convolution's input packing where the convolution supports it.
 */
public final class UpBlock2d {
    private final ConvNorm conv;

    public UpBlock2d(Kernels k, WeightReader r, int in, int out, Norm norm) {
        this.conv = new ConvNorm(k, r.sub("conv"), r.sub("norm"), ConvSpec.of(in, out, 3, 1), norm);
    }

    public Tensor forward(Tensor x) {
        return conv.forwardUpsampled2x(x, true);
    }
}
