package org.fomm4j.io.media;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Set;

/**
 * Checks an MP4/MOV file's box structure before JCodec parses it, so that a damaged or hostile file gets
 * a one-line error instead of making us allocate what it merely claims. JCodec sizes its arrays from the
 * counts in the sample tables and its sample buffers from the sizes in {@code stsz}: a file of half a
 * megabyte whose {@code stsz} claims 2^31 samples made it allocate gigabytes and end in
 * {@link OutOfMemoryError} (found by fuzzing, {@code ParserFuzzProperties}).
 *
 * <p>Checked, reading only box headers and the sample-size and chunk-offset tables (bounded by the file):
 * every box fits in its parent (ISO/IEC 14496-12 section 4.2: 32-bit size, 64-bit {@code largesize},
 * 0 for "to the end of the file"); every table's {@code entry_count} times its entry size fits in its box
 * ({@code stts}, {@code ctts}, {@code stsc}, {@code stss}, {@code stco}, {@code co64}, {@code stsz},
 * {@code stz2}, {@code elst}, {@code stsd}); no sample is larger than the file (or {@value #MAX_SAMPLE} bytes,
 * for a file cut short); nesting is at most {@value #MAX_DEPTH} deep. A file cut short, whose last top-level
 * box runs past its end, passes: the frames that are there are read.
 */
final class Mp4Boxes {
    static final int MAX_DEPTH = 16;
    /** Boxes whose payload is a sequence of boxes (the path to the sample tables, and the common others). */
    private static final Set<String> CONTAINERS = Set.of("moov", "trak", "mdia", "minf", "stbl", "edts", "dinf", "mvex",
            "moof", "traf", "udta", "tref", "mfra", "ilst");

    private final FileChannel ch;
    private final long fileSize;
    private final Path path;

    private Mp4Boxes(FileChannel ch, Path path) throws IOException {
        this.ch = ch;
        this.fileSize = ch.size();
        this.path = path;
    }

    /** @throws MediaException naming the first box that does not add up */
    static void validate(Path path) throws IOException {
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            new Mp4Boxes(ch, path).boxes(0, ch.size(), 0, "file");
        }
    }

    private void boxes(long from, long to, int depth, String parent) throws IOException {
        if (depth > MAX_DEPTH) {
            throw bad("boxes nested more than " + MAX_DEPTH + " deep in " + parent);
        }
        long at = from;
        while (to - at >= 8) {
            ByteBuffer h = read(at, 16 <= to - at ? 16 : 8);
            long size = Integer.toUnsignedLong(h.getInt(0));
            String type = fourcc(h.getInt(4));
            int header = 8;
            if (size == 1) {
                if (h.limit() < 16) {
                    throw bad("box '" + type + "' at byte " + at + " is cut short");
                }
                size = h.getLong(8);
                header = 16;
            } else if (size == 0) {
                if (depth > 0) {
                    throw bad("box '" + type + "' at byte " + at + " in '" + parent + "' claims to run to the end of the file");
                }
                size = to - at;
            }
            if (depth == 0 && size > to - at && size >= header) {
                // A file cut short (a partial download): its last top-level box runs past the end. What is
                // there is read, and the frames stop where the data does.
                size = to - at;
            }
            if (size < header || size > to - at) {
                throw bad("box '" + type + "' at byte " + at + " claims " + size + " bytes, but '" + parent + "' has "
                        + (to - at) + " left");
            }
            long payload = at + header, end = at + size;
            if (CONTAINERS.contains(type) || parent.equals("ilst")) {
                // Every item of an iTunes-style metadata list ('ilst') holds 'data' boxes.
                boxes(payload, end, depth + 1, type);
            } else if (type.equals("meta")) {
                // ISO 'meta' is a full box (version and flags first); QuickTime's starts with its boxes.
                long skip = end - payload >= 4 && read(payload, 4).getInt(0) == 0 ? 4 : 0;
                boxes(payload + skip, end, depth + 1, type);
            } else {
                table(type, payload, end - payload, at);
            }
            at = end;
        }
    }

    /** The entry counts of the sample tables against their box sizes, and the sizes and offsets against the file. */
    private void table(String type, long payload, long length, long at) throws IOException {
        int entrySize;
        long countAt = 4; // full box: version and flags first
        switch (type) {
            case "stts", "ctts", "co64" -> entrySize = 8;
            case "sbgp" -> {
                entrySize = 8;
                // grouping_type first; version 1 adds grouping_type_parameter
                countAt = length >= 1 && read(payload, 1).get(0) == 1 ? 12 : 8;
            }
            case "stsc" -> entrySize = 12;
            case "stss", "stco" -> entrySize = 4;
            case "stsd" -> entrySize = 8; // each entry is a box of at least 8 bytes
            case "elst" -> entrySize = length >= 1 && read(payload, 1).get(0) == 1 ? 20 : 12;
            case "stsz" -> {
                entrySize = 4;
                countAt = 8;
            }
            case "stz2" -> {
                entrySize = 0; // field size in bits, checked below
                countAt = 8;
            }
            default -> {
                return;
            }
        }
        if (length < countAt + 4) {
            throw bad("'" + type + "' at byte " + at + " is cut short");
        }
        long count = Integer.toUnsignedLong(read(payload + countAt, 4).getInt(0));
        long room = length - countAt - 4;
        long needed;
        if (type.equals("stz2")) {
            int fieldBits = read(payload + 7, 1).get(0) & 0xff;
            needed = (count * fieldBits + 7) / 8;
        } else if (type.equals("stsz") && read(payload + 4, 4).getInt(0) != 0) {
            long sampleSize = Integer.toUnsignedLong(read(payload + 4, 4).getInt(0));
            if (sampleSize > sampleLimit()) {
                throw bad("'stsz' at byte " + at + " claims samples of " + sampleSize + " bytes in a file of " + fileSize);
            }
            needed = 0; // one size for all samples: no table
        } else {
            needed = count * entrySize;
        }
        if (needed > room) {
            throw bad("'" + type + "' at byte " + at + " claims " + count + " entries, but its box holds " + room + " bytes");
        }
        if (type.equals("stsz") && needed > 0) {
            scan(payload + countAt + 4, count, sampleLimit(), "'stsz' at byte " + at + " claims a sample of %s bytes");
        }
    }

    /**
     * The largest sample read: one larger than the file cannot be in it, except in a file cut short, whose
     * later samples may be larger than what is left; 64 MiB is far above any real H.264 frame.
     */
    private long sampleLimit() {
        return Math.max(fileSize, MAX_SAMPLE);
    }

    static final long MAX_SAMPLE = 64L << 20;

    /** Every entry of a table of {@code count} unsigned 32-bit big-endian values is at most {@code limit}. */
    private void scan(long from, long count, long limit, String message) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(8192);
        long pos = from, left = count * 4;
        while (left > 0) {
            buf.clear().limit((int) Math.min(buf.capacity(), left));
            readFully(buf, pos);
            buf.flip();
            while (buf.remaining() >= 4) {
                long v = Integer.toUnsignedLong(buf.getInt());
                if (v > limit) {
                    throw bad(message.formatted(Long.toUnsignedString(v)) + " in a file of " + fileSize + " bytes");
                }
            }
            pos += buf.limit();
            left -= buf.limit();
        }
    }

    private ByteBuffer read(long at, int n) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(n);
        readFully(b, at);
        return b.flip();
    }

    private void readFully(ByteBuffer b, long at) throws IOException {
        long pos = at;
        while (b.hasRemaining()) {
            int r = ch.read(b, pos);
            if (r < 0) {
                throw bad("ends inside a box at byte " + pos);
            }
            pos += r;
        }
    }

    private static String fourcc(int v) {
        StringBuilder s = new StringBuilder(4);
        for (int shift = 24; shift >= 0; shift -= 8) {
            int c = (v >>> shift) & 0xff;
            s.append(c >= 32 && c < 127 ? (char) c : '?');
        }
        return s.toString();
    }

    private MediaException bad(String what) {
        return new MediaException("driving video " + path + " is damaged (" + what + ")");
    }
}
