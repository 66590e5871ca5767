package org.fomm4j.io.training;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Pairs from a folder of frame folders: both frames of one video, at most {@code maxFrameGap} apart. */
class VideoFolderDataTest {
    @Test
    void pairsStayWithinTheFrameGap(@TempDir Path dir) throws Exception {
        // One video of 30 frames; frame i is a flat grey of level 8 i, so a pair tells which frames it took.
        Path video = Files.createDirectories(dir.resolve("train").resolve("v0"));
        for (int i = 0; i < 30; i++) {
            BufferedImage img = new BufferedImage(8, 8, BufferedImage.TYPE_INT_RGB);
            int g = 8 * i;
            for (int y = 0; y < 8; y++) {
                for (int x = 0; x < 8; x++) {
                    img.setRGB(x, y, (g << 16) | (g << 8) | g);
                }
            }
            ImageIO.write(img, "png", video.resolve(String.format("%03d.png", i)).toFile());
        }
        VideoFolderData data = VideoFolderData.open(dir, "train", 8, 8);
        float[] s = new float[3 * 64], d = new float[3 * 64];
        int widest = 0, widestUnlimited = 0;
        for (int k = 0; k < 300; k++) {
            data.pair(new SplittableRandom(k), 3, s, d, 0);
            int a = Math.round(s[0] * 255 / 8), b = Math.round(d[0] * 255 / 8);
            assertTrue(Math.abs(a - b) <= 3, "frames " + a + " and " + b + " with a gap of at most 3");
            widest = Math.max(widest, Math.abs(a - b));
            data.pair(new SplittableRandom(k), Integer.MAX_VALUE, s, d, 0);
            widestUnlimited = Math.max(widestUnlimited, Math.abs(Math.round(s[0] * 255 / 8) - Math.round(d[0] * 255 / 8)));
        }
        assertEquals(3, widest, "the whole gap is used");
        assertTrue(widestUnlimited > 20, "without a gap, frames from anywhere: widest " + widestUnlimited);
    }
}
