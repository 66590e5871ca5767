package org.fomm4j.io.media;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.util.Random;
import org.jcodec.common.model.ColorSpace;
import org.jcodec.common.model.Picture;
import org.junit.jupiter.api.Test;

/** YCbCr conversions against the BT.601 / BT.709 definitions. */
class YuvColorTest {
    @Test
    void tvRangeBt601RoundTripKeepsColours() {
        Random r = new Random(3);
        int w = 16, h = 16;
        int[] rgb = new int[w * h];
        // Flat 2x2 blocks, so 4:2:0 chroma subsampling loses nothing.
        for (int by = 0; by < h; by += 2) {
            for (int bx = 0; bx < w; bx += 2) {
                int c = r.nextInt(1 << 24);
                for (int i = 0; i < 4; i++) {
                    rgb[(by + i / 2) * w + bx + i % 2] = c;
                }
            }
        }
        Picture pic = YuvColor.fromRgb(rgb, w, h);
        // TV range: luma within 16..235.
        for (byte b : pic.getPlaneData(0)) {
            assertTrue(b + 128 >= 16 && b + 128 <= 235);
        }
        BufferedImage back = YuvColor.toRgb(pic, YuvColor.Matrix.BT601, false);
        for (int i = 0; i < w * h; i++) {
            int a = rgb[i], b = back.getRGB(i % w, i / w);
            for (int s = 0; s <= 16; s += 8) {
                assertEquals(a >> s & 0xff, b >> s & 0xff, 3.0, "channel at shift " + s + " of pixel " + i);
            }
        }
    }

    @Test
    void bt709FullRangeDecodesAKnownColour() {
        // Pure red in BT.709 full range: Y = 0.2126 * 255, Cb = -0.1146 * 255, Cr = 0.5 * 255.
        Picture pic = Picture.create(2, 2, ColorSpace.YUV420J);
        java.util.Arrays.fill(pic.getPlaneData(0), (byte) (Math.round(0.2126 * 255) - 128));
        java.util.Arrays.fill(pic.getPlaneData(1), (byte) Math.round(-0.1146 * 255));
        java.util.Arrays.fill(pic.getPlaneData(2), (byte) Math.round(0.5 * 255 - 0.5));
        int p = YuvColor.toRgb(pic, YuvColor.Matrix.BT709, true).getRGB(0, 0);
        assertEquals(255, p >> 16 & 0xff, 2.0);
        assertEquals(0, p >> 8 & 0xff, 2.0);
        assertEquals(0, p & 0xff, 2.0);
        assertEquals(YuvColor.Matrix.BT709, YuvColor.Matrix.of(2, 1920, 1080));
        assertEquals(YuvColor.Matrix.BT601, YuvColor.Matrix.of(2, 410, 412));
        assertEquals(YuvColor.Matrix.BT709, YuvColor.Matrix.of(1, 410, 412));
    }
}
