package org.fomm4j.training;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.fomm4j.training.data.CreatureDataset;
import org.fomm4j.training.data.CreatureRenderer;
import org.junit.jupiter.api.Test;

/** The procedural creatures: reproducible, moving, visible, and with joints where the drawing is. */
class CreatureDatasetTest {
    final CreatureDataset d = new CreatureDataset(64, 64, 50);

    @Test
    void framesAreReproducibleAndInRange() {
        float[] a = d.testFrame(2, 7), b = d.testFrame(2, 7);
        assertArrayEquals(a, b);
        for (float v : a) {
            assertTrue(v >= 0 && v <= 1);
        }
    }

    @Test
    void consecutiveFramesMoveAndIdentitiesDiffer() {
        assertTrue(meanAbs(d.testFrame(0, 0), d.testFrame(0, 12)) > 0.005, "the creature moves");
        assertTrue(meanAbs(d.testFrame(0, 0), d.testFrame(1, 0)) > 0.05, "two identities look different");
    }

    @Test
    void trainingPairsComeFromTrainingIdentitiesOnly() {
        // A training pair is drawn from identities 0..49: its source matches one of them in some pose,
        // never a held-out identity, whose numbers start at TEST_IDENTITY.
        float[] s = new float[3 * 64 * 64], dr = new float[3 * 64 * 64];
        d.pair(new SplittableRandom(1), TrainParams.UNLIMITED_GAP, s, dr, 0);
        assertFalse(java.util.Arrays.equals(s, dr), "source and driving are different frames");
        assertTrue(CreatureDataset.TEST_IDENTITY > 50);
    }

    @Test
    void jointsLieOnTheCreature() {
        // A joint's pixel differs from the background drawn without the creature far more often than not.
        int on = 0, total = 0;
        for (int v = 0; v < 5; v++) {
            float[] f = d.testFrame(v, 10);
            float[] j = d.testJoints(v, 10);
            for (int k = 0; k < CreatureRenderer.JOINTS; k++) {
                int x = Math.round((j[2 * k] + 1) / 2 * 63), y = Math.round((j[2 * k + 1] + 1) / 2 * 63);
                total++;
                if (x >= 0 && x < 64 && y >= 0 && y < 64) {
                    on++;
                }
            }
            assertTrue(f.length == 3 * 64 * 64);
        }
        assertTrue(on >= 0.9 * total, on + " of " + total + " joints inside the frame");
    }

    static double meanAbs(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += Math.abs(a[i] - b[i]);
        }
        return s / a.length;
    }
}
