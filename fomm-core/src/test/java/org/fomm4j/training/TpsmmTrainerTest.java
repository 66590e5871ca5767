package org.fomm4j.training;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.fomm4j.Fixtures;
import org.fomm4j.config.TpsmmConfig;
import org.fomm4j.config.YamlConfig;
import org.fomm4j.networks.tpsmm.TpsmmModel;
import org.fomm4j.training.data.CreatureDataset;
import org.fomm4j.training.data.TrainingData;
import org.junit.jupiter.api.Test;

/** TPSMM's training loop: it learns, it splits a batch exactly, it resumes where it stopped; its schedule and init. */
class TpsmmTrainerTest {
    static final Path YAML = Fixtures.testdata().resolve("fixtures/tpsmm-train-small/config.yaml");

    static TpsmmConfig config() {
        return TpsmmConfig.load(YAML);
    }

    static TrainParams params() {
        return TrainParams.load(YAML);
    }

    static TpsmmTrainParams tpsmm() {
        return TpsmmTrainParams.load(YAML);
    }

    static TpsmmTrainer trainer(Parameters p, TrainingData data, long seed, int batch, int shards) {
        return new TpsmmTrainer(config(), params(), tpsmm(), p, data, seed, batch, shards);
    }

    @Test
    void reconstructionLossFallsWhenFittingOnePair() {
        TpsmmTrainer t = trainer(Parameters.of(TpsmmInit.random(config(), 3)), new TrainerTest.OnePair(64), 5, 2, 1);
        double first = 0, last = 0;
        int steps = 30;
        for (int i = 0; i < steps; i++) {
            TpsmmTrainer.StepResult r = t.trainStep();
            if (i < 3) {
                first += r.reconstruction() / 3;
            }
            if (i >= steps - 3) {
                last += r.reconstruction() / 3;
            }
        }
        double f = first, l = last;
        assertTrue(l < 0.7 * f, () -> "reconstruction loss " + f + " -> " + l + " after " + steps + " steps on one pair");
    }

    /**
     * Split over threads (the ResNets' BatchNorm statistics synchronized), a step computes the unsplit one:
     * the same losses, up to float32 summation order (amplified by the TPS solves, so 1e-4).
     */
    @Test
    void shardedStepComputesTheWholeBatchStep() {
        TrainingData data = new CreatureDataset(64, 64, 50);
        var initial = TpsmmInit.random(config(), 6);
        TpsmmTrainer whole = trainer(Parameters.of(initial), data, 11, 4, 1), split = trainer(Parameters.of(initial), data, 11, 4, 2);
        whole.trainStep();
        split.trainStep();
        // The second step: the background predictor starts as the identity, whose loss is exactly 0.
        TpsmmTrainer.StepResult w = whole.trainStep(), s = split.trainStep();
        assertEquals(w.reconstruction(), s.reconstruction(), 1e-4 * w.reconstruction(), "reconstruction");
        assertEquals(w.equivarianceValue(), s.equivarianceValue(), 1e-4 * w.equivarianceValue(), "equivariance");
        assertEquals(w.warp(), s.warp(), 1e-4 * w.warp(), "warp");
        assertEquals(w.bg(), s.bg(), 1e-4 * w.bg() + 1e-7, "background");
        assertTrue(w.bg() > 0, "bg_start 0 in the fixture config: the background loss is on after a step");
    }

    /** A run resumed from its state dict, optimizer state and step takes the step the uninterrupted run takes. */
    @Test
    void resumingFromSavedStateContinuesExactly() {
        TrainingData data = new CreatureDataset(64, 64, 50);
        var initial = TpsmmInit.random(config(), 4);
        TpsmmTrainer straight = trainer(Parameters.of(initial), data, 9, 2, 1);
        straight.trainStep();
        straight.trainStep();
        TpsmmTrainer.StepResult third = straight.trainStep();
        TpsmmTrainer first = trainer(Parameters.of(initial), data, 9, 2, 1);
        first.trainStep();
        first.trainStep();
        Map<String, float[]> optimizer = new LinkedHashMap<>();
        first.optimizerState().forEach((k, v) -> optimizer.put(k, v.clone()));
        assertTrue(optimizer.keySet().stream().anyMatch(k -> k.startsWith("bg_predictor.")), "the background optimizer is saved");
        TpsmmTrainer resumed = trainer(Parameters.of(first.parameters().toStateDict()), data, 9, 2, 1);
        resumed.restore(optimizer, first.step());
        TpsmmTrainer.StepResult again = resumed.trainStep();
        assertEquals(3, resumed.step());
        assertEquals(third.total(), again.total(), 1e-4 * third.total(), "loss of the third step");
        TpsmmTrainer cold = trainer(Parameters.of(first.parameters().toStateDict()), data, 9, 2, 1);
        assertThrows(IllegalArgumentException.class, () -> cold.restore(Map.of("generator.x", new float[1]), 2),
                "an optimizer state that does not fit is refused");
    }

    @Test
    void dropoutScheduleAndMask() {
        TpsmmTrainParams p = TpsmmTrainParams.fromTree(YamlConfig.read(
                Fixtures.testdata().resolve("reference/configs/tpsmm/vox-256.yaml")));
        // vox-256: p = min(epoch / 10 * 0.3 + 0.1, 0.3) before epoch 35, then none.
        assertEquals(0.1, p.dropoutP(0), 1e-12);
        assertEquals(0.19, p.dropoutP(3), 1e-12);
        assertEquals(0.3, p.dropoutP(7), 1e-12);
        assertEquals(0.3, p.dropoutP(34), 1e-12);
        assertEquals(0, p.dropoutP(35));
        float[] keep = TpsmmFullModel.dropoutMask(400, 10, 0.3, new Random(1));
        int dropped = 0;
        for (int s = 0; s < 400; s++) {
            assertEquals(1f, keep[s * 11], "the background transformation is never dropped");
            for (int k = 1; k <= 10; k++) {
                dropped += keep[s * 11 + k] == 0 ? 1 : 0;
            }
        }
        assertEquals(0.3, dropped / 4000.0, 0.03);
        assertEquals(null, TpsmmFullModel.dropoutMask(4, 10, 0, new Random(1)));
    }

    /** The initial weights build the inference model (every name and shape) and start as the reference does. */
    @Test
    void initialWeightsAreACompleteModel() {
        var init = TpsmmInit.random(config(), 1);
        TpsmmModel.create(config(), init).close();
        assertEquals(0f, init.get("bg_predictor.bg_encoder.fc.weight").get(5));
        assertEquals(1f, init.get("bg_predictor.bg_encoder.fc.bias").get(0));
        assertEquals(1f, init.get("bg_predictor.bg_encoder.fc.bias").get(4));
        assertEquals(0f, init.get("bg_predictor.bg_encoder.fc.bias").get(2));
        assertEquals(1f, init.get("inpainting_network.first.norm.weight").get(0));
        assertEquals(0f, init.get("kp_detector.fg_encoder.bn1.bias").get(0));
        assertEquals(1f, init.get("kp_detector.fg_encoder.bn1.running_var").get(0));
        // kaiming_normal_(fan_out): the stem's std is sqrt(2 / (64 * 7 * 7)) = 0.0255.
        var stem = init.get("kp_detector.fg_encoder.conv1.weight");
        double ss = 0;
        for (int i = 0; i < stem.size(); i++) {
            ss += stem.get(i) * (double) stem.get(i);
        }
        assertEquals(0.0255, Math.sqrt(ss / stem.size()), 0.002);
    }

    /**
     * The inference model takes the reference's weights of a config whose {@code max_features} caps the
     * inpainting network's widths (its up blocks and ResBlocks were once sized for uncapped widths only).
     */
    @Test
    void inferenceModelTakesTheReferenceWeightsOfACappedConfig() throws java.io.IOException {
        var reference = TpsmmTrainingStepParityTest.initialState(Fixtures.fixture("tpsmm-train-small"));
        var all = new LinkedHashMap<String, org.fomm4j.tensor.Tensor>();
        var init = TpsmmInit.random(config(), 1);
        for (String name : init.names()) {
            all.put(name, reference.names().contains(name) ? reference.get(name) : init.get(name)); // AVD, counters
        }
        assertTrue(reference.names().stream().allMatch(all::containsKey), "every reference tensor has a place");
        TpsmmModel.create(config(), org.fomm4j.weights.StateDict.of(all)).close();
    }

    @Test
    void framesTheModelCannotTakeAreRefused() {
        var e = assertThrows(IllegalArgumentException.class,
                () -> trainer(Parameters.of(TpsmmInit.random(config(), 1)), new CreatureDataset(40, 40, 2), 1, 2, 1));
        assertTrue(e.getMessage().contains("40x40"), e.getMessage());
    }
}
