package org.fomm4j.io;

import java.nio.file.Files;
import java.util.LinkedHashMap;
import java.util.Map;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import org.fomm4j.animation.AnimationMode;
import org.fomm4j.animation.Animator;
import org.fomm4j.animation.BestFrame;
import org.fomm4j.io.faces.FaceCrop;
import org.fomm4j.io.faces.FaceLandmarks;
import org.fomm4j.io.faces.FaceDetector;
import org.fomm4j.io.faces.PasteBack;
import org.fomm4j.io.faces.Visualization;
import org.fomm4j.io.media.Fps;
import org.fomm4j.io.media.Images;
import org.fomm4j.io.media.MediaException;
import org.fomm4j.io.media.NpyFramesWriter;
import org.fomm4j.io.media.VideoSink;
import org.fomm4j.io.media.VideoSource;
import org.fomm4j.tensor.Tensor;

/**
 * One animation from files to files, streaming: each driving frame is decoded, resized to the model's
 * frame size, animated and encoded before the next is read, so memory does not grow with the video.
 * With a best frame ({@code --find-best-frame} or {@code --best-frame N}) that frame is the initial
 * driving frame of the relative modes; since each prediction depends only on the source, the initial
 * frame and the current frame, animating in file order gives exactly the reference demo's
 * forward-and-backward result.
 */
public final class AnimationJob {
    /**
     * What to animate and where to write it. {@code fps}, {@code rawOutput}, {@code bestFrame},
     * {@code visualize} may be null. {@code crop}: cut the source and the driving video to their faces
     * first ({@link FaceCrop}); {@code pasteBack} (needs {@code crop}): the output is the whole source photo
     * with the animated face blended back in ({@link PasteBack}); {@code visualize}: also write source |
     * driving | result with keypoints ({@link Visualization}) to that video.
     */
    public record Options(Path model, Path config, Path source, Path driving, Path output, AnimationMode mode,
                          boolean findBestFrame, Integer bestFrame, boolean audio, Fps fps, Path rawOutput,
                          boolean backgroundMotion, boolean crop, boolean pasteBack, Path visualize) {
        /** Without face cropping, paste-back or visualization. */
        public Options(Path model, Path config, Path source, Path driving, Path output, AnimationMode mode,
                       boolean findBestFrame, Integer bestFrame, boolean audio, Fps fps, Path rawOutput,
                       boolean backgroundMotion) {
            this(model, config, source, driving, output, mode, findBestFrame, bestFrame, audio, fps, rawOutput,
                    backgroundMotion, false, false, null);
        }
    }

    /** Progress callbacks (frames done, of a total that may be -1). */
    public interface Progress {
        void start(String task, long total);

        void step();

        void end();

        Progress NONE = new Progress() {
            @Override
            public void start(String task, long total) {
            }

            @Override
            public void step() {
            }

            @Override
            public void end() {
            }
        };
    }

    /**
     * What was done. {@code bestFrame} is -1 when none was used; {@code warnings} says what was not as it
     * should be but did not stop the job (concealed frames, a video shorter than its header says).
     */
    public record Result(int frames, Fps fps, int bestFrame, int height, int width, java.util.List<String> warnings) {
    }

    private AnimationJob() {
    }

    /**
     * Animates {@code o.source()} with {@code o.driving()} into {@code o.output()} (an .mp4, a .gif, or else
     * a folder of PNG frames), written atomically.
     *
     * @throws IllegalArgumentException before any work when an output would overwrite an input or the other
     *                                  output, or its folder does not exist
     * @throws IOException              for unreadable inputs and unwritable outputs (messages name the file)
     */
    public static Result run(Options o, Progress progress) throws IOException {
        checkOutputs(o);
        if (o.pasteBack() && !o.crop()) {
            throw new IllegalArgumentException("--paste-back puts the animated face back where --crop cut it from: add --crop");
        }
        BufferedImage sourceImage = Images.read(o.source());
        FaceCrop.Shots drivingCrop = null;
        PasteBack pasteBack = null;
        if (o.crop()) {
            FaceDetector detector = new FaceDetector();
            java.awt.Rectangle sourceBox = FaceCrop.forImage(sourceImage, "source image " + o.source(), detector);
            if (o.pasteBack()) {
                pasteBack = new PasteBack(sourceImage, sourceBox);
            }
            sourceImage = FaceCrop.cut(sourceImage, sourceBox);
            progress.start("finding the face in the driving video", -1);
            drivingCrop = FaceCrop.forVideoShots(o.driving(), detector);
            progress.end();
        }
        final FaceCrop.Shots shots = drivingCrop;
        // Frame i of the driving video as the model sees it: cut to its shot's face crop, if cropping.
        java.util.function.BiFunction<BufferedImage, Integer, BufferedImage> frames = shots == null ? (f, i) -> f
                : (f, i) -> FaceCrop.cut(f, shots.at(i));
        try (VideoSource probe = VideoSource.open(o.driving())) {
            // Fail on unreadable inputs and impossible outputs before any frame is animated.
            probe.fps();
        }
        if (o.audio() && !o.output().getFileName().toString().toLowerCase(java.util.Locale.ROOT).endsWith(".mp4")) {
            throw new MediaException("--audio needs an .mp4 output, not " + o.output().getFileName());
        }
        try (LoadedModel model = LoadedModel.open(o.model(), o.config())) {
            int h = model.frameHeight(), w = model.frameWidth();
            Tensor source = Images.toTensor(sourceImage, h, w);
            try (Animator animator = model.animator(source, o.mode(), o.backgroundMotion())) {
                int best = -1;
                if (o.findBestFrame() || o.bestFrame() != null) {
                    best = initialFrame(o, animator, source, h, w, progress, frames);
                }
                try (VideoSource video = VideoSource.open(o.driving())) {
                    Fps fps = o.fps() != null ? o.fps() : video.fps();
                    BufferedImage first = video.next();
                    if (first == null) {
                        throw new MediaException("driving video " + o.driving() + " has no frames");
                    }
                    int n = 0;
                    final PasteBack paste = pasteBack;
                    try (VideoSink sink = VideoSink.create(o.output(), fps, o.audio() ? o.driving() : null);
                         NpyFramesWriter raw = o.rawOutput() != null ? new NpyFramesWriter(o.rawOutput()) : null;
                         VideoSink vis = o.visualize() == null ? null
                                 : o.visualize().getFileName().toString().toLowerCase(java.util.Locale.ROOT).endsWith(".png")
                                 ? new org.fomm4j.io.media.ContactSheetSink(o.visualize(), 8)
                                 : VideoSink.create(o.visualize(), fps, null)) {
                        progress.start("animating", video.frameCount());
                        for (BufferedImage frame = first; frame != null; frame = video.next()) {
                            Tensor driving = Images.toTensor(frames.apply(frame, n), h, w);
                            java.util.List<Tensor> masks = java.util.List.of();
                            Tensor prediction;
                            if (vis != null && animator instanceof org.fomm4j.animation.TpsmmAnimator tpsmm) {
                                var detailed = tpsmm.animateDetailed(driving);
                                prediction = detailed.prediction();
                                if (detailed.denseMotion().occlusionMaps() != null) {
                                    masks = detailed.denseMotion().occlusionMaps();
                                }
                            } else {
                                prediction = animator.animate(driving);
                            }
                            written(o.output(), () -> sink.write(paste == null ? prediction : paste.compose(prediction)));
                            if (vis != null) {
                                Tensor panels = Visualization.panels(source, animator.sourceKeypoints(), driving,
                                        animator.detectKeypoints(driving), prediction, masks);
                                written(o.visualize(), () -> vis.write(panels));
                            }
                            if (raw != null) {
                                written(o.rawOutput(), () -> raw.write(prediction));
                            }
                            n++;
                            if (n % GC_EVERY_FRAMES == 0) {
                                // A few hundred KB a frame still reach the old generation (buffers alive
                                // across a young collection), and ParallelGC leaves them there until the
                                // heap is full: RSS would climb for the whole video. A full collection of
                                // a ~100 MB live set every 1000 frames keeps it flat for well under 1%
                                // of the time (-XX:+DisableExplicitGC turns it off).
                                System.gc();
                            }
                            progress.step();
                        }
                        progress.end();
                        written(o.output(), sink::finish);
                        if (vis != null) {
                            written(o.visualize(), vis::finish);
                        }
                        if (raw != null) {
                            written(o.rawOutput(), raw::finish);
                        }
                    }
                    java.util.List<String> warnings = new java.util.ArrayList<>();
                    if (video.concealedFrames() > 0) {
                        warnings.add("driving video " + o.driving() + ": " + video.concealedFrames() + " of " + n
                                + " frames could not be decoded and repeat the previous frame");
                    }
                    long announced = video.frameCount();
                    if (announced > 0 && n < announced) {
                        warnings.add("driving video " + o.driving() + " ends after " + n + " of the " + announced
                                + " frames its header announces (truncated?)");
                    }
                    return new Result(n, fps, best, paste == null ? h : paste.height(), paste == null ? w : paste.width(),
                            java.util.List.copyOf(warnings));
                }
            }
        }
    }

    static final int GC_EVERY_FRAMES = 1000;

    private interface Write {
        void run() throws IOException;
    }

    /** Runs a write, naming the output in the error (a full disk otherwise says only "No space left on device"). */
    private static void written(Path output, Write w) throws IOException {
        try {
            w.run();
        } catch (MediaException e) {
            throw e;
        } catch (IOException e) {
            throw new MediaException("cannot write " + output + ": " + e.getMessage(), e);
        }
    }

    /** Outputs are new files in existing folders, none of them an input: checked before the work. */
    static void checkOutputs(Options o) {
        Map<String, Path> inputs = new LinkedHashMap<>();
        inputs.put("--model", o.model());
        inputs.put("--config", o.config());
        inputs.put("--source", o.source());
        inputs.put("--driving", o.driving());
        Map<String, Path> outputs = new LinkedHashMap<>();
        outputs.put("--output", o.output());
        outputs.put("--raw-output", o.rawOutput());
        outputs.put("--visualize", o.visualize());
        Outputs.check(inputs, outputs);
        String name = o.output().getFileName().toString().toLowerCase(java.util.Locale.ROOT);
        boolean fileOutput = name.endsWith(".mp4") || name.endsWith(".gif");
        if (fileOutput && Files.isDirectory(o.output())) {
            throw new IllegalArgumentException("--output " + o.output() + " is an existing folder; an ." + name.substring(name.lastIndexOf('.') + 1)
                    + " output is a file (choose another path)");
        }
        if (!fileOutput && Files.exists(o.output()) && !Files.isDirectory(o.output())) {
            throw new IllegalArgumentException("--output " + o.output() + " is an existing file; an output not ending in .mp4 or .gif is a folder of PNG frames");
        }
        if (o.rawOutput() != null && Files.isDirectory(o.rawOutput())) {
            throw new IllegalArgumentException("--raw-output " + o.rawOutput() + " is an existing folder; it is an .npy file");
        }
    }

    /** First pass: find (or fetch) the initial driving frame and give it to the animator. */
    private static int initialFrame(Options o, Animator animator, Tensor source, int h, int w, Progress progress,
                                    java.util.function.BiFunction<BufferedImage, Integer, BufferedImage> frames) throws IOException {
        try (VideoSource video = VideoSource.open(o.driving())) {
            if (o.bestFrame() != null) {
                int want = o.bestFrame();
                if (want < 0) {
                    throw new IllegalArgumentException("--best-frame must be 0 or more, got " + want);
                }
                BufferedImage f = null;
                for (int i = 0; i <= want; i++) {
                    f = video.next();
                    if (f == null) {
                        throw new IllegalArgumentException("--best-frame " + want + " is past the end of the driving video ("
                                + i + " frames)");
                    }
                }
                animator.setInitialDriving(Images.toTensor(frames.apply(f, want), h, w));
                return want;
            }
            // The reference's criterion (demo.py find_best_frame) compares face landmarks; with a landmark
            // model installed and a face in the source we do the same, otherwise the model's own keypoints
            // (any object category).
            FaceLandmarks landmarks = null;
            if (org.fomm4j.io.faces.ShapePredictor.find() != null) {
                progress.start("loading the face landmark model", -1);
                landmarks = FaceLandmarks.ifAvailable(Images.toImage(source));
                progress.end();
            }
            BestFrame search = new BestFrame(landmarks != null ? landmarks.source() : animator.sourceKeypoints());
            Tensor bestTensor = null;
            int i = 0, bestIndex = -1;
            progress.start(landmarks != null ? "finding the best frame (face landmarks)" : "finding the best frame", video.frameCount());
            for (BufferedImage f = video.next(); f != null; f = video.next(), i++) {
                Tensor t = Images.toTensor(frames.apply(f, i), h, w);
                Tensor kp = landmarks != null ? landmarks.of(Images.toImage(t)) : animator.detectKeypoints(t);
                if (kp != null) {
                    int before = search.bestIndex();
                    search.offer(kp);
                    if (search.bestIndex() != before) {
                        bestTensor = t;
                        bestIndex = i;
                    }
                }
                progress.step();
            }
            progress.end();
            if (i == 0) {
                throw new MediaException("driving video " + o.driving() + " has no frames");
            }
            if (bestTensor == null) {
                throw new MediaException("no face found in any frame of driving video " + o.driving()
                        + " for --find-best-frame (face landmarks, " + landmarks.model() + "); use --best-frame N");
            }
            animator.setInitialDriving(bestTensor);
            return bestIndex;
        }
    }
}
