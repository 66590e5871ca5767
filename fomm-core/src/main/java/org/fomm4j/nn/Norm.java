package org.fomm4j.nn;

/** The normalization of a model's blocks: FOMM uses BatchNorm (eval), TPSMM InstanceNorm. */
public enum Norm {
    /** {@code BatchNorm2d} in eval mode: running statistics, folded into the convolution at load. */
    BATCH,
    /** {@code InstanceNorm2d(affine=True)}: statistics of the current input, cannot be folded. */
    INSTANCE
}
