package org.fomm4j.io.media;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Valid H.264 files the pure-Java decoder cannot read say so by name, with what to do, before any frame
 * (JCodec alone: a ClassCastException, "Unsupported h264 feature: interlace" for a 4:4:4 stream).
 * Files made by {@code make-unsupported-videos.sh}.
 */
class UnsupportedVideoTest {
    @TempDir
    Path tmp;

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "one-frame.mp4|has a single frame",
        "yuv444.mp4|High 4:4:4 Predictive profile",
        "interlaced.mp4|is interlaced H.264",
    })
    void saysWhatIsUnsupported(String file, String expected) throws IOException {
        Path f;
        try (InputStream in = UnsupportedVideoTest.class.getResourceAsStream(file)) {
            f = Files.write(tmp.resolve(file), in.readAllBytes());
        }
        MediaException e = assertThrows(MediaException.class, () -> {
            try (VideoSource v = VideoSource.open(f)) {
                v.next();
            }
        });
        assertTrue(e.getMessage().contains(expected) && e.getMessage().contains(f.toString()), e.getMessage());
    }
}
