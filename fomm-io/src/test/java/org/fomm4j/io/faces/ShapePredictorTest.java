package org.fomm4j.io.faces;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.Rectangle;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.fomm4j.io.media.MediaException;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The dlib shape predictor reader and evaluator: on a tiny model written here in dlib's serialization
 * (every step checkable by hand), on damaged files, and, where Debian's {@code libdlib-data} is installed,
 * with the real 68-point model on the real photo.
 */
class ShapePredictorTest {
    @TempDir
    Path tmp;

    /** dlib's integer: control byte (byte count, 0x80 if negative), then little-endian bytes. */
    static void integer(ByteArrayOutputStream out, long v) {
        long a = Math.abs(v);
        int n = 1;
        while (n < 8 && (a >>> (8 * n)) != 0) {
            n++;
        }
        out.write(n | (v < 0 ? 0x80 : 0));
        for (int i = 0; i < n; i++) {
            out.write((int) (a >>> (8 * i)) & 0xFF);
        }
    }

    /** dlib's float: mantissa and exponent (here exact: value * 2^16 is an integer). */
    static void floating(ByteArrayOutputStream out, double v) {
        integer(out, Math.round(v * 65536));
        integer(out, -16);
    }

    static void column(ByteArrayOutputStream out, double... v) {
        integer(out, -v.length);
        integer(out, -1);
        for (double x : v) {
            floating(out, x);
        }
    }

    /**
     * Two points at (0.25, 0.5) and (0.75, 0.5) of the face box; one level with two feature pixels (at the
     * points themselves) and one tree: if pixel 0 is brighter than pixel 1 by more than 10, both points move
     * up by 0.25 of the box, else down by 0.25.
     */
    static byte[] tinyModel() {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        integer(o, 1);                                   // version
        column(o, 0.25, 0.5, 0.75, 0.5);                 // initial shape
        integer(o, 1);                                   // levels
        integer(o, 1);                                   // trees
        integer(o, 1);                                   // splits
        integer(o, 0);
        integer(o, 1);
        floating(o, 10);
        integer(o, 2);                                   // leaves
        column(o, 0, -0.25, 0, -0.25);
        column(o, 0, 0.25, 0, 0.25);
        integer(o, 1);                                   // anchor levels
        integer(o, 2);
        integer(o, 0);
        integer(o, 1);
        integer(o, 1);                                   // delta levels
        integer(o, 2);
        floating(o, 0);
        floating(o, 0);
        floating(o, 0);
        floating(o, 0);
        return o.toByteArray();
    }

    @Test
    void tinyModelWalksItsTreeOnThePixels() throws Exception {
        Path f = tmp.resolve("tiny.dat");
        Files.write(f, tinyModel());
        ShapePredictor p = ShapePredictor.load(f);
        assertEquals(2, p.points());
        BufferedImage img = new BufferedImage(101, 101, BufferedImage.TYPE_INT_RGB);
        Rectangle box = new Rectangle(0, 0, 101, 101);         // unit square -> pixels 0..100
        img.setRGB(25, 50, 0xC8C8C8);                           // point 0's pixel bright: 200 - 0 > 10
        assertArrayEquals(new float[] {25, 25, 75, 25}, p.predict(img, box), 1e-4f);
        img.setRGB(25, 50, 0);
        assertArrayEquals(new float[] {25, 75, 75, 75}, p.predict(img, box), 1e-4f);
    }

    @Test
    void damagedFilesGiveOneLineErrors() throws Exception {
        byte[] good = tinyModel();
        Path truncated = tmp.resolve("truncated.dat");
        Files.write(truncated, java.util.Arrays.copyOf(good, good.length - 3));
        MediaException e = assertThrows(MediaException.class, () -> ShapePredictor.load(truncated));
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());
        // A list claiming 2^40 trees in a 60-byte file: refused before any allocation.
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        integer(o, 1);
        column(o, 0.25, 0.5);
        integer(o, 1L << 40);
        Path huge = tmp.resolve("huge.dat");
        Files.write(huge, o.toByteArray());
        e = assertThrows(MediaException.class, () -> ShapePredictor.load(huge));
        assertTrue(e.getMessage().contains("damaged"), e.getMessage());
        Path text = tmp.resolve("text.dat");
        Files.writeString(text, "not a model at all");
        assertThrows(MediaException.class, () -> ShapePredictor.load(text));
    }

    @Test
    void theDebianModelFindsTheFaceOfTheRealPhoto() throws Exception {
        Assumptions.assumeTrue(Files.isRegularFile(ShapePredictor.DEBIAN_68),
                "dlib's 68-point model is not installed (Debian package libdlib-data): nothing to check it with");
        Path photo = Path.of("").toAbsolutePath();
        while (photo != null && !Files.isDirectory(photo.resolve("testdata/media"))) {
            photo = photo.getParent();
        }
        Assumptions.assumeTrue(photo != null, "testdata/ not found");
        BufferedImage img = org.fomm4j.io.media.Images.read(photo.resolve("testdata/media/source.png"));
        FaceLandmarks lm = FaceLandmarks.ifAvailable(img);
        float[] p = lm.source().toArray();
        assertEquals(136, p.length);
        // iBUG order: 36-41 right eye, 42-47 left eye (image left to right), 30 nose tip, 48-67 mouth, 8 chin.
        double eyeY = mean(p, 36, 48, 1), noseY = p[2 * 30 + 1], mouthY = mean(p, 48, 68, 1), chinY = p[2 * 8 + 1];
        assertTrue(eyeY < noseY && noseY < mouthY && mouthY < chinY, "eyes, nose, mouth, chin from top to bottom");
        assertTrue(mean(p, 36, 42, 0) < mean(p, 42, 48, 0), "one eye left of the other");
        assertTrue(mean(p, 36, 48, 0) > 250 && mean(p, 36, 48, 0) < 450, "eyes centred on the face (x 165..623)");
    }

    static double mean(float[] p, int from, int to, int axis) {
        double s = 0;
        for (int i = from; i < to; i++) {
            s += p[2 * i + axis];
        }
        return s / (to - from);
    }
}
