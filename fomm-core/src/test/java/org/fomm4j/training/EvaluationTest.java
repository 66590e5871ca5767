package org.fomm4j.training;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.fomm4j.tensor.Tensor;
import org.junit.jupiter.api.Test;

class EvaluationTest {
    @Test
    void collapsedPairsCountsKeypointsLessThanOnePixelApart() {
        // A 65 x 33 frame: one pixel is 2/64 in x and 2/32 in y of the [-1, 1] range.
        float px = 2f / 64, py = 2f / 32;
        float[] kp = {
            0, 0,
            0.9f * px, 0, // 0.9 px from the first: collapsed
            0, 1.1f * py, // 1.1 px from the first, hypot(0.9, 1.1) = 1.42 px from the second
            0.5f, 0.5f,
            0.5f + 0.5f * px, 0.5f + 0.5f * py, // 0.71 px from the fourth: collapsed
        };
        assertEquals(2, Evaluation.collapsedPairs(kp, 65, 33));
        assertEquals(0, Evaluation.collapsedPairs(new float[] {-1, -1, 1, 1}, 65, 33));
        assertEquals(1, Evaluation.collapsedPairs(new float[] {0.25f, 0.25f, 0.25f, 0.25f}, 65, 33));
    }

    @Test
    void sampleInterpolatesTheFlowBetweenPixelCentres() {
        // A 2 x 3 flow whose x component is the column and y component 10 * the row.
        float[] d = new float[2 * 3 * 2];
        for (int y = 0; y < 2; y++) {
            for (int x = 0; x < 3; x++) {
                d[(y * 3 + x) * 2] = x;
                d[(y * 3 + x) * 2 + 1] = 10 * y;
            }
        }
        Tensor def = Tensor.of(d, 1, 2, 3, 2);
        assertArrayEquals(new float[] {1, 5}, Evaluation.sample(def, 0, 0), 1e-6f);
        assertArrayEquals(new float[] {2, 10}, Evaluation.sample(def, 1, 1), 1e-6f);
        assertArrayEquals(new float[] {0, 0}, Evaluation.sample(def, -2, -2), 1e-6f, "clamped at the edge");
    }
}
