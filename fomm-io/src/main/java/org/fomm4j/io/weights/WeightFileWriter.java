package org.fomm4j.io.weights;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.fomm4j.io.checkpoint.DType;
import org.fomm4j.io.checkpoint.TorchCheckpoint.RawTensor;

/**
 * Writes our weight file: the safetensors layout (8-byte little-endian header length, a JSON header,
 * then the tensor bytes), so other tools can read it, with every tensor 64-byte aligned.
 *
 * <p>Alignment without breaking safetensors' rule that the data section has no holes: the header is
 * padded with spaces so the data starts on a 64-byte boundary, and the gap after a tensor whose size
 * is not a multiple of 64 is declared as a {@code U8} filler tensor named {@code __pad__.N}
 * ({@link WeightFile} skips those). {@code __metadata__} holds string metadata.
 */
public final class WeightFileWriter {
    static final int ALIGN = 64;
    static final String PAD_PREFIX = "__pad__.";

    private WeightFileWriter() {
    }

    /**
     * Writes {@code tensors} (name to raw little-endian data, F32, F16 or I64) with {@code metadata}, atomically.
     *
     * @throws WeightFileException if the output cannot be written (nothing is left behind)
     */
    public static void write(Path output, Map<String, String> metadata, Map<String, RawTensor> tensors) throws IOException {
        ObjectMapper json = new ObjectMapper();
        ObjectNode header = json.createObjectNode();
        ObjectNode meta = header.putObject("__metadata__");
        metadata.forEach(meta::put);
        long offset = 0;
        Map<String, byte[]> order = new LinkedHashMap<>();
        int pads = 0;
        for (var e : tensors.entrySet()) {
            RawTensor t = e.getValue();
            if (t.dtype() != DType.F32 && t.dtype() != DType.F16 && t.dtype() != DType.I64) {
                throw new IllegalArgumentException("weight files hold F32, F16 and I64 tensors, not " + t.dtype());
            }
            long n = 1;
            for (int d : t.shape()) {
                n *= d;
            }
            if (n * t.dtype().size != t.data().length) {
                throw new IllegalArgumentException("tensor " + e.getKey() + ": " + t.data().length + " bytes for shape "
                        + java.util.Arrays.toString(t.shape()));
            }
            ObjectNode entry = header.putObject(e.getKey());
            entry.put("dtype", t.dtype().name());
            ArrayNode shape = entry.putArray("shape");
            for (int d : t.shape()) {
                shape.add(d);
            }
            entry.putArray("data_offsets").add(offset).add(offset + t.data().length);
            order.put(e.getKey(), t.data());
            offset += t.data().length;
            int gap = (int) ((ALIGN - offset % ALIGN) % ALIGN);
            if (gap > 0) {
                String padName = PAD_PREFIX + pads++;
                ObjectNode pad = header.putObject(padName);
                pad.put("dtype", "U8");
                pad.putArray("shape").add(gap);
                pad.putArray("data_offsets").add(offset).add(offset + gap);
                order.put(padName, new byte[gap]);
                offset += gap;
            }
        }
        byte[] h = json.writeValueAsBytes(header);
        int headerLen = h.length + (int) ((ALIGN - (8 + h.length) % ALIGN) % ALIGN);
        byte[] padded = new byte[headerLen];
        java.util.Arrays.fill(padded, (byte) ' ');
        System.arraycopy(h, 0, padded, 0, h.length);
        AtomicFiles.write(output, out -> {
            byte[] len = new byte[8];
            for (int i = 0; i < 8; i++) {
                len[i] = (byte) ((long) headerLen >>> (8 * i));
            }
            out.write(len);
            out.write(padded);
            for (byte[] b : order.values()) {
                out.write(b);
            }
        });
    }

    static String utf8(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }
}
