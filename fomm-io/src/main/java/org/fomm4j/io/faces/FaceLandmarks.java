package org.fomm4j.io.faces;

import java.awt.Rectangle;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import org.fomm4j.tensor.Tensor;

/**
 * Face landmarks for the best-frame search, as the reference's {@code find_best_frame} uses them
 * ({@code face_alignment}'s 68 points there; dlib's 68-point iBUG model through {@link ShapePredictor}
 * here): the largest face of a frame ({@link FaceDetector}) and its landmarks as {@code [1, P, 2]} pixel
 * coordinates, which {@code BestFrame} centres and scales by the square root of their hull's area.
 */
public final class FaceLandmarks {
    private static final ConcurrentHashMap<Path, ShapePredictor> LOADED = new ConcurrentHashMap<>();

    private final ShapePredictor predictor;
    private final FaceDetector detector = new FaceDetector();
    private final Path model;
    private final Tensor source;

    private FaceLandmarks(ShapePredictor predictor, Path model, Tensor source) {
        this.predictor = predictor;
        this.model = model;
        this.source = source;
    }

    /**
     * Landmarks against {@code source} when a landmark model is installed ({@link ShapePredictor#find()}) and
     * the source has a face; {@code null} otherwise (the caller falls back to the model's keypoints).
     *
     * @throws IOException if the landmark model named by the property or variable cannot be read
     */
    public static FaceLandmarks ifAvailable(BufferedImage source) throws IOException {
        Path model = ShapePredictor.find();
        if (model == null) {
            return null;
        }
        ShapePredictor p = LOADED.get(model);
        if (p == null) {
            p = ShapePredictor.load(model);
            LOADED.put(model, p);
        }
        FaceLandmarks f = new FaceLandmarks(p, model, null);
        Tensor s = f.of(source);
        return s == null ? null : new FaceLandmarks(p, model, s);
    }

    /** The source's landmarks, {@code [1, P, 2]}. */
    public Tensor source() {
        return source;
    }

    public Path model() {
        return model;
    }

    /** The landmarks of the largest face in {@code frame}, {@code [1, P, 2]} in pixels, or {@code null} without a face. */
    public Tensor of(BufferedImage frame) {
        List<FaceDetector.Face> faces = detector.detect(frame, Math.max(24, Math.min(frame.getWidth(), frame.getHeight()) / 8));
        if (faces.isEmpty()) {
            return null;
        }
        FaceDetector.Face face = faces.get(0);
        float[] p = predictor.predict(frame, new Rectangle(face.x(), face.y(), face.width(), face.height()));
        return Tensor.of(p, 1, p.length / 2, 2);
    }
}
