package org.fomm4j.animation;

import org.fomm4j.tensor.Tensor;

/**
 * A source image being animated, whatever the model family ({@link FommAnimator},
 * {@link TpsmmAnimator}). Frames are {@code [1, C, H, W]} in {@code [0, 1]}, the model's frame size.
 */
public interface Animator extends AutoCloseable {
    /** The prediction for one driving frame, {@code [1, C, H, W]} in {@code (0, 1)}. */
    Tensor animate(Tensor driving);

    /** Uses {@code frame} as the initial driving frame of the relative modes (default: the first animated). */
    void setInitialDriving(Tensor frame);

    /** The source's keypoints {@code [1, P, 2]}, {@code (x, y)} in {@code [-1, 1]}. */
    Tensor sourceKeypoints();

    /** The keypoints the model's detector finds in {@code frame}, {@code [1, P, 2]}. */
    Tensor detectKeypoints(Tensor frame);

    @Override
    void close();
}
