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
            default -> {
                return super.dispatch(key);
            }
        }
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
