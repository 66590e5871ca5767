package org.fomm4j.training.data;

import java.util.SplittableRandom;

/**
 * Procedural videos of {@link Creature}s moving by {@link CreatureMotion}: an endless supply of training
 * pairs for a category with articulated, non-rigid motion, and held-out test videos whose identities
 * the training split never shows (training identities are {@code 0 .. identities - 1}, test identities start
 * at {@value #TEST_IDENTITY}). Video {@code v} of the test split is test identity {@code v} in motion
 * {@value #TEST_IDENTITY}{@code  + v}.
 */
public final class CreatureDataset implements TrainingData {
    public static final long TEST_IDENTITY = 1_000_000_000L;
    /** Frames per second of the rendered videos. */
    public static final double FPS = 25;
    /** Length of a training video: pairs are drawn from times in {@code [0, 8)} seconds. */
    static final double VIDEO_SECONDS = 8;

    private final int height;
    private final int width;
    private final int identities;

    /**
     * @param identities number of training identities (each seen in ever new motions)
     * @throws IllegalArgumentException for a size that is not positive
     */
    public CreatureDataset(int height, int width, int identities) {
        if (height < 8 || width < 8 || identities < 1) {
            throw new IllegalArgumentException("creature dataset: frames of at least 8x8 and one identity, got "
                    + height + "x" + width + ", " + identities);
        }
        this.height = height;
        this.width = width;
        this.identities = identities;
    }

    @Override
    public int frameHeight() {
        return height;
    }

    @Override
    public int frameWidth() {
        return width;
    }

    @Override
    public int videos() {
        return identities;
    }

    @Override
    public void pair(SplittableRandom rng, int maxFrameGap, float[] source, float[] driving, int offset) {
        Creature c = Creature.of(rng.nextInt(identities));
        CreatureMotion m = CreatureMotion.of(rng.nextLong());
        double t0 = rng.nextDouble() * VIDEO_SECONDS, t1 = rng.nextDouble() * VIDEO_SECONDS;
        if (maxFrameGap < VIDEO_SECONDS * FPS) {
            // Time is continuous here: a gap of up to maxFrameGap frames of 1/FPS seconds, either way.
            t1 = t0 + (rng.nextDouble() * 2 - 1) * maxFrameGap / FPS;
        }
        CreatureRenderer.render(c, m.pose(t0), height, width, source, offset);
        CreatureRenderer.render(c, m.pose(t1), height, width, driving, offset);
    }

    /** Frame {@code frame} of test video {@code video}: {@code [3, H, W]}. */
    public float[] testFrame(int video, int frame) {
        float[] out = new float[3 * height * width];
        CreatureRenderer.render(Creature.of(TEST_IDENTITY + video), testPose(video, frame), height, width, out, 0);
        return out;
    }

    /** The 10 ground-truth joints of a test frame, {@code (x, y)} in {@code [-1, 1]}. */
    public float[] testJoints(int video, int frame) {
        return CreatureRenderer.joints(Creature.of(TEST_IDENTITY + video), testPose(video, frame));
    }

    /** A frame of any identity in any motion (for demos: one creature driven by another's video). */
    public float[] frame(long identity, long motion, int frame) {
        float[] out = new float[3 * height * width];
        CreatureRenderer.render(Creature.of(identity), CreatureMotion.of(motion).pose(frame / FPS), height, width, out, 0);
        return out;
    }

    /** The 10 ground-truth joints of {@link #frame(long, long, int)}, {@code (x, y)} in {@code [-1, 1]}. */
    public float[] joints(long identity, long motion, int frame) {
        return CreatureRenderer.joints(Creature.of(identity), CreatureMotion.of(motion).pose(frame / FPS));
    }

    private static double[] testPose(int video, int frame) {
        return CreatureMotion.of(TEST_IDENTITY + video).pose(frame / FPS);
    }
}
