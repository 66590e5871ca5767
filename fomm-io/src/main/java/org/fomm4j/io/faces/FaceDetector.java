package org.fomm4j.io.faces;

import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.fomm4j.io.media.Images;

/**
 * Frontal faces in an image, with OpenCV's Haar cascade ({@code haarcascade_frontalface_default.xml},
 * shipped in the jar) evaluated by {@link HaarCascade}, as {@code cv::CascadeClassifier::detectMultiScale}
 * does: the grey image ({@code 0.299 R + 0.587 G + 0.114 B}) is shrunk by {@value #SCALE_STEP} per level,
 * the 24x24 window slides with a step of 2 pixels (1 once the image is shrunk more than 2x), and the
 * hits are grouped ({@code groupRectangles}: neighbours within 20% of their size, at least
 * {@value #MIN_NEIGHBORS} + 1 per face). Images are first shrunk to at most {@value #MAX_SIDE} pixels a
 * side; boxes are in the input image's pixels.
 */
public final class FaceDetector {
    /** A face: its box in pixels of the image searched, and how many windows voted for it. */
    public record Face(int x, int y, int width, int height, int votes) {
        public double centerX() {
            return x + width / 2.0;
        }

        public double centerY() {
            return y + height / 2.0;
        }
    }

    static final double SCALE_STEP = 1.1;
    static final int MIN_NEIGHBORS = 3;
    static final int MAX_SIDE = 640;
    private final HaarCascade cascade;

    public FaceDetector() {
        this.cascade = HaarCascade.frontalFace();
    }

    /** Faces at least {@code minSide} pixels wide (of {@code img}), largest first. */
    public List<Face> detect(BufferedImage img, int minSide) {
        int w0 = img.getWidth(), h0 = img.getHeight();
        double shrink = Math.max(1.0, Math.max(w0, h0) / (double) MAX_SIDE);
        int w = Math.max(1, (int) Math.round(w0 / shrink)), h = Math.max(1, (int) Math.round(h0 / shrink));
        float[] grey = grey(img, w, h);
        List<int[]> hits = new ArrayList<>();
        for (double factor = 1; ; factor *= SCALE_STEP) {
            int sw = (int) Math.round(w / factor), sh = (int) Math.round(h / factor);
            if (sw < cascade.width || sh < cascade.height) {
                break;
            }
            if (cascade.width * factor * shrink < minSide) {
                continue;
            }
            float[] level = Images.resize(grey, h, w, sh, sw);
            int stride = sw + 1;
            double[] sum = new double[stride * (sh + 1)], sq = new double[stride * (sh + 1)];
            for (int y = 0; y < sh; y++) {
                double row = 0, rowSq = 0;
                for (int x = 0; x < sw; x++) {
                    double v = level[y * sw + x];
                    row += v;
                    rowSq += v * v;
                    sum[(y + 1) * stride + x + 1] = sum[y * stride + x + 1] + row;
                    sq[(y + 1) * stride + x + 1] = sq[y * stride + x + 1] + rowSq;
                }
            }
            int step = factor > 2 ? 1 : 2;
            final double f = factor;
            List<int[]> levelHits = java.util.Collections.synchronizedList(new ArrayList<>());
            int rows = (sh - cascade.height) / step + 1;
            org.fomm4j.kernels.Parallel.forEach(rows, ry -> {
                int y = ry * step;
                for (int x = 0; x + cascade.width <= sw; x += step) {
                    if (cascade.accepts(sum, sq, stride, x, y)) {
                        levelHits.add(new int[] {(int) Math.round(x * f), (int) Math.round(y * f),
                            (int) Math.round(cascade.width * f), (int) Math.round(cascade.height * f)});
                    }
                }
            });
            hits.addAll(levelHits);
        }
        List<Face> faces = new ArrayList<>();
        for (Face g : group(hits)) {
            faces.add(new Face((int) Math.round(g.x() * shrink), (int) Math.round(g.y() * shrink), (int) Math.round(g.width() * shrink),
                    (int) Math.round(g.height() * shrink), g.votes()));
        }
        faces.sort(Comparator.comparingInt((Face a) -> a.width() * a.height()).reversed());
        return faces;
    }

    /** OpenCV's {@code groupRectangles(rects, MIN_NEIGHBORS, 0.2)}: clusters of similar boxes, averaged. */
    static List<Face> group(List<int[]> rects) {
        int n = rects.size();
        int[] label = new int[n];
        java.util.Arrays.fill(label, -1);
        int classes = 0;
        for (int i = 0; i < n; i++) {
            if (label[i] >= 0) {
                continue;
            }
            label[i] = classes;
            java.util.ArrayDeque<Integer> todo = new java.util.ArrayDeque<>(List.of(i));
            while (!todo.isEmpty()) {
                int a = todo.pop();
                for (int j = 0; j < n; j++) {
                    if (label[j] < 0 && similar(rects.get(a), rects.get(j))) {
                        label[j] = classes;
                        todo.push(j);
                    }
                }
            }
            classes++;
        }
        double[][] acc = new double[classes][4];
        int[] count = new int[classes];
        for (int i = 0; i < n; i++) {
            int[] r = rects.get(i);
            for (int k = 0; k < 4; k++) {
                acc[label[i]][k] += r[k];
            }
            count[label[i]]++;
        }
        List<Face> out = new ArrayList<>();
        for (int c = 0; c < classes; c++) {
            if (count[c] <= MIN_NEIGHBORS) {
                continue;
            }
            out.add(new Face((int) Math.round(acc[c][0] / count[c]), (int) Math.round(acc[c][1] / count[c]),
                    (int) Math.round(acc[c][2] / count[c]), (int) Math.round(acc[c][3] / count[c]), count[c]));
        }
        // Drop a face inside a larger one with more votes (OpenCV's final filter).
        List<Face> kept = new ArrayList<>();
        for (Face a : out) {
            boolean inside = false;
            for (Face b : out) {
                if (a == b || b.votes() < Math.max(3, a.votes())) {
                    continue;
                }
                int dx = (int) Math.round(b.width() * 0.2), dy = (int) Math.round(b.height() * 0.2);
                if (a.x() >= b.x() - dx && a.y() >= b.y() - dy && a.x() + a.width() <= b.x() + b.width() + dx
                        && a.y() + a.height() <= b.y() + b.height() + dy) {
                    inside = true;
                    break;
                }
            }
            if (!inside) {
                kept.add(a);
            }
        }
        return kept;
    }

    private static boolean similar(int[] a, int[] b) {
        double delta = 0.2 * (Math.min(a[2], b[2]) + Math.min(a[3], b[3])) * 0.5;
        return Math.abs(a[0] - b[0]) <= delta && Math.abs(a[1] - b[1]) <= delta
                && Math.abs(a[0] + a[2] - b[0] - b[2]) <= delta && Math.abs(a[1] + a[3] - b[1] - b[3]) <= delta;
    }

    /** Grey levels 0..255 of {@code img}, resized to {@code w x h} as model inputs are ({@link Images#resize}). */
    private static float[] grey(BufferedImage img, int w, int h) {
        int w0 = img.getWidth(), h0 = img.getHeight();
        int[] rgb = img.getRGB(0, 0, w0, h0, null, 0, w0);
        float[] full = new float[w0 * h0];
        for (int i = 0; i < full.length; i++) {
            int p = rgb[i];
            full[i] = (float) (0.299 * (p >> 16 & 255) + 0.587 * (p >> 8 & 255) + 0.114 * (p & 255));
        }
        return w == w0 && h == h0 ? full : Images.resize(full, h0, w0, h, w);
    }
}
