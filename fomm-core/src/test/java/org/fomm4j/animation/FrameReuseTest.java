package org.fomm4j.animation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.fomm4j.Fixtures;
import org.fomm4j.config.FommConfig;
import org.fomm4j.config.TpsmmConfig;
import org.fomm4j.kernels.KernelProvider;
import org.fomm4j.networks.fomm.FommModel;
import org.fomm4j.networks.tpsmm.TpsmmModel;
import org.fomm4j.tensor.FrameArena;
import org.fomm4j.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * An animator reuses one frame's large buffers in the next ({@link FrameArena}). These tests run the
 * parity fixtures' models on their real driving frames through one long-lived animator and check that
 * every prediction is bit-for-bit what a fresh animator (fresh, zeroed buffers) computes for that frame,
 * that predictions kept by the caller are not overwritten by later frames, and that the relative mode's
 * initial keypoints survive.
 */
class FrameReuseTest {

    @Test
    void fommPredictionsThroughReusedBuffersEqualFreshOnes() {
        Map<String, Tensor> expected = Fixtures.expected("fomm-vox-small");
        FommConfig config = FommConfig.load(Fixtures.fixture("fomm-vox-small").resolve("config.yaml"));
        FommModel model = FommModel.create(config, Fixtures.stateDict("fomm-vox-small"), KernelProvider.get());
        Tensor source = expected.get("source"), driving = expected.get("driving");
        int frames = driving.dim(0);
        List<Tensor> kept = new ArrayList<>();
        try (FommAnimator longLived = new FommAnimator(model, source, AnimationMode.RELATIVE)) {
            for (int i = 0; i < frames; i++) {
                kept.add(longLived.animate(driving.item(i)));
            }
            // Once more, now that every buffer comes from the arena.
            kept.add(longLived.animate(driving.item(frames - 1)));
        }
        for (int i = 0; i < frames; i++) {
            try (FommAnimator fresh = new FommAnimator(model, source, AnimationMode.RELATIVE)) {
                fresh.setInitialDriving(driving.item(0));
                Tensor p = fresh.animate(driving.item(i));
                assertEquals(0f, p.maxAbsDiff(kept.get(i)), "frame " + i);
            }
        }
        assertEquals(0f, kept.get(frames).maxAbsDiff(kept.get(frames - 1)));
        assertNotSame(kept.get(frames).data(), kept.get(frames - 1).data());
    }

    @Test
    void tpsmmPredictionsThroughReusedBuffersEqualFreshOnes() {
        Map<String, Tensor> expected = Fixtures.expected("tpsmm-vox-small");
        TpsmmConfig config = TpsmmConfig.load(Fixtures.fixture("tpsmm-vox-small").resolve("config.yaml"));
        TpsmmModel model = TpsmmModel.create(config, Fixtures.stateDict("tpsmm-vox-small"), KernelProvider.get());
        Tensor source = expected.get("source"), driving = expected.get("driving");
        int frames = Math.min(3, driving.dim(0));
        List<TpsmmAnimator.Frame> kept = new ArrayList<>();
        try (TpsmmAnimator longLived = new TpsmmAnimator(model, source, AnimationMode.RELATIVE, false)) {
            for (int i = 0; i < frames; i++) {
                kept.add(longLived.animateDetailed(driving.item(i)));
            }
        }
        for (int i = 0; i < frames; i++) {
            try (TpsmmAnimator fresh = new TpsmmAnimator(model, source, AnimationMode.RELATIVE, false)) {
                fresh.setInitialDriving(driving.item(0));
                TpsmmAnimator.Frame f = fresh.animateDetailed(driving.item(i));
                assertEquals(0f, f.prediction().maxAbsDiff(kept.get(i).prediction()), "frame " + i);
                assertEquals(0f, f.denseMotion().deformation().maxAbsDiff(kept.get(i).denseMotion().deformation()));
                assertEquals(0f, f.denseMotion().occlusionMaps().get(3).maxAbsDiff(kept.get(i).denseMotion().occlusionMaps().get(3)));
            }
        }
    }

    @Test
    void arenaReplaysBuffersBySlotAndDetachesCopies() {
        FrameArena arena = new FrameArena();
        int big = FrameArena.MIN_FLOATS;
        float[] a1, b1, small1;
        try (FrameArena.Frame f = arena.enter()) {
            a1 = FrameArena.floats(big);
            b1 = FrameArena.zeros(2 * big);
            small1 = FrameArena.floats(10);
            b1[5] = 7f;
        }
        // Outside a frame: plain arrays.
        assertFalse(arena.owns(Tensor.of(FrameArena.floats(big), big)));
        try (FrameArena.Frame f = arena.enter()) {
            assertSame(a1, FrameArena.floats(big));
            float[] b2 = FrameArena.zeros(2 * big);
            assertSame(b1, b2);
            assertEquals(0f, b2[5], "zeros() clears a reused buffer");
            assertNotSame(small1, FrameArena.floats(10));
            // A third large request of a size never seen gets a new slot.
            float[] c = FrameArena.floats(3 * big);
            Tensor t = Tensor.of(c, 3 * big);
            assertTrue(arena.owns(t));
            Tensor d = arena.detach(t);
            assertNotSame(c, d.data());
            assertFalse(arena.owns(d));
        }
        try (FrameArena.Frame f = arena.enter()) {
            // Slot 0 asked with another size: replaced, the old buffer is no longer the arena's.
            float[] other = FrameArena.floats(big + 1);
            assertNotSame(a1, other);
            assertFalse(arena.owns(Tensor.of(a1, big)));
        }
        // Frame 1: big + 2 big; frame 2: 3 big (new slot); frame 3: big + 1 (replaced slot).
        assertEquals(3L * big + 3L * big + (big + 1), arena.stats()[1], "freshly allocated floats");
    }
}
