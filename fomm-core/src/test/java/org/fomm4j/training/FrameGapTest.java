package org.fomm4j.training;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.SplittableRandom;
import org.fomm4j.config.ConfigException;
import org.fomm4j.training.data.CreatureDataset;
import org.junit.jupiter.api.Test;

/** {@code train_params.max_frame_gap}: the curriculum from close to distant (source, driving) pairs. */
class FrameGapTest {
    private static TrainParams params(String gap) throws Exception {
        ObjectNode root = (ObjectNode) new ObjectMapper().readTree("{\"train_params\": {\"num_epochs\": 2"
                + (gap == null ? "" : ", \"max_frame_gap\": " + gap) + "}}");
        return TrainParams.fromTree(root);
    }

    @Test
    void gapGrowsLinearlyFromStartToEnd() throws Exception {
        TrainParams p = params("[12, 50]");
        assertEquals(12, p.maxFrameGap(0, 101));
        assertEquals(31, p.maxFrameGap(50, 101));
        assertEquals(50, p.maxFrameGap(100, 101));
        assertEquals(50, p.maxFrameGap(500, 101), "after the schedule (a resumed, extended run) it stays at the end");
        assertEquals(7, params("7").maxFrameGap(40, 101));
    }

    @Test
    void withoutItAnyTwoFramesPair() throws Exception {
        TrainParams p = params(null);
        assertNull(p.maxFrameGap());
        assertEquals(TrainParams.UNLIMITED_GAP, p.maxFrameGap(3, 10));
    }

    @Test
    void badGapsAreRefusedInOneLine() {
        for (String bad : new String[] {"0", "[3, 2, 1]", "[1.5, 4]", "\"soon\"", "[-4, 8]", "[]"}) {
            ConfigException e = assertThrows(ConfigException.class, () -> params(bad), bad);
            assertTrue(e.getMessage().contains("max_frame_gap"), e.getMessage());
        }
    }

    /** Pairs at most one frame (1/25 s) apart differ far less than pairs from anywhere in the video. */
    @Test
    void creaturePairsRespectTheGap() {
        CreatureDataset d = new CreatureDataset(64, 64, 50);
        int frame = 3 * 64 * 64;
        double close = 0, any = 0;
        for (int i = 0; i < 40; i++) {
            close += l1(d, new SplittableRandom(i), 1, frame);
            any += l1(d, new SplittableRandom(i), TrainParams.UNLIMITED_GAP, frame);
        }
        assertTrue(close < 0.25 * any, "mean L1 between source and driving: gap 1 " + close / 40 + ", unlimited " + any / 40);
    }

    private static double l1(CreatureDataset d, SplittableRandom rng, int gap, int frame) {
        float[] s = new float[frame], dr = new float[frame];
        d.pair(rng, gap, s, dr, 0);
        double sum = 0;
        for (int p = 0; p < frame; p++) {
            sum += Math.abs(s[p] - dr[p]);
        }
        return sum / frame;
    }

    /** {@code loss_weights.keypoint_separation}: off unless asked for, its value a Gaussian of the distance. */
    @Test
    void keypointSeparationIsOffByDefaultAndChecked() throws Exception {
        TrainParams off = params(null);
        assertEquals(0, off.keypointSeparation());
        assertEquals(0.1, off.keypointSeparationSigma());
        ObjectMapper json = new ObjectMapper();
        TrainParams on = TrainParams.fromTree(json.readTree(
                "{\"train_params\": {\"loss_weights\": {\"keypoint_separation\": 2, \"keypoint_separation_sigma\": 0.2}}}"));
        assertEquals(2, on.keypointSeparation());
        assertEquals(0.2, on.keypointSeparationSigma());
        for (String bad : new String[] {"\"keypoint_separation\": -1", "\"keypoint_separation_sigma\": 0",
                "\"keypoint_separation\": \"lots\""}) {
            ConfigException e = assertThrows(ConfigException.class,
                    () -> TrainParams.fromTree(json.readTree("{\"train_params\": {\"loss_weights\": {" + bad + "}}}")), bad);
            assertTrue(e.getMessage().contains("keypoint_separation"), e.getMessage());
        }
        // Two samples: one pair 3 sigma apart (exp(-4.5)), one pair on top of each other (1).
        org.fomm4j.training.autograd.Var kp = new org.fomm4j.training.autograd.Var(
                new float[] {0, 0, 0.3f, 0, 0.5f, 0.5f, 0.5f, 0.5f}, false, 2, 2, 2);
        float v = org.fomm4j.training.autograd.LossOps.keypointSeparation(new org.fomm4j.training.autograd.Tape(), kp, 0.1f).item();
        assertEquals((Math.exp(-4.5) + 1) / 2, v, 1e-6);
    }
}
