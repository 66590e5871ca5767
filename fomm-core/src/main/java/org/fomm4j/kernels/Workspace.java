package org.fomm4j.kernels;

import java.util.ArrayList;
import java.util.List;

/**
 * Reused scratch arrays for the kernels' large temporary buffers (padded inputs, transformed tiles),
 * so an animation loop does not allocate (and zero) tens of megabytes per frame. A taken array holds
 * stale data: callers initialize what they read. Thread-safe; keeps at most {@link #MAX_KEPT} arrays.
 */
final class Workspace {
    private static final int MAX_KEPT = 12;
    private static final List<float[]> FREE = new ArrayList<>();

    private Workspace() {
    }

    /** An array of at least {@code size} floats (the smallest kept one that fits, else a new one). */
    static float[] take(int size) {
        synchronized (FREE) {
            int best = -1;
            for (int i = 0; i < FREE.size(); i++) {
                int len = FREE.get(i).length;
                if (len >= size && (best < 0 || len < FREE.get(best).length)) {
                    best = i;
                }
            }
            if (best >= 0) {
                return FREE.remove(best);
            }
        }
        return new float[size];
    }

    /** Returns an array taken with {@link #take} for reuse. */
    static void give(float[] a) {
        synchronized (FREE) {
            FREE.add(a);
            if (FREE.size() > MAX_KEPT) {
                // Drop the smallest: large ones are the expensive ones to allocate.
                int small = 0;
                for (int i = 1; i < FREE.size(); i++) {
                    if (FREE.get(i).length < FREE.get(small).length) {
                        small = i;
                    }
                }
                FREE.remove(small);
            }
        }
    }

    private static final int SLOTS = 4;
    private static final ThreadLocal<float[][]> LOCAL = ThreadLocal.withInitial(() -> new float[SLOTS][]);

    /**
     * This thread's scratch array number {@code slot} (0..3), at least {@code size} floats, kept for
     * the thread's lifetime: the small per-task buffers of the kernels' parallel loops, which would
     * otherwise be allocated per task. Contents are stale; a task must not hold it across a call that
     * may use the same slot.
     */
    static float[] local(int slot, int size) {
        float[][] mine = LOCAL.get();
        float[] a = mine[slot];
        if (a == null || a.length < size) {
            a = new float[size];
            mine[slot] = a;
        }
        return a;
    }
}
