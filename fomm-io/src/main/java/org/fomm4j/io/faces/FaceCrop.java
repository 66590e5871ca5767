package org.fomm4j.io.faces;

import java.awt.Rectangle;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.fomm4j.io.media.MediaException;
import org.fomm4j.io.media.VideoSource;

/**
 * The crops the pretrained face models expect (one face, centred, as VoxCeleb was cut), done for the user
 * as the reference {@code crop-video.py} tells them to: the face's box (for a video, the union of the
 * boxes over the video: one stable crop) grown by {@code increaseArea} on each side and made square by
 * growing the shorter side ({@code compute_bbox} of the reference), clipped to the frame.
 */
public final class FaceCrop {
    /** The reference's default margin ({@code --increase} of crop-video.py). */
    public static final double INCREASE_AREA = 0.1;
    /** Frames of a video searched for faces: every {@code n}-th, at most this many. */
    static final int MAX_SAMPLES = 40;

    private FaceCrop() {
    }

    /**
     * The crop around the largest face of {@code img}.
     *
     * @throws MediaException naming {@code what} when no face is found
     */
    public static Rectangle forImage(BufferedImage img, String what, FaceDetector detector) throws MediaException {
        List<FaceDetector.Face> faces = detector.detect(img, Math.max(24, Math.min(img.getWidth(), img.getHeight()) / 10));
        if (faces.isEmpty()) {
            throw new MediaException("no face found in " + what + " (the face models need one frontal face; crop it by hand"
                    + " or animate without --crop)");
        }
        FaceDetector.Face f = faces.get(0);
        return expand(new Rectangle(f.x(), f.y(), f.width(), f.height()), img.getWidth(), img.getHeight(), INCREASE_AREA);
    }

    /**
     * The crops of a video, one per shot: shot {@code i} starts at frame {@code starts[i]} and is cut to
     * {@code boxes[i]}.
     */
    public record Shots(int[] starts, Rectangle[] boxes) {
        /** The crop of frame {@code frame}. */
        public Rectangle at(int frame) {
            int i = 0;
            while (i + 1 < starts.length && starts[i + 1] <= frame) {
                i++;
            }
            return boxes[i];
        }

        public int count() {
            return starts.length;
        }
    }

    /** A scene cut: the mean absolute difference of 16x16 thumbnails of consecutive frames above this. */
    static final double CUT = 0.18;

    /**
     * One stable crop per shot, as {@code crop-video.py} does per scene: the video is split where the
     * picture changes abruptly (a cut: {@value #CUT} mean difference of consecutive thumbnails) or where the
     * face jumps (two consecutive sampled face boxes that do not overlap); each shot's crop is the union of
     * the largest face's boxes in up to {@value #MAX_SAMPLES} evenly spaced frames of the video that fall in
     * it, expanded as {@link #expand}. A shot where no sampled frame has a face takes the previous shot's crop
     * (the next one's for the first shot).
     *
     * @throws MediaException when no sampled frame has a face (names the video and the frames searched)
     */
    public static Shots forVideoShots(Path video, FaceDetector detector) throws IOException {
        long count;
        try (VideoSource v = VideoSource.open(video)) {
            count = v.frameCount();
        }
        int every = count > 0 ? (int) Math.max(1, (count + MAX_SAMPLES - 1) / MAX_SAMPLES) : 5;
        List<Integer> starts = new java.util.ArrayList<>();
        List<Rectangle> unions = new java.util.ArrayList<>();
        starts.add(0);
        unions.add(null);
        Rectangle lastFace = null;
        float[] lastThumb = null;
        int w = 0, h = 0, searched = 0, i = 0;
        try (VideoSource v = VideoSource.open(video)) {
            for (BufferedImage f = v.next(); f != null; f = v.next(), i++) {
                float[] thumb = thumbnail(f);
                if (lastThumb != null && meanAbs(thumb, lastThumb) > CUT && i > starts.get(starts.size() - 1)) {
                    starts.add(i);
                    unions.add(null);
                    lastFace = null;
                }
                lastThumb = thumb;
                if (i % every != 0) {
                    continue;
                }
                w = f.getWidth();
                h = f.getHeight();
                searched++;
                List<FaceDetector.Face> faces = detector.detect(f, Math.max(24, Math.min(w, h) / 10));
                if (!faces.isEmpty()) {
                    FaceDetector.Face face = faces.get(0);
                    Rectangle r = new Rectangle(face.x(), face.y(), face.width(), face.height());
                    if (lastFace != null && !lastFace.intersects(r) && i > starts.get(starts.size() - 1)) {
                        starts.add(i);
                        unions.add(null);
                    }
                    int last = unions.size() - 1;
                    unions.set(last, unions.get(last) == null ? r : unions.get(last).union(r));
                    lastFace = r;
                }
            }
        }
        Rectangle any = unions.stream().filter(java.util.Objects::nonNull).findFirst().orElse(null);
        if (any == null) {
            throw new MediaException("no face found in driving video " + video + " (searched " + searched + " frames, every "
                    + every + "th); animate it without --crop or crop it by hand");
        }
        Rectangle[] boxes = new Rectangle[unions.size()];
        Rectangle previous = any;
        for (int k = 0; k < boxes.length; k++) {
            Rectangle u = unions.get(k) != null ? unions.get(k) : previous;
            boxes[k] = expand(u, w, h, INCREASE_AREA);
            previous = u;
        }
        return new Shots(starts.stream().mapToInt(Integer::intValue).toArray(), boxes);
    }

    /**
     * One crop for a whole video: the union of the largest face's boxes over up to {@value #MAX_SAMPLES}
     * evenly spaced frames, expanded as {@link #expand} (one shot; see {@link #forVideoShots}).
     *
     * @throws MediaException when no sampled frame has a face (names the video and the frames searched)
     */
    public static Rectangle forVideo(Path video, FaceDetector detector) throws IOException {
        Shots s = forVideoShots(video, detector);
        Rectangle u = s.boxes()[0];
        for (Rectangle r : s.boxes()) {
            u = u.union(r);
        }
        return u;
    }

    /** A 16x16 grey thumbnail (box average), values in [0, 1]. */
    static float[] thumbnail(BufferedImage f) {
        int w = f.getWidth(), h = f.getHeight();
        float[] t = new float[256];
        int[] n = new int[256];
        int step = Math.max(1, Math.min(w, h) / 64);
        for (int y = 0; y < h; y += step) {
            for (int x = 0; x < w; x += step) {
                int rgb = f.getRGB(x, y);
                float g = (((rgb >> 16) & 255) + ((rgb >> 8) & 255) + (rgb & 255)) / 765f;
                int k = (y * 16 / h) * 16 + x * 16 / w;
                t[k] += g;
                n[k]++;
            }
        }
        for (int k = 0; k < 256; k++) {
            t[k] = n[k] == 0 ? 0 : t[k] / n[k];
        }
        return t;
    }

    private static double meanAbs(float[] a, float[] b) {
        double s = 0;
        for (int k = 0; k < a.length; k++) {
            s += Math.abs(a[k] - b[k]);
        }
        return s / a.length;
    }

    /** The reference's {@code compute_bbox}: grow by {@code increase} (more on the shorter side, to a square), clip. */
    public static Rectangle expand(Rectangle box, int frameW, int frameH, double increase) {
        double width = box.width, height = box.height;
        double wi = Math.max(increase, ((1 + 2 * increase) * height - width) / (2 * width));
        double hi = Math.max(increase, ((1 + 2 * increase) * width - height) / (2 * height));
        int left = (int) (box.x - wi * width), top = (int) (box.y - hi * height);
        int right = (int) (box.x + box.width + wi * width), bot = (int) (box.y + box.height + hi * height);
        left = Math.max(0, left);
        top = Math.max(0, top);
        right = Math.min(frameW, right);
        bot = Math.min(frameH, bot);
        return new Rectangle(left, top, right - left, bot - top);
    }

    /** {@code img} cut to {@code r}: a view sharing its pixels, no copy. */
    public static BufferedImage cut(BufferedImage img, Rectangle r) {
        return img.getSubimage(r.x, r.y, r.width, r.height);
    }
}
