package org.fomm4j.tensor;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;

/**
 * Reuses the large buffers of one animation step in the next, so that after the first frame an
 * animator allocates (almost) nothing per frame: no garbage collection of multi-megabyte activations,
 * no zeroing of fresh arrays.
 *
 * <p>How: a step allocates the same sequence of large buffers every frame (same networks, same
 * shapes). While a frame is {@linkplain #enter() entered} on a thread, the i-th request of at least
 * {@link #MIN_FLOATS} floats gets the buffer the i-th request of the previous frame got, if it has the
 * same size (otherwise a new one, which then takes that slot). Smaller requests, and all requests on
 * threads without an entered frame, are plain {@code new float[]}. Buffers of a frame are therefore
 * only valid until the next frame of the same arena starts: whatever must outlive it (the prediction
 * handed to the caller, tensors kept for later frames) is copied out with {@link #detach}.
 *
 * <p>Kernels ask for memory through {@link #floats} (contents unspecified: the caller writes every
 * element) or {@link #zeros}. An arena belongs to one animator and is used by one thread at a time.
 * Memory: the arena keeps one frame's large buffers (a few hundred MB for the vox-256 models).
 */
public final class FrameArena {
    /** Requests below this many floats (128 KB) are not pooled. */
    public static final int MIN_FLOATS = 32 * 1024;

    private static final ThreadLocal<FrameArena> ACTIVE = new ThreadLocal<>();

    private final List<float[]> slots = new ArrayList<>();
    private final Set<float[]> owned = Collections.newSetFromMap(new IdentityHashMap<>());
    private int next;
    private long reusedFloats;
    private long allocatedFloats;

    /** A frame in progress on the current thread; closing it ends the frame. */
    public final class Frame implements AutoCloseable {
        private final FrameArena previous;

        private Frame(FrameArena previous) {
            this.previous = previous;
        }

        @Override
        public void close() {
            if (previous == null) {
                ACTIVE.remove();
            } else {
                ACTIVE.set(previous);
            }
        }
    }

    /** Starts a frame on this thread: buffers handed out by the previous frame are reused from now on. */
    public Frame enter() {
        FrameArena previous = ACTIVE.get();
        ACTIVE.set(this);
        next = 0;
        return new Frame(previous);
    }

    /** An array of {@code n} floats whose contents are unspecified: the caller must write every element. */
    public static float[] floats(int n) {
        FrameArena a = n >= MIN_FLOATS ? ACTIVE.get() : null;
        return a == null ? new float[n] : a.take(n);
    }

    /** An array of {@code n} zeros. */
    public static float[] zeros(int n) {
        FrameArena a = n >= MIN_FLOATS ? ACTIVE.get() : null;
        if (a == null) {
            return new float[n];
        }
        float[] f = a.take(n);
        java.util.Arrays.fill(f, 0f);
        return f;
    }

    private float[] take(int n) {
        float[] f;
        if (next < slots.size() && slots.get(next).length == n) {
            f = slots.get(next);
            reusedFloats += n;
        } else {
            f = new float[n];
            allocatedFloats += n;
            if (next < slots.size()) {
                owned.remove(slots.set(next, f));
            } else {
                slots.add(f);
            }
            owned.add(f);
        }
        next++;
        return f;
    }

    /** Whether {@code t} lives in one of this arena's buffers (and so only until the next frame). */
    public boolean owns(Tensor t) {
        return t != null && t.isHeap() && owned.contains(t.data());
    }

    /** {@code t} itself, or a copy of it if it lives in this arena's buffers; {@code null} stays null. */
    public Tensor detach(Tensor t) {
        return owns(t) ? t.copy() : t;
    }

    /** Floats handed out again from the previous frames' buffers, and freshly allocated (since creation). */
    public long[] stats() {
        return new long[] {reusedFloats, allocatedFloats};
    }
}
