package org.fomm4j.io.media;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.fomm4j.io.SharedFixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The real driving video with one number of its video track's sample tables raised to 2^31 - 16. Before
 * {@link Mp4Boxes}, JCodec allocated what each of these claims and the CLI ended in OutOfMemoryError
 * (checked by hand with -Xmx512m for stsz, stco, stsc, stts and ctts counts and an stsz sample size).
 * Each must now fail at once with a one-line {@link MediaException} naming the box; the heap of this
 * test JVM is far below what the claims would take (2^31 entries of 4 to 12 bytes).
 */
class Mp4BoxesTest {
    @TempDir
    Path tmp;

    static byte[] driving() throws IOException {
        return Files.readAllBytes(SharedFixtures.testdata().resolve("media/driving.mp4"));
    }

    /** Start of the first box of {@code type} after the video track's media header ({@code vmhd}). */
    static int videoBox(byte[] b, String type) {
        int from = indexOf(b, "vmhd", 0);
        assertTrue(from > 0, "the video track has a vmhd");
        int at = indexOf(b, type, from);
        assertTrue(at > 0, "the video track has " + type);
        return at - 4;
    }

    static int indexOf(byte[] b, String s, int from) {
        byte[] p = s.getBytes(StandardCharsets.ISO_8859_1);
        outer:
        for (int i = from; i + p.length <= b.length; i++) {
            for (int j = 0; j < p.length; j++) {
                if (b[i + j] != p[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    @ParameterizedTest(name = "{0} +{1}")
    @CsvSource({
        "stsz, 16, claims 2147483632 entries",      // sample_count
        "stsz, 20, claims a sample of 2147483632 bytes", // first entry of the size table
        "stco, 12, claims 2147483632 entries",
        "stsc, 12, claims 2147483632 entries",
        "stts, 12, claims 2147483632 entries",
        "ctts, 12, claims 2147483632 entries",
        "stsd, 12, claims 2147483632 entries",
        "stsz, 0, claims 2147483632 bytes",         // the box's own size
    })
    void aClaimBeyondTheFileIsAOneLineError(String box, int offset, String expected) throws IOException {
        byte[] b = driving();
        ByteBuffer.wrap(b).putInt(videoBox(b, box) + offset, 0x7ffffff0);
        Path f = Files.write(tmp.resolve(box + offset + ".mp4"), b);
        MediaException e = assertThrows(MediaException.class, () -> VideoSource.open(f).close());
        assertTrue(e.getMessage().contains("is damaged") && e.getMessage().contains(expected), e.getMessage());
        assertEquals(1, e.getMessage().lines().count(), e.getMessage());
    }

    @Test
    void aMetadataItemThatClaimsTooMuchIsRefused() throws IOException {
        // Found by fuzzing: the size of the 'data' box in the encoder tag (udta/meta/ilst/\u00a9too) raised
        // to 0x6400001d made JCodec's metadata parser loop forever, before any frame and its watchdog.
        byte[] b = driving();
        int item = indexOf(b, "\u00a9too", indexOf(b, "ilst", 0)) - 4;
        assertTrue(item > 0);
        b[item + 8] = 100;
        Path f = Files.write(tmp.resolve("ilst.mp4"), b);
        MediaException e = assertThrows(MediaException.class, () -> VideoSource.open(f).close());
        assertTrue(e.getMessage().contains("box 'data'") && e.getMessage().contains("is damaged"), e.getMessage());
    }

    @Test
    void boxesNestedWithoutEndAreRefused() throws IOException {
        // 40 'trak' boxes, each holding the next: a file that would otherwise recurse as deep as it likes.
        int depth = 40;
        ByteBuffer bb = ByteBuffer.allocate(8 * depth);
        for (int i = 0; i < depth; i++) {
            bb.putInt(8 * (depth - i)).put("trak".getBytes(StandardCharsets.ISO_8859_1));
        }
        Path f = Files.write(tmp.resolve("deep.mp4"), bb.array());
        MediaException e = assertThrows(MediaException.class, () -> VideoSource.open(f).close());
        assertTrue(e.getMessage().contains("nested more than " + Mp4Boxes.MAX_DEPTH), e.getMessage());
    }

    @Test
    void intactFilesPass() throws IOException {
        Mp4Boxes.validate(SharedFixtures.testdata().resolve("media/driving.mp4"));
        Mp4Boxes.validate(SharedFixtures.testdata().resolve("media/creature-driving.mp4"));
        byte[] b = driving();
        // A partial download: the mdat runs past the end, which is read as far as it goes (DamagedVideoTest).
        Mp4Boxes.validate(Files.write(tmp.resolve("cut.mp4"), java.util.Arrays.copyOf(b, b.length / 2)));
    }
}
