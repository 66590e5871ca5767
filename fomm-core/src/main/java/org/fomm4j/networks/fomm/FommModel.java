package org.fomm4j.networks.fomm;

import java.util.Map;
import org.fomm4j.networks.ModelLifecycle;
import org.fomm4j.config.FommConfig;
import org.fomm4j.kernels.KernelProvider;
import org.fomm4j.kernels.Kernels;
import org.fomm4j.tensor.Tensor;
import org.fomm4j.weights.RandomWeights;
import org.fomm4j.weights.StateDict;
import org.fomm4j.weights.WeightReader;

/**
 * A First Order Motion Model built from its config and weights: the keypoint detector and the
 * occlusion-aware generator (with its dense motion network).
 *
 * <p>Weights come as a {@link StateDict} with names {@code kp_detector.*} and {@code generator.*};
 * other networks in the dict (discriminator, optimizer states) are ignored. BatchNorm is folded into
 * the convolutions while building.
 */
public final class FommModel extends ModelLifecycle {
    private final FommConfig config;
    private final KpDetector kpDetector;
    private final OcclusionAwareGenerator generator;
    private final Map<String, int[]> declared;

    private FommModel(FommConfig config, KpDetector kpDetector, OcclusionAwareGenerator generator, Map<String, int[]> declared) {
        this.config = config;
        this.kpDetector = kpDetector;
        this.generator = generator;
        this.declared = declared;
    }

    /**
     * Builds the model with the kernels of this JVM ({@link KernelProvider#get()}).
     *
     * @throws org.fomm4j.weights.WeightException if a tensor of {@code kp_detector} or {@code generator}
     *         is missing, unexpected or mis-shaped (the message names it)
     */
    public static FommModel create(FommConfig config, StateDict weights) {
        return create(config, weights, KernelProvider.get());
    }

    public static FommModel create(FommConfig config, StateDict weights, Kernels kernels) {
        return build(config, new WeightReader(weights, "kp_detector"), new WeightReader(weights, "generator"), kernels);
    }

    /** A model with seeded random weights ({@link RandomWeights}): for benchmarks and shape checks. */
    public static FommModel createRandom(FommConfig config, long seed, Kernels kernels) {
        WeightReader.Synthesizer w = new org.fomm4j.weights.ParameterBudget("the FOMM model of this config").guard(new RandomWeights(seed));
        return build(config, WeightReader.synthetic(w, "kp_detector"), WeightReader.synthetic(w, "generator"), kernels);
    }

    /**
     * Names and shapes of every tensor a model built from {@code config} reads ({@code NETWORK.KEY}),
     * without real weights.
     */
    public static Map<String, int[]> expectedTensors(FommConfig config) {
        WeightReader.Synthesizer zeros = new org.fomm4j.weights.ParameterBudget("the FOMM model of this config")
                .guard((name, shape) -> new float[shapeSize(shape)]);
        return build(config, WeightReader.synthetic(zeros, "kp_detector"), WeightReader.synthetic(zeros, "generator"),
                KernelProvider.scalar()).expectedTensors();
    }

    static int shapeSize(int[] shape) {
        int n = 1;
        for (int d : shape) {
            n *= d;
        }
        return n;
    }

    private static FommModel build(FommConfig config, WeightReader kr, WeightReader gr, Kernels kernels) {
        KpDetector kp = new KpDetector(kernels, kr, config);
        kr.finish();
        OcclusionAwareGenerator gen = new OcclusionAwareGenerator(kernels, gr, config);
        gr.finish();
        Map<String, int[]> all = new java.util.LinkedHashMap<>(kr.declared());
        all.putAll(gr.declared());
        return new FommModel(config, kp, gen, java.util.Collections.unmodifiableMap(all));
    }

    /**
     * Ties a resource to this model (the memory-mapped weight file it was built from); it is closed
     * with the model.
     */
    public FommModel withResource(AutoCloseable resource) {
        attach(resource);
        return this;
    }



    public FommConfig config() {
        return config;
    }

    public KpDetector kpDetector() {
        return kpDetector;
    }

    public OcclusionAwareGenerator generator() {
        return generator;
    }

    /** Every tensor the model reads, {@code NETWORK.KEY -> shape}, in declaration order. */
    public Map<String, int[]> expectedTensors() {
        return declared;
    }

    /**
     * Checks that {@code frame} is {@code [N, C, H, W]} with the config's channel count and a size the
     * networks can process.
     *
     * @throws IllegalArgumentException with the offending shape
     */
    public void checkFrame(String what, Tensor frame) {
        checkOpen();
        frame.requireRank(what, 4);
        if (frame.dim(1) != config.numChannels()) {
            throw new IllegalArgumentException(what + " must have " + config.numChannels() + " channels, got shape "
                    + java.util.Arrays.toString(frame.shape()));
        }
        int f = 1 << Math.max(config.kpDetector().numBlocks(),
                config.generator().denseMotion() == null ? 0 : config.generator().denseMotion().numBlocks());
        double s = config.kpDetector().scaleFactor();
        if (config.generator().denseMotion() != null) {
            s = Math.min(s, config.generator().denseMotion().scaleFactor());
        }
        long needed = Math.round(f / s);
        if (frame.dim(2) % needed != 0 || frame.dim(3) % needed != 0) {
            throw new IllegalArgumentException(what + " is " + frame.dim(2) + "x" + frame.dim(3)
                    + "; this model needs height and width divisible by " + needed + " (the config's frame shape is "
                    + config.frameHeight() + "x" + config.frameWidth() + ")");
        }
    }
}
