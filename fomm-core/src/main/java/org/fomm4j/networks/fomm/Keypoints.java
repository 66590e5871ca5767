package org.fomm4j.networks.fomm;

import org.fomm4j.tensor.Tensor;

/**
 * FOMM keypoints of a batch of frames.
 *
 * @param value    {@code [N, K, 2]}, {@code (x, y)} in {@code [-1, 1]} (x along the width; -1 and 1
 *                 are the centres of the first and last pixel of the keypoint heatmap)
 * @param jacobian {@code [N, K, 2, 2]} row-major local affine {@code d(x,y)/d(z)}, or {@code null}
 *                 when the model does not estimate jacobians
 */
public record Keypoints(Tensor value, Tensor jacobian) {
    public Keypoints {
        value.requireRank("keypoint values", 3);
        if (value.dim(2) != 2) {
            throw new IllegalArgumentException("keypoint values must be [N, K, 2], got " + value);
        }
        if (jacobian != null) {
            jacobian.requireShape("keypoint jacobians", value.dim(0), value.dim(1), 2, 2);
        }
    }

    public int count() {
        return value.dim(1);
    }

    public int batch() {
        return value.dim(0);
    }
}
