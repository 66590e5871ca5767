package org.fomm4j.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import javax.imageio.ImageIO;
import org.fomm4j.io.Outputs;
import org.fomm4j.io.media.Fps;
import org.fomm4j.io.media.Images;
import org.fomm4j.io.media.VideoSink;
import org.fomm4j.io.weights.AtomicFiles;
import org.fomm4j.tensor.Tensor;
import org.fomm4j.training.data.CreatureDataset;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code fomm creatures}: a source picture of one held-out procedural creature and a driving video of
 * another, for trying the built-in model (identities the training never saw).
 */
@Command(name = "creatures", mixinStandardHelpOptions = true,
        description = "Render a held-out procedural creature (source picture) and another one moving (driving video).")
final class CreaturesCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--source", required = true, description = "output picture (.png)")
    Path source;

    @Option(names = "--driving", required = true, description = "output video (.mp4, .gif or a folder)")
    Path driving;

    @Option(names = "--source-id", defaultValue = "0", description = "held-out identity of the source (default: ${DEFAULT-VALUE})")
    long sourceId;

    @Option(names = "--driving-id", defaultValue = "1", description = "held-out identity and motion of the driving video (default: ${DEFAULT-VALUE})")
    long drivingId;

    @Option(names = "--frames", defaultValue = "100", description = "frames of the driving video, 25 fps (default: ${DEFAULT-VALUE})")
    int frames;

    @Option(names = "--size", defaultValue = "64", description = "frame side in pixels (default: ${DEFAULT-VALUE}, the built-in model's)")
    int size;

    @Override
    public Integer call() throws Exception {
        if (frames < 1 || frames > 100_000 || size < 16 || size > 1024 || sourceId < 0 || drivingId < 0) {
            throw new IllegalArgumentException("--frames must be 1 to 100000, --size 16 to 1024, ids not negative");
        }
        Outputs.check(Map.of(), Map.of("--source", source, "--driving", driving));
        CreatureDataset d = new CreatureDataset(size, size, 1);
        long src = CreatureDataset.TEST_IDENTITY + sourceId, drv = CreatureDataset.TEST_IDENTITY + drivingId;
        // The source in the rest pose of its own (held-out) motion at time 0.
        Tensor picture = Tensor.of(d.frame(src, src, 0), 1, 3, size, size);
        AtomicFiles.write(source, o -> ImageIO.write(Images.toImage(picture), "png", o));
        try (VideoSink sink = VideoSink.create(driving, new Fps(25, 1), null)) {
            for (int i = 0; i < frames; i++) {
                sink.write(Tensor.of(d.frame(drv, drv, i), 1, 3, size, size));
            }
            sink.finish();
        }
        PrintWriter out = spec.commandLine().getOut();
        out.printf("wrote %s (held-out creature %d) and %s (held-out creature %d, %d frames at 25 fps)%n", source, sourceId,
                driving, drivingId, frames);
        return 0;
    }
}
