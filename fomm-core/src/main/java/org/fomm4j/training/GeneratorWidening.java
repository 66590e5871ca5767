package org.fomm4j.training;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.fomm4j.config.FommConfig;
import org.fomm4j.networks.fomm.FommModel;
import org.fomm4j.tensor.Tensor;
import org.fomm4j.weights.StateDict;

/**
 * Grows a trained FOMM's generator to a wider config ({@code generator_params.block_expansion},
 * {@code max_features}) without changing what it computes, so training goes on from the trained model
 * with more capacity instead of starting the wider network from scratch (function-preserving widening, as
 * Net2Net, Chen et al. 2016, and zero-initialized adapters do).
 *
 * <p>Every channel dimension of a generator tensor keeps its trained channels first and appends new ones.
 * A new channel's incoming weights and bias are the config's random initialization ({@link FommInit},
 * PyTorch's defaults); its BatchNorm starts at {@code gamma = 1, beta = 0}, running mean 0 and variance 1.
 * The weights by which a trained output channel would read a new input channel are zero. The generator
 * has no concatenation or channel reordering (first, down blocks, deformation and occlusion per channel,
 * residual bottleneck, up blocks, final), so every trained channel, and therefore the predicted image,
 * is exactly what the trained model computed; the new channels start to matter as soon as a gradient step
 * moves those zero weights (their gradient is the new channels' activation times the output's).
 * BatchNorm must then be used with its running statistics ({@code freeze_batch_norm}, or inference): a
 * batch's statistics would renormalize the trained channels differently anyway.
 *
 * <p>The keypoint detector and the dense motion network must have the same shapes in both.
 */
public final class GeneratorWidening {
    private GeneratorWidening() {
    }

    /**
     * The weights of {@code wider}'s model: {@code trained} widened as described above, new weights from
     * {@code seed}.
     *
     * @throws IllegalArgumentException if the two models differ other than in the width of the generator's
     *         own layers (a tensor missing on either side, another rank or kernel size, a narrower channel
     *         dimension, or any change outside {@code generator.} or inside its dense motion network)
     */
    public static StateDict widen(StateDict trained, FommConfig wider, long seed) {
        StateDict init = FommInit.random(wider, seed);
        Set<String> expected = FommModel.expectedTensors(wider).keySet();
        for (String name : trained.names()) {
            if (!init.contains(name) && !name.endsWith("num_batches_tracked")) {
                throw new IllegalArgumentException("cannot widen: the trained model has " + name
                        + ", which the wider config does not build (only the generator's widths may differ)");
            }
        }
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (String name : init.names()) {
            Tensor fresh = init.get(name);
            if (!trained.contains(name)) {
                if (name.endsWith("num_batches_tracked") && !expected.contains(name)) {
                    out.put(name, fresh);
                    continue;
                }
                throw new IllegalArgumentException("cannot widen: the trained model lacks " + name
                        + " (only the generator's widths may differ)");
            }
            Tensor old = trained.get(name);
            int[] from = old.shape(), to = fresh.shape();
            if (java.util.Arrays.equals(from, to)) {
                out.put(name, old);
                continue;
            }
            boolean widenable = name.startsWith("generator.") && !name.startsWith("generator.dense_motion_network.")
                    && from.length == to.length && (to.length == 1 || to.length == 4)
                    && (to.length == 1 || from[2] == to[2] && from[3] == to[3]);
            for (int i = 0; widenable && i < Math.min(2, to.length); i++) {
                widenable = from[i] <= to[i];
            }
            if (!widenable) {
                throw new IllegalArgumentException("cannot widen " + name + " from " + java.util.Arrays.toString(from) + " to "
                        + java.util.Arrays.toString(to) + " (only the generator's channel counts may grow)");
            }
            out.put(name, to.length == 1 ? widenVector(old, fresh) : widenConv(old, fresh));
        }
        return StateDict.of(out);
    }

    /** Trained values first, the fresh initialization for the new channels. */
    private static Tensor widenVector(Tensor old, Tensor fresh) {
        float[] v = fresh.data().clone();
        System.arraycopy(old.toArray(), 0, v, 0, old.shape()[0]);
        return Tensor.of(v, fresh.shape());
    }

    /** {@code [out, in, kh, kw]}: trained block in the corner, trained outputs read new inputs with weight 0. */
    private static Tensor widenConv(Tensor old, Tensor fresh) {
        int[] f = old.shape(), t = fresh.shape();
        int k = t[2] * t[3];
        float[] v = fresh.data().clone();
        float[] w = old.toArray();
        for (int o = 0; o < f[0]; o++) {
            System.arraycopy(w, o * f[1] * k, v, o * t[1] * k, f[1] * k);
            java.util.Arrays.fill(v, (o * t[1] + f[1]) * k, (o + 1) * t[1] * k, 0f);
        }
        return Tensor.of(v, t);
    }
}
