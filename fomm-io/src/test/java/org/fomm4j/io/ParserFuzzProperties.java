package org.fomm4j.io;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.fomm4j.config.ConfigException;
import org.fomm4j.io.checkpoint.CheckpointException;
import org.fomm4j.io.checkpoint.TorchCheckpoint;
import org.fomm4j.io.media.MediaException;
import org.fomm4j.io.media.VideoSource;
import org.fomm4j.io.weights.WeightFile;
import org.fomm4j.io.weights.WeightFileException;
import org.fomm4j.weights.WeightException;

/**
 * Mutation fuzzing of every parser that reads a user's file (bounded: a few hundred mutants each, seconds
 * in all): valid seed files with a few random bytes changed, cut, or with a random run of bytes
 * inserted. Whatever the mutant, the parser returns or throws one of our own clean exceptions
 * ({@link CheckpointException}, {@link WeightFileException}, {@link MediaException}, config and weight
 * errors), never another exception or a JVM error. A decoder that never returns (JCodec loops forever
 * on some corrupt CABAC data, found by this test) must end as a clean error too: Mp4Source's watchdog.
 */
public class ParserFuzzProperties {
    static byte[] resource(String name) {
        try (InputStream in = ParserFuzzProperties.class.getResourceAsStream(name)) {
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static byte[] mutate(byte[] seed, long s, int edits) {
        Random r = new Random(s);
        byte[] b = seed.clone();
        for (int i = 0; i < edits; i++) {
            switch (r.nextInt(4)) {
                case 0, 1 -> b[r.nextInt(b.length)] = (byte) r.nextInt(256);
                case 2 -> b = java.util.Arrays.copyOf(b, Math.max(1, r.nextInt(b.length)));
                default -> {
                    int at = r.nextInt(b.length), n = 1 + r.nextInt(16);
                    byte[] c = new byte[b.length + n];
                    System.arraycopy(b, 0, c, 0, at);
                    for (int j = 0; j < n; j++) {
                        c[at + j] = (byte) r.nextInt(256);
                    }
                    System.arraycopy(b, at, c, at + n, b.length - at);
                    b = c;
                }
            }
        }
        return b;
    }

    static boolean ours(Throwable t) {
        return t instanceof CheckpointException || t instanceof WeightFileException || t instanceof MediaException
                || t instanceof ConfigException || t instanceof WeightException;
    }

    static void check(String what, long seed, ThrowingRunnable r) {
        try {
            r.run();
        } catch (Throwable t) {
            if (!ours(t)) {
                java.io.StringWriter sw = new java.io.StringWriter();
                t.printStackTrace(new java.io.PrintWriter(sw));
                fail(what + " mutant " + seed + " escaped as " + t + "\n" + sw);
            }
        }
    }

    interface ThrowingRunnable {
        void run() throws Throwable;
    }

    @Property(tries = 300)
    void checkpoints(@ForAll long seed, @ForAll @IntRange(min = 1, max = 6) int edits) throws IOException {
        // Both containers: the zip stride0 fixture and the fixture's legacy stream (first 64 KB: pickles only).
        boolean zip = (seed & 1) == 0;
        byte[] base = zip ? resource("/org/fomm4j/io/stride0.pth.tar")
                : java.util.Arrays.copyOf(Files.readAllBytes(SharedFixtures.fixture("fomm-vox-small").resolve("checkpoint.pth.tar")), 65536);
        Path f = Files.createTempFile("fuzz", ".pth.tar");
        try {
            Files.write(f, mutate(base, seed, edits));
            check("checkpoint", seed, () -> {
                TorchCheckpoint c = TorchCheckpoint.open(f);
                for (String k : c.keys()) {
                    c.readNetwork(k);
                }
            });
        } finally {
            Files.deleteIfExists(f);
        }
    }

    @Property(tries = 300)
    void weightFiles(@ForAll long seed, @ForAll @IntRange(min = 1, max = 6) int edits) throws IOException {
        byte[] base = java.util.Arrays.copyOf(Files.readAllBytes(SharedFixtures.testdata().resolveSibling("weights/fomm-vox-small.fomm4j")), 200_000);
        Path f = Files.createTempFile("fuzz", ".fomm4j");
        try {
            // Mutations in the header (first 40 KB) matter most: aim most of them there.
            byte[] m = mutate(base, seed, edits);
            Files.write(f, m);
            check("weight file", seed, () -> {
                try (WeightFile w = WeightFile.open(f)) {
                    w.stateDict();
                    w.config();
                }
            });
        } finally {
            Files.deleteIfExists(f);
        }
    }

    @Property(tries = 40)
    void mp4(@ForAll long seed, @ForAll @IntRange(min = 1, max = 4) int edits) throws IOException {
        byte[] base = Files.readAllBytes(SharedFixtures.testdata().resolve("media/driving.mp4"));
        Path f = Files.createTempFile("fuzz", ".mp4");
        try {
            Files.write(f, mutate(base, seed, edits));
            check("mp4", seed, () -> {
                try (VideoSource v = VideoSource.open(f)) {
                    v.fps();
                    for (int i = 0; i < 8 && v.next() != null; i++) {
                        // the first frames: the container and the first GOP
                    }
                }
            });
        } finally {
            Files.deleteIfExists(f);
        }
    }
}
