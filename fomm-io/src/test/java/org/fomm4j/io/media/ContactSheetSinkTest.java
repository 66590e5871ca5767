package org.fomm4j.io.media;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.fomm4j.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ContactSheetSinkTest {
    @TempDir
    Path tmp;

    /** Frame {@code i} is a flat grey of level {@code i}: the sheet tells which frames it kept. */
    static Tensor frame(int i) {
        float[] v = new float[3 * 4 * 6];
        java.util.Arrays.fill(v, i / 255f);
        return Tensor.of(v, 1, 3, 4, 6);
    }

    @Test
    void keepsRowsSpreadOverAVideoOfUnknownLength() throws Exception {
        Path out = tmp.resolve("sheet.png");
        try (ContactSheetSink s = new ContactSheetSink(out, 4)) {
            for (int i = 0; i < 100; i++) {
                s.write(frame(i));
            }
            s.finish();
        }
        BufferedImage img = ImageIO.read(out.toFile());
        assertEquals(6, img.getWidth());
        assertEquals(4 * 4 + 3 * 2, img.getHeight());
        int first = img.getRGB(0, 0) & 0xFF, last = img.getRGB(0, 3 * 6) & 0xFF;
        assertEquals(0, first, "the first row is the first frame");
        assertEquals(true, last >= 60, "the last row comes from late in the video, frame " + last);
    }

    @Test
    void nothingIsWrittenWithoutFinishOrFrames() {
        Path out = tmp.resolve("sheet.png");
        try (ContactSheetSink s = new ContactSheetSink(out, 4)) {
            s.write(frame(1));
        }
        assertFalse(Files.exists(out));
        assertThrows(MediaException.class, () -> new ContactSheetSink(out, 4).finish());
    }
}
