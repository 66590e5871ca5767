package org.fomm4j.kernels;

import org.fomm4j.tensor.Tensor;

/**
 * A convolution with its weights prepared (BatchNorm already folded in by the caller, weights packed
 * for the implementation that created it). Thread-safe: {@link #apply} keeps no state between calls.
 */
public interface Conv2d {
    ConvSpec spec();

    /**
     * Runs the convolution, adds the bias and applies {@code activation}.
     *
     * @param input {@code [N, inChannels, H, W]}
     * @return {@code [N, outChannels, outH, outW]}, a new heap tensor
     * @throws IllegalArgumentException if the channel count or rank does not match
     */
    Tensor apply(Tensor input, Activation activation);

    /**
     * {@code apply(upsampleNearest2x(input), activation)} ({@code F.interpolate(scale_factor=2)} then the
     * convolution, as the references' {@code UpBlock2d}): implementations that can read the input upsampled
     * while packing it override this, so the 4x larger upsampled tensor is never written.
     *
     * @param input {@code [N, inChannels, H, W]}; the convolution sees {@code [N, inChannels, 2H, 2W]}
     */
    default Tensor applyUpsampled2x(Tensor input, Activation activation) {
        return apply(ScalarKernels.upsample2x(input), activation);
    }

    /**
     * {@code activation(conv(input) + bias) + residual}: a residual block's second convolution and its skip
     * connection ({@code out = conv2(...); out += x} in the references). Implementations that can add the
     * residual while storing their output override this, so no separate pass reads both tensors again.
     *
     * @param residual same shape as the output
     * @throws IllegalArgumentException if the residual's shape differs from the output's
     */
    default Tensor applyAdd(Tensor input, Activation activation, Tensor residual) {
        Tensor y = apply(input, activation);
        residual.requireShape("residual", y.shape());
        float[] a = y.data(), r = residual.toHeap().data();
        for (int i = 0; i < a.length; i++) {
            a[i] = a[i] + r[i];
        }
        return y;
    }
}
