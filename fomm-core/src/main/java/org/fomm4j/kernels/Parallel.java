package org.fomm4j.kernels;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.IntConsumer;

/**
 * The pool all kernels run on: {@code threads() - 1} daemon workers plus the calling thread, sized to
 * the available cores ({@code -Dfomm4j.threads=N}). Platform threads: the work is CPU-bound.
 *
 * <p>A step issues hundreds of parallel loops, many over small layers (4x4 to 16x16 images) that take
 * tens of microseconds, so the per-loop cost matters more than work stealing: a loop is published to
 * the parked workers, every participant claims task indices from one atomic counter (no task objects,
 * no splitting), and the caller waits for the last one. Workers spin for {@value #SPIN_NANOS} ns after
 * a loop (the next one usually follows at once) and then park, so an idle library uses no CPU.
 *
 * <p>One loop runs at a time: a loop started while another runs (another thread, or a task that starts
 * a loop itself) runs serially in its caller. An exception in a task is rethrown by {@link #forEach}
 * after all tasks finished.
 */
public final class Parallel {
    private static final int THREADS = Math.max(1,
            Integer.getInteger("fomm4j.threads", Runtime.getRuntime().availableProcessors()));
    private static final long SPIN_NANOS = 50_000;
    private static final ReentrantLock RUNNING = new ReentrantLock();
    /** Threads that run their loops alone (data-parallel training shards: one core each already). */
    private static final ThreadLocal<Boolean> SERIAL = ThreadLocal.withInitial(() -> Boolean.FALSE);
    private static final Thread[] WORKERS = new Thread[THREADS - 1];
    /** The current loop; replaced (never mutated) per loop. */
    private static volatile Loop current;

    private static final class Loop {
        final int n;
        final IntConsumer body;
        final AtomicInteger next = new AtomicInteger();
        final AtomicInteger finished = new AtomicInteger();
        final Thread caller = Thread.currentThread();
        volatile Throwable error;

        Loop(int n, IntConsumer body) {
            this.n = n;
            this.body = body;
        }

        void work() {
            int done = 0;
            for (int i; (i = next.getAndIncrement()) < n; ) {
                try {
                    body.accept(i);
                } catch (Throwable t) {
                    error = t;
                }
                done++;
            }
            if (done > 0 && finished.addAndGet(done) == n) {
                LockSupport.unpark(caller);
            }
        }
    }

    static {
        for (int i = 0; i < WORKERS.length; i++) {
            Thread t = new Thread(Parallel::workerLoop, "fomm4j-worker-" + (i + 1));
            t.setDaemon(true);
            WORKERS[i] = t;
            t.start();
        }
    }

    private Parallel() {
    }

    public static int threads() {
        return THREADS;
    }

    private static void workerLoop() {
        Loop seen = null;
        while (true) {
            Loop l = current;
            if (l != null && l != seen) {
                seen = l;
                l.work();
                continue;
            }
            // Spin briefly for the next loop, then park until one is published.
            long until = System.nanoTime() + SPIN_NANOS;
            while ((l = current) == null || l == seen) {
                if (System.nanoTime() > until) {
                    LockSupport.park();
                } else {
                    Thread.onSpinWait();
                }
            }
        }
    }

    /**
     * Runs {@code task} with every {@link #forEach} it starts running serially in this thread, for work
     * that is already spread over the cores one thread each (training shards): the pool's workers would
     * only compete with them.
     */
    public static void serially(Runnable task) {
        boolean before = SERIAL.get();
        SERIAL.set(Boolean.TRUE);
        try {
            task.run();
        } finally {
            SERIAL.set(before);
        }
    }

    /** Runs {@code body(i)} for {@code i in [0, n)} on the pool and waits for all of them. */
    public static void forEach(int n, IntConsumer body) {
        if (n <= 0) {
            return;
        }
        if (n == 1 || THREADS == 1 || RUNNING.isHeldByCurrentThread() || SERIAL.get() || !RUNNING.tryLock()) {
            for (int i = 0; i < n; i++) {
                body.accept(i);
            }
            return;
        }
        Loop loop = new Loop(n, body);
        try {
            current = loop;
            for (Thread w : WORKERS) {
                LockSupport.unpark(w);
            }
            loop.work();
            while (loop.finished.get() < n) {
                LockSupport.parkNanos(loop, 20_000);
            }
        } finally {
            current = null;
            RUNNING.unlock();
        }
        Throwable e = loop.error;
        if (e instanceof RuntimeException re) {
            throw re;
        }
        if (e instanceof Error err) {
            throw err;
        }
    }
}
