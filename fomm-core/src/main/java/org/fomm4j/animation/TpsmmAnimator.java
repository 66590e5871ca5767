package org.fomm4j.animation;

import org.fomm4j.tensor.FrameArena;
import org.fomm4j.networks.fomm.Keypoints;
import org.fomm4j.networks.tpsmm.InpaintingNetwork;
import org.fomm4j.networks.tpsmm.TpsmmDenseMotionNetwork;
import org.fomm4j.networks.tpsmm.TpsmmModel;
import org.fomm4j.tensor.Tensor;

/**
 * Animates one source image with a TPSMM model frame by frame ({@code make_animation} of the TPSMM
 * demo). The source side (source keypoints, inpainting encoder maps, the dense motion network's
 * downsampled source, the AVD identity embedding) is computed once, in the constructor.
 *
 * <p>Modes: {@link AnimationMode#STANDARD} (driving keypoints as detected), {@link AnimationMode#RELATIVE}
 * (relative movement scaled by the square root of the convex-hull areas: TPSMM always adapts the
 * scale, so {@link AnimationMode#RELATIVE_ADAPT} is the same), {@link AnimationMode#AVD}. With
 * {@code backgroundMotion} the background predictor's affine moves the background region.
 * Not thread-safe; after {@link #close()} every call throws {@link IllegalStateException}.
 */
public final class TpsmmAnimator implements Animator {
    /** One generated frame and what led to it. */
    public record Frame(Tensor prediction, Tensor kpDriving, Tensor kpNormalized, Tensor bgParam,
                        TpsmmDenseMotionNetwork.Output denseMotion, InpaintingNetwork.Output inpainting) {
    }

    private final TpsmmModel model;
    /** Buffers reused from one frame to the next (no per-frame allocation after the first). */
    private final FrameArena arena = new FrameArena();
    private final AnimationMode mode;
    private final boolean backgroundMotion;
    private final Tensor kpSource;
    private final float[] identity;
    private InpaintingNetwork.SourceFeatures source;
    private Tensor denseMotionSource;
    private Tensor kpDrivingInitial;

    /**
     * @param source           {@code [1, C, H, W]} in {@code [0, 1]}
     * @param backgroundMotion use the background motion predictor (the model must have one)
     * @throws IllegalArgumentException for a wrong shape, or background motion without a predictor
     */
    public TpsmmAnimator(TpsmmModel model, Tensor source, AnimationMode mode, boolean backgroundMotion) {
        model.checkFrame("source image", source);
        if (source.dim(0) != 1) {
            throw new IllegalArgumentException("source image must be a single frame [1, C, H, W], got batch " + source.dim(0));
        }
        if (backgroundMotion && model.bgPredictor() == null) {
            throw new IllegalArgumentException("background motion asked for, but this model has no bg_predictor");
        }
        this.model = model;
        this.mode = mode;
        this.backgroundMotion = backgroundMotion;
        this.kpSource = model.kpDetector().detect(source);
        this.identity = mode == AnimationMode.AVD ? model.avd().identity(kpSource) : null;
        this.source = model.inpainting().encodeSource(source);
        this.denseMotionSource = model.denseMotion().prepareSource(source);
    }

    public Tensor kpSource() {
        checkOpen();
        return kpSource;
    }

    @Override
    public Tensor sourceKeypoints() {
        return kpSource();
    }

    @Override
    public Tensor detectKeypoints(Tensor frame) {
        checkOpen();
        model.checkFrame("driving frame", frame);
        return model.kpDetector().detect(frame);
    }

    /** Uses {@code frame} as the initial driving frame of the relative mode. */
    @Override
    public void setInitialDriving(Tensor frame) {
        checkOpen();
        model.checkFrame("initial driving frame", frame);
        kpDrivingInitial = model.kpDetector().detect(frame);
    }

    /** Uses already detected keypoints {@code [1, K*5, 2]} as the initial driving frame's. */
    public void setInitialDriving(Keypoints kp) {
        checkOpen();
        kpDrivingInitial = kp.value();
    }

    /** @return the prediction {@code [1, C, H, W]} in {@code (0, 1)} */
    @Override
    public Tensor animate(Tensor driving) {
        try (FrameArena.Frame f = arena.enter()) {
            return arena.detach(step(driving).prediction());
        }
    }

    /** As {@link #animate(Tensor)}, with the intermediate results. */
    public Frame animateDetailed(Tensor driving) {
        try (FrameArena.Frame f = arena.enter()) {
            Frame fr = step(driving);
            TpsmmDenseMotionNetwork.Output dm = fr.denseMotion();
            java.util.List<Tensor> occ = dm.occlusionMaps() == null ? null
                    : dm.occlusionMaps().stream().map(arena::detach).toList();
            TpsmmDenseMotionNetwork.Output dmOut = new TpsmmDenseMotionNetwork.Output(arena.detach(dm.deformedSource()),
                    arena.detach(dm.contributionMaps()), arena.detach(dm.deformation()), occ);
            InpaintingNetwork.Output out = new InpaintingNetwork.Output(arena.detach(fr.inpainting().prediction()),
                    arena.detach(fr.inpainting().deformed()));
            return new Frame(out.prediction(), arena.detach(fr.kpDriving()), arena.detach(fr.kpNormalized()),
                    arena.detach(fr.bgParam()), dmOut, out);
        }
    }

    /** One step; large intermediates live in the arena's current frame. */
    private Frame step(Tensor driving) {
        checkOpen();
        model.checkFrame("driving frame", driving);
        Tensor src = source.source();
        if (driving.dim(2) != src.dim(2) || driving.dim(3) != src.dim(3)) {
            throw new IllegalArgumentException("driving frame is " + driving.dim(2) + "x" + driving.dim(3)
                    + " but the source is " + src.dim(2) + "x" + src.dim(3));
        }
        Tensor kpDriving = model.kpDetector().detect(driving);
        if (kpDrivingInitial == null) {
            // Kept for later frames: must not live in this frame's buffers.
            kpDrivingInitial = arena.detach(kpDriving);
        }
        Tensor kpNorm = switch (mode) {
            case STANDARD -> kpDriving;
            case RELATIVE, RELATIVE_ADAPT -> KeypointNormalizer.normalize(new Keypoints(kpSource, null),
                    new Keypoints(kpDriving, null), new Keypoints(kpDrivingInitial, null), AnimationMode.RELATIVE_ADAPT).value();
            case AVD -> model.avd().forward(identity, kpDriving);
        };
        Tensor bg = backgroundMotion ? model.bgPredictor().predict(src, driving) : null;
        TpsmmDenseMotionNetwork.Output dm = model.denseMotion().forward(denseMotionSource, kpNorm, kpSource, bg);
        InpaintingNetwork.Output out = model.inpainting().generate(source, dm);
        return new Frame(out.prediction(), kpDriving, kpNorm, bg, dm, out);
    }

    private void checkOpen() {
        if (source == null) {
            throw new IllegalStateException("animator is closed");
        }
        model.checkOpen();
    }

    @Override
    public void close() {
        source = null;
        denseMotionSource = null;
    }
}
