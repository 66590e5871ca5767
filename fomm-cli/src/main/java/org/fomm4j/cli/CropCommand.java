package org.fomm4j.cli;

import java.awt.Rectangle;
import java.awt.image.BufferedImage;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import javax.imageio.ImageIO;
import org.fomm4j.io.Outputs;
import org.fomm4j.io.faces.FaceCrop;
import org.fomm4j.io.faces.FaceDetector;
import org.fomm4j.io.media.Fps;
import org.fomm4j.io.media.Images;
import org.fomm4j.io.media.VideoSink;
import org.fomm4j.io.media.VideoSource;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code fomm crop}: a photo or a driving video cut to its face and resized, as the face models expect
 * ({@link FaceCrop}: the reference crop-video.py's box, done instead of printed as ffmpeg commands).
 */
@Command(name = "crop", mixinStandardHelpOptions = true,
        description = "Cut a photo or a video to its face (one stable crop per shot of a video) and resize it to the model's frame size.")
final class CropCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--input", required = true, description = "a photo (PNG/JPEG) or a video (.mp4/.gif/PNG folder)")
    Path input;

    @Option(names = "--output", required = true, description = "a .png/.jpg for a photo; an .mp4, .gif or folder for a video")
    Path output;

    @Option(names = "--size", defaultValue = "256", description = "side of the square output in pixels (default: ${DEFAULT-VALUE})")
    int size;

    @Override
    public Integer call() throws Exception {
        if (size < 16 || size > 2048) {
            throw new IllegalArgumentException("--size must be 16 to 2048, got " + size);
        }
        Outputs.check(Map.of("--input", input), Map.of("--output", output));
        PrintWriter out = spec.commandLine().getOut();
        FaceDetector detector = new FaceDetector();
        String name = input.getFileName().toString().toLowerCase(Locale.ROOT);
        boolean photo = Files.isRegularFile(input) && (name.endsWith(".png") || name.endsWith(".jpg") || name.endsWith(".jpeg"));
        if (photo) {
            BufferedImage img = Images.read(input);
            Rectangle r = FaceCrop.forImage(img, "image " + input, detector);
            BufferedImage cropped = Images.toImage(Images.toTensor(FaceCrop.cut(img, r), size, size));
            String fmt = output.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".png") ? "png" : "jpg";
            org.fomm4j.io.weights.AtomicFiles.write(output, o -> ImageIO.write(cropped, fmt, o));
            out.printf("wrote %s: the face at x %d, y %d, %dx%d of %s, as %dx%d%n", output, r.x, r.y, r.width, r.height, input, size, size);
            return 0;
        }
        FaceCrop.Shots shots = FaceCrop.forVideoShots(input, detector);
        int n = 0;
        Fps fps;
        try (VideoSource v = VideoSource.open(input)) {
            fps = v.fps();
            try (VideoSink sink = VideoSink.create(output, fps, null)) {
                for (BufferedImage f = v.next(); f != null; f = v.next()) {
                    sink.write(Images.toTensor(FaceCrop.cut(f, shots.at(n)), size, size));
                    n++;
                }
                sink.finish();
            }
        }
        for (int i = 0; i < shots.count(); i++) {
            Rectangle r = shots.boxes()[i];
            out.printf("shot %d from frame %d: cut to x %d, y %d, %dx%d%n", i + 1, shots.starts()[i], r.x, r.y, r.width, r.height);
        }
        out.printf("wrote %s: %d frames in %d shot%s, as %dx%d, %s fps%n", output, n, shots.count(), shots.count() == 1 ? "" : "s",
                size, size, fps);
        return 0;
    }
}
