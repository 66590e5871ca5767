package org.fomm4j.io.weights;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import org.fomm4j.config.YamlConfig;
import org.fomm4j.tensor.Tensor;
import org.fomm4j.weights.StateDict;

/**
 * Our weight file, memory-mapped (see {@link WeightFileWriter} for the layout). Opening maps the file
 * in a shared {@link Arena} and checks the header; float32 tensors are {@link MemorySegment} slices of
 * the mapping (nothing is copied); float16 tensors (written by {@link HalfPrecision}) are widened to
 * float32 heap tensors once, at open; int64 buffers are converted to small heap tensors.
 * {@link #close()} unmaps: tensors from {@link #stateDict()} must not be used afterwards (build the
 * model first; building packs what it needs).
 *
 * <p>Metadata keys: {@code format} ({@code fomm4j}), {@code family} ({@code fomm} or {@code tpsmm}),
 * {@code config} (the full YAML config, as text), {@code source_sha256}, {@code source_file},
 * {@code published_checkpoint} (name of the matching published checkpoint, when one matched).
 */
public final class WeightFile implements AutoCloseable {
    private static final ValueLayout.OfFloat LE_FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort LE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong LE_LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Path path;
    private final Arena arena;
    private final Map<String, String> metadata;
    private final Map<String, Tensor> tensors;
    private final Map<String, String> dtypes;
    private boolean closed;

    private WeightFile(Path path, Arena arena, Map<String, String> metadata, Map<String, Tensor> tensors, Map<String, String> dtypes) {
        this.path = path;
        this.arena = arena;
        this.metadata = metadata;
        this.tensors = tensors;
        this.dtypes = dtypes;
    }

    /**
     * Maps and validates a weight file.
     *
     * @throws WeightFileException if it is missing, not a fomm4j weight file, truncated or corrupt
     */
    public static WeightFile open(Path path) throws WeightFileException {
        if (!Files.isRegularFile(path)) {
            throw new WeightFileException("model file " + path + " does not exist or is not a file");
        }
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) {
                throw new WeightFileException("model file " + path + " is too short to be a fomm4j weight file");
            }
            MemorySegment all = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            long headerLen = all.get(LE_LONG, 0);
            if (headerLen <= 1 || headerLen > 100_000_000 || 8 + headerLen > size) {
                throw new WeightFileException("model file " + path + " is not a fomm4j weight file (bad header length)");
            }
            byte[] hb = all.asSlice(8, headerLen).toArray(ValueLayout.JAVA_BYTE);
            JsonNode header;
            try {
                header = new ObjectMapper().readTree(new String(hb, StandardCharsets.UTF_8));
            } catch (IOException e) {
                throw new WeightFileException("model file " + path + " is not a fomm4j weight file (header is not JSON)", e);
            }
            JsonNode meta = header.get("__metadata__");
            if (meta == null || !"fomm4j".equals(meta.path("format").asText())) {
                throw new WeightFileException("model file " + path + " is not a fomm4j weight file (convert the checkpoint with 'fomm convert')");
            }
            Map<String, String> metadata = new LinkedHashMap<>();
            meta.fields().forEachRemaining(e -> metadata.put(e.getKey(), e.getValue().asText()));
            long dataStart = 8 + headerLen;
            long dataLen = size - dataStart;
            Map<String, Tensor> tensors = new LinkedHashMap<>();
            Map<String, String> dtypes = new LinkedHashMap<>();
            java.util.TreeMap<Long, long[]> ranges = new java.util.TreeMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                String name = e.getKey();
                if (name.equals("__metadata__")) {
                    continue;
                }
                JsonNode t = e.getValue();
                JsonNode o = t.path("data_offsets");
                if (!o.isArray() || o.size() != 2 || !o.get(0).isIntegralNumber() || !o.get(1).isIntegralNumber()
                        || !o.get(0).canConvertToLong() || !o.get(1).canConvertToLong()) {
                    throw new WeightFileException("model file " + path + " is corrupt: data_offsets of " + name + " are not two integers");
                }
                long b0 = o.get(0).asLong(), b1 = o.get(1).asLong();
                if (b0 < 0 || b1 < b0) {
                    throw new WeightFileException("model file " + path + " is corrupt: data_offsets of " + name + " are out of order");
                }
                if (b1 > b0 && ranges.put(b0, new long[] {b1}) != null) {
                    throw new WeightFileException("model file " + path + " is corrupt: two tensors start at byte " + b0);
                }
                if (name.startsWith(WeightFileWriter.PAD_PREFIX)) {
                    continue;
                }
                String dtype = t.path("dtype").asText();
                JsonNode shapeNode = t.path("shape");
                JsonNode offs = t.path("data_offsets");
                if (!shapeNode.isArray() || !offs.isArray() || offs.size() != 2) {
                    throw new WeightFileException("model file " + path + " is corrupt: bad entry for " + name);
                }
                int[] shape = new int[shapeNode.size()];
                long n = 1;
                for (int i = 0; i < shape.length; i++) {
                    JsonNode d = shapeNode.get(i);
                    if (!d.isIntegralNumber() || !d.canConvertToInt() || d.asInt() < 0) {
                        throw new WeightFileException("model file " + path + " is corrupt: shape of " + name + " is not non-negative integers");
                    }
                    shape[i] = d.asInt();
                    if (shape[i] > 0 && n > Long.MAX_VALUE / 8 / shape[i]) {
                        throw new WeightFileException("model file " + path + " is corrupt: shape of " + name + " is too large");
                    }
                    n *= shape[i];
                }
                long begin = offs.get(0).asLong(), end = offs.get(1).asLong();
                int es = switch (dtype) {
                    case "F32" -> 4;
                    case "F16" -> 2;
                    case "I64" -> 8;
                    default -> throw new WeightFileException("model file " + path + ": tensor " + name + " has unsupported dtype " + dtype);
                };
                if (begin < 0 || end < begin || end - begin != n * es) {
                    throw new WeightFileException("model file " + path + " is corrupt: offsets of " + name + " do not match its shape");
                }
                if (end > dataLen) {
                    throw new WeightFileException("model file " + path + " is truncated: tensor " + name + " ends at byte "
                            + (dataStart + end) + " of " + size);
                }
                MemorySegment slice = all.asSlice(dataStart + begin, end - begin);
                dtypes.put(name, dtype);
                if (es == 4) {
                    long bad = 0;
                    for (long i = 0; i < n; i++) {
                        if (!Float.isFinite(slice.getAtIndex(LE_FLOAT, i))) {
                            bad++;
                        }
                    }
                    checkFinite(path, name, bad);
                    tensors.put(name, Tensor.ofSegment(slice, shape));
                } else if (es == 2) {
                    // Half-precision weights (fomm compact) are widened once here; the kernels read float32.
                    float[] v = new float[Math.toIntExact(n)];
                    long bad = 0;
                    for (int i = 0; i < v.length; i++) {
                        v[i] = Float.float16ToFloat(slice.getAtIndex(LE_SHORT, i));
                        if (!Float.isFinite(v[i])) {
                            bad++;
                        }
                    }
                    checkFinite(path, name, bad);
                    tensors.put(name, Tensor.of(v, shape));
                } else {
                    float[] v = new float[(int) n];
                    for (int i = 0; i < n; i++) {
                        v[i] = slice.getAtIndex(LE_LONG, i);
                    }
                    tensors.put(name, Tensor.of(v, shape));
                }
            }
            long prevEnd = 0;
            for (var r : ranges.entrySet()) {
                if (r.getKey() < prevEnd) {
                    throw new WeightFileException("model file " + path + " is corrupt: tensors overlap at byte " + r.getKey());
                }
                prevEnd = r.getValue()[0];
            }
            return new WeightFile(path, arena, Collections.unmodifiableMap(metadata), Collections.unmodifiableMap(tensors),
                    Collections.unmodifiableMap(dtypes));
        } catch (WeightFileException e) {
            arena.close();
            throw e;
        } catch (IOException | RuntimeException e) {
            arena.close();
            throw new WeightFileException("cannot read model file " + path + ": " + e.getMessage(), e);
        }
    }

    private static void checkFinite(Path path, String name, long bad) throws WeightFileException {
        if (bad > 0) {
            throw new WeightFileException("model file " + path + ": tensor " + name + " has " + bad
                    + " non-finite values (NaN or infinity)");
        }
    }

    public Path path() {
        return path;
    }

    public Map<String, String> metadata() {
        checkOpen();
        return metadata;
    }

    /** {@code fomm} or {@code tpsmm}. */
    public String family() {
        return metadata().getOrDefault("family", "");
    }

    /** The model config stored at conversion, parsed. */
    public JsonNode config() {
        return YamlConfig.parse(metadata().get("config"));
    }

    /** All tensors as {@code NETWORK.KEY}, float32 ones backed by the mapping. */
    public StateDict stateDict() {
        checkOpen();
        return StateDict.of(tensors);
    }

    /** How tensor {@code name} is stored in the file: {@code F32}, {@code F16} or {@code I64}. */
    public String dtype(String name) {
        checkOpen();
        String d = dtypes.get(name);
        if (d == null) {
            throw new IllegalArgumentException("model file " + path + " has no tensor " + name);
        }
        return d;
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("weight file " + path + " is closed");
        }
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            arena.close();
        }
    }
}
