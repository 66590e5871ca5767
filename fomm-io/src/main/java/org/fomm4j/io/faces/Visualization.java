package org.fomm4j.io.faces;

import org.fomm4j.tensor.Tensor;

/**
 * What the model sees, as the reference's {@code Visualizer} draws it: source | driving | result side by
 * side, the keypoints as filled discs of radius {@value #KP_SIZE} on a 256x256 frame
 * ({@code visualizer_params.kp_size} of the vox configs; on smaller frames the radius shrinks with the
 * frame, to at least 1.5 pixels, so that ten keypoints on a 64x64 frame do not hide the subject) in
 * matplotlib's {@code gist_rainbow} colours by keypoint index ({@code kp / num_kp}),
 * on the source (its keypoints) and on the driving frame (the detector's keypoints of that frame); for
 * TPSMM, its occlusion masks after them, as the reference shows them.
 */
public final class Visualization {
    static final int KP_SIZE = 5;
    /** matplotlib's {@code _gist_rainbow_data}: position, then r, g, b. */
    private static final double[][] GIST_RAINBOW = {
        {0.000, 1.00, 0.00, 0.16}, {0.030, 1.00, 0.00, 0.00}, {0.215, 1.00, 1.00, 0.00}, {0.400, 0.00, 1.00, 0.00},
        {0.586, 0.00, 1.00, 1.00}, {0.770, 0.00, 0.00, 1.00}, {0.954, 1.00, 0.00, 1.00}, {1.000, 1.00, 0.00, 0.75}};

    private Visualization() {
    }

    /** {@code gist_rainbow(t)} as r, g, b in {@code [0, 1]}. */
    static double[] colour(double t) {
        for (int i = 1; i < GIST_RAINBOW.length; i++) {
            if (t <= GIST_RAINBOW[i][0]) {
                double[] a = GIST_RAINBOW[i - 1], b = GIST_RAINBOW[i];
                double u = (t - a[0]) / (b[0] - a[0]);
                return new double[] {a[1] + u * (b[1] - a[1]), a[2] + u * (b[2] - a[2]), a[3] + u * (b[3] - a[3])};
            }
        }
        double[] last = GIST_RAINBOW[GIST_RAINBOW.length - 1];
        return new double[] {last[1], last[2], last[3]};
    }

    /**
     * The three panels, each {@code [1, 3, h, w]}, side by side.
     *
     * @param kpSource  {@code [1, K, 2]}, {@code (x, y)} in {@code [-1, 1]}
     * @param kpDriving {@code [1, K, 2]}
     * @return {@code [1, 3, h, 3 w]}
     */
    public static Tensor panels(Tensor source, Tensor kpSource, Tensor driving, Tensor kpDriving, Tensor prediction) {
        return panels(source, kpSource, driving, kpDriving, prediction, java.util.List.of());
    }

    /**
     * As {@link #panels(Tensor, Tensor, Tensor, Tensor, Tensor)}, followed by one grey panel per occlusion
     * map ({@code [1, 1, h_i, w_i]} in {@code [0, 1]}, TPSMM's masks at each resolution, enlarged).
     *
     * @return {@code [1, 3, h, (3 + masks) w]}
     */
    public static Tensor panels(Tensor source, Tensor kpSource, Tensor driving, Tensor kpDriving, Tensor prediction,
                                java.util.List<Tensor> occlusionMaps) {
        int h = source.dim(2), w = source.dim(3), n = 3 + occlusionMaps.size();
        float[] out = new float[3 * h * n * w];
        java.util.List<Tensor> ps = new java.util.ArrayList<>(java.util.List.of(withKeypoints(source, kpSource),
                withKeypoints(driving, kpDriving), prediction));
        for (Tensor m : occlusionMaps) {
            float[] grey = org.fomm4j.io.media.Images.resize(m.toArray(), m.dim(2), m.dim(3), h, w);
            float[] rgb = new float[3 * h * w];
            for (int c = 0; c < 3; c++) {
                System.arraycopy(grey, 0, rgb, c * h * w, h * w);
            }
            ps.add(Tensor.of(rgb, 1, 3, h, w));
        }
        for (int p = 0; p < n; p++) {
            Tensor t = ps.get(p);
            for (int c = 0; c < 3; c++) {
                for (int y = 0; y < h; y++) {
                    for (int x = 0; x < w; x++) {
                        out[(c * h + y) * n * w + p * w + x] = t.get((c * h + y) * w + x);
                    }
                }
            }
        }
        return Tensor.of(out, 1, 3, h, n * w);
    }

    /** The disc radius in pixels: {@link #KP_SIZE} at 256 pixels and above, less on smaller frames, at least 1.5. */
    static double radius(int h, int w) {
        return Math.max(1.5, KP_SIZE * Math.min(1.0, Math.min(h, w) / 256.0));
    }

    /** A copy of {@code image} with the keypoints drawn (skimage's {@code circle(y, x, kp_size)} discs). */
    static Tensor withKeypoints(Tensor image, Tensor kp) {
        int h = image.dim(2), w = image.dim(3), k = kp.dim(1);
        double r = radius(h, w);
        float[] out = image.toArray();
        for (int i = 0; i < k; i++) {
            double cx = w * (kp.get(2 * i) + 1) / 2, cy = h * (kp.get(2 * i + 1) + 1) / 2;
            double[] rgb = colour((double) i / k);
            for (int y = (int) Math.floor(cy - r); y <= (int) Math.ceil(cy + r); y++) {
                for (int x = (int) Math.floor(cx - r); x <= (int) Math.ceil(cx + r); x++) {
                    if (y < 0 || y >= h || x < 0 || x >= w || (x - cx) * (x - cx) + (y - cy) * (y - cy) >= r * r) {
                        continue;
                    }
                    for (int c = 0; c < 3; c++) {
                        out[(c * h + y) * w + x] = (float) rgb[c];
                    }
                }
            }
        }
        return Tensor.of(out, 1, 3, h, w);
    }
}
