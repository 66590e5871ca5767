package org.fomm4j.nn;

import org.fomm4j.kernels.ConvSpec;
import org.fomm4j.kernels.Kernels;
import org.fomm4j.tensor.Tensor;
import org.fomm4j.weights.WeightReader;

/** {@code SameBlock2d}: conv, norm, ReLU; keeps the resolution. Tensors {@code conv.*}, {@code norm.*}. */
public final class SameBlock2d {
    private final ConvNorm conv;

    public SameBlock2d(Kernels k, WeightReader r, int in, int out, int kernel, int pad, Norm norm) {
        this.conv = new ConvNorm(k, r.sub("conv"), r.sub("norm"), ConvSpec.of(in, out, kernel, pad), norm);
    }

    /** {@code [N, in, H, W] -> [N, out, H, W]}. */
    public Tensor forward(Tensor x) {
        return conv.forward(x, true);
    }
}
