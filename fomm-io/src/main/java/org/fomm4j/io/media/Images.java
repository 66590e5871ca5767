package org.fomm4j.io.media;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.fomm4j.tensor.Tensor;

/**
 * Images to and from model tensors. Resizing follows the reference demo's
 * {@code skimage.transform.resize(image, (H, W))}: when shrinking, a Gaussian pre-filter with
 * {@code sigma = (in / out - 1) / 2} per axis (truncated at 4 sigma, mirrored edges), then bilinear
 * sampling at {@code (o + 0.5) * in / out - 0.5}. Alpha is dropped, values are scaled to {@code [0, 1]}.
 */
public final class Images {
    private Images() {
    }

    /**
     * Reads a PNG or JPEG (anything ImageIO reads).
     *
     * @throws MediaException if the file is missing or not a readable image
     */
    public static BufferedImage read(Path path) throws IOException {
        if (!Files.isRegularFile(path)) {
            throw new MediaException("image " + path + " does not exist");
        }
        BufferedImage img;
        try {
            img = ImageIO.read(path.toFile());
        } catch (IOException | RuntimeException e) {
            throw new MediaException("cannot read image " + path + ": " + e.getMessage(), e);
        }
        if (img == null) {
            throw new MediaException("cannot read image " + path + ": not a PNG or JPEG image");
        }
        return img;
    }

    /** An RGB image as a {@code [1, 3, height, width]} tensor in {@code [0, 1]}, resized as the reference demo does. */
    public static Tensor toTensor(BufferedImage img, int height, int width) {
        int w = img.getWidth(), h = img.getHeight();
        int[] rgb = img.getRGB(0, 0, w, h, null, 0, w);
        float[][] planes = new float[3][w * h];
        for (int i = 0; i < w * h; i++) {
            planes[0][i] = (rgb[i] >> 16 & 0xff) / 255f;
            planes[1][i] = (rgb[i] >> 8 & 0xff) / 255f;
            planes[2][i] = (rgb[i] & 0xff) / 255f;
        }
        float[] out = new float[3 * height * width];
        for (int c = 0; c < 3; c++) {
            float[] p = h == height && w == width ? planes[c] : resize(planes[c], h, w, height, width);
            System.arraycopy(p, 0, out, c * height * width, height * width);
        }
        return Tensor.of(out, 1, 3, height, width);
    }

    /** One channel, {@code h x w} to {@code oh x ow}. */
    static float[] resize(float[] in, int h, int w, int oh, int ow) {
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
            int ya = mirror(y0, h), yb = mirror(y0 + 1, h);
            for (int ox = 0; ox < ow; ox++) {
                double sx = (ox + 0.5) * fx - 0.5;
                int x0 = (int) Math.floor(sx);
                double tx = sx - x0;
                int xa = mirror(x0, w), xb = mirror(x0 + 1, w);
                double v = (1 - ty) * ((1 - tx) * src[ya * w + xa] + tx * src[ya * w + xb])
                        + ty * ((1 - tx) * src[yb * w + xa] + tx * src[yb * w + xb]);
                out[oy * ow + ox] = (float) v;
            }
        }
        return out;
    }

    /** scipy's {@code mode='mirror'}: reflect about the edge samples (d c b | a b c d | c b a). */
    static int mirror(int i, int n) {
        if (n == 1) {
            return 0;
        }
        int period = 2 * (n - 1);
        i = Math.floorMod(i, period);
        return i < n ? i : period - i;
    }

    static double[] gaussian(double sigma) {
        int radius = (int) (4.0 * sigma + 0.5);
        double[] k = new double[2 * radius + 1];
        double sum = 0;
        for (int i = -radius; i <= radius; i++) {
            k[i + radius] = Math.exp(-0.5 * i * i / (sigma * sigma));
            sum += k[i + radius];
        }
        for (int i = 0; i < k.length; i++) {
            k[i] /= sum;
        }
        return k;
    }

    /** Gaussian filter along rows ({@code alongX}) or columns, mirrored edges. */
    private static float[] blur(float[] in, int h, int w, double sigma, boolean alongX) {
        if (sigma <= 0) {
            return in;
        }
        double[] k = gaussian(sigma);
        int r = k.length / 2;
        float[] out = new float[in.length];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                double s = 0;
                for (int i = -r; i <= r; i++) {
                    s += k[i + r] * (alongX ? in[y * w + mirror(x + i, w)] : in[mirror(y + i, h) * w + x]);
                }
                out[y * w + x] = (float) s;
            }
        }
        return out;
    }

    /** A {@code [1, 3, H, W]} tensor in {@code [0, 1]} as packed RGB ints, {@code round(v * 255)} clamped. */
    public static int[] toRgb(Tensor t) {
        int h = t.dim(2), w = t.dim(3), hw = h * w;
        int[] rgb = new int[hw];
        for (int i = 0; i < hw; i++) {
            rgb[i] = byteOf(t.get(i)) << 16 | byteOf(t.get(hw + i)) << 8 | byteOf(t.get(2 * hw + i));
        }
        return rgb;
    }

    public static BufferedImage toImage(Tensor t) {
        int h = t.dim(2), w = t.dim(3);
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        img.setRGB(0, 0, w, h, toRgb(t), 0, w);
        return img;
    }

    private static int byteOf(float v) {
        return Math.max(0, Math.min(255, Math.round(v * 255f)));
    }
}
