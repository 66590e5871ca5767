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

    /**
     * A TPSMM is scored as the reference's {@code reconstruction.py} runs it: frame 0 as the source, every frame
     * driving it in mode standard, with the background predictor; the flow is the dense motion's deformation.
     */
    @Test
    void tpsmmVideoIsScoredAsItsAnimatorPredicts() {
        var config = TpsmmTrainerTest.config();
        var model = org.fomm4j.networks.tpsmm.TpsmmModel.create(config, TpsmmInit.random(config, 2));
        var data = new org.fomm4j.training.data.CreatureDataset(64, 64, 1);
        Evaluation.Video v = new Evaluation.Video() {
            public int frames() {
                return 3;
            }

            public float[] frame(int i) {
                return data.testFrame(0, 10 * i);
            }

            public float[] points(int i) {
                return data.testJoints(0, 10 * i);
            }
        };
        Evaluation.Report r = Evaluation.video(model, v, Evaluation.empty());
        double l1 = 0, copy = 0;
        try (var a = new org.fomm4j.animation.TpsmmAnimator(model, Tensor.of(v.frame(0), 1, 3, 64, 64),
                org.fomm4j.animation.AnimationMode.STANDARD, true)) {
            float[] first = v.frame(0);
            for (int i = 0; i < 3; i++) {
                float[] real = v.frame(i), pred = a.animate(Tensor.of(real, 1, 3, 64, 64)).data();
                double s = 0, c = 0;
                for (int p = 0; p < real.length; p++) {
                    s += Math.abs(pred[p] - real[p]);
                    c += Math.abs(first[p] - real[p]);
                }
                l1 += s / real.length;
                copy += c / real.length;
            }
        }
        assertEquals(3, r.frames());
        assertEquals(l1 / 3, r.l1(), 1e-6);
        assertEquals(copy / 3, r.copySourceL1(), 1e-9);
        assertEquals(3L * v.points(0).length / 2, r.pointCount(), "every joint of every frame looked up in the flow");
        assertEquals(20L * 19 / 2, r.kpPairs(), "pairs of the 20 keypoints (4 TPS of 5)");
        model.close();
    }
}
