package org.fomm4j.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import org.fomm4j.io.media.Fps;
import org.fomm4j.io.media.Images;
import org.fomm4j.io.media.VideoSource;
import org.fomm4j.tensor.Tensor;
import org.junit.jupiter.api.Test;

/** Reading the real media in testdata/media. */
class MediaTest {
    @Test
    void drivingMp4DecodesTo169FramesAt25Fps() throws IOException {
        try (VideoSource v = VideoSource.open(SharedFixtures.testdata().resolve("media/driving.mp4"))) {
            assertEquals(new Fps(25, 1), v.fps());
            assertEquals(169, v.frameCount());
            int n = 0;
            BufferedImage first = null;
            for (BufferedImage f = v.next(); f != null; f = v.next()) {
                if (first == null) {
                    first = f;
                }
                assertEquals(410, f.getWidth());
                assertEquals(412, f.getHeight());
                n++;
            }
            assertEquals(169, n);
            // TV-range BT.601 decoding gives a full range of values, not a washed-out 16..235 one.
            int min = 255, max = 0;
            for (int y = 0; y < first.getHeight(); y++) {
                for (int x = 0; x < first.getWidth(); x++) {
                    int g = first.getRGB(x, y) >> 8 & 0xff;
                    min = Math.min(min, g);
                    max = Math.max(max, g);
                }
            }
            assertTrue(min < 16 && max > 235, "green range " + min + ".." + max);
        }
    }

    @Test
    void sourcePhotoResizesToTheModelFrame() throws IOException {
        BufferedImage img = Images.read(SharedFixtures.testdata().resolve("media/source.png"));
        assertEquals(680, img.getWidth());
        Tensor t = Images.toTensor(img, 256, 256);
        assertEquals(256, t.dim(2));
        double mean = 0;
        for (int i = 0; i < t.size(); i++) {
            assertTrue(t.get(i) >= 0 && t.get(i) <= 1);
            mean += t.get(i);
        }
        // Anti-aliased resizing keeps the image's mean brightness.
        double srcMean = 0;
        for (int y = 0; y < img.getHeight(); y++) {
            for (int x = 0; x < img.getWidth(); x++) {
                int p = img.getRGB(x, y);
                srcMean += ((p >> 16 & 0xff) + (p >> 8 & 0xff) + (p & 0xff)) / 255.0;
            }
        }
        assertEquals(srcMean / (3.0 * img.getWidth() * img.getHeight()), mean / t.size(), 0.01);
    }
}
