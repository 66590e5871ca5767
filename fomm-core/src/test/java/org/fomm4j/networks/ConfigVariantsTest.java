package org.fomm4j.networks;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.fomm4j.animation.AnimationMode;
import org.fomm4j.animation.Animator;
import org.fomm4j.animation.FommAnimator;
import org.fomm4j.animation.TpsmmAnimator;
import org.fomm4j.config.FommConfig;
import org.fomm4j.config.TpsmmConfig;
import org.fomm4j.config.YamlConfig;
import org.fomm4j.kernels.KernelProvider;
import org.fomm4j.kernels.Kernels;
import org.fomm4j.networks.fomm.FommModel;
import org.fomm4j.networks.tpsmm.TpsmmModel;
import org.fomm4j.tensor.Tensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Models built from configs other than the fixtures' (no jacobians, a single jacobian map, padded
 * keypoint convs, no occlusion, other keypoint counts, widths, depths, scale factors and frame sizes;
 * TPSMM without multi-resolution masks or background predictor) run end to end, and the Vector API
 * kernels give the scalar reference's result on them.
 */
class ConfigVariantsTest {

    static Tensor image(long seed, int h, int w) {
        Random r = new Random(seed);
        float[] d = new float[3 * h * w];
        for (int i = 0; i < d.length; i++) {
            d[i] = r.nextFloat();
        }
        return Tensor.of(d, 1, 3, h, w);
    }

    static String fommYaml(int numKp, boolean jacobian, boolean single, int pad, boolean occlusion, double scale,
                           int kpBlocks, int size) {
        return """
                dataset_params:
                  frame_shape: [%d, %d, 3]
                model_params:
                  common_params: {num_kp: %d, num_channels: 3, estimate_jacobian: %s}
                  kp_detector_params: {temperature: 0.1, block_expansion: 4, max_features: 32, scale_factor: %s, num_blocks: %d,
                                       single_jacobian_map: %s, pad: %d}
                  generator_params:
                    block_expansion: 4
                    max_features: 16
                    num_down_blocks: 2
                    num_bottleneck_blocks: 1
                    estimate_occlusion_map: %s
                    dense_motion_params: {block_expansion: 4, max_features: 32, num_blocks: 3, scale_factor: %s}
                """.formatted(size, size, numKp, jacobian, scale, kpBlocks, single, pad, occlusion, scale);
    }

    /**
     * @param tol vector-vs-scalar tolerance: 1e-4 for FOMM; 5e-4 for TPSMM, whose TPS solve amplifies
     *            the float rounding of a different summation order (see TpsmmParityTest)
     */
    static void checkFrames(Animator a, int size, Tensor reference, double tol) {
        Tensor p = null;
        for (int i = 0; i < 2; i++) {
            p = a.animate(image(10 + i, size, size));
            assertArrayEquals(new int[] {1, 3, size, size}, p.shape());
            for (int j = 0; j < p.size(); j++) {
                assertTrue(p.get(j) > 0 && p.get(j) < 1, "prediction in (0, 1)");
            }
        }
        if (reference != null) {
            assertTrue(p.maxAbsDiff(reference) <= tol, "vector vs scalar kernels: " + p.maxAbsDiff(reference));
        }
    }

    @ParameterizedTest
    @CsvSource({
        "5, false, false, 0, false, 0.5, 3, 64",
        "7, true, true, 3, true, 0.25, 3, 128",
        "3, true, false, 0, true, 0.5, 2, 64",
    })
    void fommVariants(int numKp, boolean jacobian, boolean single, int pad, boolean occlusion, double scale, int kpBlocks, int size) {
        FommConfig c = FommConfig.fromTree(YamlConfig.parse(fommYaml(numKp, jacobian, single, pad, occlusion, scale, kpBlocks, size)));
        Tensor reference = null;
        for (Kernels k : new Kernels[] {KernelProvider.scalar(), KernelProvider.get()}) {
            FommModel m = FommModel.createRandom(c, 3, k);
            try (FommAnimator a = new FommAnimator(m, image(1, size, size), AnimationMode.RELATIVE_ADAPT)) {
                assertEquals(numKp, a.kpSource().count());
                if (!jacobian) {
                    assertNull(a.kpSource().jacobian());
                }
                FommAnimator.Frame f = a.animate(image(2, size, size), true);
                assertEquals(occlusion, f.generator().denseMotion().occlusionMap() != null);
                checkFrames(a, size, reference, 1e-4);
                a.close();
            }
            try (FommAnimator a = new FommAnimator(m, image(1, size, size), AnimationMode.RELATIVE_ADAPT)) {
                a.animate(image(2, size, size));
                reference = reference == null ? a.animate(image(11, size, size)) : reference;
            }
        }
    }

    @ParameterizedTest
    @CsvSource({"3, false, false, 128", "2, true, true, 128"})
    void tpsmmVariants(int numTps, boolean multiMask, boolean bg, int size) {
        String yaml = """
                model_params:
                  common_params: {num_tps: %d, num_channels: 3, bg: %s, multi_mask: %s}
                  generator_params: {block_expansion: 4, max_features: 32, num_down_blocks: 3}
                  dense_motion_params: {block_expansion: 4, max_features: 32, num_blocks: 3, scale_factor: 0.25}
                  avd_network_params: {id_bottle_size: 8, pose_bottle_size: 8}
                """.formatted(numTps, bg, multiMask);
        TpsmmConfig c = TpsmmConfig.fromTree(YamlConfig.parse(yaml)).withFrameSize(size, size);
        Tensor reference = null;
        for (Kernels k : new Kernels[] {KernelProvider.scalar(), KernelProvider.get()}) {
            TpsmmModel m = TpsmmModel.createRandom(c, 5, k);
            for (AnimationMode mode : new AnimationMode[] {AnimationMode.STANDARD, AnimationMode.AVD}) {
                try (TpsmmAnimator a = new TpsmmAnimator(m, image(1, size, size), mode, bg)) {
                    TpsmmAnimator.Frame f = a.animateDetailed(image(2, size, size));
                    assertEquals(multiMask ? 4 : 1, f.denseMotion().occlusionMaps().size());
                    assertEquals(numTps * 5, f.kpNormalized().dim(1));
                    checkFrames(a, size, mode == AnimationMode.AVD ? reference : null, 5e-4);
                }
            }
            try (TpsmmAnimator a = new TpsmmAnimator(m, image(1, size, size), AnimationMode.AVD, bg)) {
                a.animate(image(10, size, size));
                Tensor p = a.animate(image(11, size, size));
                reference = reference == null ? p : reference;
            }
        }
    }
}
