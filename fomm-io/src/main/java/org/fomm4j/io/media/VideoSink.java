package org.fomm4j.io.media;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import org.fomm4j.tensor.Tensor;

/**
 * Where generated frames go, one at a time. Output is atomic: frames are written to a temporary file
 * or directory beside the target, which {@link #finish()} renames into place; {@link #close()}
 * without {@code finish()} deletes it, so a failed run leaves no partial output.
 */
public interface VideoSink extends AutoCloseable {
    /** @param frame {@code [1, 3, H, W]} in {@code [0, 1]} */
    void write(Tensor frame) throws IOException;

    /** Completes the output and moves it into place. */
    void finish() throws IOException;

    /** Discards the output unless {@link #finish()} succeeded. */
    @Override
    void close() throws IOException;

    /**
     * Chooses the format by the output path: {@code .mp4} (H.264; with the audio track of
     * {@code audioFrom} if given), {@code .gif}, anything else a directory of PNG frames.
     *
     * @throws MediaException if the output's directory does not exist, or a frame directory exists and is not empty
     */
    static VideoSink create(Path output, Fps fps, Path audioFrom) throws IOException {
        Path abs = output.toAbsolutePath();
        if (abs.getParent() == null || !Files.isDirectory(abs.getParent())) {
            throw new MediaException("cannot write " + output + ": directory " + abs.getParent() + " does not exist");
        }
        String name = abs.getFileName().toString().toLowerCase(Locale.ROOT);
        if (name.endsWith(".mp4")) {
            return new Mp4Sink(abs, fps, audioFrom);
        }
        if (audioFrom != null) {
            throw new MediaException("--audio needs an .mp4 output, not " + output.getFileName());
        }
        if (name.endsWith(".gif")) {
            return new GifSink(abs, fps);
        }
        return new PngDirectorySink(abs);
    }
}
