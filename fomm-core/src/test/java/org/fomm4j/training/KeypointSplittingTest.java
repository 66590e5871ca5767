package org.fomm4j.training;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.fomm4j.training.ModelWideningTest.maxDiff;
import static org.fomm4j.training.ModelWideningTest.predict;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.fomm4j.config.FommConfig;
import org.fomm4j.config.YamlConfig;
import org.fomm4j.networks.fomm.FommModel;
import org.fomm4j.networks.fomm.Keypoints;
import org.fomm4j.tensor.Tensor;
import org.fomm4j.training.data.CreatureDataset;
import org.fomm4j.weights.StateDict;
import org.junit.jupiter.api.Test;

/**
 * {@link KeypointSplitting}: the model with split keypoints predicts what the trained one did, each copy
 * sits on its original (jittered copies nearby, not on it), and impossible counts are refused.
 */
class KeypointSplittingTest {
    private static final int H = 64, W = 64;

    /** The training fixture's config (10 keypoints, jacobians, occlusion) with {@code numKp} keypoints and these widths. */
    private static FommConfig config(int numKp, int generatorExpansion) {
        ObjectNode t = (ObjectNode) YamlConfig.read(java.nio.file.Path.of(TrainerTest.YAML));
        ObjectNode model = (ObjectNode) t.get("model_params");
        ((ObjectNode) model.get("common_params")).put("num_kp", numKp);
        ((ObjectNode) model.get("generator_params")).put("block_expansion", generatorExpansion);
        return FommConfig.fromTree(t);
    }

    /** Random weights with nonzero jacobian heads and BatchNorm statistics away from their initial values. */
    private static StateDict trained(FommConfig config) {
        StateDict init = FommInit.random(config, 33);
        Random rng = new Random(8);
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (String name : init.names()) {
            float[] v = init.get(name).toArray();
            boolean norm = name.matches(".*\\.norm\\d?\\.[a-z_]+$");
            boolean jacobian = name.equals("kp_detector.jacobian.weight");
            for (int i = 0; (norm || jacobian) && i < v.length; i++) {
                if (jacobian) {
                    v[i] = (float) (rng.nextGaussian() * 0.01);
                } else if (name.endsWith(".running_var") || name.endsWith(".weight")) {
                    v[i] = (float) (0.5 + rng.nextDouble());
                } else if (!name.endsWith("num_batches_tracked")) {
                    v[i] = (float) (rng.nextGaussian() * 0.2);
                }
            }
            out.put(name, Tensor.of(v, init.get(name).shape()));
        }
        return StateDict.of(out);
    }

    private static Keypoints keypoints(FommConfig config, StateDict weights, float[] frame) {
        try (FommModel model = FommModel.create(config, weights)) {
            return model.kpDetector().detect(Tensor.of(frame, 1, 3, H, W));
        }
    }

    @Test
    void exactCopiesPredictWhatTheTrainedModelDid() {
        FommConfig ten = config(10, 8), thirteen = config(13, 8);
        StateDict trained = trained(ten);
        StateDict split = KeypointSplitting.split(trained, ten, 13, 5, 0);
        assertEquals(KeypointSplitting.withNumKp(ten, 13), thirteen);
        Map<String, int[]> expected = FommModel.expectedTensors(thirteen);
        for (String name : expected.keySet()) {
            assertArrayEquals(expected.get(name), split.get(name).shape(), name);
        }
        CreatureDataset data = new CreatureDataset(H, W, 1);
        float[] source = data.testFrame(1, 0), driving = data.testFrame(1, 30);
        float[] before = predict(ten, trained, source, driving);
        float[] after = predict(thirteen, split, source, driving);
        double diff = maxDiff(before, after);
        // halved weights summed in another order, ln 2 in the softmax: float32 rounding only
        assertTrue(diff <= 2e-5, "split vs trained prediction: max abs diff " + diff);
        double moved = maxDiff(before, source);
        assertTrue(moved > 1e-2, "the prediction should differ from the source for the comparison to mean anything: " + moved);

        float[] kp = keypoints(thirteen, split, driving).value().toArray();
        float[] jac = keypoints(thirteen, split, driving).jacobian().toArray();
        float[] kpBefore = keypoints(ten, trained, driving).value().toArray();
        for (int i = 0; i < 3; i++) {
            for (int d = 0; d < 2; d++) {
                assertEquals(kp[2 * i + d], kp[2 * (10 + i) + d], 1e-6, "copy " + (10 + i) + " of keypoint " + i);
                assertEquals(kpBefore[2 * i + d], kp[2 * i + d], 1e-6, "keypoint " + i + " kept");
            }
            for (int e = 0; e < 4; e++) {
                assertEquals(jac[4 * i + e], jac[4 * (10 + i) + e], 1e-6, "jacobian of copy " + (10 + i));
            }
        }
        assertTrue(Math.abs(jac[0] - 1) > 1e-3 || Math.abs(jac[1]) > 1e-3, "jacobians should not all be the identity");
    }

    @Test
    void jitteredCopiesStartNearTheirOriginalsAndStillPredictAlmostTheSame() {
        FommConfig ten = config(10, 8), twenty = config(20, 8);
        StateDict trained = trained(ten);
        StateDict split = KeypointSplitting.split(trained, ten, 20, 5, KeypointSplitting.DEFAULT_JITTER);
        CreatureDataset data = new CreatureDataset(H, W, 1);
        float[] source = data.testFrame(2, 0), driving = data.testFrame(2, 30);
        float[] kp = keypoints(twenty, split, source).value().toArray();
        double nearest = Double.MAX_VALUE, farthest = 0;
        for (int i = 0; i < 10; i++) {
            double dx = kp[2 * i] - kp[2 * (10 + i)], dy = kp[2 * i + 1] - kp[2 * (10 + i) + 1];
            double px = Math.hypot(dx, dy) * (W - 1) / 2; // [-1, 1] to pixels
            nearest = Math.min(nearest, px);
            farthest = Math.max(farthest, px);
        }
        assertTrue(nearest > 1e-4, "jittered copies should not coincide with their originals: " + nearest + " px");
        assertTrue(farthest < 1.0, "jittered copies should stay within a pixel of their originals: " + farthest + " px");
        double diff = maxDiff(predict(ten, trained, source, driving), predict(twenty, split, source, driving));
        assertTrue(diff < 0.05, "jittered split vs trained prediction: max abs diff " + diff);
    }

    @Test
    void wideningSplitsKeypointsBeforeGrowingWidths() {
        FommConfig narrow = config(10, 8), wide = config(12, 16);
        StateDict trained = trained(narrow);
        StateDict grown = ModelWidening.widen(trained, narrow, wide, 5);
        assertEquals(12, grown.get("kp_detector.kp.weight").shape()[0]);
        CreatureDataset data = new CreatureDataset(H, W, 1);
        float[] source = data.testFrame(3, 0), driving = data.testFrame(3, 20);
        double diff = maxDiff(predict(narrow, trained, source, driving), predict(wide, grown, source, driving));
        assertTrue(diff < 0.05, "split and widened vs trained prediction: max abs diff " + diff);
    }

    @Test
    void impossibleCountsAreRefused() {
        FommConfig ten = config(10, 8);
        StateDict trained = trained(ten);
        var fewer = assertThrows(IllegalArgumentException.class, () -> KeypointSplitting.split(trained, ten, 10, 1, 0));
        assertTrue(fewer.getMessage().contains("11..20"), fewer.getMessage());
        assertThrows(IllegalArgumentException.class, () -> KeypointSplitting.split(trained, ten, 21, 1, 0));
        var wrong = assertThrows(IllegalArgumentException.class, () -> KeypointSplitting.split(trained, config(12, 8), 14, 1, 0));
        assertTrue(wrong.getMessage().contains("kp_detector.kp.weight"), wrong.getMessage());
        var fewerWidened = assertThrows(IllegalArgumentException.class,
                () -> ModelWidening.widen(trained, ten, config(8, 8), 1));
        assertTrue(fewerWidened.getMessage().startsWith("cannot widen"), fewerWidened.getMessage());
    }
}
