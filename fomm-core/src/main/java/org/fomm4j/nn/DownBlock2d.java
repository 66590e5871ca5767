package org.fomm4j.nn;

import org.fomm4j.kernels.Activation;
import org.fomm4j.kernels.Conv2d;
import org.fomm4j.kernels.ConvSpec;
import org.fomm4j.kernels.Kernels;
import org.fomm4j.tensor.Tensor;
import org.fomm4j.weights.WeightReader;

/** {@code DownBlock2d}: 3x3 conv, BatchNorm (folded), ReLU, 2x2 average pooling. {@code [N,in,H,W] -> [N,out,H/2,W/2]}. */
public final class DownBlock2d {
    private final Kernels k;
    private final Conv2d conv;

    public DownBlock2d(Kernels k, WeightReader r, int in, int out) {
        this.k = k;
        this.conv = Layers.convBn(k, r.sub("conv"), r.sub("norm"), ConvSpec.of(in, out, 3, 1));
    }

    public Tensor forward(Tensor x) {
        return k.avgPool2x2(conv.apply(x, Activation.RELU));
    }
}
