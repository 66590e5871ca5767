package org.fomm4j.nn;

import org.fomm4j.kernels.ConvSpec;
import org.fomm4j.kernels.Kernels;
import org.fomm4j.tensor.Tensor;
import org.fomm4j.weights.WeightReader;

/** {@code DownBlock2d}: 3x3 conv, norm, ReLU, 2x2 average pooling. {@code [N,in,H,W] -> [N,out,H/2,W/2]}. */
public final class DownBlock2d {
    private final Kernels k;
    private final ConvNorm conv;

    public DownBlock2d(Kernels k, WeightReader r, int in, int out, Norm norm) {
        this.k = k;
        this.conv = new ConvNorm(k, r.sub("conv"), r.sub("norm"), ConvSpec.of(in, out, 3, 1), norm);
    }

    public Tensor forward(Tensor x) {
        return k.avgPool2x2(conv.forward(x, true));
    }
}
