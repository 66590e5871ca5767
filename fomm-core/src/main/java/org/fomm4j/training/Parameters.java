package org.fomm4j.training;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.fomm4j.tensor.Tensor;
import org.fomm4j.training.autograd.Var;
import org.fomm4j.weights.StateDict;
import org.fomm4j.weights.WeightException;

/**
 * The state of the networks being trained, keyed as the official checkpoints' state dicts flattened to
 * {@code NETWORK.KEY} ({@code kp_detector.kp.weight}, {@code generator.first.norm.running_mean}): trainable
 * parameters as {@link Var}s, and buffers (BatchNorm running statistics, {@code num_batches_tracked}, the
 * anti-aliasing kernels {@code down.weight}) as plain arrays updated in place. {@link #toStateDict()} gives
 * them back in the same layout, which the inference networks and the reference PyTorch code both load.
 */
public final class Parameters {
    private final Map<String, Var> parameters = new LinkedHashMap<>();
    private final Map<String, float[]> buffers = new LinkedHashMap<>();
    private final Map<String, int[]> shapes = new LinkedHashMap<>();

    /** Copies every tensor of {@code dict}; names ending in a buffer suffix become buffers. */
    public static Parameters of(StateDict dict) {
        Parameters p = new Parameters();
        for (String name : dict.names()) {
            Tensor t = dict.get(name);
            float[] v = t.toArray();
            p.shapes.put(name, t.shape());
            if (isBuffer(name)) {
                p.buffers.put(name, v);
            } else {
                p.parameters.put(name, Var.parameter(v, t.shape()));
            }
        }
        return p;
    }

    static boolean isBuffer(String name) {
        return name.endsWith(".running_mean") || name.endsWith(".running_var") || name.endsWith(".num_batches_tracked")
                || name.endsWith("down.weight");
    }

    /**
     * @throws WeightException naming the tensor when it is missing
     */
    public Var parameter(String name) {
        Var v = parameters.get(name);
        if (v == null) {
            throw new WeightException("training: the model has no parameter " + name);
        }
        return v;
    }

    /** The parameter, or {@code null} when the model has none of that name. */
    public Var parameterOrNull(String name) {
        return parameters.get(name);
    }

    /**
     * @throws WeightException naming the buffer when it is missing
     */
    public float[] buffer(String name) {
        float[] v = buffers.get(name);
        if (v == null) {
            throw new WeightException("training: the model has no buffer " + name);
        }
        return v;
    }

    public boolean hasBuffer(String name) {
        return buffers.containsKey(name);
    }

    /** Trainable parameters whose name starts with {@code prefix} (e.g. {@code "generator."}), in order. */
    public Map<String, Var> parameters(String prefix) {
        Map<String, Var> m = new LinkedHashMap<>();
        parameters.forEach((k, v) -> {
            if (k.startsWith(prefix)) {
                m.put(k, v);
            }
        });
        return m;
    }

    public Map<String, Var> parameters() {
        return java.util.Collections.unmodifiableMap(parameters);
    }

    public List<String> bufferNames() {
        return new ArrayList<>(buffers.keySet());
    }

    /**
     * A view for one shard of a data-parallel step: the same values and buffers (not copied; the
     * optimizer's updates show through), but gradients of its own, so shards can accumulate concurrently.
     */
    public Parameters withOwnGradients() {
        Parameters view = new Parameters();
        parameters.forEach((k, v) -> view.parameters.put(k, Var.parameter(v.value(), v.shape())));
        view.buffers.putAll(buffers);
        view.shapes.putAll(shapes);
        return view;
    }

    /** Zeroes every parameter's gradient. */
    public void zeroGrad() {
        parameters.values().forEach(Var::zeroGrad);
    }

    /** A copy of every parameter and buffer, in the order they were loaded. */
    public StateDict toStateDict() {
        Map<String, Tensor> m = new LinkedHashMap<>();
        for (String name : shapes.keySet()) {
            float[] v = parameters.containsKey(name) ? parameters.get(name).value() : buffers.get(name);
            m.put(name, Tensor.of(v.clone(), shapes.get(name)));
        }
        return StateDict.of(m);
    }

    /** Number of trainable values. */
    public long count() {
        long n = 0;
        for (Var v : parameters.values()) {
            n += v.size();
        }
        return n;
    }

    /**
     * The Gaussian blur of an anti-aliased downsampling by {@code scale} ({@code AntiAliasInterpolation2d}):
     * {@code null} for 1, else the state dict's kernel {@code buffer} (the same for every channel, so its first
     * channel) when the model has it, else the computed one.
     */
    public float[] antiAliasKernel(String buffer, double scale) {
        if (scale == 1) {
            return null;
        }
        float[] computed = org.fomm4j.training.autograd.ResampleOps.gaussianKernel(scale);
        return hasBuffer(buffer) ? java.util.Arrays.copyOf(buffer(buffer), computed.length) : computed;
    }
}
