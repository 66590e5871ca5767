package org.fomm4j.io.media;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import org.fomm4j.io.SharedFixtures;
import org.junit.jupiter.api.Test;

/** The real driving video has B-frames: frames must come out in display order, not decode order. */
class Mp4SourceTest {
    @Test
    void framesComeInPresentationOrder() throws IOException {
        try (Mp4Source v = (Mp4Source) VideoSource.open(SharedFixtures.testdata().resolve("media/driving.mp4"))) {
            int n = 0;
            while (v.next() != null) {
                assertEquals(n / 25.0, v.lastPresentationTime(), 1e-6, "presentation time of frame " + n);
                n++;
            }
            assertEquals(169, n);
        }
    }
}
