package org.fomm4j.training.data;

import java.util.SplittableRandom;

/**
 * Where training pairs come from: two frames of the same video (FOMM's self-supervised setting, paper
 * section 3.4: the source and the driving frame share an identity, so the driving frame is the target).
 * Frames are {@code [3, H, W]} RGB in {@code [0, 1]}.
 */
public interface TrainingData {
    int frameHeight();

    int frameWidth();

    /** Number of distinct training videos (for the reference's epoch = {@code num_repeats} passes over them). */
    int videos();

    /**
     * Writes a random (source, driving) pair of one random training video into {@code source} and
     * {@code driving} at {@code offset} ({@code 3 H W} floats each), at most {@code maxFrameGap} frames apart
     * ({@code TrainParams.UNLIMITED_GAP}: any two frames, as the reference).
     */
    void pair(SplittableRandom rng, int maxFrameGap, float[] source, float[] driving, int offset);
}
