package org.fomm4j.training;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.fomm4j.animation.AnimationMode;
import org.fomm4j.animation.FommAnimator;
import org.fomm4j.config.ConfigException;
import org.fomm4j.config.FommConfig;
import org.fomm4j.networks.fomm.FommModel;
import org.fomm4j.tensor.Tensor;
import org.fomm4j.training.autograd.Tape;
import org.fomm4j.training.autograd.Var;
import org.fomm4j.training.data.CreatureDataset;
import org.junit.jupiter.api.Test;

/**
 * {@code train_params.freeze_batch_norm}: the training graph with frozen BatchNorm computes what inference
 * computes (so fine-tuning optimizes the network users run), and a step leaves the running statistics alone.
 */
class FrozenBatchNormTest {
    private static final int H = 64, W = 64, PX = 3 * H * W;

    /** Random weights with running statistics far from the initial (0, 1), so that the mode matters. */
    private static Parameters parameters(FommConfig config) {
        Parameters p = Parameters.of(FommInit.random(config, 11));
        Random rng = new Random(5);
        for (String name : p.bufferNames()) {
            float[] b = p.buffer(name);
            if (name.endsWith(".running_mean")) {
                for (int i = 0; i < b.length; i++) {
                    b[i] = (float) (rng.nextGaussian() * 0.3);
                }
            } else if (name.endsWith(".running_var")) {
                for (int i = 0; i < b.length; i++) {
                    b[i] = (float) (0.3 + 2 * rng.nextDouble());
                }
            }
        }
        return p;
    }

    private static float[] trainingGraphPrediction(FommTrainingModel m, float[] source, float[] driving, int n) {
        Tape t = new Tape();
        Var s = Var.constant(source, n, 3, H, W), d = Var.constant(driving, n, 3, H, W);
        return m.generator(t, s, m.kpDetector(t, d), m.kpDetector(t, s)).prediction().value();
    }

    @Test
    void frozenTrainingGraphPredictsWhatInferencePredicts() {
        FommConfig config = TrainerTest.config();
        Parameters p = parameters(config);
        Map<String, float[]> before = new HashMap<>();
        for (String name : p.bufferNames()) {
            before.put(name, p.buffer(name).clone());
        }
        CreatureDataset data = new CreatureDataset(H, W, 1);
        int n = 2;
        float[] source = new float[n * PX], driving = new float[n * PX];
        for (int i = 0; i < n; i++) {
            System.arraycopy(data.testFrame(i, 0), 0, source, i * PX, PX);
            System.arraycopy(data.testFrame(i, 20), 0, driving, i * PX, PX);
        }
        float[] frozen = trainingGraphPrediction(new FommTrainingModel(config, p, true), source, driving, n);
        for (String name : p.bufferNames()) {
            assertArrayEquals(before.get(name), p.buffer(name), name + " changed by a frozen forward pass");
        }
        double maxFrozen = 0, maxBatch = 0;
        try (FommModel model = FommModel.create(config, p.toStateDict())) {
            float[] batchStats = trainingGraphPrediction(new FommTrainingModel(config, parameters(config), false), source, driving, n);
            for (int i = 0; i < n; i++) {
                float[] src = java.util.Arrays.copyOfRange(source, i * PX, (i + 1) * PX);
                float[] drv = java.util.Arrays.copyOfRange(driving, i * PX, (i + 1) * PX);
                try (FommAnimator a = new FommAnimator(model, Tensor.of(src, 1, 3, H, W), AnimationMode.STANDARD)) {
                    float[] inference = a.animate(Tensor.of(drv, 1, 3, H, W)).data();
                    for (int j = 0; j < PX; j++) {
                        maxFrozen = Math.max(maxFrozen, Math.abs(inference[j] - frozen[i * PX + j]));
                        maxBatch = Math.max(maxBatch, Math.abs(inference[j] - batchStats[i * PX + j]));
                    }
                }
            }
        }
        // float32 with another summation order (inference's blocked kernels): predictions within 1e-4.
        assertTrue(maxFrozen <= 1e-4, "frozen training graph vs inference: max abs diff " + maxFrozen);
        assertTrue(maxBatch > 1e-2, "batch statistics should give another prediction here, max abs diff " + maxBatch);
    }

    @Test
    void aFrozenStepMovesParametersAndNotRunningStatistics() {
        FommConfig config = TrainerTest.config();
        var tree = (com.fasterxml.jackson.databind.node.ObjectNode) org.fomm4j.config.YamlConfig.read(
                java.nio.file.Path.of(TrainerTest.YAML));
        ((com.fasterxml.jackson.databind.node.ObjectNode) tree.get("train_params")).put("batch_size", 2).put("freeze_batch_norm", true);
        TrainParams params = TrainParams.fromTree(tree);
        assertTrue(params.freezeBatchNorm());
        Parameters p = parameters(config);
        Map<String, float[]> buffers = new HashMap<>();
        for (String name : p.bufferNames()) {
            buffers.put(name, p.buffer(name).clone());
        }
        float[] gamma = p.parameter("generator.first.norm.weight").value().clone();
        Trainer t = new Trainer(config, params, p, new CreatureDataset(H, W, 10), 3, 2);
        t.trainStep();
        for (String name : p.bufferNames()) {
            assertArrayEquals(buffers.get(name), p.buffer(name), name);
        }
        assertFalse(java.util.Arrays.equals(gamma, p.parameter("generator.first.norm.weight").value()), "BatchNorm weights are trained");
    }

    @Test
    void theFlagIsOffByDefaultAndMustBeABoolean() throws Exception {
        ObjectMapper json = new ObjectMapper();
        assertFalse(TrainParams.fromTree(json.readTree("{\"train_params\": {}}")).freezeBatchNorm());
        assertTrue(TrainParams.fromTree(json.readTree("{\"train_params\": {\"freeze_batch_norm\": true}}")).freezeBatchNorm());
        ConfigException e = assertThrows(ConfigException.class,
                () -> TrainParams.fromTree(json.readTree("{\"train_params\": {\"freeze_batch_norm\": \"yes\"}}")));
        assertEquals("config: train_params.freeze_batch_norm must be true or false, got \"yes\"", e.getMessage());
    }
}
