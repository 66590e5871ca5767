package org.fomm4j.nn;

import org.fomm4j.kernels.Activation;
import org.fomm4j.kernels.Conv2d;
import org.fomm4j.kernels.ConvSpec;
import org.fomm4j.kernels.Kernels;
import org.fomm4j.tensor.Tensor;
import org.fomm4j.weights.WeightReader;

/**
 * A convolution followed by a normalization and optionally ReLU. BatchNorm is folded into the
 * convolution; InstanceNorm runs after it (its statistics depend on the input). Tensors
 * {@code conv.weight, conv.bias} and the norm's {@code weight, bias} (+ running statistics for
 * BatchNorm).
 */
public final class ConvNorm {
    private final Kernels k;
    private final Conv2d conv;
    private final float[] gamma;
    private final float[] beta;

    public ConvNorm(Kernels k, WeightReader conv, WeightReader norm, ConvSpec spec, Norm type) {
        this.k = k;
        if (type == Norm.BATCH) {
            this.conv = Layers.convBn(k, conv, norm, spec);
            this.gamma = null;
            this.beta = null;
        } else {
            this.conv = Layers.conv(k, conv, spec);
            this.gamma = norm.take("weight", spec.outChannels());
            this.beta = norm.take("bias", spec.outChannels());
        }
    }

    /** {@code forward(upsampleNearest2x(x), relu)}, with the upsampling fused into the convolution where it can be. */
    public Tensor forwardUpsampled2x(Tensor x, boolean relu) {
        if (gamma == null) {
            return conv.applyUpsampled2x(x, relu ? Activation.RELU : Activation.NONE);
        }
        return k.instanceNorm(conv.applyUpsampled2x(x, Activation.NONE), gamma, beta, relu);
    }

    public Tensor forward(Tensor x, boolean relu) {
        if (gamma == null) {
            return conv.apply(x, relu ? Activation.RELU : Activation.NONE);
        }
        return k.instanceNorm(conv.apply(x, Activation.NONE), gamma, beta, relu);
    }
}
