package org.fomm4j.animation;

import org.fomm4j.tensor.Tensor;

/**
 * The reference demo's {@code find_best_frame}, with the model's own keypoints instead of face
 * landmarks (so it works for any object category): keypoints are centred on their mean and divided by
 * the square root of their convex hull's area; the best driving frame is the one whose normalized
 * keypoints are closest (sum of squared differences) to the source's.
 */
public final class BestFrame {
    private final Tensor source;
    private double best = Double.POSITIVE_INFINITY;
    private int bestIndex = -1;
    private int seen;

    /** @param sourceKeypoints {@code [1, P, 2]} */
    public BestFrame(Tensor sourceKeypoints) {
        this.source = normalize(sourceKeypoints);
    }

    /** Centred and scaled keypoints {@code [P, 2]} as a flat array (scale 1 for a degenerate hull). */
    public static Tensor normalize(Tensor kp) {
        int p = kp.dim(-2);
        double mx = 0, my = 0;
        for (int i = 0; i < p; i++) {
            mx += kp.get(2 * i);
            my += kp.get(2 * i + 1);
        }
        mx /= p;
        my /= p;
        double area = ConvexHullArea.of(kp);
        double s = area > 0 ? Math.sqrt(area) : 1;
        float[] out = new float[p * 2];
        for (int i = 0; i < p; i++) {
            out[2 * i] = (float) ((kp.get(2 * i) - mx) / s);
            out[2 * i + 1] = (float) ((kp.get(2 * i + 1) - my) / s);
        }
        return Tensor.of(out, p, 2);
    }

    /** Offers the keypoints of the next driving frame (frames are numbered from 0 in offer order). */
    public void offer(Tensor keypoints) {
        Tensor n = normalize(keypoints);
        double d = 0;
        for (int i = 0; i < n.size(); i++) {
            double e = n.get(i) - source.get(i);
            d += e * e;
        }
        if (d < best) {
            best = d;
            bestIndex = seen;
        }
        seen++;
    }

    /** Index of the best frame so far, or -1 if none was offered. */
    public int bestIndex() {
        return bestIndex;
    }
}
