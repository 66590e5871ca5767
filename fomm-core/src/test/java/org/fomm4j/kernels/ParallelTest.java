package org.fomm4j.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The kernels' pool: every task exactly once, errors rethrown, nested and concurrent loops complete. */
class ParallelTest {

    @Test
    void runsEveryIndexExactlyOnceOverManyLoops() {
        for (int n : new int[] {1, 2, 3, 7, 64, 1000, 100_000}) {
            for (int rep = 0; rep < 20; rep++) {
                AtomicIntegerArray hits = new AtomicIntegerArray(n);
                Parallel.forEach(n, hits::incrementAndGet);
                for (int i = 0; i < n; i++) {
                    assertEquals(1, hits.get(i), "n " + n + " index " + i);
                }
            }
        }
    }

    @Test
    void rethrowsATaskFailureAfterTheLoop() {
        AtomicLong ran = new AtomicLong();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Parallel.forEach(100, i -> {
            ran.incrementAndGet();
            if (i == 37) {
                throw new IllegalStateException("task 37");
            }
        }));
        assertEquals("task 37", e.getMessage());
        assertEquals(100, ran.get(), "the other tasks still ran");
        // The pool is usable afterwards.
        AtomicLong sum = new AtomicLong();
        Parallel.forEach(10, sum::addAndGet);
        assertEquals(45, sum.get());
    }

    @Test
    void nestedAndConcurrentLoopsComplete() throws Exception {
        AtomicLong total = new AtomicLong();
        Parallel.forEach(8, i -> Parallel.forEach(100, j -> total.incrementAndGet()));
        assertEquals(800, total.get());
        ExecutorService callers = Executors.newFixedThreadPool(3);
        try {
            AtomicLong concurrent = new AtomicLong();
            Future<?>[] f = new Future<?>[3];
            for (int c = 0; c < 3; c++) {
                f[c] = callers.submit(() -> {
                    for (int rep = 0; rep < 200; rep++) {
                        Parallel.forEach(50, i -> concurrent.incrementAndGet());
                    }
                });
            }
            for (Future<?> x : f) {
                x.get();
            }
            assertEquals(3 * 200 * 50, concurrent.get());
        } finally {
            callers.shutdown();
        }
    }
}
