package org.fomm4j.io.checkpoint;

/**
 * A tensor as a checkpoint describes it ({@code torch._utils._rebuild_tensor_v2}): a view of a
 * storage with an element offset, a shape and strides (in elements).
 */
public record TorchTensor(Storage storage, long offset, int[] shape, long[] stride) {
    /** A storage reference from a persistent id: key, element type, device location, element count. */
    public record Storage(String key, DType dtype, String location, long numel) {
    }

    public long numel() {
        long n = 1;
        for (int d : shape) {
            n *= d;
        }
        return n;
    }
}
