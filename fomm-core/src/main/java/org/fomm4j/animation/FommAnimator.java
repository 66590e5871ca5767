package org.fomm4j.animation;

import org.fomm4j.tensor.FrameArena;
import org.fomm4j.networks.fomm.DenseMotionNetwork;
import org.fomm4j.networks.fomm.FommModel;
import org.fomm4j.networks.fomm.Keypoints;
import org.fomm4j.networks.fomm.OcclusionAwareGenerator;
import org.fomm4j.tensor.Tensor;

/**
 * Animates one source image with driving frames, one frame at a time (the loop of the reference
 * {@code make_animation}). The source side (source keypoints, generator encoder features, the
 * downsampled source of the dense motion network) is computed once, here in the constructor.
 *
 * <p>In the relative modes the initial driving frame is the first one passed to {@link #animate},
 * unless {@link #setInitialDriving} chose another. Not thread-safe; {@link #close()} releases the
 * cached features, after which every call throws {@link IllegalStateException}.
 */
public final class FommAnimator implements Animator {
    /** One generated frame and what led to it. */
    public record Frame(Tensor prediction, Keypoints kpDriving, Keypoints kpNormalized,
                        OcclusionAwareGenerator.Output generator) {
    }

    private final FommModel model;
    /** Buffers reused from one frame to the next (no per-frame allocation after the first). */
    private final FrameArena arena = new FrameArena();
    private final AnimationMode mode;
    private final Keypoints kpSource;
    private OcclusionAwareGenerator.SourceFeatures source;
    private Keypoints kpDrivingInitial;

    /**
     * @param source {@code [1, C, H, W]} in {@code [0, 1]}
     * @throws IllegalArgumentException if the source has the wrong shape for the model
     */
    public FommAnimator(FommModel model, Tensor source, AnimationMode mode) {
        if (mode == AnimationMode.AVD) {
            throw new IllegalArgumentException("mode avd needs a TPSMM model (FOMM has no AVD network)");
        }
        model.checkFrame("source image", source);
        if (source.dim(0) != 1) {
            throw new IllegalArgumentException("source image must be a single frame [1, C, H, W], got batch " + source.dim(0));
        }
        this.model = model;
        this.mode = mode;
        this.kpSource = model.kpDetector().detect(source);
        this.source = model.generator().encodeSource(source);
    }

    public Keypoints kpSource() {
        checkOpen();
        return kpSource;
    }

    @Override
    public Tensor sourceKeypoints() {
        return kpSource().value();
    }

    @Override
    public Tensor detectKeypoints(Tensor frame) {
        checkOpen();
        model.checkFrame("driving frame", frame);
        return model.kpDetector().detect(frame).value();
    }

    /** Uses {@code frame} ({@code [1, C, H, W]}) as the initial driving frame of the relative modes. */
    @Override
    public void setInitialDriving(Tensor frame) {
        checkOpen();
        model.checkFrame("initial driving frame", frame);
        kpDrivingInitial = model.kpDetector().detect(frame);
    }

    /** Uses already detected keypoints as the initial driving frame's. */
    public void setInitialDriving(Keypoints kp) {
        checkOpen();
        kpDrivingInitial = kp;
    }

    /**
     * @param driving {@code [1, C, H, W]} in {@code [0, 1]}, same size as the source
     * @return the prediction {@code [1, C, H, W]} in {@code (0, 1)}
     */
    @Override
    public Tensor animate(Tensor driving) {
        try (FrameArena.Frame f = arena.enter()) {
            return arena.detach(step(driving, false).prediction());
        }
    }

    /**
     * As {@link #animate(Tensor)}, with the intermediate results.
     *
     * @param keepDeformed also compute the source warped at full resolution (for inspection)
     */
    public Frame animate(Tensor driving, boolean keepDeformed) {
        try (FrameArena.Frame f = arena.enter()) {
            Frame fr = step(driving, keepDeformed);
            OcclusionAwareGenerator.Output g = fr.generator();
            DenseMotionNetwork.Output dm = g.denseMotion();
            DenseMotionNetwork.Output dmOut = dm == null ? null : new DenseMotionNetwork.Output(arena.detach(dm.sparseDeformed()),
                    arena.detach(dm.mask()), arena.detach(dm.deformation()), arena.detach(dm.occlusionMap()));
            return new Frame(arena.detach(fr.prediction()), detach(fr.kpDriving()), detach(fr.kpNormalized()),
                    new OcclusionAwareGenerator.Output(arena.detach(g.prediction()), arena.detach(g.deformed()), dmOut));
        }
    }

    private Keypoints detach(Keypoints kp) {
        return kp == null ? null : new Keypoints(arena.detach(kp.value()), arena.detach(kp.jacobian()));
    }

    /** One step; large intermediates live in the arena's current frame. */
    private Frame step(Tensor driving, boolean keepDeformed) {
        checkOpen();
        model.checkFrame("driving frame", driving);
        if (driving.dim(2) != source.source().dim(2) || driving.dim(3) != source.source().dim(3)) {
            throw new IllegalArgumentException("driving frame is " + driving.dim(2) + "x" + driving.dim(3)
                    + " but the source is " + source.source().dim(2) + "x" + source.source().dim(3));
        }
        Keypoints kpDriving = model.kpDetector().detect(driving);
        if (kpDrivingInitial == null) {
            // Kept for later frames: must not live in this frame's buffers.
            kpDrivingInitial = detach(kpDriving);
        }
        Keypoints kpNorm = KeypointNormalizer.normalize(kpSource, kpDriving, kpDrivingInitial, mode);
        OcclusionAwareGenerator.Output out = model.generator().generate(source, kpNorm, kpSource, keepDeformed);
        return new Frame(out.prediction(), kpDriving, kpNorm, out);
    }

    private void checkOpen() {
        if (source == null) {
            throw new IllegalStateException("animator is closed");
        }
    }

    @Override
    public void close() {
        source = null;
    }
}
