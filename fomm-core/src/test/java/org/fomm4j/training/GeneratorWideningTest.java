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
 * {@link GeneratorWidening}: the widened model predicts what the trained one did, its new channels are
 * reachable by training, and anything other than a wider generator is refused.
 */
class GeneratorWideningTest {
    private static final int H = 64, W = 64;

    private static ObjectNode tree() {
        return (ObjectNode) YamlConfig.read(java.nio.file.Path.of(TrainerTest.YAML));
    }

    /** The fixture config (generator 8 / 32, two down blocks) with other generator or detector widths. */
    private static FommConfig config(int generatorExpansion, int generatorMax, int kpExpansion) {
        ObjectNode t = tree();
        ObjectNode model = (ObjectNode) t.get("model_params");
        ((ObjectNode) model.get("generator_params")).put("block_expansion", generatorExpansion).put("max_features", generatorMax);
        ((ObjectNode) model.get("kp_detector_params")).put("block_expansion", kpExpansion);
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

    private static float[] predict(FommConfig config, StateDict weights, float[] source, float[] driving) {
        try (FommModel model = FommModel.create(config, weights);
             FommAnimator a = new FommAnimator(model, Tensor.of(source, 1, 3, H, W), AnimationMode.STANDARD)) {
            return a.animate(Tensor.of(driving, 1, 3, H, W)).toArray();
        }
    }

    private static double maxDiff(float[] a, float[] b) {
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
        StateDict widened = GeneratorWidening.widen(trained, wide, 9);
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
        Map<String, Tensor> poked = new LinkedHashMap<>();
        for (String name : widened.names()) {
            poked.put(name, widened.get(name));
        }
        float[] fin = widened.get("generator.final.weight").toArray();
        for (int o = 0; o < 3; o++) {
            for (int i = 8; i < 16; i++) {
                for (int k = 0; k < 49; k++) {
                    assertEquals(0f, fin[(o * 16 + i) * 49 + k], "trained output " + o + " reads new channel " + i);
                }
            }
        }
        java.util.Arrays.fill(fin, 12 * 49, 13 * 49, 0.5f); // output 0 reads new channel 12
        poked.put("generator.final.weight", Tensor.of(fin, 3, 16, 7, 7));
        double poke = maxDiff(after, predict(wide, StateDict.of(poked), source, driving));
        assertTrue(poke > 1e-3, "a new channel should be live, changed the image by " + poke);
    }

    @Test
    void aFrozenStepStartsUsingTheNewChannels() {
        FommConfig narrow = config(8, 32, 8), wide = config(16, 64, 8);
        ObjectNode t = tree();
        ((ObjectNode) t.get("train_params")).put("batch_size", 2).put("freeze_batch_norm", true);
        Parameters p = Parameters.of(GeneratorWidening.widen(trained(narrow), wide, 9));
        new Trainer(wide, TrainParams.fromTree(t), p, new CreatureDataset(H, W, 10), 3, 2).trainStep();
        float[] fin = p.parameter("generator.final.weight").value();
        double moved = 0;
        for (int o = 0; o < 3; o++) {
            for (int i = 8 * 49; i < 16 * 49; i++) {
                moved = Math.max(moved, Math.abs(fin[o * 16 * 49 + i]));
            }
        }
        assertTrue(moved > 0, "the weights from new channels into the image should leave 0 after a step");
    }

    @Test
    void onlyTheGeneratorMayGrow() {
        StateDict trained = trained(config(8, 32, 8));
        IllegalArgumentException detector = assertThrows(IllegalArgumentException.class,
                () -> GeneratorWidening.widen(trained, config(8, 32, 16), 1));
        assertTrue(detector.getMessage().startsWith("cannot widen kp_detector."), detector.getMessage());
        IllegalArgumentException narrower = assertThrows(IllegalArgumentException.class,
                () -> GeneratorWidening.widen(trained(config(16, 64, 8)), config(8, 32, 8), 1));
        assertTrue(narrower.getMessage().startsWith("cannot widen generator."), narrower.getMessage());
        assertTrue(narrower.getMessage().contains("only the generator's channel counts may grow"), narrower.getMessage());
    }
}
