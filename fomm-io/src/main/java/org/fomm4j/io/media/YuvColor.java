package org.fomm4j.io.media;

import java.awt.image.BufferedImage;
import org.jcodec.common.model.ColorSpace;
import org.jcodec.common.model.Picture;

/**
 * YCbCr 4:2:0 to and from RGB with the matrix and range a stream declares (BT.601 or BT.709; TV range
 * 16-235/16-240 or full range). JCodec pictures hold 8-bit samples shifted by -128.
 */
public final class YuvColor {
    /** Luma coefficients {@code Kr, Kb} of a matrix. */
    public enum Matrix {
        BT601(0.299, 0.114), BT709(0.2126, 0.0722);

        final double kr;
        final double kb;

        Matrix(double kr, double kb) {
            this.kr = kr;
            this.kb = kb;
        }

        /**
         * The matrix of H.264 {@code matrix_coefficients}; "unspecified" (2) is BT.709 for HD sizes and
         * BT.601 below, as players do.
         */
        public static Matrix of(int matrixCoefficients, int width, int height) {
            return switch (matrixCoefficients) {
                case 1 -> BT709;
                case 5, 6 -> BT601;
                default -> width >= 1280 || height >= 720 ? BT709 : BT601;
            };
        }
    }

    private YuvColor() {
    }

    /** Converts the cropped area of a decoded picture to RGB. */
    public static BufferedImage toRgb(Picture pic, Matrix m, boolean fullRange) {
        int w = pic.getCroppedWidth(), h = pic.getCroppedHeight();
        int x0 = pic.getCrop() == null ? 0 : pic.getCrop().getX(), y0 = pic.getCrop() == null ? 0 : pic.getCrop().getY();
        byte[] yp = pic.getPlaneData(0), up = pic.getPlaneData(1), vp = pic.getPlaneData(2);
        int yStride = pic.getPlaneWidth(0), cStride = pic.getPlaneWidth(1);
        double kr = m.kr, kb = m.kb, kg = 1 - kr - kb;
        double ys = fullRange ? 1.0 : 255.0 / 219.0, cs = fullRange ? 1.0 : 255.0 / 224.0, yo = fullRange ? 0 : 16;
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        // Written straight into the image's pixels (setRGB goes through the colour model per pixel), rows in parallel.
        int[] rgb = ((java.awt.image.DataBufferInt) img.getRaster().getDataBuffer()).getData();
        org.fomm4j.kernels.Parallel.forEach(h, y -> {
            for (int x = 0; x < w; x++) {
                int sx = x + x0, sy = y + y0;
                double yy = ((yp[sy * yStride + sx] + 128) - yo) * ys;
                int ci = (sy >> 1) * cStride + (sx >> 1);
                double cb = (up[ci]) * cs, cr = (vp[ci]) * cs;
                double r = yy + 2 * (1 - kr) * cr;
                double b = yy + 2 * (1 - kb) * cb;
                double g = (yy - kr * r - kb * b) / kg;
                rgb[y * w + x] = clamp(r) << 16 | clamp(g) << 8 | clamp(b);
            }
        });
        return img;
    }

    /** RGB to a 4:2:0 picture in BT.601 TV range (what decoders assume for an SD stream without colour info). */
    public static Picture fromRgb(int[] rgb, int w, int h) {
        int pw = (w + 1) & ~1, ph = (h + 1) & ~1;
        Picture pic = Picture.create(pw, ph, ColorSpace.YUV420J);
        byte[] yp = pic.getPlaneData(0), up = pic.getPlaneData(1), vp = pic.getPlaneData(2);
        double kr = Matrix.BT601.kr, kb = Matrix.BT601.kb, kg = 1 - kr - kb;
        double[] cbSum = new double[(pw / 2) * (ph / 2)], crSum = new double[cbSum.length];
        for (int y = 0; y < ph; y++) {
            for (int x = 0; x < pw; x++) {
                int p = rgb[Math.min(y, h - 1) * w + Math.min(x, w - 1)];
                double r = (p >> 16 & 0xff), g = (p >> 8 & 0xff), b = (p & 0xff);
                double yy = kr * r + kg * g + kb * b;
                yp[y * pw + x] = (byte) (clampInt(Math.round(16 + yy * 219.0 / 255.0)) - 128);
                int ci = (y >> 1) * (pw / 2) + (x >> 1);
                cbSum[ci] += (b - yy) / (2 * (1 - kb));
                crSum[ci] += (r - yy) / (2 * (1 - kr));
            }
        }
        for (int i = 0; i < cbSum.length; i++) {
            up[i] = (byte) (clampInt(Math.round(128 + cbSum[i] / 4 * 224.0 / 255.0)) - 128);
            vp[i] = (byte) (clampInt(Math.round(128 + crSum[i] / 4 * 224.0 / 255.0)) - 128);
        }
        return pic;
    }

    private static int clamp(double v) {
        return (int) Math.max(0, Math.min(255, Math.round(v)));
    }

    private static int clampInt(long v) {
        return (int) Math.max(0, Math.min(255, v));
    }
}
