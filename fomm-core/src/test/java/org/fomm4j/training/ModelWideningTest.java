package org.fomm4j.training;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.fomm4j.animation.AnimationMode;
import org.fomm4j.animation.FommAnimator;
import org.fomm4j.config.FommConfig;
import org.fomm4j.config.YamlConfig;
import org.fomm4j.networks.fomm.FommModel;
import org.fomm4j.tensor.Tensor;
import org.fomm4j.training.data.CreatureDataset;
import org.fomm4j.weights.StateDict;
import org.junit.jupiter.api.Test;

/**
 * {@link ModelWidening}: the widened model predicts what the trained one did, its new channels are
 * reachable by training, and anything other than wider networks is refused.
 */
class ModelWideningTest {
    private static final int H = 64, W = 64;

    private static ObjectNode tree() {
        return (ObjectNode) YamlConfig.read(java.nio.file.Path.of(TrainerTest.YAML));
    }

    /** The fixture config (generator 8 / 32, two down blocks) with other generator or detector widths. */
    private static FommConfig config(int generatorExpansion, int generatorMax, int kpExpansion) {
        return config(generatorExpansion, generatorMax, kpExpansion, 64, 8, 64);
    }

    /** The fixture config with other widths of all three networks (fixture: 8/32, 8/64, 8/64). */
    private static FommConfig config(int generatorExpansion, int generatorMax, int kpExpansion, int kpMax,
                                     int denseExpansion, int denseMax) {
        ObjectNode t = tree();
        ObjectNode model = (ObjectNode) t.get("model_params");
        ObjectNode generator = (ObjectNode) model.get("generator_params");
        generator.put("block_expansion", generatorExpansion).put("max_features", generatorMax);
        ((ObjectNode) generator.get("dense_motion_params")).put("block_expansion", denseExpansion).put("max_features", denseMax);
        ((ObjectNode) model.get("kp_detector_params")).put("block_expansion", kpExpansion).put("max_features", kpMax);
        return FommConfig.fromTree(t);
    }

    /** Random weights with every BatchNorm's affine and running statistics away from their initial values. */
    private static StateDict trained(FommConfig config) {
        StateDict init = FommInit.random(config, 21);
        Random rng = new Random(4);
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (String name : init.names()) {
            float[] v = init.get(name).toArray();
            boolean norm = name.matches(".*\\.norm\\d?\\.[a-z_]+$");
            for (int i = 0; norm && i < v.length; i++) {
                if (name.endsWith(".running_var") || name.endsWith(".weight")) {
                    v[i] = (float) (0.5 + rng.nextDouble());
                } else if (!name.endsWith("num_batches_tracked")) {
                    v[i] = (float) (rng.nextGaussian() * 0.2);
                }
            }
            out.put(name, Tensor.of(v, init.get(name).shape()));
        }
        return StateDict.of(out);
    }

    /** The standard-mode prediction of one 64x64 driving frame (also used by {@link KeypointSplittingTest}). */
    static float[] predict(FommConfig config, StateDict weights, float[] source, float[] driving) {
        try (FommModel model = FommModel.create(config, weights);
             FommAnimator a = new FommAnimator(model, Tensor.of(source, 1, 3, H, W), AnimationMode.STANDARD)) {
            return a.animate(Tensor.of(driving, 1, 3, H, W)).toArray();
        }
    }

    static double maxDiff(float[] a, float[] b) {
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs(a[i] - b[i]));
        }
        return m;
    }

    @Test
    void theWiderGeneratorPredictsWhatTheTrainedOneDid() {
        FommConfig narrow = config(8, 32, 8), wide = config(16, 64, 8);
        StateDict trained = trained(narrow);
        StateDict widened = ModelWidening.widen(trained, wide, 9);
        assertArrayEquals(new int[] {64, 64, 3, 3}, widened.get("generator.bottleneck.r0.conv1.weight").shape());
        assertArrayEquals(new int[] {3, 16, 7, 7}, widened.get("generator.final.weight").shape());
        assertArrayEquals(trained.get("kp_detector.kp.weight").toArray(), widened.get("kp_detector.kp.weight").toArray());

        CreatureDataset data = new CreatureDataset(H, W, 1);
        float[] source = data.testFrame(0, 0), driving = data.testFrame(0, 25);
        float[] before = predict(narrow, trained, source, driving);
        float[] after = predict(wide, widened, source, driving);
        // The same sums plus exact zeros, in the kernels' other blocking: float32 rounding only.
        double diff = maxDiff(before, after);
        assertTrue(diff <= 1e-5, "widened vs trained prediction: max abs diff " + diff);

        // The new channels do compute something: one nonzero weight from a new channel into the image changes it.
        float[] fin = widened.get("generator.final.weight").toArray();
        for (int o = 0; o < 3; o++) {
            for (int i = 8; i < 16; i++) {
                for (int k = 0; k < 49; k++) {
                    assertEquals(0f, fin[(o * 16 + i) * 49 + k], "trained output " + o + " reads new channel " + i);
                }
            }
        }
        java.util.Arrays.fill(fin, 12 * 49, 13 * 49, 0.5f); // output 0 reads new channel 12
        StateDict poked = replaced(widened, Map.of("generator.final.weight", Tensor.of(fin, 3, 16, 7, 7)));
        double poke = maxDiff(after, predict(wide, poked, source, driving));
        assertTrue(poke > 1e-3, "a new channel should be live, changed the image by " + poke);
    }

    @Test
    void aFrozenStepStartsUsingTheNewChannels() {
        FommConfig narrow = config(8, 32, 8), wide = config(16, 64, 8);
        double moved = afterOneFrozenStep(ModelWidening.widen(trained(narrow), wide, 9), wide, "generator.final.weight", 8, 16);
        assertTrue(moved > 0, "the weights from new channels into the image should leave 0 after a step");
    }

    /**
     * The largest weight by which a trained output of {@code tensor} (a 7x7 conv) reads one of the new input
     * channels {@code [newFrom, newTo)}, after one training step with BatchNorm frozen.
     */
    private static double afterOneFrozenStep(StateDict widened, FommConfig wide, String tensor, int newFrom, int newTo) {
        ObjectNode t = tree();
        ((ObjectNode) t.get("train_params")).put("batch_size", 2).put("freeze_batch_norm", true);
        Parameters p = Parameters.of(widened);
        new Trainer(wide, TrainParams.fromTree(t), p, new CreatureDataset(H, W, 10), 3, 2).trainStep();
        int[] shape = widened.get(tensor).shape();
        float[] w = p.parameter(tensor).value();
        double moved = 0;
        for (int o = 0; o < shape[0]; o++) {
            for (int i = newFrom * 49; i < newTo * 49; i++) {
                moved = Math.max(moved, Math.abs(w[o * shape[1] * 49 + i]));
            }
        }
        return moved;
    }

    @Test
    void theWiderMotionNetworksPredictWhatTheTrainedOnesDid() {
        FommConfig narrow = config(8, 32, 8, 64, 8, 64), wide = config(8, 32, 16, 128, 16, 128);
        StateDict trained = trained(narrow);
        StateDict widened = ModelWidening.widen(trained, narrow, wide, 9);
        // cat([up block output, skip]) and cat([last up output, x]) read at their new offsets
        assertArrayEquals(new int[] {32, 128, 3, 3}, widened.get("kp_detector.predictor.decoder.up_blocks.3.conv.weight").shape());
        assertArrayEquals(new int[] {10, 19, 7, 7}, widened.get("kp_detector.kp.weight").shape());
        assertArrayEquals(new int[] {11, 16 + 44, 7, 7}, widened.get("generator.dense_motion_network.mask.weight").shape());
        float[] kpOld = trained.get("kp_detector.kp.weight").toArray(), kpNew = widened.get("kp_detector.kp.weight").toArray();
        for (int o = 0; o < 10; o++) {
            for (int i = 0; i < 19; i++) {
                for (int k = 0; k < 49; k++) {
                    float expected = i < 8 ? kpOld[(o * 11 + i) * 49 + k] : i < 16 ? 0f : kpOld[(o * 11 + i - 8) * 49 + k];
                    assertEquals(expected, kpNew[(o * 19 + i) * 49 + k], "kp.weight[" + o + ", " + i + "]");
                }
            }
        }

        CreatureDataset data = new CreatureDataset(H, W, 1);
        float[] source = data.testFrame(0, 0), driving = data.testFrame(0, 25);
        float[] before = predict(narrow, trained, source, driving);
        float[] after = predict(wide, widened, source, driving);
        double diff = maxDiff(before, after);
        assertTrue(diff <= 1e-5, "widened vs trained prediction: max abs diff " + diff);
        float[][] m0 = motion(narrow, trained, source, driving), m1 = motion(wide, widened, source, driving);
        assertTrue(maxDiff(m0[0], m1[0]) <= 1e-5, "driving keypoints: max abs diff " + maxDiff(m0[0], m1[0]));
        assertTrue(maxDiff(m0[1], m1[1]) <= 1e-5, "occlusion map: max abs diff " + maxDiff(m0[1], m1[1]));

        // A new channel of the dense motion's last up block, read by the occlusion map, changes it, and one of
        // the detector's, read by a heatmap, moves the keypoints. (These random weights make the image itself
        // nearly constant, 0.46-0.53, so it is the networks' own outputs that show the channels are live.)
        float[] occlusion = widened.get("generator.dense_motion_network.occlusion.weight").toArray();
        java.util.Arrays.fill(occlusion, 12 * 49, 13 * 49, -0.5f); // the occlusion map reads new channel 12
        float[] kp = widened.get("kp_detector.kp.weight").toArray();
        java.util.Arrays.fill(kp, 12 * 49, 13 * 49, 0.5f); // heatmap 0 reads new channel 12
        StateDict poked = replaced(widened, Map.of(
                "generator.dense_motion_network.occlusion.weight", Tensor.of(occlusion, 1, 60, 7, 7),
                "kp_detector.kp.weight", Tensor.of(kp, 10, 19, 7, 7)));
        float[][] a = motion(wide, widened, source, driving), b = motion(wide, poked, source, driving);
        assertTrue(maxDiff(a[0], b[0]) > 1e-3, "a new detector channel should be live, moved the keypoints by " + maxDiff(a[0], b[0]));
        assertTrue(maxDiff(a[1], b[1]) > 1e-2, "a new dense motion channel should be live, changed the occlusion map by "
                + maxDiff(a[1], b[1]));
    }

    /** {@code weights} with some tensors replaced. */
    private static StateDict replaced(StateDict weights, Map<String, Tensor> changes) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (String name : weights.names()) {
            out.put(name, changes.getOrDefault(name, weights.get(name)));
        }
        return StateDict.of(out);
    }

    /** {@code {driving keypoints, occlusion map}} of animating {@code source} by {@code driving}. */
    private static float[][] motion(FommConfig config, StateDict weights, float[] source, float[] driving) {
        try (FommModel model = FommModel.create(config, weights)) {
            Tensor s = Tensor.of(source, 1, 3, H, W), d = Tensor.of(driving, 1, 3, H, W);
            var kpSource = model.kpDetector().detect(s);
            var kpDriving = model.kpDetector().detect(d);
            var g = model.generator();
            var out = g.generate(g.encodeSource(s), kpDriving, kpSource, false);
            return new float[][] {kpDriving.value().toArray(), out.denseMotion().occlusionMap().toArray()};
        }
    }

    @Test
    void aFrozenStepStartsUsingTheNewDetectorChannels() {
        FommConfig narrow = config(8, 32, 8, 64, 8, 64), wide = config(8, 32, 16, 128, 16, 128);
        double moved = afterOneFrozenStep(ModelWidening.widen(trained(narrow), narrow, wide, 9), wide, "kp_detector.kp.weight", 8, 16);
        assertTrue(moved > 0, "the weights from new detector channels into the heatmaps should leave 0 after a step");
    }

    /** The fixture config tree (two bottleneck blocks) with {@code blocks} bottleneck blocks in the generator. */
    private static ObjectNode treeWithBottleneck(int blocks) {
        ObjectNode t = tree();
        ((ObjectNode) t.get("model_params").get("generator_params")).put("num_bottleneck_blocks", blocks);
        return t;
    }

    private static FommConfig withBottleneck(int blocks) {
        return FommConfig.fromTree(treeWithBottleneck(blocks));
    }

    private static double maxAbs(Tensor t) {
        double m = 0;
        for (float v : t.toArray()) {
            m = Math.max(m, Math.abs(v));
        }
        return m;
    }

    @Test
    void theDeeperGeneratorPredictsWhatTheTrainedOneDidAndTrainsItsNewBlocks() {
        FommConfig shallow = withBottleneck(2), deep = withBottleneck(4);
        StateDict trained = trained(shallow);
        StateDict deepened = ModelWidening.widen(trained, shallow, deep, 9);
        assertArrayEquals(trained.get("generator.bottleneck.r1.conv2.weight").toArray(),
                deepened.get("generator.bottleneck.r1.conv2.weight").toArray(), "trained blocks kept");
        for (String block : new String[] {"r2", "r3"}) {
            String b = "generator.bottleneck." + block;
            assertEquals(0, maxAbs(deepened.get(b + ".conv2.weight")), b + ".conv2 starts at 0");
            assertEquals(0, maxAbs(deepened.get(b + ".conv2.bias")), b + ".conv2 starts at 0");
            assertTrue(maxAbs(deepened.get(b + ".conv1.weight")) > 0, b + ".conv1 is initialized");
        }

        CreatureDataset data = new CreatureDataset(H, W, 1);
        float[] source = data.testFrame(0, 0), driving = data.testFrame(0, 25);
        float[] before = predict(shallow, trained, source, driving);
        float[] after = predict(deep, deepened, source, driving);
        // The new blocks add conv2's output, exactly 0 (0 * finite + 0), to their input: the same image bit for bit.
        assertEquals(0, maxDiff(before, after), "deepened vs trained prediction");

        // The new blocks are in the computation: a nonzero conv2 bias in one of them changes the image.
        float[] bias = deepened.get("generator.bottleneck.r3.conv2.bias").toArray();
        java.util.Arrays.fill(bias, 0.5f);
        StateDict poked = replaced(deepened, Map.of("generator.bottleneck.r3.conv2.bias", Tensor.of(bias, bias.length)));
        double poke = maxDiff(after, predict(deep, poked, source, driving));
        assertTrue(poke > 1e-3, "a new block should be live, changed the image by " + poke);

        // One step with BatchNorm frozen moves conv2 of the new blocks off zero.
        ObjectNode t = treeWithBottleneck(4);
        ((ObjectNode) t.get("train_params")).put("batch_size", 2).put("freeze_batch_norm", true);
        Parameters p = Parameters.of(deepened);
        new Trainer(deep, TrainParams.fromTree(t), p, new CreatureDataset(H, W, 10), 3, 2).trainStep();
        double moved = 0;
        for (float v : p.parameter("generator.bottleneck.r2.conv2.weight").value()) {
            moved = Math.max(moved, Math.abs(v));
        }
        assertTrue(moved > 0, "the new block's conv2 should leave 0 after a step");

        // Blocks are appended, never dropped.
        IllegalArgumentException shallower = assertThrows(IllegalArgumentException.class,
                () -> ModelWidening.widen(trained(deep), deep, shallow, 1));
        assertTrue(shallower.getMessage().contains("which the wider config does not build"), shallower.getMessage());
    }

    @Test
    void onlyWidthsMayGrow() {
        StateDict trained = trained(config(8, 32, 8));
        IllegalArgumentException narrower = assertThrows(IllegalArgumentException.class,
                () -> ModelWidening.widen(trained(config(16, 64, 8)), config(8, 32, 8), 1));
        assertTrue(narrower.getMessage().startsWith("cannot widen generator."), narrower.getMessage());
        assertTrue(narrower.getMessage().contains("only block_expansion and max_features may grow"), narrower.getMessage());

        ObjectNode t = tree();
        ((ObjectNode) t.get("model_params").get("common_params")).put("num_kp", 12);
        FommConfig moreKeypoints = FommConfig.fromTree(t);
        IllegalArgumentException keypoints = assertThrows(IllegalArgumentException.class,
                () -> ModelWidening.widen(trained, moreKeypoints, 1));
        assertTrue(keypoints.getMessage().startsWith("cannot widen: the trained model has 10 keypoints"), keypoints.getMessage());

        ObjectNode u = tree();
        ((ObjectNode) u.get("model_params").get("kp_detector_params")).put("temperature", 0.2).put("block_expansion", 16);
        FommConfig hotter = FommConfig.fromTree(u);
        IllegalArgumentException other = assertThrows(IllegalArgumentException.class,
                () -> ModelWidening.widen(trained, config(8, 32, 8), hotter, 1));
        assertTrue(other.getMessage().startsWith("cannot widen: the configs differ in more than"), other.getMessage());
    }
}
