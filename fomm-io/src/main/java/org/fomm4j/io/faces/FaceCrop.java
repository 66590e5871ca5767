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
     * One crop for a whole video: the union of the largest face's boxes over up to {@value #MAX_SAMPLES}
     * evenly spaced frames, expanded as {@link #expand}.
     *
     * @throws MediaException when no sampled frame has a face (names the video and the frames searched)
     */
    public static Rectangle forVideo(Path video, FaceDetector detector) throws IOException {
        long count;
        try (VideoSource v = VideoSource.open(video)) {
            count = v.frameCount();
        }
        int every = count > 0 ? (int) Math.max(1, (count + MAX_SAMPLES - 1) / MAX_SAMPLES) : 5;
        Rectangle union = null;
        int w = 0, h = 0, searched = 0, i = 0;
        try (VideoSource v = VideoSource.open(video)) {
            for (BufferedImage f = v.next(); f != null; f = v.next(), i++) {
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
                    union = union == null ? r : union.union(r);
                }
            }
        }
        if (union == null) {
            throw new MediaException("no face found in driving video " + video + " (searched " + searched + " frames, every "
                    + every + "th); animate it without --crop or crop it by hand");
        }
        return expand(union, w, h, INCREASE_AREA);
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
