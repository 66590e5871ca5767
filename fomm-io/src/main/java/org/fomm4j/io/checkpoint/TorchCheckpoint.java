package org.fomm4j.io.checkpoint;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;
import net.razorvine.pickle.PickleException;

/**
 * A PyTorch checkpoint ({@code torch.save}) read without Python and without executing anything from
 * it. Both formats of the published files: the legacy stream (magic number, protocol, sys info, the
 * object pickle, the storage keys, then every storage as {@code int64 numel} + raw bytes; FOMM) and
 * the zip archive ({@code NAME/data.pkl} plus one entry per storage in {@code NAME/data/KEY}; TPSMM).
 * Storages saved from a GPU ({@code torch.cuda.FloatStorage}, location {@code cuda:0}) load the same.
 *
 * <p>Opening parses the object pickle only; {@link #readNetwork} then reads the storages that
 * network's tensors use.
 */
public final class TorchCheckpoint {
    private static final BigInteger LEGACY_MAGIC = new BigInteger("1950a86a20f9469cfc6c", 16);

    /** The two container formats. */
    public enum Format { LEGACY, ZIP }

    /** One tensor read from a checkpoint: type, shape and little-endian C-order bytes. */
    public record RawTensor(DType dtype, int[] shape, byte[] data) {
        /** {@code values} as a little-endian float32 tensor of {@code shape}. */
        public static RawTensor f32(int[] shape, float[] values) {
            ByteBuffer b = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
            b.asFloatBuffer().put(values);
            return new RawTensor(DType.F32, shape, b.array());
        }

        /** Integral {@code values} (counters, as our tensors hold them) as a little-endian int64 tensor of {@code shape}. */
        public static RawTensor i64(int[] shape, float[] values) {
            ByteBuffer b = ByteBuffer.allocate(8 * values.length).order(ByteOrder.LITTLE_ENDIAN);
            for (float v : values) {
                b.putLong((long) v);
            }
            return new RawTensor(DType.I64, shape, b.array());
        }

        /** The values as float32 (integers converted). */
        public float[] toFloats() {
            int n = data.length / dtype.size;
            float[] out = new float[n];
            ByteBuffer b = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < n; i++) {
                out[i] = switch (dtype) {
                    case F32 -> b.getFloat(i * 4);
                    case I64 -> b.getLong(i * 8);
                    default -> throw new IllegalStateException("unconverted dtype " + dtype);
                };
            }
            return out;
        }
    }

    private final Path file;
    private final Format format;
    private final Map<String, Object> root;
    /** Legacy: file offset of the storage section and the keys in file order. */
    private final long legacyDataStart;
    private final List<String> legacyKeys;
    /** Zip: prefix of the archive entries ({@code NAME/}). */
    private final String zipPrefix;

    private TorchCheckpoint(Path file, Format format, Map<String, Object> root, long legacyDataStart,
                            List<String> legacyKeys, String zipPrefix) {
        this.file = file;
        this.format = format;
        this.root = root;
        this.legacyDataStart = legacyDataStart;
        this.legacyKeys = legacyKeys;
        this.zipPrefix = zipPrefix;
    }

    /**
     * Opens a checkpoint and parses its object pickle.
     *
     * @throws CheckpointException for a missing, truncated, corrupt or unsafe file, or one that is not
     *                             a {@code torch.save} checkpoint of a dict
     */
    public static TorchCheckpoint open(Path file) throws CheckpointException {
        if (!Files.isRegularFile(file)) {
            throw new CheckpointException("checkpoint " + file + " does not exist or is not a file");
        }
        byte[] head = new byte[4];
        try (InputStream in = Files.newInputStream(file)) {
            if (in.readNBytes(head, 0, 4) < 4) {
                throw new CheckpointException("checkpoint " + file + " is too short to be a torch.save file");
            }
        } catch (IOException e) {
            throw new CheckpointException("cannot read checkpoint " + file + ": " + e.getMessage(), e);
        }
        if (head[0] == 'P' && head[1] == 'K') {
            return openZip(file);
        }
        if ((head[0] & 0xff) == 0x80) {
            return openLegacy(file);
        }
        throw new CheckpointException("checkpoint " + file + " is not a PyTorch checkpoint (wrong magic bytes)");
    }

    public Format format() {
        return format;
    }

    public Path file() {
        return file;
    }

    /** Top-level keys of the checkpoint dict, e.g. {@code generator, kp_detector, optimizer_generator, epoch}. */
    public Set<String> keys() {
        return root.keySet();
    }

    /** Whether {@code key} holds a state dict (a map whose values are all tensors). */
    public boolean isStateDict(String key) {
        return root.get(key) instanceof Map<?, ?> m && !m.isEmpty()
                && m.values().stream().allMatch(v -> v instanceof TorchTensor);
    }

    /** The tensor descriptions of a network's state dict, by key. */
    public Map<String, TorchTensor> tensors(String network) throws CheckpointException {
        Object o = root.get(network);
        if (!(o instanceof Map<?, ?> m)) {
            throw new CheckpointException("checkpoint " + file + " has no network '" + network + "' (keys: " + keys() + ")");
        }
        Map<String, TorchTensor> out = new TreeMap<>();
        for (var e : m.entrySet()) {
            if (!(e.getValue() instanceof TorchTensor t)) {
                throw new CheckpointException("entry " + network + "." + e.getKey() + " of " + file + " is not a tensor");
            }
            out.put(String.valueOf(e.getKey()), t);
        }
        return out;
    }

    /**
     * Reads every tensor of a network's state dict. Floating point storages become float32, integer
     * ones int64.
     *
     * @throws CheckpointException if a storage is missing, truncated or a view reaches outside it
     */
    public Map<String, RawTensor> readNetwork(String network) throws CheckpointException {
        Map<String, TorchTensor> tensors = tensors(network);
        Map<String, TorchTensor.Storage> needed = new HashMap<>();
        for (TorchTensor t : tensors.values()) {
            needed.put(t.storage().key(), t.storage());
        }
        Map<String, byte[]> storages = format == Format.ZIP ? readZipStorages(needed) : readLegacyStorages(needed);
        Map<String, RawTensor> out = new LinkedHashMap<>();
        for (var e : tensors.entrySet()) {
            out.put(e.getKey(), materialize(network + "." + e.getKey(), e.getValue(), storages.get(e.getValue().storage().key())));
        }
        return out;
    }

    private RawTensor materialize(String name, TorchTensor t, byte[] storage) throws CheckpointException {
        DType src = t.storage().dtype();
        int es = src.size;
        long n = t.numel();
        // Largest element index the view touches.
        long last = t.offset();
        for (int i = 0; i < t.shape().length; i++) {
            if (t.shape()[i] == 0) {
                n = 0;
            }
            last += (long) (t.shape()[i] - 1) * t.stride()[i];
        }
        if (n > 0 && (t.offset() < 0 || (last + 1) * es > storage.length)) {
            throw new CheckpointException("tensor " + name + " reaches outside its storage in " + file);
        }
        // A view with more elements than its storage repeats them (zero or overlapping strides): never in a
        // state dict, and the way a few bytes could claim gigabytes.
        if (n * es > storage.length || n > Integer.MAX_VALUE / 8) {
            throw new CheckpointException("checkpoint " + file + " is corrupt: tensor " + name + " declares " + n
                    + " elements but its storage holds " + storage.length / es);
        }
        DType dst = src.floating ? DType.F32 : DType.I64;
        ByteBuffer in = ByteBuffer.wrap(storage).order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer out = ByteBuffer.allocate(Math.toIntExact(n * dst.size)).order(ByteOrder.LITTLE_ENDIAN);
        int rank = t.shape().length;
        int[] idx = new int[rank];
        for (long i = 0; i < n; i++) {
            long off = t.offset();
            for (int d = 0; d < rank; d++) {
                off += idx[d] * t.stride()[d];
            }
            int p = Math.toIntExact(off * es);
            switch (src) {
                case F32 -> out.putFloat(in.getFloat(p));
                case F64 -> out.putFloat((float) in.getDouble(p));
                case F16 -> out.putFloat(Float.float16ToFloat(in.getShort(p)));
                case BF16 -> out.putFloat(Float.intBitsToFloat((in.getShort(p) & 0xffff) << 16));
                case I64 -> out.putLong(in.getLong(p));
                case I32 -> out.putLong(in.getInt(p));
                case I16 -> out.putLong(in.getShort(p));
                case I8 -> out.putLong(in.get(p));
                case U8, BOOL -> out.putLong(in.get(p) & 0xff);
            }
            for (int d = rank - 1; d >= 0; d--) {
                if (++idx[d] < t.shape()[d]) {
                    break;
                }
                idx[d] = 0;
            }
        }
        return new RawTensor(dst, t.shape().clone(), out.array());
    }

    // ---------------------------------------------------------------- parsing

    private static Object persistent(Object[] pid) {
        // ('storage', storage_type, key, location, numel[, view_metadata])
        if (pid.length < 5 || !"storage".equals(pid[0]) || !(pid[1] instanceof SafeUnpickler.StorageClass type)) {
            throw new PickleException("unsupported persistent id in checkpoint");
        }
        return new TorchTensor.Storage(String.valueOf(pid[2]), type.dtype(), String.valueOf(pid[3]),
                SafeUnpickler.number(pid[4]));
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> asRoot(Path file, Object o) throws CheckpointException {
        if (!(o instanceof Map<?, ?> m)) {
            throw new CheckpointException("checkpoint " + file + " does not hold a dict at the top level");
        }
        Map<String, Object> out = new LinkedHashMap<>();
        for (var e : m.entrySet()) {
            out.put(String.valueOf(e.getKey()), e.getValue());
        }
        return out;
    }

    private static CheckpointException wrap(Path file, Exception e) {
        if (e instanceof SafeUnpickler.UnsafePickleException) {
            return new CheckpointException("unsafe checkpoint " + file + ": " + e.getMessage(), e);
        }
        String m = e.getMessage() == null ? "" : e.getMessage();
        if (e instanceof EOFException || m.contains("premature end") || m.contains("expected more bytes") || m.startsWith("truncated")) {
            return new CheckpointException("checkpoint " + file + " is truncated", e);
        }
        return new CheckpointException("checkpoint " + file + " is corrupt: " + e.getMessage(), e);
    }

    private static TorchCheckpoint openLegacy(Path file) throws CheckpointException {
        try (CountingInput in = new CountingInput(new BufferedInputStream(Files.newInputStream(file), 1 << 16))) {
            SafeUnpickler u = new SafeUnpickler(TorchCheckpoint::persistent);
            Object magic = u.load(in);
            if (!LEGACY_MAGIC.equals(magic instanceof Long l ? BigInteger.valueOf(l) : magic)) {
                throw new CheckpointException("checkpoint " + file + " is not a torch.save file (wrong magic number)");
            }
            Object protocol = new SafeUnpickler(TorchCheckpoint::persistent).load(in);
            if (!Integer.valueOf(1001).equals(protocol)) {
                throw new CheckpointException("checkpoint " + file + " has unsupported legacy protocol " + protocol);
            }
            Object sysInfo = new SafeUnpickler(TorchCheckpoint::persistent).load(in);
            if (sysInfo instanceof Map<?, ?> si && Boolean.FALSE.equals(si.get("little_endian"))) {
                throw new CheckpointException("checkpoint " + file + " was saved big-endian, which is not supported");
            }
            Object obj = new SafeUnpickler(TorchCheckpoint::persistent).load(in);
            Object keys = new SafeUnpickler(TorchCheckpoint::persistent).load(in);
            if (!(keys instanceof List<?> kl)) {
                throw new CheckpointException("checkpoint " + file + " is corrupt: no storage key list");
            }
            List<String> ks = new ArrayList<>();
            for (Object k : kl) {
                ks.add(String.valueOf(k));
            }
            return new TorchCheckpoint(file, Format.LEGACY, asRoot(file, obj), in.count, ks, null);
        } catch (CheckpointException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            throw wrap(file, e);
        }
    }

    private Map<String, byte[]> readLegacyStorages(Map<String, TorchTensor.Storage> needed) throws CheckpointException {
        Map<String, byte[]> out = new HashMap<>();
        try (DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(file), 1 << 20))) {
            in.skipNBytes(legacyDataStart);
            for (String key : legacyKeys) {
                if (out.size() == needed.size()) {
                    break;
                }
                long numel = Long.reverseBytes(in.readLong());
                TorchTensor.Storage s = needed.get(key);
                if (s == null) {
                    // Element size unknown for storages nobody references; look it up is not possible, so
                    // every storage we skip must have been declared by some tensor of the file.
                    long size = elementSizeOf(key) * numel;
                    in.skipNBytes(size);
                    continue;
                }
                if (numel != s.numel()) {
                    throw new CheckpointException("checkpoint " + file + " is corrupt: storage " + key + " has " + numel
                            + " elements but its tensors declare " + s.numel());
                }
                if (numel < 0 || numel * s.dtype().size > Integer.MAX_VALUE - 8) {
                    throw new CheckpointException("checkpoint " + file + " is corrupt: storage " + key + " declares " + numel + " elements");
                }
                out.put(key, in.readNBytes(Math.toIntExact(numel * s.dtype().size)));
                if (out.get(key).length < numel * s.dtype().size) {
                    throw new EOFException();
                }
            }
        } catch (EOFException e) {
            throw new CheckpointException("checkpoint " + file + " is truncated (storage data ends early)", e);
        } catch (IOException e) {
            throw new CheckpointException("cannot read checkpoint " + file + ": " + e.getMessage(), e);
        }
        for (String k : needed.keySet()) {
            if (!out.containsKey(k)) {
                throw new CheckpointException("checkpoint " + file + " is corrupt: storage " + k + " is missing");
            }
        }
        return out;
    }

    /** Element sizes of every storage of the file, learned from the whole object graph. */
    private Map<String, Integer> allStorageSizes;

    private long elementSizeOf(String key) throws CheckpointException {
        if (allStorageSizes == null) {
            allStorageSizes = new HashMap<>();
            collect(root, allStorageSizes);
        }
        Integer s = allStorageSizes.get(key);
        if (s == null) {
            throw new CheckpointException("checkpoint " + file + " is corrupt: storage " + key + " is not referenced");
        }
        return s;
    }

    private static void collect(Object o, Map<String, Integer> sizes) {
        if (o instanceof TorchTensor t) {
            sizes.put(t.storage().key(), t.storage().dtype().size);
        } else if (o instanceof Map<?, ?> m) {
            for (Object v : m.values()) {
                collect(v, sizes);
            }
        } else if (o instanceof List<?> l) {
            for (Object v : l) {
                collect(v, sizes);
            }
        } else if (o instanceof Object[] a) {
            for (Object v : a) {
                collect(v, sizes);
            }
        }
    }

    private static TorchCheckpoint openZip(Path file) throws CheckpointException {
        try (ZipFile zip = new ZipFile(file.toFile())) {
            ZipEntry pkl = null;
            for (var en = zip.entries(); en.hasMoreElements(); ) {
                ZipEntry e = en.nextElement();
                if (e.getName().endsWith("/data.pkl") && e.getName().indexOf('/') == e.getName().length() - 9) {
                    pkl = e;
                    break;
                }
            }
            if (pkl == null) {
                throw new CheckpointException("checkpoint " + file + " is a zip archive without data.pkl (not a torch.save file)");
            }
            String prefix = pkl.getName().substring(0, pkl.getName().length() - "data.pkl".length());
            ZipEntry order = zip.getEntry(prefix + "byteorder");
            if (order != null) {
                try (InputStream in = zip.getInputStream(order)) {
                    if (!new String(in.readAllBytes()).trim().equals("little")) {
                        throw new CheckpointException("checkpoint " + file + " was saved big-endian, which is not supported");
                    }
                }
            }
            try (InputStream in = new BufferedInputStream(zip.getInputStream(pkl))) {
                Object obj = new SafeUnpickler(TorchCheckpoint::persistent).load(in);
                return new TorchCheckpoint(file, Format.ZIP, asRoot(file, obj), -1, List.of(), prefix);
            }
        } catch (NoSuchFileException e) {
            throw new CheckpointException("checkpoint " + file + " does not exist", e);
        } catch (ZipException e) {
            throw new CheckpointException("checkpoint " + file + " is a corrupt or truncated zip archive: " + e.getMessage(), e);
        } catch (CheckpointException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            throw wrap(file, e);
        }
    }

    private Map<String, byte[]> readZipStorages(Map<String, TorchTensor.Storage> needed) throws CheckpointException {
        Map<String, byte[]> out = new HashMap<>();
        try (ZipFile zip = new ZipFile(file.toFile())) {
            for (TorchTensor.Storage s : needed.values()) {
                ZipEntry e = zip.getEntry(zipPrefix + "data/" + s.key());
                if (e == null) {
                    throw new CheckpointException("checkpoint " + file + " is corrupt: storage entry data/" + s.key() + " is missing");
                }
                long want = s.numel() * s.dtype().size;
                if (s.numel() < 0 || want > Integer.MAX_VALUE - 8 || (e.getSize() >= 0 && e.getSize() < want)) {
                    throw new CheckpointException("checkpoint " + file + " is corrupt: storage data/" + s.key() + " declares "
                            + s.numel() + " elements but the entry holds " + e.getSize() + " bytes");
                }
                byte[] b;
                try (InputStream in = zip.getInputStream(e)) {
                    b = in.readNBytes(Math.toIntExact(want));
                }
                if (b.length < want) {
                    throw new CheckpointException("checkpoint " + file + " is truncated: storage data/" + s.key() + " has "
                            + b.length + " of " + want + " bytes");
                }
                out.put(s.key(), b);
            }
        } catch (ZipException e) {
            throw new CheckpointException("checkpoint " + file + " has a corrupt zip entry: " + e.getMessage(), e);
        } catch (CheckpointException e) {
            throw e;
        } catch (IOException e) {
            throw new CheckpointException("cannot read checkpoint " + file + ": " + e.getMessage(), e);
        }
        return out;
    }

    /** Counts bytes consumed, so the legacy storage section can be found again. */
    private static final class CountingInput extends java.io.FilterInputStream {
        long count;

        CountingInput(InputStream in) {
            super(in);
        }

        @Override
        public int read() throws IOException {
            int b = super.read();
            if (b >= 0) {
                count++;
            }
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = super.read(b, off, len);
            if (n > 0) {
                count += n;
            }
            return n;
        }

        @Override
        public long skip(long n) throws IOException {
            long s = super.skip(n);
            count += s;
            return s;
        }
    }
}
