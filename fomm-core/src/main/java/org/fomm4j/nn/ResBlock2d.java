package org.fomm4j.nn;

import org.fomm4j.kernels.Activation;
import org.fomm4j.kernels.Conv2d;
import org.fomm4j.kernels.ConvSpec;
import org.fomm4j.kernels.Kernels;
import org.fomm4j.tensor.Tensor;
import org.fomm4j.weights.WeightReader;

/**
 * {@code ResBlock2d} (pre-activation): {@code x + conv2(relu(norm2(conv1(relu(norm1(x))))))}.
 * With BatchNorm, {@code norm2} folds into {@code conv1}, while {@code norm1} acts on the block input
 * (which the residual also needs) and stays a per-channel affine.
 */
public final class ResBlock2d {
    private final Kernels k;
    private final Norm norm;
    private final float[] norm1Scale;
    private final float[] norm1Shift;
    private final ConvNorm conv1;
    private final Conv2d conv2;

    public ResBlock2d(Kernels k, WeightReader r, int features, int kernel, int pad, Norm norm) {
        this.k = k;
        this.norm = norm;
        ConvSpec spec = ConvSpec.of(features, features, kernel, pad);
        this.conv1 = new ConvNorm(k, r.sub("conv1"), r.sub("norm2"), spec, norm);
        this.conv2 = Layers.conv(k, r.sub("conv2"), spec);
        if (norm == Norm.BATCH) {
            BatchNorm.Affine a = BatchNorm.read(r.sub("norm1"), features);
            this.norm1Scale = a.scale();
            this.norm1Shift = a.shift();
        } else {
            this.norm1Scale = r.sub("norm1").take("weight", features);
            this.norm1Shift = r.sub("norm1").take("bias", features);
        }
    }

    /** {@code [N, C, H, W] -> [N, C, H, W]}. */
    public Tensor forward(Tensor x) {
        Tensor h = norm == Norm.BATCH
                ? k.channelAffine(x, norm1Scale, norm1Shift, true)
                : k.instanceNorm(x, norm1Scale, norm1Shift, true);
        h = conv1.forward(h, true);
        // conv2(h) + x, the skip connection added while conv2 stores its output.
        return conv2.applyAdd(h, Activation.NONE, x);
    }
}
