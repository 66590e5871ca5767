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
import org.fomm4j.training.autograd.Var;
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

        public void pair(SplittableRandom rng, int maxFrameGap, float[] s, float[] d, int offset) {
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

    /**
     * Steps that reuse the previous step's buffers ({@code FrameArena}, the default) compute what steps on
     * fresh arrays compute: a buffer handed out again while something still read it, or a kernel that
     * assumed fresh zeros, would change the second step's losses by far more than float32 rounding (the two
     * trainers run at different JIT stages, so rounding is all that may differ). And the arena is used: from
     * the second step on, most of a step's large buffers are old ones.
     */
    @Test
    void reusingTheLastStepsBuffersChangesNothing() {
        TrainingData data = new CreatureDataset(64, 64, 100);
        var initial = FommInit.random(config(), 6);
        for (int shards : new int[] {1, 2}) {
            String before = System.getProperty("fomm4j.trainArena");
            Trainer fresh, reusing;
            try {
                System.setProperty("fomm4j.trainArena", "false");
                fresh = new Trainer(config(), params(4), Parameters.of(initial), data, 13, 4, shards);
                System.setProperty("fomm4j.trainArena", "true");
                reusing = new Trainer(config(), params(4), Parameters.of(initial), data, 13, 4, shards);
            } finally {
                if (before == null) {
                    System.clearProperty("fomm4j.trainArena");
                } else {
                    System.setProperty("fomm4j.trainArena", before);
                }
            }
            for (int i = 0; i < 4; i++) {
                Trainer.StepResult f = fresh.trainStep(), r = reusing.trainStep();
                String at = shards + " shards, step " + (i + 1) + ": ";
                assertEquals(f.reconstruction(), r.reconstruction(), 1e-4 * f.reconstruction(), at + "reconstruction");
                assertEquals(f.equivarianceValue(), r.equivarianceValue(), 1e-4 * f.equivarianceValue(), at + "equivariance value");
                assertEquals(f.equivarianceJacobian(), r.equivarianceJacobian(), 1e-4 * f.equivarianceJacobian(), at + "equivariance jacobian");
            }
            assertArrayEquals(new long[] {0, 0}, fresh.arenaStats(), "no arena with -Dfomm4j.trainArena=false");
            long[] st = reusing.arenaStats();
            assertTrue(st[0] > 2 * st[1], shards + " shards: " + st[0] + " floats reused, " + st[1] + " allocated in 4 steps");
        }
    }

    /**
     * A batch split into shards on threads (BatchNorm statistics synchronized over them) computes the step of
     * the unsplit batch: same losses, gradients and running statistics, up to float32 summation order.
     * Without the synchronization each shard would normalize by its own statistics: with 1 or 2 samples a
     * shard, every loss and gradient would differ by far more than the tolerances here.
     */
    @Test
    void shardedStepComputesTheWholeBatchStep() {
        TrainingData data = new CreatureDataset(64, 64, 100);
        var initial = FommInit.random(config(), 6);
        Trainer whole = new Trainer(config(), params(4), Parameters.of(initial), data, 11, 4, 1);
        Trainer.StepResult w = whole.trainStep();
        for (int shards : new int[] {2, 4}) {
            Trainer split = new Trainer(config(), params(4), Parameters.of(initial), data, 11, 4, shards);
            assertEquals(shards, split.shards());
            Trainer.StepResult s = split.trainStep();
            assertEquals(w.reconstruction(), s.reconstruction(), 1e-5 * w.reconstruction(), shards + " shards: reconstruction");
            assertEquals(w.equivarianceValue(), s.equivarianceValue(), 1e-5 * w.equivarianceValue(), shards + " shards: equivariance value");
            assertEquals(w.equivarianceJacobian(), s.equivarianceJacobian(), 1e-5 * w.equivarianceJacobian(), shards + " shards: equivariance jacobian");
            // Gradients (still held after the Adam step): each tensor within 1e-3 relative L2, or, for tensors
            // whose gradient is rounding noise (conv biases before a BatchNorm), within 1e-4 of the largest.
            double largest = 0;
            for (Var v : whole.parameters().parameters().values()) {
                for (float g : v.grad()) {
                    largest = Math.max(largest, Math.abs(g));
                }
            }
            for (var e : whole.parameters().parameters().entrySet()) {
                float[] a = e.getValue().grad(), b = split.parameters().parameter(e.getKey()).grad();
                double dd = 0, aa = 0;
                for (int i = 0; i < a.length; i++) {
                    dd += (a[i] - b[i]) * (double) (a[i] - b[i]);
                    aa += a[i] * (double) a[i];
                }
                double diff = Math.sqrt(dd), norm = Math.sqrt(aa), limit = Math.max(1e-3 * norm, 1e-4 * largest);
                assertTrue(diff <= limit, shards + " shards: gradient of " + e.getKey() + " differs by " + diff + " (norm " + norm + ")");
            }
            var a = whole.parameters().toStateDict();
            var b = split.parameters().toStateDict();
            for (String name : a.names()) {
                if (name.endsWith(".running_var") || name.endsWith(".running_mean")) {
                    for (int i = 0; i < a.get(name).size(); i++) {
                        assertEquals(a.get(name).get(i), b.get(name).get(i), 1e-5 * (1 + Math.abs(a.get(name).get(i))),
                                shards + " shards: " + name + "[" + i + "]");
                    }
                }
            }
        }
    }

    @Test
    void shardsMustDivideTheBatch() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Trainer(config(), params(4),
                Parameters.of(FommInit.random(config(), 1)), new CreatureDataset(64, 64, 1), 1, 4, 3));
        assertTrue(e.getMessage().contains("3 shards do not divide a batch of 4"), e.getMessage());
        for (int batch = 1; batch <= 9; batch++) {
            int shards = Trainer.defaultShards(batch);
            assertTrue(shards >= 1 && batch % shards == 0 && shards <= org.fomm4j.kernels.Parallel.threads(),
                    shards + " default shards for a batch of " + batch);
        }
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
