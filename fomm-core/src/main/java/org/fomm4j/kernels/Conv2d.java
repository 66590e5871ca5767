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
}
