package org.fomm4j.training;

import org.fomm4j.animation.AnimationMode;
import org.fomm4j.animation.FommAnimator;
import org.fomm4j.animation.TpsmmAnimator;
import org.fomm4j.networks.fomm.FommModel;
import org.fomm4j.networks.tpsmm.TpsmmModel;
import org.fomm4j.tensor.Tensor;

/**
 * The reference {@code reconstruction.py} protocol: the first frame of a held-out video is the source and
 * every frame of the same video drives it (keypoints as detected, mode {@code standard}); the score is the
 * mean absolute difference between generated and real frames (RGB in {@code [0, 1]}, over pixels, channels
 * and frames). Reported with the same difference for simply repeating the source frame, the baseline the
 * model must beat.
 *
 * <p>Where the true positions of points are known (the procedural creatures' joints), also a motion
 * keypoint distance in the spirit of AKD: each true joint of the driving frame is looked up in the dense
 * motion field (the backward flow tells where in the source that pixel comes from) and compared with the
 * same joint's true position in the source frame, in pixels of the frame; the baseline is the identity
 * motion (the joint's driving position itself).
 *
 * <p>Two diagnostics of how training went wrong, when it did: the L1 of frame 0 alone, where the driving
 * frame is the source (identity motion, so any error there is the generator's own blur), and the share of
 * source keypoint pairs closer than one pixel (keypoints that collapsed onto each other carry no separate
 * motion).
 */
public final class Evaluation {
    private Evaluation() {
    }

    /** Frames of one video ({@code [3 H W]} each) and, optionally, true points per frame ({@code [P * 2]}, {@code (x, y)}). */
    public interface Video {
        int frames();

        float[] frame(int i);

        /** The true points of frame {@code i}, or {@code null} when unknown. */
        float[] points(int i);
    }

    /** Sums over videos; {@link #l1()} etc. are the means. */
    public record Report(int videos, long frames, double l1Sum, double copySum, long pointCount, double akdSum,
                         double identityAkdSum, double firstFrameL1Sum, long kpPairs, long kpCollapsedPairs) {
        public double l1() {
            return l1Sum / frames;
        }

        public double copySourceL1() {
            return copySum / frames;
        }

        /** Mean motion keypoint distance in pixels, NaN without true points. */
        public double akd() {
            return pointCount == 0 ? Double.NaN : akdSum / pointCount;
        }

        public double identityAkd() {
            return pointCount == 0 ? Double.NaN : identityAkdSum / pointCount;
        }

        /** Mean L1 of frame 0, which drives the model with its own source (the generator's error alone). */
        public double firstFrameL1() {
            return firstFrameL1Sum / videos;
        }

        /** Fraction of source keypoint pairs (over all videos) less than one pixel apart. */
        public double collapsedKeypointShare() {
            return kpPairs == 0 ? 0 : (double) kpCollapsedPairs / kpPairs;
        }

        Report plus(Report o) {
            return new Report(videos + o.videos, frames + o.frames, l1Sum + o.l1Sum, copySum + o.copySum,
                    pointCount + o.pointCount, akdSum + o.akdSum, identityAkdSum + o.identityAkdSum,
                    firstFrameL1Sum + o.firstFrameL1Sum, kpPairs + o.kpPairs, kpCollapsedPairs + o.kpCollapsedPairs);
        }
    }

    public static Report empty() {
        return new Report(0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
    }

    /** Evaluates one video and adds it to {@code sum}. */
    public static Report video(FommModel model, Video v, Report sum) {
        int h = model.config().frameHeight(), w = model.config().frameWidth();
        try (FommAnimator a = new FommAnimator(model, Tensor.of(v.frame(0), 1, 3, h, w), AnimationMode.STANDARD)) {
            return video(a.kpSource().value().data(), driving -> {
                FommAnimator.Frame f = a.animate(driving, false);
                return new Tensor[] {f.prediction(), f.generator().denseMotion() == null ? null : f.generator().denseMotion().deformation()};
            }, v, h, w, sum);
        }
    }

    /**
     * Evaluates one video with a TPSMM and adds it to {@code sum}: as the reference {@code reconstruction.py} of
     * TPSMM, with the background predictor when the model has one; the motion is TPSMM's optical flow.
     */
    public static Report video(TpsmmModel model, Video v, Report sum) {
        return video(model, AnimationMode.STANDARD, v, sum);
    }

    /**
     * As {@link #video(TpsmmModel, Video, Report)} in {@code mode}: {@link AnimationMode#AVD} drives the source by
     * the AVD network's keypoints ({@code avd_network(kp_source, kp_driving)}) instead of the detected ones, which
     * on a video of the source's own identity should lose little against {@code standard}: how much it loses is
     * how much identity the AVD network's rebuilt pose leaks or drops.
     */
    public static Report video(TpsmmModel model, AnimationMode mode, Video v, Report sum) {
        int h = model.config().frameHeight(), w = model.config().frameWidth();
        try (TpsmmAnimator a = new TpsmmAnimator(model, Tensor.of(v.frame(0), 1, 3, h, w), mode,
                model.bgPredictor() != null)) {
            return video(a.kpSource().data(), driving -> {
                TpsmmAnimator.Frame f = a.animateDetailed(driving);
                return new Tensor[] {f.prediction(), f.denseMotion().deformation()};
            }, v, h, w, sum);
        }
    }

    /**
     * The protocol over one video: {@code step} maps a driving frame {@code [1, 3, h, w]} to {prediction, backward
     * flow {@code [1, h', w', 2]} or null}; {@code kp} the source keypoints {@code [P * 2]}.
     */
    private static Report video(float[] kp, java.util.function.Function<Tensor, Tensor[]> step, Video v, int h, int w,
                                Report sum) {
        float[] first = v.frame(0);
        float[] firstPoints = v.points(0);
        double l1 = 0, copy = 0, akd = 0, identity = 0, firstFrame = 0;
        long points = 0;
        long pairs = (long) (kp.length / 2) * (kp.length / 2 - 1) / 2;
        long collapsed = collapsedPairs(kp, w, h);
        for (int i = 0; i < v.frames(); i++) {
            float[] real = v.frame(i);
            Tensor[] f = step.apply(Tensor.of(real, 1, 3, h, w));
            float[] pred = f[0].data();
            double s = 0, c = 0;
            for (int p = 0; p < real.length; p++) {
                s += Math.abs(pred[p] - real[p]);
                c += Math.abs(first[p] - real[p]);
            }
            l1 += s / real.length;
            if (i == 0) {
                firstFrame = s / real.length;
            }
            copy += c / real.length;
            float[] pts = v.points(i);
            if (pts != null && firstPoints != null && f[1] != null) {
                for (int j = 0; j < pts.length / 2; j++) {
                    float[] src = sample(f[1], pts[2 * j], pts[2 * j + 1]);
                    akd += pixels(src[0] - firstPoints[2 * j], src[1] - firstPoints[2 * j + 1], w, h);
                    identity += pixels(pts[2 * j] - firstPoints[2 * j], pts[2 * j + 1] - firstPoints[2 * j + 1], w, h);
                    points++;
                }
            }
        }
        return sum.plus(new Report(1, v.frames(), l1, copy, points, akd, identity, firstFrame, pairs, collapsed));
    }

    /**
     * Pairs of keypoints ({@code [K * 2]}, {@code (x, y)} in {@code [-1, 1]}) less than one pixel apart in a
     * {@code w x h} frame.
     */
    static long collapsedPairs(float[] kp, int w, int h) {
        long n = 0;
        for (int i = 0; i < kp.length / 2; i++) {
            for (int j = i + 1; j < kp.length / 2; j++) {
                if (pixels(kp[2 * i] - kp[2 * j], kp[2 * i + 1] - kp[2 * j + 1], w, h) < 1) {
                    n++;
                }
            }
        }
        return n;
    }

    private static double pixels(double dx, double dy, int w, int h) {
        return Math.hypot(dx * (w - 1) / 2, dy * (h - 1) / 2);
    }

    /** The flow {@code [1, h, w, 2]} at {@code (x, y)}, bilinear between its pixel centres (edges clamped). */
    static float[] sample(Tensor def, float x, float y) {
        int h = def.dim(1), w = def.dim(2);
        float[] d = def.data();
        float fx = Math.min(Math.max((x + 1) / 2 * (w - 1), 0), w - 1), fy = Math.min(Math.max((y + 1) / 2 * (h - 1), 0), h - 1);
        int x0 = Math.min((int) fx, w - 2), y0 = Math.min((int) fy, h - 2);
        float ax = fx - x0, ay = fy - y0;
        float[] out = new float[2];
        for (int c = 0; c < 2; c++) {
            out[c] = (1 - ax) * (1 - ay) * d[(y0 * w + x0) * 2 + c] + ax * (1 - ay) * d[(y0 * w + x0 + 1) * 2 + c]
                    + (1 - ax) * ay * d[((y0 + 1) * w + x0) * 2 + c] + ax * ay * d[((y0 + 1) * w + x0 + 1) * 2 + c];
        }
        return out;
    }
}
