package org.fomm4j.training;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Map;
import org.fomm4j.Fixtures;
import org.fomm4j.config.ConfigException;
import org.fomm4j.config.TpsmmConfig;
import org.fomm4j.config.YamlConfig;
import org.fomm4j.training.data.CreatureDataset;
import org.fomm4j.training.data.TrainingData;
import org.fomm4j.weights.StateDict;
import org.junit.jupiter.api.Test;

/** TPSMM's AVD stage: it learns, it touches nothing but the AVD network, it resumes exactly; its schedule. */
class AvdTrainerTest {
    static final Path YAML = Fixtures.testdata().resolve("fixtures/tpsmm-avd-train-small/config.yaml");

    static TpsmmConfig config() {
        return TpsmmConfig.load(YAML);
    }

    static AvdTrainer trainer(Parameters p, TrainingData data, long seed, int batch) {
        return new AvdTrainer(config(), AvdTrainParams.load(YAML), p, data, seed, batch);
    }

    /** Keypoints of the (random) detector on creature frames: the AVD network learns to rebuild the driving ones. */
    @Test
    void keypointReconstructionFallsAndNothingButTheAvdNetworkChanges() {
        StateDict initial = TpsmmInit.random(config(), 3);
        Parameters p = Parameters.of(initial);
        AvdTrainer t = trainer(p, new CreatureDataset(64, 64, 40), 5, 16);
        double first = 0, last = 0;
        int steps = 40;
        for (int i = 0; i < steps; i++) {
            AvdTrainer.StepResult r = t.trainStep();
            first += i < 3 ? r.loss() / 3 : 0;
            last += i >= steps - 3 ? r.loss() / 3 : 0;
        }
        double f = first, l = last;
        assertTrue(l < 0.5 * f, () -> "keypoint reconstruction " + f + " -> " + l + " after " + steps + " steps");
        StateDict after = p.toStateDict();
        int changed = 0;
        for (String name : initial.names()) {
            boolean same = java.util.Arrays.equals(initial.get(name).toArray(), after.get(name).toArray());
            if (name.startsWith("avd_network.") && !name.endsWith("num_batches_tracked")) {
                changed += same ? 0 : 1;
            } else {
                assertTrue(same, () -> name + " changed: only the AVD network trains (the detector stays as trained)");
            }
        }
        assertEquals(42 + 9 * 2, changed, "every AVD parameter and running statistic moved");
    }

    /** A run resumed from its state dict, optimizer state and step takes the steps the uninterrupted run takes. */
    @Test
    void resumingFromSavedStateContinuesExactly() {
        TrainingData data = new CreatureDataset(64, 64, 40);
        StateDict initial = TpsmmInit.random(config(), 4);
        AvdTrainer straight = trainer(Parameters.of(initial), data, 9, 8);
        for (int i = 0; i < 4; i++) {
            straight.trainStep();
        }
        AvdTrainer first = trainer(Parameters.of(initial), data, 9, 8);
        first.trainStep();
        first.trainStep();
        Map<String, float[]> optimizer = first.optimizerState();
        AvdTrainer resumed = trainer(Parameters.of(first.parameters().toStateDict()), data, 9, 8);
        resumed.restore(optimizer, first.step());
        resumed.trainStep();
        resumed.trainStep();
        assertEquals(4, resumed.step());
        StateDict x = straight.parameters().toStateDict(), y = resumed.parameters().toStateDict();
        for (String name : x.names()) {
            assertArrayEquals(x.get(name).toArray(), y.get(name).toArray(), name);
        }
    }

    /**
     * The reference calls {@code scheduler.step(epoch)} after epoch {@code e}: milestones {@code [140, 180]} lower the
     * rate from epochs 141 and 181.
     */
    @Test
    void learningRateScheduleIsTheReferencesStepEpoch() {
        AvdTrainParams p = AvdTrainParams.load(YAML);
        assertEquals(1.0, p.lrFactor(0));
        assertEquals(1.0, p.lrFactor(140));
        assertEquals(0.1, p.lrFactor(141), 1e-12);
        assertEquals(0.1, p.lrFactor(180), 1e-12);
        assertEquals(0.01, p.lrFactor(181), 1e-12);
    }

    @Test
    void configsWithoutTrainAvdParamsOrBadValuesAreRefusedInOneLine() {
        var e = assertThrows(ConfigException.class, () -> AvdTrainParams.fromTree(YamlConfig.parse("train_params:\n  num_epochs: 1\n")));
        assertTrue(e.getMessage().contains("train_avd_params"), e::getMessage);
        var r = assertThrows(ConfigException.class, () -> AvdTrainParams.fromTree(YamlConfig.parse(
                "train_avd_params:\n  num_epochs: 1\n  batch_size: 4\n  lr: 0.001\n  random_scale: 1.5\n")));
        assertTrue(r.getMessage().contains("random_scale"), r::getMessage);
        assertThrows(IllegalArgumentException.class, () -> trainer(Parameters.of(TpsmmInit.random(config(), 1)),
                new CreatureDataset(64, 64, 4), 1, 1));
    }
}
