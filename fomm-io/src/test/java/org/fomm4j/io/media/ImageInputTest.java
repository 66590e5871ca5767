package org.fomm4j.io.media;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Images users have that ImageIO alone gets wrong or cannot afford: a CMYK JPEG (Adobe, inverted, as
 * Photoshop and Pillow write it; {@code make-cmyk-jpeg.py}) comes out as the RGB picture it was made from,
 * and a picture over 24 megapixels is decoded subsampled, never at full size.
 */
class ImageInputTest {
    @TempDir
    Path tmp;

    private Path resource(String name) throws IOException {
        try (InputStream in = ImageInputTest.class.getResourceAsStream(name)) {
            return Files.write(tmp.resolve(name), in.readAllBytes());
        }
    }

    @Test
    void cmykJpegsComeOutInTheirColours() throws IOException {
        BufferedImage ours = Images.read(resource("cmyk.jpg"));
        BufferedImage original = ImageIO.read(resource("rgb.png").toFile());
        BufferedImage plainImageIo = ImageIO.read(tmp.resolve("cmyk.jpg").toFile());
        assertEquals(original.getWidth(), ours.getWidth());
        double ourDiff = meanAbsDiff(ours, original), imageIoDiff = meanAbsDiff(plainImageIo, original);
        // JPEG at quality 95 loses about 1 level in 255; ImageIO's own decoding is tens of levels off.
        assertTrue(ourDiff < 2.5, "mean abs diff " + ourDiff);
        assertTrue(imageIoDiff > 10, "the case is real: ImageIO alone is off by " + imageIoDiff);
    }

    @Test
    void hugeImagesAreDecodedSubsampled() throws IOException {
        assertEquals(1, Images.subsampling(6000, 4000));
        assertEquals(2, Images.subsampling(6001, 4000));
        assertEquals(5, Images.subsampling(20000, 20000));
        // A 12000 x 8000 PNG (mostly one colour, a few hundred KB) comes out 6000 x 4000.
        BufferedImage big = new BufferedImage(12000, 8000, BufferedImage.TYPE_BYTE_GRAY);
        big.getRaster().setSample(11999, 7999, 0, 200);
        Path f = tmp.resolve("big.png");
        ImageIO.write(big, "png", f.toFile());
        big = null;
        BufferedImage read = Images.read(f);
        assertEquals(6000, read.getWidth());
        assertEquals(4000, read.getHeight());
    }

    static double meanAbsDiff(BufferedImage a, BufferedImage b) {
        double sum = 0;
        for (int y = 0; y < b.getHeight(); y++) {
            for (int x = 0; x < b.getWidth(); x++) {
                int p = a.getRGB(x, y), q = b.getRGB(x, y);
                for (int s = 0; s < 24; s += 8) {
                    sum += Math.abs((p >> s & 255) - (q >> s & 255));
                }
            }
        }
        return sum / (3.0 * b.getWidth() * b.getHeight());
    }
}
