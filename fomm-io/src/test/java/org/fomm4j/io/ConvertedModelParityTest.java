package org.fomm4j.io;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import org.fomm4j.animation.AnimationMode;
import org.fomm4j.animation.FommAnimator;
import org.fomm4j.io.weights.CheckpointConverter;
import org.fomm4j.io.weights.ModelFiles;
import org.fomm4j.networks.fomm.FommModel;
import org.fomm4j.tensor.Npy;
import org.fomm4j.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A model loaded from a converted (memory-mapped) weight file animates like the reference. */
class ConvertedModelParityTest {
    @TempDir
    Path tmp;

    @Test
    void gpuSavedCheckpointConvertedAndLoadedMatchesTheReferencePrediction() throws IOException {
        Path dir = SharedFixtures.fixture("fomm-vox-small");
        Path model = tmp.resolve("vox-small.fomm4j");
        CheckpointConverter.convert(dir.resolve("checkpoint-gpu-saved.pth.tar"), dir.resolve("config.yaml"), model);
        Map<String, Tensor> expected = Npy.readNpz(dir.resolve("expected.npz"));
        FommModel m = ModelFiles.loadFomm(model);
        try (m; FommAnimator anim = new FommAnimator(m, expected.get("source"), AnimationMode.RELATIVE_ADAPT)) {
            Tensor driving = expected.get("driving");
            for (int i = 0; i < driving.dim(0); i++) {
                Tensor p = anim.animate(driving.item(i));
                float d = p.maxAbsDiff(expected.get("relative_adapt_prediction").item(i));
                assertTrue(d <= 2e-5, "frame " + i + ": max abs diff " + d + " (tolerance 2e-5, as FommParityTest)");
            }
        }
        assertThrows(IllegalStateException.class, () -> new FommAnimator(m, expected.get("source"), AnimationMode.STANDARD),
                "a closed model refuses work");
    }
}
