package org.fomm4j.kernels;

/** Element-wise function fused into a convolution's epilogue (after the bias). */
public enum Activation {
    NONE, RELU, SIGMOID
}
