package org.fomm4j.io.faces;

import java.awt.Rectangle;
import java.awt.image.BufferedImage;
import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.fomm4j.io.media.MediaException;

/**
 * dlib's face landmark predictor ({@code dlib::shape_predictor}: an ensemble of regression trees, Kazemi &amp;
 * Sullivan, CVPR 2014), read from dlib's own model files and evaluated by our code: e.g. the 68-point
 * iBUG model that Debian's {@code libdlib-data} installs as
 * {@code /usr/share/dlib/shape_predictor_68_face_landmarks.dat} (not shipped: 100 MB, and its training data
 * is licensed for non-commercial use only).
 *
 * <p>Evaluation as dlib's {@code shape_predictor::operator()}: start from the mean shape, and per cascade
 * level read the grey values at the level's pixels (placed relative to the current shape by the
 * similarity transform from the mean shape, in the face box's unit square), run every tree on differences
 * of pixel pairs and add their leaves to the shape. Reading is dlib's serialization (variable-length
 * integers, floats as mantissa and exponent); every count is checked against what the rest of the file
 * could hold, so a damaged file is an error, never a huge allocation.
 */
public final class ShapePredictor {
    /** The Debian location of the 68-point model. */
    public static final Path DEBIAN_68 = Path.of("/usr/share/dlib/shape_predictor_68_face_landmarks.dat");

    private final float[] initialShape;
    /** Per level, per tree: split pixel pairs, thresholds, leaf shape deltas. */
    private final int[][][] splitIdx1;
    private final int[][][] splitIdx2;
    private final float[][][] thresholds;
    private final float[][][][] leaves;
    private final int[][] anchors;
    private final float[][] deltas;

    private ShapePredictor(float[] initialShape, int[][][] s1, int[][][] s2, float[][][] th, float[][][][] leaves,
                           int[][] anchors, float[][] deltas) {
        this.initialShape = initialShape;
        this.splitIdx1 = s1;
        this.splitIdx2 = s2;
        this.thresholds = th;
        this.leaves = leaves;
        this.anchors = anchors;
        this.deltas = deltas;
    }

    /** Number of landmarks (68 for the iBUG model). */
    public int points() {
        return initialShape.length / 2;
    }

    /**
     * The model to use: {@code -Dfomm4j.landmarks=FILE}, else {@code $FOMM4J_LANDMARKS}, else Debian's
     * 68-point model if installed; {@code null} when there is none.
     */
    public static Path find() {
        String p = System.getProperty("fomm4j.landmarks");
        if (p == null || p.isBlank()) {
            p = System.getenv("FOMM4J_LANDMARKS");
        }
        if (p != null && !p.isBlank()) {
            return Path.of(p);
        }
        return Files.isRegularFile(DEBIAN_68) ? DEBIAN_68 : null;
    }

    /**
     * Reads a dlib shape predictor file.
     *
     * @throws MediaException if the file is missing, not a shape predictor, or damaged
     */
    public static ShapePredictor load(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new MediaException("landmark model " + file + " does not exist");
        }
        long size = Files.size(file);
        try (InputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
            Reader r = new Reader(in, size, file);
            if (r.integer() != 1) {
                throw new MediaException("landmark model " + file + " is not a dlib shape_predictor (version 1)");
            }
            float[] initial = r.floatMatrix();
            int parts = initial.length / 2;
            if (parts < 1 || initial.length % 2 != 0) {
                throw new MediaException("landmark model " + file + ": bad initial shape of " + initial.length + " values");
            }
            int levels = r.count(1);
            int[][][] s1 = new int[levels][][], s2 = new int[levels][][];
            float[][][] th = new float[levels][][];
            float[][][][] leaves = new float[levels][][][];
            for (int l = 0; l < levels; l++) {
                int trees = r.count(2);
                s1[l] = new int[trees][];
                s2[l] = new int[trees][];
                th[l] = new float[trees][];
                leaves[l] = new float[trees][][];
                for (int t = 0; t < trees; t++) {
                    int splits = r.count(3);
                    s1[l][t] = new int[splits];
                    s2[l][t] = new int[splits];
                    th[l][t] = new float[splits];
                    for (int k = 0; k < splits; k++) {
                        s1[l][t][k] = r.index();
                        s2[l][t][k] = r.index();
                        th[l][t][k] = r.floating();
                    }
                    int n = r.count(2);
                    if (n != splits + 1) {
                        throw new MediaException("landmark model " + file + ": a tree with " + splits + " splits has " + n + " leaves");
                    }
                    leaves[l][t] = new float[n][];
                    for (int k = 0; k < n; k++) {
                        leaves[l][t][k] = r.floatMatrix();
                        if (leaves[l][t][k].length != initial.length) {
                            throw new MediaException("landmark model " + file + ": a leaf of " + leaves[l][t][k].length
                                    + " values for a shape of " + initial.length);
                        }
                    }
                }
            }
            int anchorLevels = r.count(1);
            int[][] anchors = new int[anchorLevels][];
            for (int l = 0; l < anchorLevels; l++) {
                anchors[l] = new int[r.count(1)];
                for (int k = 0; k < anchors[l].length; k++) {
                    anchors[l][k] = r.index();
                    if (anchors[l][k] >= parts) {
                        throw new MediaException("landmark model " + file + ": anchor " + anchors[l][k] + " of " + parts + " points");
                    }
                }
            }
            int deltaLevels = r.count(1);
            float[][] deltas = new float[deltaLevels][];
            for (int l = 0; l < deltaLevels; l++) {
                int n = r.count(2);
                deltas[l] = new float[2 * n];
                for (int k = 0; k < 2 * n; k++) {
                    deltas[l][k] = r.floating();
                }
            }
            if (anchorLevels != levels || deltaLevels != levels) {
                throw new MediaException("landmark model " + file + ": " + levels + " cascade levels but " + anchorLevels
                        + " anchor and " + deltaLevels + " delta lists");
            }
            for (int l = 0; l < levels; l++) {
                int pixels = anchors[l].length;
                if (deltas[l].length != 2 * pixels) {
                    throw new MediaException("landmark model " + file + ": level " + l + " has " + pixels + " anchors and "
                            + deltas[l].length / 2 + " deltas");
                }
                for (int t = 0; t < s1[l].length; t++) {
                    for (int k = 0; k < s1[l][t].length; k++) {
                        if (s1[l][t][k] >= pixels || s2[l][t][k] >= pixels) {
                            throw new MediaException("landmark model " + file + ": a split reads pixel "
                                    + Math.max(s1[l][t][k], s2[l][t][k]) + " of " + pixels);
                        }
                    }
                }
            }
            return new ShapePredictor(initial, s1, s2, th, leaves, anchors, deltas);
        } catch (EOFException e) {
            throw new MediaException("landmark model " + file + " is truncated");
        }
    }

    /**
     * The landmarks of the face in {@code box}: {@code [points * 2]}, {@code (x, y)} in pixels of {@code img}.
     */
    public float[] predict(BufferedImage img, Rectangle box) {
        int w = img.getWidth(), h = img.getHeight();
        int[] rgb = img.getRGB(0, 0, w, h, null, 0, w);
        // dlib's rectangle is inclusive: right = left + width - 1.
        double left = box.x, top = box.y, sx = box.width - 1, sy = box.height - 1;
        float[] shape = initialShape.clone();
        for (int l = 0; l < splitIdx1.length; l++) {
            // Similarity (rotation and scale) from the mean shape to the current one, least squares.
            double[] m = similarity(initialShape, shape);
            int n = anchors[l].length;
            float[] values = new float[n];
            for (int i = 0; i < n; i++) {
                double dx = deltas[l][2 * i], dy = deltas[l][2 * i + 1];
                double px = m[0] * dx + m[1] * dy + shape[2 * anchors[l][i]];
                double py = m[2] * dx + m[3] * dy + shape[2 * anchors[l][i] + 1];
                long x = (long) Math.floor(left + px * sx + 0.5), y = (long) Math.floor(top + py * sy + 0.5);
                if (x >= 0 && x < w && y >= 0 && y < h) {
                    int c = rgb[(int) y * w + (int) x];
                    values[i] = (((c >> 16) & 255) + ((c >> 8) & 255) + (c & 255)) / 3;
                }
            }
            for (int t = 0; t < splitIdx1[l].length; t++) {
                int[] a = splitIdx1[l][t], b = splitIdx2[l][t];
                float[] th = thresholds[l][t];
                int i = 0;
                while (i < a.length) {
                    i = values[a[i]] - values[b[i]] > th[i] ? 2 * i + 1 : 2 * i + 2;
                }
                float[] leaf = leaves[l][t][i - a.length];
                for (int k = 0; k < shape.length; k++) {
                    shape[k] += leaf[k];
                }
            }
        }
        float[] out = new float[shape.length];
        for (int k = 0; k < shape.length; k += 2) {
            out[k] = (float) (left + shape[k] * sx);
            out[k + 1] = (float) (top + shape[k + 1] * sy);
        }
        return out;
    }

    /** The linear part {@code [a, b; c, d]} of the least-squares similarity taking {@code from} to {@code to}. */
    static double[] similarity(float[] from, float[] to) {
        int n = from.length / 2;
        double fx = 0, fy = 0, tx = 0, ty = 0;
        for (int i = 0; i < n; i++) {
            fx += from[2 * i];
            fy += from[2 * i + 1];
            tx += to[2 * i];
            ty += to[2 * i + 1];
        }
        fx /= n;
        fy /= n;
        tx /= n;
        ty /= n;
        double re = 0, im = 0, norm = 0;
        for (int i = 0; i < n; i++) {
            double ax = from[2 * i] - fx, ay = from[2 * i + 1] - fy, bx = to[2 * i] - tx, by = to[2 * i + 1] - ty;
            // (b) * conj(a) as complex numbers: the rotation-and-scale a -> b.
            re += bx * ax + by * ay;
            im += by * ax - bx * ay;
            norm += ax * ax + ay * ay;
        }
        if (norm == 0) {
            return new double[] {1, 0, 0, 1};
        }
        re /= norm;
        im /= norm;
        return new double[] {re, -im, im, re};
    }

    /** dlib's serialization: integers as a control byte (length, 0x80 = negative) then little-endian bytes. */
    private static final class Reader {
        private final InputStream in;
        private final Path file;
        private long remaining;

        Reader(InputStream in, long size, Path file) {
            this.in = in;
            this.remaining = size;
            this.file = file;
        }

        private int read() throws IOException {
            int b = in.read();
            if (b < 0) {
                throw new EOFException();
            }
            remaining--;
            return b;
        }

        long integer() throws IOException {
            int control = read();
            int size = control & 0x0F;
            if (size == 0 || size > 8 || (control & 0x70) != 0) {
                throw new MediaException("landmark model " + file + " is damaged (bad integer at byte "
                        + Math.max(0, remaining) + " from the end)");
            }
            long v = 0;
            for (int i = 0; i < size; i++) {
                v |= (long) read() << (8 * i);
            }
            return (control & 0x80) != 0 ? -v : v;
        }

        /** A container length; each element takes at least {@code minBytes}, so it must fit the rest of the file. */
        int count(int minBytes) throws IOException {
            long n = integer();
            if (n < 0 || n * minBytes > remaining) {
                throw new MediaException("landmark model " + file + " is damaged (a list of " + n + " entries in "
                        + remaining + " remaining bytes)");
            }
            return (int) n;
        }

        int index() throws IOException {
            long v = integer();
            if (v < 0 || v > Integer.MAX_VALUE) {
                throw new MediaException("landmark model " + file + " is damaged (index " + v + ")");
            }
            return (int) v;
        }

        /** dlib's {@code float_details}: {@code mantissa * 2^exponent}. */
        float floating() throws IOException {
            long mantissa = integer();
            long exponent = integer();
            if (exponent >= 32000) {
                throw new MediaException("landmark model " + file + " holds a non-finite value");
            }
            return (float) (mantissa * Math.pow(2, exponent));
        }

        /** A column vector {@code matrix<float,0,1>}: rows and columns (negated in the newer format), then values. */
        float[] floatMatrix() throws IOException {
            long nr = Math.abs(integer()), nc = Math.abs(integer());
            long n = nr * nc;
            if (nc != 1 || n * 2 > remaining) {
                throw new MediaException("landmark model " + file + " is damaged (a " + nr + "x" + nc + " shape vector)");
            }
            float[] v = new float[(int) n];
            for (int i = 0; i < n; i++) {
                v[i] = floating();
            }
            return v;
        }
    }
}
