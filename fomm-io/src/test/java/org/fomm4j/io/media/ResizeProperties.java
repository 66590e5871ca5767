package org.fomm4j.io.media;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

/**
 * The resize that filters only where the samples read equals, bit for bit, the direct transcription of
 * {@code skimage.transform.resize} below (Gaussian pre-filter over the whole image along x then y,
 * mirrored edges, then bilinear sampling), shrinking and enlarging, on odd sizes.
 */
class ResizeProperties {
    @Property(tries = 200)
    void matchesFilteringTheWholeImage(@ForAll @IntRange(min = 1, max = 90) int h, @ForAll @IntRange(min = 1, max = 90) int w,
                                       @ForAll @IntRange(min = 1, max = 40) int oh, @ForAll @IntRange(min = 1, max = 40) int ow,
                                       @ForAll long seed) {
        Random r = new Random(seed);
        float[] in = new float[h * w];
        for (int i = 0; i < in.length; i++) {
            in[i] = r.nextFloat();
        }
        assertArrayEquals(reference(in, h, w, oh, ow), Images.resize(in, h, w, oh, ow));
    }

    /** skimage's resize, filtering every pixel (the previous implementation, kept as the reference). */
    static float[] reference(float[] in, int h, int w, int oh, int ow) {
        double fy = (double) h / oh, fx = (double) w / ow;
        float[] src = in;
        if (fy > 1 || fx > 1) {
            src = blur(in, h, w, Math.max(0, (fx - 1) / 2), true);
            src = blur(src, h, w, Math.max(0, (fy - 1) / 2), false);
        }
        float[] out = new float[oh * ow];
        for (int oy = 0; oy < oh; oy++) {
            double sy = (oy + 0.5) * fy - 0.5;
            int y0 = (int) Math.floor(sy);
            double ty = sy - y0;
            int ya = Images.mirror(y0, h), yb = Images.mirror(y0 + 1, h);
            for (int ox = 0; ox < ow; ox++) {
                double sx = (ox + 0.5) * fx - 0.5;
                int x0 = (int) Math.floor(sx);
                double tx = sx - x0;
                int xa = Images.mirror(x0, w), xb = Images.mirror(x0 + 1, w);
                double v = (1 - ty) * ((1 - tx) * src[ya * w + xa] + tx * src[ya * w + xb])
                        + ty * ((1 - tx) * src[yb * w + xa] + tx * src[yb * w + xb]);
                out[oy * ow + ox] = (float) v;
            }
        }
        return out;
    }

    private static float[] blur(float[] in, int h, int w, double sigma, boolean alongX) {
        if (sigma <= 0) {
            return in;
        }
        double[] k = Images.gaussian(sigma);
        int r = k.length / 2;
        float[] out = new float[in.length];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                double s = 0;
                for (int i = -r; i <= r; i++) {
                    s += k[i + r] * (alongX ? in[y * w + Images.mirror(x + i, w)] : in[Images.mirror(y + i, h) * w + x]);
                }
                out[y * w + x] = (float) s;
            }
        }
        return out;
    }
}
