package org.fomm4j.kernels;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinWorkerThread;
import java.util.function.IntConsumer;
import java.util.stream.IntStream;

/**
 * The one pool all kernels run on: a {@link ForkJoinPool} sized to the available cores (override
 * with {@code -Dfomm4j.threads=N}). Platform threads, not virtual threads: the work is CPU-bound.
 */
public final class Parallel {
    private static final int THREADS = Math.max(1,
            Integer.getInteger("fomm4j.threads", Runtime.getRuntime().availableProcessors()));
    private static final ForkJoinPool POOL = new ForkJoinPool(THREADS);

    private Parallel() {
    }

    public static int threads() {
        return THREADS;
    }

    /** Runs {@code body(i)} for {@code i in [0, n)} on the pool and waits for all of them. */
    public static void forEach(int n, IntConsumer body) {
        if (n <= 0) {
            return;
        }
        if (n == 1 || THREADS == 1) {
            for (int i = 0; i < n; i++) {
                body.accept(i);
            }
            return;
        }
        // A parallel stream started from inside a pool's worker runs on that pool.
        if (Thread.currentThread() instanceof ForkJoinWorkerThread w && w.getPool() == POOL) {
            IntStream.range(0, n).parallel().forEach(body);
        } else {
            POOL.submit(() -> IntStream.range(0, n).parallel().forEach(body)).join();
        }
    }
}
