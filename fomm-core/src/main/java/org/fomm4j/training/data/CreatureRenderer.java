package org.fomm4j.training.data;

/**
 * Draws a {@link Creature} in a pose of its {@link CreatureMotion}: anti-aliased shapes from signed
 * distances (coverage {@code clamp(0.5 - d / pixel)}), painted back to front (background, legs, body, arms,
 * neck, head, eyes). The body's stripes or spots are fixed to the body, so they move with it.
 *
 * <p>Frames are {@code [3, H, W]} RGB in {@code [0, 1]}. {@link #joints} gives the 10 ground-truth points of
 * the same pose, {@code (x, y)} in {@code [-1, 1]} (pixel centres {@code 2 i / (n - 1) - 1}, as keypoints):
 * body centre, head centre, the 4 elbows and knees, the 4 hands and feet.
 */
public final class CreatureRenderer {
    public static final int JOINTS = 10;
    private static final float[] EYE_WHITE = {0.98f, 0.98f, 0.98f};
    private static final float[] PUPIL = {0.05f, 0.05f, 0.08f};

    private CreatureRenderer() {
    }

    /** The skeleton of a pose: {@code [body, neck top, head, 4 x (root, middle, end)]} points, {@code (x, y)}. */
    private static double[][] skeleton(Creature c, double[] pose) {
        double cx = pose[0], cy = pose[1], s = pose[2], tilt = pose[3];
        double cos = Math.cos(tilt), sin = Math.sin(tilt);
        double[][] pts = new double[3 + 12][];
        pts[0] = new double[] {cx, cy};
        // Body-frame offsets rotated by the tilt and scaled; y grows downwards.
        pts[1] = local(cx, cy, s, cos, sin, 0, -c.bodyRy() * 0.8);
        double headAngle = tilt + pose[4] * 0.5;
        double hx = pts[1][0] + Math.sin(headAngle) * s * (c.neck() + c.headRadius()) * 1.2;
        double hy = pts[1][1] - Math.cos(headAngle) * s * (c.neck() + c.headRadius()) * 1.2;
        pts[2] = new double[] {hx, hy};
        double[][] roots = {
                {-c.bodyRx() * 0.85, -c.bodyRy() * 0.45}, {c.bodyRx() * 0.85, -c.bodyRy() * 0.45},
                {-c.bodyRx() * 0.55, c.bodyRy() * 0.8}, {c.bodyRx() * 0.55, c.bodyRy() * 0.8}};
        for (int l = 0; l < 4; l++) {
            double[] root = local(cx, cy, s, cos, sin, roots[l][0], roots[l][1]);
            // Angle 0 points straight down; positive turns towards +x.
            double a1 = tilt + pose[5 + 2 * l], a2 = a1 + pose[6 + 2 * l];
            double[] mid = {root[0] + Math.sin(a1) * s * c.upper()[l], root[1] + Math.cos(a1) * s * c.upper()[l]};
            double[] end = {mid[0] + Math.sin(a2) * s * c.lower()[l], mid[1] + Math.cos(a2) * s * c.lower()[l]};
            pts[3 + 3 * l] = root;
            pts[4 + 3 * l] = mid;
            pts[5 + 3 * l] = end;
        }
        return pts;
    }

    private static double[] local(double cx, double cy, double s, double cos, double sin, double x, double y) {
        return new double[] {cx + s * (cos * x - sin * y), cy + s * (sin * x + cos * y)};
    }

    /** The 10 ground-truth joints of a pose: {@code [10 * 2]}, {@code (x, y)}. */
    public static float[] joints(Creature c, double[] pose) {
        double[][] p = skeleton(c, pose);
        int[] order = {0, 2, 4, 7, 10, 13, 5, 8, 11, 14};
        float[] j = new float[2 * JOINTS];
        for (int i = 0; i < JOINTS; i++) {
            j[2 * i] = (float) p[order[i]][0];
            j[2 * i + 1] = (float) p[order[i]][1];
        }
        return j;
    }

    /** Renders one frame, {@code [3, height, width]} in {@code [0, 1]}, into {@code out} at {@code offset}. */
    public static void render(Creature c, double[] pose, int height, int width, float[] out, int offset) {
        double[][] p = skeleton(c, pose);
        double s = pose[2], tilt = pose[3];
        double cos = Math.cos(tilt), sin = Math.sin(tilt);
        double pixel = 2.0 / Math.min(width, height);
        int plane = height * width;
        double bgCos = Math.cos(c.backgroundAngle()), bgSin = Math.sin(c.backgroundAngle());
        float[] rgb = new float[3];
        // Everything below that does not depend on the pixel is computed once per frame (it was once per
        // pixel: Math.atan2 alone took 3.5% of a training step's profile); the values are the same doubles.
        double patternCos = Math.cos(c.patternAngle()), patternSin = Math.sin(c.patternAngle());
        double hr = c.headRadius() * s;
        double ha = Math.atan2(p[2][0] - p[1][0], -(p[2][1] - p[1][1]));
        double haCos = Math.cos(ha), haSin = Math.sin(ha);
        double[] eyeX = new double[2], eyeY = new double[2];
        for (int e = 0, side = -1; side <= 1; side += 2, e++) {
            eyeX[e] = p[2][0] + haCos * side * hr * 0.4 + haSin * hr * 0.25;
            eyeY[e] = p[2][1] + haSin * side * hr * 0.4 - haCos * hr * 0.25;
        }
        for (int yi = 0; yi < height; yi++) {
            double y = 2.0 * yi / (height - 1) - 1;
            for (int xi = 0; xi < width; xi++) {
                double x = 2.0 * xi / (width - 1) - 1;
                // Background: a linear gradient with soft blobs.
                double g = 0.5 + 0.5 * (x * bgCos + y * bgSin) * 0.7;
                for (int k = 0; k < 3; k++) {
                    rgb[k] = (float) (c.background0()[k] * (1 - g) + c.background1()[k] * g);
                }
                for (float[] b : c.blobs()) {
                    double d2 = ((x - b[0]) * (x - b[0]) + (y - b[1]) * (y - b[1])) / (b[2] * b[2]);
                    float a = (float) (0.35 * Math.exp(-d2));
                    for (int k = 0; k < 3; k++) {
                        rgb[k] += a * (0.3f + 0.5f * b[3 + k] - rgb[k]);
                    }
                }
                // Legs behind the body.
                for (int l = 2; l < 4; l++) {
                    limb(c, p, l, s, x, y, pixel, rgb);
                }
                // Body: an ellipse in the body frame, with its pattern.
                double lx = cos * (x - p[0][0]) + sin * (y - p[0][1]);
                double ly = -sin * (x - p[0][0]) + cos * (y - p[0][1]);
                double rx = c.bodyRx() * s, ry = c.bodyRy() * s;
                double e = Math.sqrt(lx * lx / (rx * rx) + ly * ly / (ry * ry));
                double dBody = (e - 1) * Math.min(rx, ry);
                double cov = coverage(dBody, pixel);
                if (cov > 0) {
                    double u = (lx * patternCos + ly * patternSin) / s;
                    double pat;
                    if (c.spots()) {
                        double v = (-lx * patternSin + ly * patternCos) / s;
                        pat = Math.max(0, Math.sin(u * c.patternFrequency()) * Math.sin(v * c.patternFrequency()));
                        pat = pat > 0.5 ? 1 : pat * 2;
                    } else {
                        pat = 0.5 + 0.5 * Math.sin(u * c.patternFrequency());
                    }
                    for (int k = 0; k < 3; k++) {
                        float col = (float) (c.bodyColor()[k] * (1 - 0.6 * pat) + c.patternColor()[k] * 0.6 * pat);
                        rgb[k] += (float) cov * (col - rgb[k]);
                    }
                }
                for (int l = 0; l < 2; l++) {
                    limb(c, p, l, s, x, y, pixel, rgb);
                }
                // Neck and head, with two eyes looking along the head's direction.
                paint(rgb, c.headColor(), coverage(capsule(x, y, p[1], p[2], c.headRadius() * s * 0.45), pixel));
                paint(rgb, c.headColor(), coverage(hypot(x - p[2][0], y - p[2][1]) - hr, pixel));
                for (int eye = 0; eye < 2; eye++) {
                    paint(rgb, EYE_WHITE, coverage(hypot(x - eyeX[eye], y - eyeY[eye]) - hr * 0.28, pixel));
                    paint(rgb, PUPIL, coverage(hypot(x - eyeX[eye], y - eyeY[eye]) - hr * 0.14, pixel));
                }
                int o = yi * width + xi;
                for (int k = 0; k < 3; k++) {
                    out[offset + k * plane + o] = Math.min(1f, Math.max(0f, rgb[k]));
                }
            }
        }
    }

    private static void limb(Creature c, double[][] p, int l, double s, double x, double y, double pixel, float[] rgb) {
        double th = c.thickness()[l] * s;
        double d = Math.min(capsule(x, y, p[3 + 3 * l], p[4 + 3 * l], th), capsule(x, y, p[4 + 3 * l], p[5 + 3 * l], th * 0.85));
        paint(rgb, c.limbColor(), coverage(d, pixel));
        // A darker hand or foot marks the end of the limb.
        double dEnd = hypot(x - p[5 + 3 * l][0], y - p[5 + 3 * l][1]) - th * 1.25;
        float[] dark = {c.limbColor()[0] * 0.45f, c.limbColor()[1] * 0.45f, c.limbColor()[2] * 0.45f};
        paint(rgb, dark, coverage(dEnd, pixel));
    }

    private static double hypot(double x, double y) {
        return Math.sqrt(x * x + y * y);
    }

    private static void paint(float[] rgb, float[] color, double cov) {
        if (cov > 0) {
            for (int k = 0; k < 3; k++) {
                rgb[k] += (float) cov * (color[k] - rgb[k]);
            }
        }
    }

    private static double coverage(double d, double pixel) {
        return Math.min(1, Math.max(0, 0.5 - d / pixel));
    }

    /** Signed distance to a segment thickened by {@code radius}. */
    private static double capsule(double x, double y, double[] a, double[] b, double radius) {
        double vx = b[0] - a[0], vy = b[1] - a[1];
        double len2 = vx * vx + vy * vy;
        double t = len2 == 0 ? 0 : Math.max(0, Math.min(1, ((x - a[0]) * vx + (y - a[1]) * vy) / len2));
        return hypot(x - a[0] - t * vx, y - a[1] - t * vy) - radius;
    }
}
