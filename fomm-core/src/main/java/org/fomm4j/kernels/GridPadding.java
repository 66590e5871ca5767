package org.fomm4j.kernels;

/**
 * What {@code gridSample} reads for sample points outside the input, PyTorch's {@code padding_mode}.
 */
public enum GridPadding {
    /** Zeros outside the input ({@code padding_mode='zeros'}): inference's warps. */
    ZEROS,
    /**
     * The coordinate reflected at the input's border, then clipped into it
     * ({@code padding_mode='reflection'}): the reference training's random equivariance transform
     * ({@code Transform.transform_frame}). With {@code alignCorners=false} the mirror lies on the outer
     * edges of the border pixels, with {@code true} on their centres.
     */
    REFLECTION
}
