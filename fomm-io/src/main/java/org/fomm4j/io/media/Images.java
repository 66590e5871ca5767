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

    /** Pixels above which an image is decoded subsampled (24 MP: a 6000x4000 photo is read whole). */
    public static final long MAX_PIXELS = 24_000_000L;

    /**
     * Reads a PNG, JPEG or GIF (anything ImageIO reads). The size is read from the header first: an image
     * over {@link #MAX_PIXELS} is decoded subsampled by the smallest integer step that brings it under
     * (every s-th pixel of every s-th row; the decoder streams the rest), never at full size, since the
     * models need 256x256. Such images are then resized from the subsampled pixels, which differs from
     * resizing the full image by the aliasing of the subsampling.
     *
     * @throws MediaException if the file is missing or not a readable image
     */
    public static BufferedImage read(Path path) throws IOException {
        if (!Files.isRegularFile(path)) {
            throw new MediaException("image " + path + " does not exist");
        }
        try (javax.imageio.stream.ImageInputStream in = ImageIO.createImageInputStream(path.toFile())) {
            java.util.Iterator<javax.imageio.ImageReader> readers = in == null ? null : ImageIO.getImageReaders(in);
            if (readers == null || !readers.hasNext()) {
                throw new MediaException("cannot read image " + path + ": not a PNG, JPEG or GIF image");
            }
            javax.imageio.ImageReader reader = readers.next();
            try {
                reader.setInput(in, true, true);
                long w = reader.getWidth(0), h = reader.getHeight(0);
                if (w <= 0 || h <= 0) {
                    throw new MediaException("cannot read image " + path + ": it is " + w + "x" + h);
                }
                javax.imageio.ImageReadParam param = reader.getDefaultReadParam();
                int step = subsampling(w, h);
                if (step > 1) {
                    param.setSourceSubsampling(step, step, 0, 0);
                }
                int[] cmyk = fourComponentJpeg(reader);
                if (cmyk != null) {
                    return cmykToRgb(reader.readRaster(0, param), cmyk[0] == 2, cmyk[1] == 1);
                }
                BufferedImage img = reader.read(0, param);
                if (img == null) {
                    throw new MediaException("cannot read image " + path + ": no image in it");
                }
                return img;
            } finally {
                reader.dispose();
            }
        } catch (MediaException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            throw new MediaException("cannot read image " + path + ": " + e.getMessage(), e);
        }
    }

    /**
     * For a JPEG with four components (CMYK or YCCK, as Photoshop writes them), {@code {transform, adobe}}:
     * the Adobe APP14 colour transform (0 CMYK, 2 YCCK) and whether an Adobe marker is there (its CMYK
     * is stored inverted); null for every other image. ImageIO decodes such files without converting
     * their colours (the washed-out picture users saw), so they are read as raw components.
     */
    private static int[] fourComponentJpeg(javax.imageio.ImageReader reader) throws IOException {
        if (!"jpeg".equalsIgnoreCase(reader.getFormatName())) {
            return null;
        }
        javax.imageio.metadata.IIOMetadata meta = reader.getImageMetadata(0);
        if (meta == null || !java.util.Arrays.asList(meta.getMetadataFormatNames()).contains("javax_imageio_jpeg_image_1.0")) {
            return null;
        }
        org.w3c.dom.Node root = meta.getAsTree("javax_imageio_jpeg_image_1.0");
        int components = -1, transform = -1;
        boolean adobe = false;
        for (org.w3c.dom.Node n : walk(root)) {
            if (n.getNodeName().equals("sof") && n.getAttributes().getNamedItem("numFrameComponents") != null) {
                components = Integer.parseInt(n.getAttributes().getNamedItem("numFrameComponents").getNodeValue());
            }
            if (n.getNodeName().equals("app14Adobe")) {
                adobe = true;
                org.w3c.dom.Node t = n.getAttributes().getNamedItem("transform");
                transform = t == null ? 0 : Integer.parseInt(t.getNodeValue());
            }
        }
        return components == 4 ? new int[] {transform, adobe ? 1 : 0} : null;
    }

    private static java.util.List<org.w3c.dom.Node> walk(org.w3c.dom.Node root) {
        java.util.List<org.w3c.dom.Node> out = new java.util.ArrayList<>();
        java.util.ArrayDeque<org.w3c.dom.Node> todo = new java.util.ArrayDeque<>(java.util.List.of(root));
        while (!todo.isEmpty()) {
            org.w3c.dom.Node n = todo.pop();
            out.add(n);
            for (org.w3c.dom.Node c = n.getFirstChild(); c != null; c = c.getNextSibling()) {
                todo.push(c);
            }
        }
        return out;
    }

    /**
     * Raw CMYK or YCCK components to RGB: YCCK's YCbCr is first turned into (inverted) CMY with the JFIF
     * equations, then {@code R = (1 - C)(1 - K)} with Adobe's inverted storage ({@code stored = 255 - ink}).
     */
    static BufferedImage cmykToRgb(java.awt.image.Raster r, boolean ycck, boolean inverted) {
        int w = r.getWidth(), h = r.getHeight();
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        int[] rgb = ((java.awt.image.DataBufferInt) img.getRaster().getDataBuffer()).getData();
        int[] px = new int[4];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                r.getPixel(r.getMinX() + x, r.getMinY() + y, px);
                double c = px[0], m = px[1], ye = px[2], k = px[3];
                if (ycck) {
                    double yy = px[0], cb = px[1] - 128.0, cr = px[2] - 128.0;
                    // JFIF YCbCr -> RGB gives the stored (inverted) C, M, Y.
                    c = clamp255(yy + 1.402 * cr);
                    m = clamp255(yy - 0.344136 * cb - 0.714136 * cr);
                    ye = clamp255(yy + 1.772 * cb);
                }
                if (!inverted && !ycck) {
                    c = 255 - c;
                    m = 255 - m;
                    ye = 255 - ye;
                    k = 255 - k;
                }
                // Stored values are now 255 - ink: R = (255 - C)(255 - K) / 255.
                int rr = (int) Math.round(c * k / 255.0), gg = (int) Math.round(m * k / 255.0), bb = (int) Math.round(ye * k / 255.0);
                rgb[y * w + x] = rr << 16 | gg << 8 | bb;
            }
        }
        return img;
    }

    private static double clamp255(double v) {
        return v < 0 ? 0 : v > 255 ? 255 : v;
    }

    /** The subsampling step that brings {@code w x h} under {@link #MAX_PIXELS}: 1 when it is already. */
    static int subsampling(long w, long h) {
        int step = 1;
        while (((w + step - 1) / step) * ((h + step - 1) / step) > MAX_PIXELS) {
            step++;
        }
        return step;
    }

    /** An RGB image as a {@code [1, 3, height, width]} tensor in {@code [0, 1]}, resized as the reference demo does. */
    public static Tensor toTensor(BufferedImage img, int height, int width) {
        int w = img.getWidth(), h = img.getHeight();
        // Decoded video frames are TYPE_INT_RGB: read their pixels directly (getRGB converts each one).
        int[] rgb = img.getType() == BufferedImage.TYPE_INT_RGB && img.getRaster().getDataBuffer() instanceof java.awt.image.DataBufferInt db
                && db.getNumBanks() == 1 && db.getData().length == w * h
                ? db.getData() : img.getRGB(0, 0, w, h, null, 0, w);
        float[] out = new float[3 * height * width];
        for (int c = 0; c < 3; c++) {
            int shift = 16 - 8 * c;
            // Channel values are read from the packed pixels where the filter needs them: no float copy of
            // the full-size image (24 MB a 1080p frame).
            Pixels channel = i -> (rgb[i] >> shift & 0xff) / 255f;
            float[] p = resize(channel, h, w, height, width);
            System.arraycopy(p, 0, out, c * height * width, height * width);
        }
        return Tensor.of(out, 1, 3, height, width);
    }

    /** One channel of an image, by pixel index {@code y * w + x}. */
    @FunctionalInterface
    interface Pixels {
        float at(int index);
    }

    /** One channel {@code h x w} to {@code oh x ow}, as {@link #toTensor} resizes. */
    public static float[] resize(float[] in, int h, int w, int oh, int ow) {
        return resize((Pixels) i -> in[i], h, w, oh, ow);
    }

    /**
     * One channel, {@code h x w} to {@code oh x ow}: the Gaussian pre-filter (along x, then y) followed by
     * bilinear sampling, as {@code skimage.transform.resize}. The blurred image is only computed where the
     * bilinear samples read it: along x at the at most {@code 2 ow} source columns they use (for every
     * row), then along y at the at most {@code 2 oh} source rows, so shrinking a 10000-pixel-wide photo
     * costs {@code O(h * ow * taps)} instead of {@code O(h * w * taps)}. Each value is the same double sum
     * in the same order as filtering the whole image (bit-identical to it). Rows in parallel.
     */
    static float[] resize(Pixels in, int h, int w, int oh, int ow) {
        double fy = (double) h / oh, fx = (double) w / ow;
        int[] xa = new int[ow], xb = new int[ow], ya = new int[oh], yb = new int[oh];
        double[] tx = new double[ow], ty = new double[oh];
        axis(fx, w, xa, xb, tx);
        axis(fy, h, ya, yb, ty);
        boolean shrink = fy > 1 || fx > 1;
        double[] kx = gaussian(shrink ? Math.max(0, (fx - 1) / 2) : 0);
        double[] ky = gaussian(shrink ? Math.max(0, (fy - 1) / 2) : 0);
        // The source columns and rows the samples read, and where each lands in the compact buffers.
        int[] colAt = new int[w], rowAt = new int[h];
        int[] cols = used(xa, xb, w, colAt), rows = used(ya, yb, h, rowAt);
        int nc = cols.length, rx = kx.length / 2, ry = ky.length / 2;
        // Along x at the used columns, for every row the y-filter reaches.
        float[] hx = new float[h * nc];
        boolean[] rowNeeded = new boolean[h];
        for (int r : rows) {
            for (int i = -ry; i <= ry; i++) {
                rowNeeded[mirror(r + i, h)] = true;
            }
        }
        org.fomm4j.kernels.Parallel.forEach(h, y -> {
            if (!rowNeeded[y]) {
                return;
            }
            for (int c = 0; c < nc; c++) {
                int x = cols[c];
                if (rx == 0) {
                    hx[y * nc + c] = in.at(y * w + x);
                    continue;
                }
                double sum = 0;
                if (x - rx >= 0 && x + rx < w) {
                    for (int i = -rx, at = y * w + x - rx; i <= rx; i++, at++) {
                        sum += kx[i + rx] * in.at(at);
                    }
                } else {
                    for (int i = -rx; i <= rx; i++) {
                        sum += kx[i + rx] * in.at(y * w + mirror(x + i, w));
                    }
                }
                hx[y * nc + c] = (float) sum;
            }
        });
        // Along y at the used rows.
        float[] b = new float[rows.length * nc];
        org.fomm4j.kernels.Parallel.forEach(rows.length, ri -> {
            int y = rows[ri];
            for (int c = 0; c < nc; c++) {
                if (ry == 0) {
                    b[ri * nc + c] = hx[y * nc + c];
                    continue;
                }
                double sum = 0;
                if (y - ry >= 0 && y + ry < h) {
                    for (int i = -ry, at = (y - ry) * nc + c; i <= ry; i++, at += nc) {
                        sum += ky[i + ry] * hx[at];
                    }
                } else {
                    for (int i = -ry; i <= ry; i++) {
                        sum += ky[i + ry] * hx[mirror(y + i, h) * nc + c];
                    }
                }
                b[ri * nc + c] = (float) sum;
            }
        });
        float[] out = new float[oh * ow];
        for (int oy = 0; oy < oh; oy++) {
            int ra = rowAt[ya[oy]] * nc, rb = rowAt[yb[oy]] * nc;
            double t = ty[oy];
            for (int ox = 0; ox < ow; ox++) {
                int ca = colAt[xa[ox]], cb = colAt[xb[ox]];
                double u = tx[ox];
                double v = (1 - t) * ((1 - u) * b[ra + ca] + u * b[ra + cb]) + t * ((1 - u) * b[rb + ca] + u * b[rb + cb]);
                out[oy * ow + ox] = (float) v;
            }
        }
        return out;
    }

    /** Bilinear sample positions {@code (o + 0.5) * f - 0.5} along one axis: the two mirrored neighbours and the weight. */
    private static void axis(double f, int n, int[] a, int[] b, double[] t) {
        for (int o = 0; o < a.length; o++) {
            double s = (o + 0.5) * f - 0.5;
            int i0 = (int) Math.floor(s);
            t[o] = s - i0;
            a[o] = mirror(i0, n);
            b[o] = mirror(i0 + 1, n);
        }
    }

    /** The sorted distinct indices of {@code a} and {@code b}; {@code at[i]} = position of index i among them. */
    private static int[] used(int[] a, int[] b, int n, int[] at) {
        boolean[] mark = new boolean[n];
        for (int i : a) {
            mark[i] = true;
        }
        for (int i : b) {
            mark[i] = true;
        }
        int count = 0;
        for (int i = 0; i < n; i++) {
            if (mark[i]) {
                at[i] = count++;
            }
        }
        int[] out = new int[count];
        for (int i = 0, k = 0; i < n; i++) {
            if (mark[i]) {
                out[k++] = i;
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
        if (sigma <= 0) {
            return new double[] {1};
        }
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
