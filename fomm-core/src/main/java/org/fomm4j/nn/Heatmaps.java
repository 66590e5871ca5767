package org.fomm4j.nn;

import org.fomm4j.tensor.FrameArena;
import org.fomm4j.kernels.CoordinateGrid;
import org.fomm4j.tensor.Tensor;

/** {@code kp2gaussian} of both references: a Gaussian blob per keypoint on the coordinate grid. */
public final class Heatmaps {
    private Heatmaps() {
    }

    /** {@code ln(2^-100)}: below it a Gaussian is 0 rather than a value whose products go subnormal (slow). */
    private static final float NEGLIGIBLE_EXP = -69.3f;

    /**
     * {@code exp(-0.5 * |grid - kp|^2 / variance)}, computed in float32 as the reference does.
     *
     * @param kp {@code [N, P, 2]} keypoints {@code (x, y)} in {@code [-1, 1]}
     * @return flat {@code [N * P, h, w]}
     */
    public static float[] gaussians(Tensor kp, int h, int w, float variance) {
        float[] gx = CoordinateGrid.axis(w), gy = CoordinateGrid.axis(h);
        int np = kp.dim(0) * kp.dim(1);
        float[] out = FrameArena.zeros(np * h * w);
        for (int p = 0; p < np; p++) {
            float mx = kp.get(p * 2), my = kp.get(p * 2 + 1);
            for (int y = 0; y < h; y++) {
                float dy = gy[y] - my;
                for (int x = 0; x < w; x++) {
                    float dx = gx[x] - mx;
                    float arg = -0.5f * (dx * dx + dy * dy) / variance;
                    // 0 far from the keypoint, rather than tiny values whose products are subnormal (slow).
                    out[(p * h + y) * w + x] = arg < NEGLIGIBLE_EXP ? 0f : (float) Math.exp(arg);
                }
            }
        }
        return out;
    }

    /**
     * Remembers the heatmaps of the last keypoint tensor it was given (by identity): an animator
     * passes the same source keypoints every frame, so their Gaussians are computed once per source.
     * Safe to share between threads (one immutable entry, replaced atomically).
     */
    public static final class SourceCache {
        private record Entry(Tensor kp, int h, int w, float[] maps) {
        }

        private volatile Entry last;

        public float[] gaussians(Tensor kp, int h, int w, float variance) {
            Entry e = last;
            if (e != null && e.kp == kp && e.h == h && e.w == w) {
                return e.maps;
            }
            // A private copy: computed during a frame, the result may live in that frame's arena buffers.
            float[] maps = Heatmaps.gaussians(kp, h, w, variance).clone();
            last = new Entry(kp, h, w, maps);
            return maps;
        }
    }
}
