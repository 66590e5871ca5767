package org.fomm4j.io.faces;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.Rectangle;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.util.List;
import java.util.Random;
import org.fomm4j.io.SharedFixtures;
import org.fomm4j.io.media.Images;
import org.fomm4j.io.media.MediaException;
import org.junit.jupiter.api.Test;

/**
 * The Haar cascade finds the face of the real photo, and finds it again where we put it: the photo's
 * face pasted at known places and sizes into larger synthetic pictures. No face in noise. The crop box
 * follows the reference's {@code compute_bbox}.
 */
class FaceDetectorTest {
    static final FaceDetector DETECTOR = new FaceDetector();

    static BufferedImage photo() throws IOException {
        return Images.read(SharedFixtures.testdata().resolve("media/source.png"));
    }

    @Test
    void findsTheFaceOfTheRealPhoto() throws IOException {
        BufferedImage img = photo();
        List<FaceDetector.Face> faces = DETECTOR.detect(img, 40);
        assertEquals(1, faces.size(), faces.toString());
        FaceDetector.Face f = faces.get(0);
        // The face (brows to chin, between the ears) is in the middle of this 680x676 portrait.
        assertTrue(Math.abs(f.centerX() - 393) < 40 && Math.abs(f.centerY() - 375) < 40, f.toString());
        assertTrue(f.width() > 350 && f.width() < 550, f.toString());
    }

    @Test
    void findsAPastedFaceWhereItWasPut() throws IOException {
        BufferedImage face = FaceCrop.cut(photo(), new Rectangle(130, 110, 520, 520));
        Random r = new Random(3);
        for (int trial = 0; trial < 4; trial++) {
            int size = 120 + r.nextInt(200), x = r.nextInt(1200 - size), y = r.nextInt(800 - size);
            BufferedImage canvas = new BufferedImage(1200, 800, BufferedImage.TYPE_INT_RGB);
            Graphics2D g = canvas.createGraphics();
            g.setColor(new Color(90 + r.nextInt(100), 90 + r.nextInt(100), 90 + r.nextInt(100)));
            g.fillRect(0, 0, 1200, 800);
            g.drawImage(face, x, y, size, size, null);
            g.dispose();
            List<FaceDetector.Face> faces = DETECTOR.detect(canvas, 40);
            assertEquals(1, faces.size(), "trial " + trial + ": " + faces);
            FaceDetector.Face f = faces.get(0);
            double cx = x + size * (393 - 130) / 520.0, cy = y + size * (375 - 110) / 520.0;
            assertTrue(Math.abs(f.centerX() - cx) < 0.15 * size && Math.abs(f.centerY() - cy) < 0.15 * size,
                    "trial " + trial + ": pasted at " + x + "," + y + " size " + size + ", found " + f);
        }
    }

    @Test
    void noFaceInNoiseAndACropErrorSaysSo() {
        BufferedImage noise = new BufferedImage(400, 300, BufferedImage.TYPE_INT_RGB);
        Random r = new Random(1);
        for (int y = 0; y < 300; y++) {
            for (int x = 0; x < 400; x++) {
                noise.setRGB(x, y, r.nextInt(0x1000000));
            }
        }
        assertTrue(DETECTOR.detect(noise, 24).isEmpty());
        MediaException e = assertThrows(MediaException.class, () -> FaceCrop.forImage(noise, "image noise.png", DETECTOR));
        assertTrue(e.getMessage().startsWith("no face found in image noise.png"), e.getMessage());
    }

    @Test
    void cropBoxIsTheReferenceComputeBbox() {
        // compute_bbox(tube_bbox=(100, 50, 200, 250)) on a 640x480 frame, increase_area 0.1:
        // width 100, height 200: width_increase = max(0.1, (1.2 * 200 - 100) / 200) = 0.7, height_increase = 0.1
        // left = int(100 - 70) = 30, top = int(50 - 20) = 30, right = int(200 + 70) = 270, bot = int(250 + 20) = 270.
        assertEquals(new Rectangle(30, 30, 240, 240), FaceCrop.expand(new Rectangle(100, 50, 100, 200), 640, 480, 0.1));
        // Clipped at the frame: left = max(0, int(5 - 10)) = 0, right = min(112, int(115)) = 112.
        assertEquals(new Rectangle(0, 0, 112, 112), FaceCrop.expand(new Rectangle(5, 5, 100, 100), 112, 112, 0.1));
    }
}
