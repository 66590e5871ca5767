package org.fomm4j.io.media;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.fomm4j.tensor.Tensor;

/**
 * Streams predictions into a float32 {@code .npy} of shape {@code [T, C, H, W]} (values before any
 * quantization). The header is written with room for any {@code T} and rewritten when the count is
 * known; the file appears atomically at {@link #finish()}.
 */
public final class NpyFramesWriter implements AutoCloseable {
    private static final int HEADER = 128;
    private final TempOutput out;
    private final FileChannel channel;
    private int[] frameShape;
    private int frames;

    public NpyFramesWriter(Path target) throws IOException {
        Path abs = target.toAbsolutePath();
        if (abs.getParent() == null || !java.nio.file.Files.isDirectory(abs.getParent())) {
            throw new MediaException("cannot write " + target + ": directory " + abs.getParent() + " does not exist");
        }
        this.out = TempOutput.file(abs);
        this.channel = FileChannel.open(out.temp, StandardOpenOption.WRITE);
        channel.write(ByteBuffer.wrap(header(0, new int[] {3, 1, 1})), 0);
        channel.position(HEADER);
    }

    private static byte[] header(int t, int[] shape) {
        String dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + t + ", " + shape[0] + ", " + shape[1] + ", "
                + shape[2] + "), }";
        StringBuilder h = new StringBuilder(dict);
        while (10 + h.length() + 1 < HEADER) {
            h.append(' ');
        }
        h.append('\n');
        ByteBuffer b = ByteBuffer.allocate(HEADER).order(ByteOrder.LITTLE_ENDIAN);
        b.put((byte) 0x93).put("NUMPY".getBytes(StandardCharsets.US_ASCII)).put((byte) 1).put((byte) 0);
        b.putShort((short) (HEADER - 10));
        b.put(h.toString().getBytes(StandardCharsets.US_ASCII));
        return b.array();
    }

    /** @param frame {@code [1, C, H, W]} */
    public void write(Tensor frame) throws IOException {
        int[] s = {frame.dim(1), frame.dim(2), frame.dim(3)};
        if (frameShape == null) {
            frameShape = s;
        } else if (!java.util.Arrays.equals(frameShape, s)) {
            throw new IllegalArgumentException("raw output frames must all have the same shape");
        }
        ByteBuffer b = ByteBuffer.allocate(frame.size() * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < frame.size(); i++) {
            b.putFloat(frame.get(i));
        }
        b.flip();
        while (b.hasRemaining()) {
            channel.write(b);
        }
        frames++;
    }

    public void finish() throws IOException {
        if (frames == 0) {
            throw new MediaException("no frames were generated; nothing written to " + out.target);
        }
        channel.write(ByteBuffer.wrap(header(frames, frameShape)), 0);
        channel.force(true);
        channel.close();
        out.commit();
    }

    @Override
    public void close() throws IOException {
        if (channel.isOpen()) {
            channel.close();
        }
        out.discard();
    }
}
