package org.fomm4j.training;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.SplittableRandom;
import org.fomm4j.Fixtures;
import org.fomm4j.config.FommConfig;
import org.fomm4j.config.YamlConfig;
import org.fomm4j.training.data.CreatureDataset;
import org.fomm4j.training.data.TrainingData;
import org.junit.jupiter.api.Test;

/** The training loop: it learns, it resumes where it stopped, it refuses frames the model cannot take. */
class TrainerTest {
    static final String YAML = Fixtures.testdata().resolve("fixtures/fomm-train-small/config.yaml").toString();

    static FommConfig config() {
        return FommConfig.load(java.nio.file.Path.of(YAML));
    }

    static TrainParams params(int batch) {
        var tree = (com.fasterxml.jackson.databind.node.ObjectNode) YamlConfig.read(java.nio.file.Path.of(YAML));
        ((com.fasterxml.jackson.databind.node.ObjectNode) tree.get("train_params")).put("batch_size", batch);
        return TrainParams.fromTree(tree);
    }

    /** One fixed pair, always the same: a model must be able to fit it. */
    static final class OnePair implements TrainingData {
        final float[] source, driving;

        OnePair(int size) {
            CreatureDataset d = new CreatureDataset(size, size, 1);
            source = d.frame(3, 5, 0);
            driving = d.frame(3, 5, 30);
        }

        public int frameHeight() {
            return 64;
        }

        public int frameWidth() {
            return 64;
        }

        public int videos() {
            return 1;
        }

        public void pair(SplittableRandom rng, float[] s, float[] d, int offset) {
            System.arraycopy(source, 0, s, offset, source.length);
            System.arraycopy(driving, 0, d, offset, driving.length);
        }
    }

    @Test
    void reconstructionLossFallsWhenFittingOnePair() {
        Trainer t = new Trainer(config(), params(2), Parameters.of(FommInit.random(config(), 3)), new OnePair(64), 5, 2);
        double first = 0, last = 0;
        for (int i = 0; i < 40; i++) {
            Trainer.StepResult r = t.trainStep();
            if (i < 3) {
                first += r.reconstruction() / 3;
            }
            if (i >= 37) {
                last += r.reconstruction() / 3;
            }
        }
        double f = first, l = last;
        assertTrue(l < 0.6 * f, () -> "reconstruction loss " + f + " -> " + l + " after 40 steps on one pair");
    }

    @Test
    void resumingFromSavedStateContinuesExactly() {
        TrainingData data = new CreatureDataset(64, 64, 100);
        Trainer straight = new Trainer(config(), params(2), Parameters.of(FommInit.random(config(), 4)), data, 9, 2);
        Trainer.StepResult straightThird = null;
        for (int i = 0; i < 3; i++) {
            straightThird = straight.trainStep();
        }
        Trainer first = new Trainer(config(), params(2), Parameters.of(FommInit.random(config(), 4)), data, 9, 2);
        first.trainStep();
        first.trainStep();
        // What a checkpoint keeps: the state dict, the optimizer state and the step.
        Map<String, float[]> optimizer = new java.util.LinkedHashMap<>();
        first.optimizerState().forEach((k, v) -> optimizer.put(k, v.clone()));
        Trainer resumed = new Trainer(config(), params(2), Parameters.of(first.parameters().toStateDict()), data, 9, 2);
        resumed.restore(optimizer, first.step());
        Trainer.StepResult third = resumed.trainStep();
        assertEquals(3, resumed.step());
        assertEquals(straightThird.total(), third.total(), 1e-4 * straightThird.total(), "loss of the third step");
        var initial = FommInit.random(config(), 4);
        var a = straight.parameters().toStateDict();
        var b = resumed.parameters().toStateDict();
        // Same batches, transforms and optimizer state; the Vector API's lane reductions add in another order
        // before and after the JIT compiles them, so values agree to float32 rounding, not bit for bit.
        // Conv biases feeding a training-mode BatchNorm have a gradient that is rounding noise (BatchNorm
        // subtracts them again): Adam turns its sign into a full step either way, and the BatchNorm's running
        // mean follows that bias. Everything else must agree.
        int compared = 0;
        for (String name : a.names()) {
            String base = name.replaceAll("\\.conv1?\\.bias$", "");
            boolean noise = !base.equals(name) && (a.names().contains(base + ".norm.weight") || a.names().contains(base + ".norm2.weight"));
            noise |= name.equals("kp_detector.kp.bias"); // the spatial softmax ignores it just as well
            noise |= name.endsWith(".running_mean") && (a.names().contains(name.replaceAll("\\.norm\\.running_mean$", ".conv.bias"))
                    || a.names().contains(name.replaceAll("\\.norm2\\.running_mean$", ".conv1.bias")));
            if (!noise) {
                // Adam's step lr g / (|g| + eps) makes the rounding of tiny gradients visible in single
                // elements, so each tensor is compared as a whole: the two runs differ by far less than
                // the three steps moved it (a lost optimizer state or other data would differ by as much).
                double dd = 0, moved = 0;
                for (int i = 0; i < a.get(name).size(); i++) {
                    double d = a.get(name).get(i) - b.get(name).get(i), m = a.get(name).get(i) - initial.get(name).get(i);
                    dd += d * d;
                    moved += m * m;
                }
                double ratio = Math.sqrt(dd / Math.max(moved, 1e-30));
                assertTrue(moved == 0 ? dd == 0 : ratio < 0.2, name + ": runs differ by " + ratio + " of the training update");
                compared++;
            }
        }
        assertTrue(compared > 100, compared + " tensors compared");
    }

    @Test
    void framesTheModelCannotTakeAreRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Trainer(config(), params(2),
                Parameters.of(FommInit.random(config(), 1)), new CreatureDataset(48, 48, 1), 1, 2));
        assertTrue(e.getMessage().contains("divisible by 32"), e.getMessage());
    }

    @Test
    void initializationFollowsTheReference() {
        Parameters p = Parameters.of(FommInit.random(config(), 1));
        float[] jb = p.parameter("kp_detector.jacobian.bias").value();
        assertArrayEquals(new float[] {1, 0, 0, 1, 1, 0, 0, 1}, java.util.Arrays.copyOf(jb, 8));
        for (float v : p.parameter("kp_detector.jacobian.weight").value()) {
            assertEquals(0f, v);
        }
        float[] w = p.parameter("generator.first.conv.weight").value();
        double bound = 1 / Math.sqrt(3 * 7 * 7), max = 0;
        for (float v : w) {
            max = Math.max(max, Math.abs(v));
        }
        assertTrue(max <= bound && max > 0.9 * bound, "conv weights uniform in +-1/sqrt(fan_in): max " + max);
        assertArrayEquals(new float[] {1, 1, 1, 1, 1, 1, 1, 1}, p.parameter("generator.first.norm.weight").value());
        assertTrue(p.hasBuffer("generator.first.norm.num_batches_tracked"));
    }
}
