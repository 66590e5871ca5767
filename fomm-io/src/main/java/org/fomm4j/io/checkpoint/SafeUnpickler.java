package org.fomm4j.io.checkpoint;

import java.io.IOException;
import java.math.BigInteger;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import net.razorvine.pickle.IObjectConstructor;
import net.razorvine.pickle.Opcodes;
import net.razorvine.pickle.PickleException;
import net.razorvine.pickle.PickleUtils;
import net.razorvine.pickle.Unpickler;

/**
 * Pyrolite's unpickler restricted to what {@code torch.save} writes for state dicts and optimizer
 * states. Nothing from the file is ever executed: every opcode that names a global ({@code GLOBAL},
 * {@code STACK_GLOBAL}, {@code INST}) is checked against {@link #ALLOWED} and resolved to one of our
 * own constructors; {@code OBJ} and text {@code PERSID} are refused; {@code BUILD} is only accepted on
 * an {@code OrderedDict} (PyTorch's {@code _metadata}), where its state is dropped. Refusals are
 * {@link UnsafePickleException}s naming the global.
 */
final class SafeUnpickler extends Unpickler {
    static final Set<String> STORAGES = Set.of("FloatStorage", "DoubleStorage", "HalfStorage", "BFloat16Storage",
            "LongStorage", "IntStorage", "ShortStorage", "CharStorage", "ByteStorage", "BoolStorage");
    /** Globals a checkpoint may name, {@code module.name}. */
    static final Set<String> ALLOWED;

    static {
        java.util.HashSet<String> a = new java.util.HashSet<>(Set.of("collections.OrderedDict",
                "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor", "torch._utils._rebuild_parameter"));
        for (String s : STORAGES) {
            a.add("torch." + s);
            a.add("torch.cuda." + s);
        }
        ALLOWED = Set.copyOf(a);
    }

    /** Raised for a global or opcode outside the allow-list. */
    static final class UnsafePickleException extends PickleException {
        UnsafePickleException(String message) {
            super(message);
        }
    }

    /** The class object a storage global stands for; used as the type in persistent ids. */
    record StorageClass(DType dtype, String name) {
    }

    private final java.util.function.Function<Object[], Object> persistentLoader;

    /** @param persistentLoader turns a persistent id tuple into the object it stands for */
    SafeUnpickler(java.util.function.Function<Object[], Object> persistentLoader) {
        this.persistentLoader = persistentLoader;
    }

    @Override
    protected Object dispatch(short key) throws PickleException, IOException {
        switch (key) {
            case Opcodes.GLOBAL -> {
                String module = PickleUtils.readline(input);
                String name = PickleUtils.readline(input);
                stack.add(resolve(module, name));
                return NO_RETURN_VALUE;
            }
            case Opcodes.STACK_GLOBAL -> {
                Object name = stack.pop();
                Object module = stack.pop();
                if (!(name instanceof String n) || !(module instanceof String m)) {
                    throw new UnsafePickleException("malformed STACK_GLOBAL");
                }
                stack.add(resolve(m, n));
                return NO_RETURN_VALUE;
            }
            case Opcodes.INST -> {
                String module = PickleUtils.readline(input);
                String name = PickleUtils.readline(input);
                throw new UnsafePickleException("refused pickle global " + module + "." + name + " (INST opcode)");
            }
            case Opcodes.OBJ -> throw new UnsafePickleException("refused pickle opcode OBJ (calls an arbitrary class)");
            case Opcodes.PERSID -> throw new UnsafePickleException("refused text persistent id (not written by torch.save)");
            case Opcodes.BUILD -> {
                Object state = stack.pop();
                Object target = stack.peek();
                if (!(target instanceof PyOrderedDict)) {
                    throw new UnsafePickleException("refused BUILD (setstate) on " + describe(target));
                }
                return NO_RETURN_VALUE;
            }
            case Opcodes.REDUCE, Opcodes.NEWOBJ -> {
                Object args = stack.pop();
                Object callable = stack.pop();
                if (!(callable instanceof IObjectConstructor c) || !(args instanceof Object[] a)) {
                    throw new UnsafePickleException("refused call of " + describe(callable));
                }
                stack.add(c.construct(a));
                return NO_RETURN_VALUE;
            }
            case Opcodes.NEWOBJ_EX -> throw new UnsafePickleException("refused pickle opcode NEWOBJ_EX");
            // Length-prefixed values: read as the bytes arrive, never allocated at the declared size.
            case Opcodes.BINSTRING -> {
                stack.add(PickleUtils.rawStringFromBytes(readDeclared(length4(), "string")));
                return NO_RETURN_VALUE;
            }
            case Opcodes.BINBYTES -> {
                stack.add(readDeclared(length4(), "bytes"));
                return NO_RETURN_VALUE;
            }
            case Opcodes.BINUNICODE -> {
                stack.add(new String(readDeclared(length4(), "string"), java.nio.charset.StandardCharsets.UTF_8));
                return NO_RETURN_VALUE;
            }
            case Opcodes.BINUNICODE8 -> {
                stack.add(new String(readDeclared(length8(), "string"), java.nio.charset.StandardCharsets.UTF_8));
                return NO_RETURN_VALUE;
            }
            case Opcodes.BINBYTES8, Opcodes.BYTEARRAY8 -> {
                stack.add(readDeclared(length8(), "bytes"));
                return NO_RETURN_VALUE;
            }
            case Opcodes.LONG4 -> {
                stack.add(PickleUtils.decode_long(readDeclared(length4(), "integer")));
                return NO_RETURN_VALUE;
            }
            default -> {
                return super.dispatch(key);
            }
        }
    }

    /** Deepest nesting of containers a checkpoint may have (a state dict in a checkpoint is about 5 deep). */
    static final int MAX_DEPTH = 64;
    /** Most container elements a checkpoint may reach, counting every path to a shared (memoized) value. */
    static final long MAX_ELEMENTS = 50_000_000L;

    /**
     * Loads one pickle and checks its shape before anyone walks it: every walker of the result may then
     * recurse and iterate freely. Refuses nesting deeper than {@link #MAX_DEPTH}, a value that contains
     * itself, and more than {@link #MAX_ELEMENTS} elements counting repeats (a few memo references can
     * make a DAG whose tree is exponentially large).
     */
    @Override
    public Object load(java.io.InputStream in) throws PickleException, IOException {
        Object result = super.load(in);
        checkShape(result);
        return result;
    }

    private static java.util.List<?> children(Object o) {
        if (o instanceof Map<?, ?> m) {
            java.util.List<Object> c = new java.util.ArrayList<>(2 * m.size());
            for (var e : m.entrySet()) {
                c.add(e.getKey());
                c.add(e.getValue());
            }
            return c;
        }
        if (o instanceof java.util.Collection<?> c) {
            return java.util.List.copyOf(c.stream().map(x -> x == null ? NULL : x).toList());
        }
        if (o instanceof Object[] a) {
            return java.util.Arrays.stream(a).map(x -> x == null ? NULL : x).toList();
        }
        return java.util.List.of();
    }

    private static final Object NULL = new Object();

    /** Iterative post-order walk with per-object memo of (depth, tree size). */
    static void checkShape(Object root) {
        java.util.IdentityHashMap<Object, long[]> done = new java.util.IdentityHashMap<>();
        java.util.Set<Object> onPath = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        java.util.ArrayDeque<Object[]> stack = new java.util.ArrayDeque<>();
        stack.push(new Object[] {root == null ? NULL : root, null, 0});
        while (!stack.isEmpty()) {
            Object[] frame = stack.peek();
            Object node = frame[0];
            if (done.containsKey(node)) {
                stack.pop();
                continue;
            }
            if (frame[1] == null) {
                java.util.List<?> kids = children(node);
                if (kids.isEmpty()) {
                    done.put(node, new long[] {0, 1});
                    stack.pop();
                    continue;
                }
                int level = (Integer) frame[2];
                if (level > MAX_DEPTH) {
                    throw new PickleException("pickle nested more than " + MAX_DEPTH + " deep; no checkpoint is");
                }
                frame[1] = kids;
                onPath.add(node);
                for (Object k : kids) {
                    if (onPath.contains(k)) {
                        throw new PickleException("pickle nested: a value contains itself");
                    }
                    if (!done.containsKey(k)) {
                        stack.push(new Object[] {k, null, level + 1});
                    }
                }
                continue;
            }
            long depth = 0, size = 1;
            for (Object k : (java.util.List<?>) frame[1]) {
                long[] d = done.get(k);
                depth = Math.max(depth, d[0] + 1);
                size += d[1];
            }
            if (size > MAX_ELEMENTS) {
                throw new PickleException("pickle nested: its values repeat to more than " + MAX_ELEMENTS + " elements");
            }
            onPath.remove(node);
            done.put(node, new long[] {depth, size});
            stack.pop();
        }
    }

    /** Longest string, bytes or integer a checkpoint's pickle may hold (state dict keys are short; tensor data is elsewhere). */
    static final long MAX_VALUE_BYTES = 64L << 20;

    private long length4() throws IOException {
        return PickleUtils.bytes_to_integer(PickleUtils.readbytes(input, 4)) & 0xffffffffL;
    }

    private long length8() throws IOException {
        return PickleUtils.bytes_to_long(PickleUtils.readbytes(input, 8), 0);
    }

    /**
     * {@code declared} bytes of a value, read in chunks as they arrive, so a pickle that declares more than
     * it holds fails with "truncated" having allocated only what was there.
     */
    private byte[] readDeclared(long declared, String what) throws IOException {
        if (declared < 0 || declared > MAX_VALUE_BYTES) {
            throw new PickleException("pickle declares a " + what + " of " + Long.toUnsignedString(declared)
                    + " bytes; a checkpoint holds none over " + (MAX_VALUE_BYTES >> 20) + " MB");
        }
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream((int) Math.min(declared, 1 << 16));
        byte[] chunk = new byte[(int) Math.min(declared, 1 << 16)];
        long left = declared;
        while (left > 0) {
            int n = input.read(chunk, 0, (int) Math.min(left, chunk.length));
            if (n < 0) {
                throw new PickleException("truncated pickle: a " + what + " declares " + declared + " bytes but only "
                        + (declared - left) + " follow");
            }
            out.write(chunk, 0, n);
            left -= n;
        }
        return out.toByteArray();
    }

    @Override
    protected Object persistentLoad(Object pid) {
        if (!(pid instanceof Object[] t)) {
            throw new PickleException("unexpected persistent id " + describe(pid));
        }
        return persistentLoader.apply(t);
    }

    private static String describe(Object o) {
        return o == null ? "None" : o.getClass().getSimpleName();
    }

    private static Object resolve(String module, String name) {
        String full = module + "." + name;
        if (!ALLOWED.contains(full)) {
            throw new UnsafePickleException("refused pickle global " + full
                    + " (only OrderedDict, torch tensor rebuild functions and storage types are allowed)");
        }
        if (STORAGES.contains(name)) {
            return new StorageClass(DType.ofStorage(name), full);
        }
        return switch (full) {
            case "collections.OrderedDict" -> (IObjectConstructor) args -> new PyOrderedDict();
            case "torch._utils._rebuild_parameter" -> (IObjectConstructor) args -> args[0];
            default -> (IObjectConstructor) SafeUnpickler::rebuildTensor;
        };
    }

    /** {@code _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])}. */
    private static Object rebuildTensor(Object[] args) {
        if (args.length < 4 || !(args[0] instanceof TorchTensor.Storage storage) || !(args[2] instanceof Object[] size)
                || !(args[3] instanceof Object[] stride) || size.length != stride.length) {
            throw new PickleException("malformed tensor in checkpoint");
        }
        int[] shape = new int[size.length];
        long[] st = new long[stride.length];
        for (int i = 0; i < shape.length; i++) {
            shape[i] = Math.toIntExact(number(size[i]));
            st[i] = number(stride[i]);
        }
        return new TorchTensor(storage, number(args[1]), shape, st);
    }

    static long number(Object o) {
        if (o instanceof Integer i) {
            return i;
        }
        if (o instanceof Long l) {
            return l;
        }
        if (o instanceof BigInteger b) {
            return b.longValueExact();
        }
        throw new PickleException("expected an integer in checkpoint, got " + describe(o));
    }

    /** {@code collections.OrderedDict}: keeps insertion order. */
    static final class PyOrderedDict extends LinkedHashMap<Object, Object> {
        PyOrderedDict() {
        }

        PyOrderedDict(Map<Object, Object> m) {
            super(m);
        }
    }
}
