package org.fomm4j.tensor;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * Reads NumPy {@code .npy} arrays and {@code .npz} archives (format versions 1-3, C order), and
 * writes float32 {@code .npy}. Little-endian {@code f4}, {@code f8}, {@code i4}, {@code i8},
 * {@code u1} and {@code b1} are read and converted to float32 (integer buffers of a state dict are
 * small counters). Malformed input is an {@link IOException} that says what is wrong.
 */
public final class Npy {
    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([^']*)'");
    private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");

    private Npy() {
    }

    /** Reads every array of an {@code .npz} file, keyed by name without {@code .npy}, in archive order. */
    public static Map<String, Tensor> readNpz(Path file) throws IOException {
        Map<String, Tensor> out = new LinkedHashMap<>();
        try (ZipFile zip = new ZipFile(file.toFile())) {
            Enumeration<? extends ZipEntry> entries = zip.entries();
            while (entries.hasMoreElements()) {
                ZipEntry e = entries.nextElement();
                if (e.isDirectory()) {
                    continue;
                }
                String name = e.getName().endsWith(".npy") ? e.getName().substring(0, e.getName().length() - 4) : e.getName();
                try (InputStream in = zip.getInputStream(e)) {
                    out.put(name, read(in, file + ":" + e.getName()));
                }
            }
        }
        return out;
    }

    public static Tensor read(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return read(in, file.toString());
        }
    }

    /** Reads one array from a stream positioned at its magic string. */
    public static Tensor read(InputStream in, String what) throws IOException {
        byte[] magic = in.readNBytes(8);
        if (magic.length < 8) {
            throw new IOException(what + ": truncated .npy header");
        }
        for (int i = 0; i < MAGIC.length; i++) {
            if (magic[i] != MAGIC[i]) {
                throw new IOException(what + ": not a .npy array (bad magic)");
            }
        }
        int major = magic[6];
        int headerLen;
        if (major == 1) {
            byte[] l = in.readNBytes(2);
            if (l.length < 2) {
                throw new IOException(what + ": truncated .npy header");
            }
            headerLen = (l[0] & 0xff) | (l[1] & 0xff) << 8;
        } else if (major == 2 || major == 3) {
            byte[] l = in.readNBytes(4);
            if (l.length < 4) {
                throw new IOException(what + ": truncated .npy header");
            }
            headerLen = ByteBuffer.wrap(l).order(ByteOrder.LITTLE_ENDIAN).getInt();
        } else {
            throw new IOException(what + ": unsupported .npy version " + major);
        }
        byte[] hb = in.readNBytes(headerLen);
        if (hb.length < headerLen) {
            throw new IOException(what + ": truncated .npy header");
        }
        String header = new String(hb, major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        Matcher d = DESCR.matcher(header), f = FORTRAN.matcher(header), s = SHAPE.matcher(header);
        if (!d.find() || !f.find() || !s.find()) {
            throw new IOException(what + ": malformed .npy header " + header.trim());
        }
        if (f.group(1).equals("True")) {
            throw new IOException(what + ": Fortran-ordered arrays are not supported");
        }
        List<Integer> dims = new ArrayList<>();
        for (String part : s.group(1).split(",")) {
            if (!part.isBlank()) {
                dims.add(Integer.parseInt(part.trim()));
            }
        }
        int[] shape = dims.stream().mapToInt(Integer::intValue).toArray();
        long count = Tensor.count(shape);
        String descr = d.group(1);
        int itemSize = switch (descr) {
            case "<f4", "<i4" -> 4;
            case "<f8", "<i8" -> 8;
            case "|u1", "|b1", "|i1" -> 1;
            default -> throw new IOException(what + ": unsupported dtype " + descr);
        };
        long bytes = count * itemSize;
        if (bytes > Integer.MAX_VALUE - 16) {
            throw new IOException(what + ": array too large (" + bytes + " bytes)");
        }
        byte[] raw = in.readNBytes((int) bytes);
        if (raw.length < bytes) {
            throw new IOException(what + ": truncated data (" + raw.length + " of " + bytes + " bytes)");
        }
        ByteBuffer bb = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
        float[] data = new float[(int) count];
        switch (descr) {
            case "<f4" -> bb.asFloatBuffer().get(data);
            case "<f8" -> {
                for (int i = 0; i < count; i++) {
                    data[i] = (float) bb.getDouble(i * 8);
                }
            }
            case "<i4" -> {
                for (int i = 0; i < count; i++) {
                    data[i] = bb.getInt(i * 4);
                }
            }
            case "<i8" -> {
                for (int i = 0; i < count; i++) {
                    data[i] = bb.getLong(i * 8);
                }
            }
            case "|i1" -> {
                for (int i = 0; i < count; i++) {
                    data[i] = raw[i];
                }
            }
            default -> {
                for (int i = 0; i < count; i++) {
                    data[i] = raw[i] & 0xff;
                }
            }
        }
        return Tensor.of(data, shape);
    }

    /** Writes a float32, C-order {@code .npy} (version 1.0). */
    public static void write(Tensor t, OutputStream out) throws IOException {
        StringBuilder shape = new StringBuilder();
        for (int d : t.shape()) {
            shape.append(d).append(", ");
        }
        if (t.rank() > 1) {
            shape.setLength(shape.length() - 2);
        } else if (t.rank() == 0) {
            shape.setLength(0);
        } else {
            shape.setLength(shape.length() - 1);
        }
        String header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + shape + "), }";
        int total = 10 + header.length() + 1;
        int pad = (64 - total % 64) % 64;
        header = header + " ".repeat(pad) + "\n";
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        head.write(MAGIC);
        head.write(1);
        head.write(0);
        head.write(header.length() & 0xff);
        head.write(header.length() >> 8 & 0xff);
        head.write(header.getBytes(StandardCharsets.ISO_8859_1));
        out.write(head.toByteArray());
        ByteBuffer bb = ByteBuffer.allocate(4 * 16384).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0, n = t.size(); i < n; i++) {
            if (!bb.hasRemaining()) {
                out.write(bb.array(), 0, bb.position());
                bb.clear();
            }
            bb.putFloat(t.get(i));
        }
        out.write(bb.array(), 0, bb.position());
    }
}
