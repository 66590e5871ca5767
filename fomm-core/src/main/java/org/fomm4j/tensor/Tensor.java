package org.fomm4j.tensor;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * A dense float32 tensor in row-major (C) order, NCHW for images and feature maps.
 *
 * <p>Backed either by a heap {@code float[]} (activations: kernels read and write it directly) or by a
 * {@link MemorySegment} of little-endian floats (weights sliced out of a memory-mapped file, never
 * copied until a network packs them). A segment-backed tensor is read-only through this class; call
 * {@link #toHeap()} to get a heap copy.
 *
 * <p>Shape checks fail with {@link IllegalArgumentException} naming the expected and actual shapes.
 */
public final class Tensor {
    private static final ValueLayout.OfFloat LE_FLOAT =
            ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final int[] shape;
    private final float[] data;
    private final MemorySegment segment;

    private Tensor(int[] shape, float[] data, MemorySegment segment) {
        this.shape = shape;
        this.data = data;
        this.segment = segment;
    }

    /** A zero-filled heap tensor of the given shape. */
    public static Tensor zeros(int... shape) {
        return new Tensor(shape.clone(), new float[Math.toIntExact(count(shape))], null);
    }

    /**
     * Wraps a heap array without copying.
     *
     * @throws IllegalArgumentException if {@code data.length} is not the product of {@code shape}
     */
    public static Tensor of(float[] data, int... shape) {
        long n = count(shape);
        if (n != data.length) {
            throw new IllegalArgumentException("data of length " + data.length + " does not fit shape "
                    + Arrays.toString(shape) + " (" + n + " elements)");
        }
        return new Tensor(shape.clone(), data, null);
    }

    /**
     * Wraps a segment of little-endian float32 values without copying.
     *
     * @throws IllegalArgumentException if the segment size is not 4 times the element count
     */
    public static Tensor ofSegment(MemorySegment segment, int... shape) {
        long n = count(shape);
        if (segment.byteSize() != n * 4) {
            throw new IllegalArgumentException("segment of " + segment.byteSize() + " bytes does not fit float32 shape "
                    + Arrays.toString(shape));
        }
        return new Tensor(shape.clone(), null, segment);
    }

    /** A scalar (rank 0) tensor. */
    public static Tensor scalar(float value) {
        return new Tensor(new int[0], new float[] {value}, null);
    }

    static long count(int[] shape) {
        long n = 1;
        for (int d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
            }
            n *= d;
        }
        return n;
    }

    /** The shape (a copy). */
    public int[] shape() {
        return shape.clone();
    }

    public int rank() {
        return shape.length;
    }

    /** Size of dimension {@code i}; negative {@code i} counts from the end. */
    public int dim(int i) {
        return shape[i < 0 ? shape.length + i : i];
    }

    public int size() {
        return (int) count(shape);
    }

    public boolean isHeap() {
        return data != null;
    }

    /**
     * The backing heap array (no copy).
     *
     * @throws IllegalStateException if this tensor is segment-backed
     */
    public float[] data() {
        if (data == null) {
            throw new IllegalStateException("tensor " + Arrays.toString(shape) + " is backed by a memory segment; use toHeap()");
        }
        return data;
    }

    /** This tensor if heap-backed, otherwise a heap copy. */
    public Tensor toHeap() {
        return data != null ? this : new Tensor(shape.clone(), toArray(), null);
    }

    /** A heap tensor of the same shape holding a fresh copy of the values. */
    public Tensor copy() {
        return new Tensor(shape.clone(), toArray(), null);
    }

    /** A fresh heap copy of the values. */
    public float[] toArray() {
        if (data != null) {
            return data.clone();
        }
        float[] out = new float[size()];
        MemorySegment.copy(segment, LE_FLOAT, 0, out, 0, out.length);
        return out;
    }

    /** Flat element {@code i} (row-major). */
    public float get(int i) {
        return data != null ? data[i] : segment.getAtIndex(LE_FLOAT, i);
    }

    /** Same data, other shape (no copy). */
    public Tensor reshape(int... newShape) {
        if (count(newShape) != size()) {
            throw new IllegalArgumentException("cannot reshape " + Arrays.toString(shape) + " to " + Arrays.toString(newShape));
        }
        return new Tensor(newShape.clone(), data, segment);
    }

    /**
     * Batch item {@code n} of a heap tensor as a new heap tensor of rank-1 (copy).
     */
    public Tensor item(int n) {
        int[] s = Arrays.copyOfRange(shape, 1, shape.length);
        int len = (int) count(s);
        float[] out = new float[len];
        if (data != null) {
            System.arraycopy(data, n * len, out, 0, len);
        } else {
            MemorySegment.copy(segment, LE_FLOAT, (long) n * len * 4, out, 0, len);
        }
        int[] ns = new int[shape.length];
        ns[0] = 1;
        System.arraycopy(s, 0, ns, 1, s.length);
        return new Tensor(ns, out, null);
    }

    /**
     * Checks the shape.
     *
     * @param what name used in the error message
     * @throws IllegalArgumentException naming {@code what}, the expected and the actual shape
     */
    public Tensor requireShape(String what, int... expected) {
        if (!Arrays.equals(shape, expected)) {
            throw new IllegalArgumentException(what + ": expected shape " + Arrays.toString(expected)
                    + " but got " + Arrays.toString(shape));
        }
        return this;
    }

    /** Checks rank. */
    public Tensor requireRank(String what, int rank) {
        if (shape.length != rank) {
            throw new IllegalArgumentException(what + ": expected a rank-" + rank + " tensor but got shape "
                    + Arrays.toString(shape));
        }
        return this;
    }

    /**
     * Concatenates heap tensors along dimension {@code dim}; all other dimensions must agree.
     */
    public static Tensor concat(int dim, Tensor... parts) {
        int[] s = parts[0].shape.clone();
        int total = 0;
        for (Tensor t : parts) {
            if (t.rank() != s.length) {
                throw new IllegalArgumentException("concat: rank mismatch " + Arrays.toString(t.shape) + " vs " + Arrays.toString(s));
            }
            for (int i = 0; i < s.length; i++) {
                if (i != dim && t.shape[i] != s[i]) {
                    throw new IllegalArgumentException("concat along " + dim + ": shape " + Arrays.toString(t.shape)
                            + " does not match " + Arrays.toString(s));
                }
            }
            total += t.shape[dim];
        }
        s[dim] = total;
        int outer = 1;
        for (int i = 0; i < dim; i++) {
            outer *= s[i];
        }
        int inner = 1;
        for (int i = dim + 1; i < s.length; i++) {
            inner *= s[i];
        }
        float[] out = FrameArena.floats((int) count(s));
        int pos = 0;
        for (int o = 0; o < outer; o++) {
            for (Tensor t : parts) {
                int len = t.shape[dim] * inner;
                if (t.data != null) {
                    System.arraycopy(t.data, o * len, out, pos, len);
                } else {
                    MemorySegment.copy(t.segment, LE_FLOAT, (long) o * len * 4, out, pos, len);
                }
                pos += len;
            }
        }
        return new Tensor(s, out, null);
    }

    /**
     * Channels {@code [from, from + count)} of an {@code [N, C, ...]} tensor, as a new heap tensor.
     *
     * @throws IllegalArgumentException if the range is outside {@code [0, C)}
     */
    public Tensor channels(int from, int count) {
        if (shape.length < 2 || from < 0 || count < 0 || from + count > shape[1]) {
            throw new IllegalArgumentException("channels [" + from + ", " + (from + count) + ") of " + Arrays.toString(shape));
        }
        int inner = 1;
        for (int i = 2; i < shape.length; i++) {
            inner *= shape[i];
        }
        int[] s = shape.clone();
        s[1] = count;
        float[] out = FrameArena.floats((int) count(s));
        for (int b = 0; b < shape[0]; b++) {
            int src = (b * shape[1] + from) * inner;
            if (data != null) {
                System.arraycopy(data, src, out, b * count * inner, count * inner);
            } else {
                MemorySegment.copy(segment, LE_FLOAT, (long) src * 4, out, b * count * inner, count * inner);
            }
        }
        return new Tensor(s, out, null);
    }

    /** Largest absolute difference to {@code other} (same shape required). */
    public float maxAbsDiff(Tensor other) {
        requireShape("maxAbsDiff operand", other.shape);
        float m = 0;
        for (int i = 0, n = size(); i < n; i++) {
            float d = Math.abs(get(i) - other.get(i));
            if (!(d <= m)) {
                m = Float.isNaN(d) ? Float.NaN : d;
                if (Float.isNaN(m)) {
                    return m;
                }
            }
        }
        return m;
    }

    @Override
    public String toString() {
        return "Tensor" + Arrays.toString(shape) + (data != null ? "" : "(segment)");
    }
}
