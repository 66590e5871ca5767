package org.fomm4j.io;

import static org.fomm4j.io.MaliciousPickleTest.legacyPreamble;
import static org.fomm4j.io.MaliciousPickleTest.unicode;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.fomm4j.io.checkpoint.CheckpointException;
import org.fomm4j.io.checkpoint.TorchCheckpoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Checkpoints that claim more than they hold, or nest deeper than any state dict: a clean
 * {@link CheckpointException}, and no allocation of what the file merely declares (measured with the
 * thread's allocation counter).
 */
class HostileCheckpointTest {
    @TempDir
    Path tmp;

    private static long allocated() {
        return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean()).getCurrentThreadAllocatedBytes();
    }

    private Path legacy(byte[] obj) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.writeBytes(legacyPreamble());
        b.writeBytes(obj);
        Path f = tmp.resolve("legacy.pth.tar");
        Files.write(f, b.toByteArray());
        return f;
    }

    private Path zip(byte[] pkl) throws IOException {
        Path f = tmp.resolve("zip.pth.tar");
        try (ZipOutputStream z = new ZipOutputStream(Files.newOutputStream(f))) {
            z.putNextEntry(new ZipEntry("archive/data.pkl"));
            z.write(pkl);
            z.closeEntry();
        }
        return f;
    }

    /** {@code {'generator': <op><len32 LE><tail>}} in protocol 2, without the STOP the tail would need. */
    private static byte[] dictWithDeclared(int op, long declared, int lenBytes, byte[] tail) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.write(0x80);
        b.write(2);
        b.write('}');
        b.writeBytes(unicode("generator"));
        b.write(op);
        for (int i = 0; i < lenBytes; i++) {
            b.write((int) (declared >>> (8 * i)) & 0xff);
        }
        b.writeBytes(tail);
        return b.toByteArray();
    }

    @Test
    void declaredStringsLargerThanTheFileAreTruncationNotAllocations() throws IOException {
        // 'X' BINUNICODE, 'B' BINBYTES, 'T' BINSTRING with 60 MB declared and 3 bytes present; 0x8d/0x8e with 8-byte lengths.
        int[][] cases = {{'X', 4}, {'B', 4}, {'T', 4}, {0x8d, 8}, {0x8e, 8}, {0x8b, 4}};
        for (int[] c : cases) {
            byte[] pkl = dictWithDeclared(c[0], 60L << 20, c[1], new byte[] {'a', 'b', 'c'});
            for (Path f : new Path[] {legacy(pkl), zip(pkl)}) {
                long before = allocated();
                CheckpointException e = assertThrows(CheckpointException.class, () -> TorchCheckpoint.open(f));
                long used = allocated() - before;
                assertTrue(e.getMessage().contains("truncated"), e.getMessage());
                assertTrue(used < 8 << 20, "opcode " + c[0] + ": allocated " + used + " bytes for a 60 MB claim");
            }
        }
        byte[] huge = dictWithDeclared('X', 0xffff_fff0L, 4, new byte[] {'a'});
        CheckpointException e = assertThrows(CheckpointException.class, () -> TorchCheckpoint.open(legacy(huge)));
        assertTrue(e.getMessage().contains("4294967280 bytes"), e.getMessage());
    }

    @Test
    void nestingDeeperThanAnyStateDictIsAnErrorNotAStackOverflow() throws IOException {
        int depth = 200_000;
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.write(0x80);
        b.write(2);
        b.write('}');
        b.writeBytes(unicode("generator"));
        for (int i = 0; i < depth; i++) {
            b.write(']');
        }
        for (int i = 1; i < depth; i++) {
            b.write('a');
        }
        b.write('s');
        b.write('.');
        byte[] pkl = b.toByteArray();
        for (Path f : new Path[] {legacy(pkl), zip(pkl)}) {
            CheckpointException e = assertThrows(CheckpointException.class, () -> TorchCheckpoint.open(f));
            assertTrue(e.getMessage().contains("nested"), e.getMessage());
        }
    }

    @Test
    void wideButShallowStructuresAreFineAndSharedValuesCannotExplode() throws IOException {
        // {'generator': {'k0': {}, 'k1': {}, ...}} with 100,000 entries: shallow, so it loads.
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.write(0x80);
        b.write(2);
        b.write('}');
        b.writeBytes(unicode("generator"));
        b.write('}');
        for (int i = 0; i < 100_000; i++) {
            b.writeBytes(unicode("k" + i));
            b.write('}');
            b.write('s');
        }
        b.write('s');
        b.write('.');
        TorchCheckpoint wide = TorchCheckpoint.open(zip(b.toByteArray()));
        assertTrue(wide.keys().contains("generator"));
        // L0 = [], L(i+1) = [L(i), L(i)] 60 times through the memo: 2^60 elements as a tree.
        ByteArrayOutputStream d = new ByteArrayOutputStream();
        d.write(0x80);
        d.write(2);
        d.write('}');
        d.writeBytes(unicode("generator"));
        d.write(']');
        for (int i = 0; i < 60; i++) {
            d.write('q');          // BINPUT 0: memo[0] = top
            d.write(0);
            d.write('0');          // POP
            d.write('(');          // MARK
            d.write('h');          // BINGET 0
            d.write(0);
            d.write('h');
            d.write(0);
            d.write('l');          // LIST from mark
        }
        d.write('s');
        d.write('.');
        CheckpointException dag = assertThrows(CheckpointException.class, () -> TorchCheckpoint.open(zip(d.toByteArray())));
        assertTrue(dag.getMessage().contains("repeat"), dag.getMessage());
    }
}
