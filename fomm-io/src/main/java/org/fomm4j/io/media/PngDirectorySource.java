package org.fomm4j.io.media;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/** A directory of PNG frames, in file name order; 25 fps unless the caller says otherwise. */
final class PngDirectorySource implements VideoSource {
    private final List<Path> files;
    private int index;

    PngDirectorySource(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            files = s.filter(p -> p.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".png")).sorted().toList();
        }
        if (files.isEmpty()) {
            throw new MediaException("driving frame directory " + dir + " contains no .png frames");
        }
    }

    @Override
    public Fps fps() {
        return new Fps(25, 1);
    }

    @Override
    public long frameCount() {
        return files.size();
    }

    @Override
    public BufferedImage next() throws IOException {
        return index < files.size() ? Images.read(files.get(index++)) : null;
    }

    @Override
    public void close() {
    }
}
