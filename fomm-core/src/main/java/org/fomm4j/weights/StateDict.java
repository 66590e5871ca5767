package org.fomm4j.weights;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.fomm4j.tensor.Tensor;

/**
 * Named tensors, as a PyTorch {@code state_dict} of several networks flattened to
 * {@code NETWORK.KEY} (e.g. {@code generator.first.conv.weight}). Integer buffers such as
 * {@code num_batches_tracked} are held as float tensors: only their presence and shape matter.
 */
public final class StateDict {
    private final Map<String, Tensor> tensors;

    private StateDict(Map<String, Tensor> tensors) {
        this.tensors = Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
    }

    public static StateDict of(Map<String, Tensor> tensors) {
        return new StateDict(tensors);
    }

    public Set<String> names() {
        return tensors.keySet();
    }

    /** The tensor, or {@code null}. */
    public Tensor get(String name) {
        return tensors.get(name);
    }

    public boolean contains(String name) {
        return tensors.containsKey(name);
    }

    public int size() {
        return tensors.size();
    }
}
