package org.fomm4j.networks.tpsmm;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import org.fomm4j.networks.ModelLifecycle;
import org.fomm4j.config.TpsmmConfig;
import org.fomm4j.kernels.KernelProvider;
import org.fomm4j.kernels.Kernels;
import org.fomm4j.tensor.Tensor;
import org.fomm4j.weights.RandomWeights;
import org.fomm4j.weights.StateDict;
import org.fomm4j.weights.WeightReader;

/**
 * A Thin-Plate Spline Motion Model built from its config and weights: keypoint detector, dense
 * motion network, inpainting network, AVD network, and the background motion predictor when the
 * weights have one ({@code bg_predictor.*}). Tensor names {@code NETWORK.KEY}.
 */
public final class TpsmmModel extends ModelLifecycle {
    private final TpsmmConfig config;
    private final TpsmmKpDetector kpDetector;
    private final TpsmmDenseMotionNetwork denseMotion;
    private final InpaintingNetwork inpainting;
    private final AvdNetwork avd;
    private final BgMotionPredictor bgPredictor;
    private final Map<String, int[]> declared;

    private TpsmmModel(TpsmmConfig config, TpsmmKpDetector kp, TpsmmDenseMotionNetwork dm, InpaintingNetwork inp,
                       AvdNetwork avd, BgMotionPredictor bg, Map<String, int[]> declared) {
        this.config = config;
        this.kpDetector = kp;
        this.denseMotion = dm;
        this.inpainting = inp;
        this.avd = avd;
        this.bgPredictor = bg;
        this.declared = declared;
    }

    /**
     * @throws org.fomm4j.weights.WeightException naming any missing, unexpected or mis-shaped tensor
     */
    public static TpsmmModel create(TpsmmConfig config, StateDict weights) {
        return create(config, weights, KernelProvider.get());
    }

    public static TpsmmModel create(TpsmmConfig config, StateDict weights, Kernels k) {
        boolean bg = weights.names().stream().anyMatch(n -> n.startsWith("bg_predictor."));
        return build(config, net -> new WeightReader(weights, net), bg, k, true);
    }

    /** Seeded random weights ({@link RandomWeights}); with a background predictor when the config has {@code bg}. */
    public static TpsmmModel createRandom(TpsmmConfig config, long seed, Kernels k) {
        WeightReader.Synthesizer w = new org.fomm4j.weights.ParameterBudget("the TPSMM model of this config").guard(new RandomWeights(seed));
        return build(config, net -> WeightReader.synthetic(w, net), config.bg(), k, false);
    }

    /** Every tensor a model of this config reads ({@code withBgPredictor}: include {@code bg_predictor.*}). */
    public static Map<String, int[]> expectedTensors(TpsmmConfig config, boolean withBgPredictor) {
        WeightReader.Synthesizer zeros = new org.fomm4j.weights.ParameterBudget("the TPSMM model of this config").guard((name, shape) -> {
            int n = 1;
            for (int d : shape) {
                n *= d;
            }
            return new float[n];
        });
        return build(config, net -> WeightReader.synthetic(zeros, net), withBgPredictor, KernelProvider.scalar(), false).declared;
    }

    private static TpsmmModel build(TpsmmConfig c, java.util.function.Function<String, WeightReader> readers, boolean bg,
                                    Kernels k, boolean check) {
        Map<String, int[]> all = new LinkedHashMap<>();
        WeightReader kr = readers.apply("kp_detector");
        TpsmmKpDetector kp = new TpsmmKpDetector(k, kr, c);
        WeightReader dr = readers.apply("dense_motion_network");
        TpsmmDenseMotionNetwork dm = new TpsmmDenseMotionNetwork(k, dr, c);
        WeightReader ir = readers.apply("inpainting_network");
        InpaintingNetwork inp = new InpaintingNetwork(k, ir, c);
        WeightReader ar = readers.apply("avd_network");
        AvdNetwork avd = new AvdNetwork(ar, c);
        WeightReader br = bg ? readers.apply("bg_predictor") : null;
        BgMotionPredictor bgp = bg ? new BgMotionPredictor(k, br, c) : null;
        for (WeightReader r : new WeightReader[] {kr, dr, ir, ar, br}) {
            if (r != null) {
                if (check) {
                    r.finish();
                }
                all.putAll(r.declared());
            }
        }
        return new TpsmmModel(c, kp, dm, inp, avd, bgp, Collections.unmodifiableMap(all));
    }

    public TpsmmConfig config() {
        return config;
    }

    public TpsmmKpDetector kpDetector() {
        return kpDetector;
    }

    public TpsmmDenseMotionNetwork denseMotion() {
        return denseMotion;
    }

    public InpaintingNetwork inpainting() {
        return inpainting;
    }

    public AvdNetwork avd() {
        return avd;
    }

    /** The background motion predictor, or {@code null} when the weights have none. */
    public BgMotionPredictor bgPredictor() {
        return bgPredictor;
    }

    public Map<String, int[]> expectedTensors() {
        return declared;
    }

    /** Ties a resource (the mapped weight file) to this model; closed with it. */
    public TpsmmModel withResource(AutoCloseable resource) {
        attach(resource);
        return this;
    }


    /**
     * @throws IllegalArgumentException if {@code frame} is not {@code [N, C, H, W]} with the config's
     *         channels and a size divisible by what the networks need
     */
    public void checkFrame(String what, Tensor frame) {
        checkOpen();
        frame.requireRank(what, 4);
        if (frame.dim(1) != config.numChannels()) {
            throw new IllegalArgumentException(what + " must have " + config.numChannels() + " channels, got shape "
                    + java.util.Arrays.toString(frame.shape()));
        }
        long needed = Math.max(Math.round((1 << config.denseMotion().numBlocks()) / config.denseMotion().scaleFactor()),
                1L << config.generator().numDownBlocks());
        if (frame.dim(2) % needed != 0 || frame.dim(3) % needed != 0) {
            throw new IllegalArgumentException(what + " is " + frame.dim(2) + "x" + frame.dim(3)
                    + "; this model needs height and width divisible by " + needed);
        }
    }

}
