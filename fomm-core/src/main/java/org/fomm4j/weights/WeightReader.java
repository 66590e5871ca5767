package org.fomm4j.weights;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.fomm4j.tensor.Tensor;

/**
 * Hands a network the tensors it declares, checking names and shapes, and afterwards reports the
 * tensors nobody asked for. Every error names the tensor with its full {@code NETWORK.KEY} name.
 *
 * <p>Also records every declaration ({@link #declared()}), so a model built from a config can be
 * compared with the tensor list of an official checkpoint.
 */
public final class WeightReader {
    /** Makes up the values of a tensor from its full name and shape (random weights for benchmarks). */
    @FunctionalInterface
    public interface Synthesizer {
        float[] values(String name, int[] shape);
    }

    private final StateDict dict;
    private final Synthesizer synthesizer;
    private final String prefix;
    private final Map<String, int[]> declared;

    /** Reads the tensors under {@code network.} of {@code dict}. */
    public WeightReader(StateDict dict, String network) {
        this(dict, null, network + ".", new LinkedHashMap<>());
    }

    /** A reader that never fails: every declared tensor is made by {@code synthesizer}. */
    public static WeightReader synthetic(Synthesizer synthesizer, String network) {
        return new WeightReader(null, synthesizer, network + ".", new LinkedHashMap<>());
    }

    private WeightReader(StateDict dict, Synthesizer synthesizer, String prefix, Map<String, int[]> declared) {
        this.dict = dict;
        this.synthesizer = synthesizer;
        this.prefix = prefix;
        this.declared = declared;
    }

    /** A reader for a sub-module: keys are resolved under {@code prefix + name + "."}. */
    public WeightReader sub(String name) {
        return new WeightReader(dict, synthesizer, prefix + name + ".", declared);
    }

    /**
     * The values of tensor {@code key} (a fresh heap copy).
     *
     * @throws WeightException if it is missing or its shape is not {@code shape}
     */
    public float[] take(String key, int... shape) {
        String name = prefix + key;
        declared.put(name, shape.clone());
        if (synthesizer != null) {
            return synthesizer.values(name, shape.clone());
        }
        Tensor t = dict.get(name);
        if (t == null) {
            throw new WeightException("missing tensor " + name + " (expected shape " + Arrays.toString(shape) + ")");
        }
        if (!Arrays.equals(t.shape(), shape)) {
            throw new WeightException("tensor " + name + " has shape " + Arrays.toString(t.shape())
                    + " but the model built from the config expects " + Arrays.toString(shape));
        }
        return t.toArray();
    }

    /**
     * Declares a buffer inference does not need ({@code num_batches_tracked}): accepted if present
     * with shape {@code []}, not required.
     */
    public void ignore(String key) {
        String name = prefix + key;
        declared.put(name, new int[0]);
        if (synthesizer != null) {
            return;
        }
        Tensor t = dict.get(name);
        if (t != null && t.rank() != 0) {
            throw new WeightException("tensor " + name + " has shape " + Arrays.toString(t.shape()) + " but expected a scalar");
        }
    }

    /** Full names and shapes of everything declared so far, in declaration order. */
    public Map<String, int[]> declared() {
        return declared;
    }

    /**
     * @throws WeightException naming the tensors under this reader's prefix that were never declared
     */
    public void finish() {
        if (synthesizer != null) {
            return;
        }
        List<String> unexpected = new ArrayList<>();
        for (String name : new TreeSet<>(dict.names())) {
            if (name.startsWith(prefix) && !declared.containsKey(name)) {
                unexpected.add(name);
            }
        }
        if (!unexpected.isEmpty()) {
            throw new WeightException("unexpected tensor" + (unexpected.size() > 1 ? "s " : " ") + String.join(", ", unexpected)
                    + " (not part of the model built from the config)");
        }
    }
}
