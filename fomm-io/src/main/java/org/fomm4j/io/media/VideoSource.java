package org.fomm4j.io.media;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * A driving video read frame by frame (memory does not grow with its length). Formats: MP4/MOV with
 * H.264 video ({@code .mp4 .m4v .mov}), GIF, and a directory of PNG frames (sorted by name).
 */
public interface VideoSource extends AutoCloseable {
    /** Frame rate (a directory of PNGs has none of its own: 25 is assumed, overridable by the caller). */
    Fps fps();

    /** Number of frames if the container says, else -1. */
    long frameCount();

    /** The next frame in RGB, or {@code null} at the end. */
    BufferedImage next() throws IOException;

    /** Frames that could not be decoded and were replaced by the previous good one, so far. */
    default int concealedFrames() {
        return 0;
    }

    @Override
    void close() throws IOException;

    /**
     * Opens a driving video by its extension (or a directory of PNG frames).
     *
     * @throws MediaException for a missing or unreadable file or an unsupported format
     */
    static VideoSource open(Path path) throws IOException {
        if (Files.isDirectory(path)) {
            return new PngDirectorySource(path);
        }
        if (!Files.isRegularFile(path)) {
            throw new MediaException("driving video " + path + " does not exist");
        }
        String name = path.getFileName().toString().toLowerCase(Locale.ROOT);
        if (name.endsWith(".mp4") || name.endsWith(".m4v") || name.endsWith(".mov")) {
            return new Mp4Source(path);
        }
        if (name.endsWith(".gif")) {
            return new GifSource(path);
        }
        throw new MediaException("unsupported driving video format: " + path.getFileName()
                + " (use an .mp4 with H.264 video, a .gif, or a directory of .png frames)");
    }
}
