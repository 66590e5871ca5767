package org.fomm4j.io.checkpoint;

/**
 * Element types of torch storages and of our weight file (safetensors names). Floating types are
 * converted to float32 on import; integer buffers are kept as int64.
 */
public enum DType {
    F32(4, true), F64(8, true), F16(2, true), BF16(2, true), I64(8, false), I32(4, false), I16(2, false),
    I8(1, false), U8(1, false), BOOL(1, false);

    public final int size;
    public final boolean floating;

    DType(int size, boolean floating) {
        this.size = size;
        this.floating = floating;
    }

    /** The type of a torch storage class name such as {@code FloatStorage}, or {@code null}. */
    static DType ofStorage(String name) {
        return switch (name) {
            case "FloatStorage" -> F32;
            case "DoubleStorage" -> F64;
            case "HalfStorage" -> F16;
            case "BFloat16Storage" -> BF16;
            case "LongStorage" -> I64;
            case "IntStorage" -> I32;
            case "ShortStorage" -> I16;
            case "CharStorage" -> I8;
            case "ByteStorage" -> U8;
            case "BoolStorage" -> BOOL;
            default -> null;
        };
    }
}
