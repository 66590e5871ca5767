package org.fomm4j.io.media;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.fomm4j.animation.AnimationMode;
import org.fomm4j.io.AnimationJob;
import org.fomm4j.io.SharedFixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real driving video damaged as users' files are: corrupt H.264 bytes (concealed, counted), cut in
 * half (a warning with frames read against announced), and carrying a phone's rotation matrix (applied;
 * checked against ffmpeg by hand, see the notes: same frames as ffmpeg's autorotation for 90, 180, 270).
 */
class DamagedVideoTest {
    @TempDir
    Path tmp;

    static byte[] driving() throws IOException {
        return Files.readAllBytes(SharedFixtures.testdata().resolve("media/driving.mp4"));
    }

    @Test
    void corruptBytesAreConcealedAndCounted() throws IOException {
        byte[] b = driving();
        // Two changed bytes inside a video sample of the mdat (found by trying offsets: JCodec throws there).
        b[47135] ^= 0x5a;
        b[47136] ^= (byte) 0xa5;
        Path f = Files.write(tmp.resolve("corrupt.mp4"), b);
        int n = 0;
        try (VideoSource v = VideoSource.open(f)) {
            while (v.next() != null) {
                n++;
            }
            assertEquals(169, n, "every frame comes out");
            assertTrue(v.concealedFrames() > 0 && v.concealedFrames() < 169, "concealed " + v.concealedFrames());
        }
    }

    @Test
    void aTruncatedVideoIsAnimatedAsFarAsItGoesWithAWarning() throws IOException {
        byte[] b = driving();
        Path cut = Files.write(tmp.resolve("cut.mp4"), java.util.Arrays.copyOf(b, b.length / 2));
        Path model = SharedFixtures.testdata().resolveSibling("weights/fomm-vox-small.fomm4j");
        AnimationJob.Result r = AnimationJob.run(new AnimationJob.Options(model, null,
                SharedFixtures.fixture("fomm-vox-small").resolve("source.png"), cut, tmp.resolve("out.mp4"), AnimationMode.RELATIVE,
                false, null, false, null, null, false), AnimationJob.Progress.NONE);
        assertTrue(r.frames() > 0 && r.frames() < 169, r.frames() + " frames");
        List<String> w = r.warnings();
        assertEquals(1, w.size(), w.toString());
        assertTrue(w.get(0).contains("ends after " + r.frames() + " of the 169 frames"), w.get(0));
        assertTrue(Files.isRegularFile(tmp.resolve("out.mp4")));
    }

    @Test
    void rotationMetadataTurnsTheFrames() throws IOException {
        for (int degrees : new int[] {90, 180, 270}) {
            Path f = Files.write(tmp.resolve("rot" + degrees + ".mp4"), withVideoRotation(driving(), degrees));
            BufferedImage plain, turned;
            try (VideoSource v = VideoSource.open(SharedFixtures.testdata().resolve("media/driving.mp4"))) {
                plain = v.next();
            }
            try (VideoSource v = VideoSource.open(f)) {
                turned = v.next();
            }
            int w = plain.getWidth(), h = plain.getHeight();
            boolean swap = degrees != 180;
            assertEquals(swap ? h : w, turned.getWidth());
            assertEquals(swap ? w : h, turned.getHeight());
            for (int y = 0; y < h; y += 7) {
                for (int x = 0; x < w; x += 5) {
                    int expected = plain.getRGB(x, y);
                    int actual = switch (degrees) {
                        case 90 -> turned.getRGB(h - 1 - y, x);
                        case 180 -> turned.getRGB(w - 1 - x, h - 1 - y);
                        default -> turned.getRGB(y, w - 1 - x);
                    };
                    assertEquals(expected, actual, degrees + " degrees, pixel " + x + "," + y);
                }
            }
        }
    }

    @Test
    void aDecoderStuckOnCorruptDataEndsAsAnErrorNotAHang() throws IOException {
        // Found by ParserFuzzProperties: with this one-byte mutation JCodec's CABAC reader loops forever.
        byte[] stuck = org.fomm4j.io.ParserFuzzProperties.mutate(driving(), 481, 1);
        Path f = Files.write(tmp.resolve("stuck.mp4"), stuck);
        String old = System.getProperty("fomm4j.decodeTimeoutSeconds");
        System.setProperty("fomm4j.decodeTimeoutSeconds", "2");
        long t0 = System.nanoTime();
        try (VideoSource v = VideoSource.open(f)) {
            MediaException e = org.junit.jupiter.api.Assertions.assertThrows(MediaException.class, () -> {
                while (v.next() != null) {
                    // until the stuck frame
                }
            });
            assertTrue(e.getMessage().contains("decoder is stuck"), e.getMessage());
        } finally {
            if (old == null) {
                System.clearProperty("fomm4j.decodeTimeoutSeconds");
            } else {
                System.setProperty("fomm4j.decodeTimeoutSeconds", old);
            }
        }
        assertTrue((System.nanoTime() - t0) / 1e9 < 30, "returned within the timeout");
    }

    /** The MP4 with its video track header's display matrix set to a clockwise rotation. */
    static byte[] withVideoRotation(byte[] mp4, int degrees) {
        int vide = indexOf(mp4, "vide".getBytes(), 0);
        int tkhd = -1;
        for (int i = indexOf(mp4, "tkhd".getBytes(), 0); i >= 0 && i < vide; i = indexOf(mp4, "tkhd".getBytes(), i + 1)) {
            tkhd = i - 4;
        }
        assertTrue(tkhd > 0 && mp4[tkhd + 8] == 0, "a version-0 tkhd before the video handler");
        int m = tkhd + 48;
        int one = 0x00010000, neg = 0xFFFF0000;
        int[] mat = switch (degrees) {
            case 90 -> new int[] {0, one, 0, neg, 0, 0, 0, 0, 0x40000000};
            case 180 -> new int[] {neg, 0, 0, 0, neg, 0, 0, 0, 0x40000000};
            default -> new int[] {0, neg, 0, one, 0, 0, 0, 0, 0x40000000};
        };
        byte[] out = mp4.clone();
        ByteBuffer bb = ByteBuffer.wrap(out);
        for (int i = 0; i < 9; i++) {
            bb.putInt(m + 4 * i, mat[i]);
        }
        return out;
    }

    static int indexOf(byte[] h, byte[] n, int from) {
        outer:
        for (int i = from; i <= h.length - n.length; i++) {
            for (int j = 0; j < n.length; j++) {
                if (h[i + j] != n[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
