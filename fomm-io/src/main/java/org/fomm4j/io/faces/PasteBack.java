package org.fomm4j.io.faces;

import java.awt.Rectangle;
import java.awt.image.BufferedImage;
import org.fomm4j.io.media.Images;
import org.fomm4j.tensor.Tensor;

/**
 * The animated face put back into the whole photo it was cut from: each prediction is resized to the
 * crop box and blended in with a feathered mask (1 in the middle, falling smoothly to 0 over the outer
 * {@value #FEATHER} of the box on each side), so the output is the whole picture moving and every pixel
 * outside the box is the photo's own. Photos larger than {@value #MAX_SIDE} pixels a side are shrunk to
 * that first (the video would be unwieldy otherwise); the box shrinks with them.
 */
public final class PasteBack {
    static final double FEATHER = 0.12;
    public static final int MAX_SIDE = 1920;
    private final float[] photo;
    private final int width;
    private final int height;
    private final Rectangle box;
    private final float[] mask;

    /** @param crop the crop box in {@code photo}'s pixels ({@link FaceCrop#forImage}) */
    public PasteBack(BufferedImage photo, Rectangle crop) {
        double s = Math.min(1.0, MAX_SIDE / (double) Math.max(photo.getWidth(), photo.getHeight()));
        // Even sizes: H.264 4:2:0 needs them.
        this.width = Math.max(2, (int) Math.round(photo.getWidth() * s) & ~1);
        this.height = Math.max(2, (int) Math.round(photo.getHeight() * s) & ~1);
        this.photo = Images.toTensor(photo, height, width).data();
        int x0 = (int) Math.round(crop.x * s), y0 = (int) Math.round(crop.y * s);
        int x1 = Math.min(width, (int) Math.round((crop.x + crop.width) * s)), y1 = Math.min(height, (int) Math.round((crop.y + crop.height) * s));
        this.box = new Rectangle(x0, y0, Math.max(1, x1 - x0), Math.max(1, y1 - y0));
        this.mask = new float[box.width * box.height];
        double fx = Math.max(1, FEATHER * box.width), fy = Math.max(1, FEATHER * box.height);
        for (int y = 0; y < box.height; y++) {
            double my = ramp(Math.min(y + 0.5, box.height - y - 0.5) / fy);
            for (int x = 0; x < box.width; x++) {
                double mx = ramp(Math.min(x + 0.5, box.width - x - 0.5) / fx);
                mask[y * box.width + x] = (float) (mx * my);
            }
        }
    }

    private static double ramp(double t) {
        t = Math.max(0, Math.min(1, t));
        return t * t * (3 - 2 * t);
    }

    public int width() {
        return width;
    }

    public int height() {
        return height;
    }

    /** The crop box in the output's pixels. */
    public Rectangle box() {
        return box;
    }

    /**
     * The photo with {@code prediction} ({@code [1, 3, h, w]} in {@code [0, 1]}) blended into the box.
     *
     * @return {@code [1, 3, height, width]}
     */
    public Tensor compose(Tensor prediction) {
        int plane = width * height;
        int ph = prediction.dim(2), pw = prediction.dim(3);
        float[] pred = prediction.toHeap().data(), out = photo.clone();
        for (int c = 0; c < 3; c++) {
            float[] face = Images.resize(java.util.Arrays.copyOfRange(pred, c * ph * pw, (c + 1) * ph * pw), ph, pw, box.height, box.width);
            for (int y = 0; y < box.height; y++) {
                for (int x = 0; x < box.width; x++) {
                    int o = c * plane + (box.y + y) * width + box.x + x;
                    float m = mask[y * box.width + x];
                    if (m > 0) {
                        out[o] = out[o] * (1 - m) + face[y * box.width + x] * m;
                    }
                }
            }
        }
        return Tensor.of(out, 1, 3, height, width);
    }
}
