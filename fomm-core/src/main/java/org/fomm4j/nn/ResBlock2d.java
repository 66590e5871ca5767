package org.fomm4j.nn;

import org.fomm4j.kernels.Activation;
import org.fomm4j.kernels.Conv2d;
import org.fomm4j.kernels.ConvSpec;
import org.fomm4j.kernels.Kernels;
import org.fomm4j.tensor.Tensor;
import org.fomm4j.weights.WeightReader;

/**
 * {@code ResBlock2d} (pre-activation): {@code x + conv2(relu(norm2(conv1(relu(norm1(x))))))}.
 * {@code norm2} folds into {@code conv1}; {@code norm1} acts on the block input, which the residual
 * also needs, so it stays a per-channel affine.
 */
public final class ResBlock2d {
    private final Kernels k;
    private final BatchNorm.Affine norm1;
    private final Conv2d conv1;
    private final Conv2d conv2;

    public ResBlock2d(Kernels k, WeightReader r, int features, int kernel, int pad) {
        this.k = k;
        ConvSpec spec = ConvSpec.of(features, features, kernel, pad);
        this.conv1 = Layers.convBn(k, r.sub("conv1"), r.sub("norm2"), spec);
        this.conv2 = Layers.conv(k, r.sub("conv2"), spec);
        this.norm1 = BatchNorm.read(r.sub("norm1"), features);
    }

    /** {@code [N, C, H, W] -> [N, C, H, W]}. */
    public Tensor forward(Tensor x) {
        Tensor h = k.channelAffine(x, norm1.scale(), norm1.shift(), true);
        h = conv1.apply(h, Activation.RELU);
        h = conv2.apply(h, Activation.NONE);
        return k.add(h, x);
    }
}
