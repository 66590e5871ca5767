package org.fomm4j.io.media;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.fomm4j.tensor.Tensor;

/** A directory of {@code 00000.png, 00001.png, ...}; an existing non-empty directory is not overwritten. */
final class PngDirectorySink implements VideoSink {
    private final TempOutput out;
    private int frames;

    PngDirectorySink(Path target) throws IOException {
        if (Files.isDirectory(target)) {
            try (Stream<Path> s = Files.list(target)) {
                if (s.findAny().isPresent()) {
                    throw new MediaException("output directory " + target + " exists and is not empty; not overwriting it");
                }
            }
        } else if (Files.exists(target)) {
            throw new MediaException("output " + target + " exists and is not a directory (use a .mp4 or .gif name for a video)");
        }
        this.out = TempOutput.directory(target);
    }

    @Override
    public void write(Tensor frame) throws IOException {
        ImageIO.write(Images.toImage(frame), "png", out.temp.resolve(String.format("%05d.png", frames++)).toFile());
    }

    @Override
    public void finish() throws IOException {
        if (frames == 0) {
            throw new MediaException("no frames were generated; nothing written to " + out.target);
        }
        if (Files.isDirectory(out.target)) {
            Files.delete(out.target);
        }
        out.commit();
    }

    @Override
    public void close() throws IOException {
        out.discard();
    }
}
