package org.fomm4j.bench;

import java.util.concurrent.ForkJoinPool;
import java.util.stream.IntStream;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Measures the machine's FMA peak from Java: independent vector FMA chains in registers (no memory
 * traffic) on every core at once; the best of a few runs. What "fraction of peak" is relative to.
 */
final class FmaPeak {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    private FmaPeak() {
    }

    private static float chains(long iters) {
        FloatVector m = FloatVector.broadcast(S, 0.9999f), c = FloatVector.broadcast(S, 1e-4f);
        FloatVector a0 = FloatVector.broadcast(S, 1f), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
        for (long i = 0; i < iters; i++) {
            a0 = a0.fma(m, c);
            a1 = a1.fma(m, c);
            a2 = a2.fma(m, c);
            a3 = a3.fma(m, c);
            a4 = a4.fma(m, c);
            a5 = a5.fma(m, c);
            a6 = a6.fma(m, c);
            a7 = a7.fma(m, c);
        }
        return a0.add(a1).add(a2).add(a3).add(a4).add(a5).add(a6).add(a7).reduceLanes(VectorOperators.ADD);
    }

    /** GFLOP/s with {@code threads} threads. */
    static double measure(int threads) {
        long iters = 50_000_000L;
        double best = 0;
        ForkJoinPool pool = new ForkJoinPool(threads);
        try {
            for (int run = 0; run < 4; run++) {
                long t0 = System.nanoTime();
                double sink = pool.submit(() -> IntStream.range(0, threads).parallel().mapToDouble(i -> chains(iters)).sum()).join();
                double s = (System.nanoTime() - t0) / 1e9;
                if (sink == 42) {
                    System.out.print("");
                }
                best = Math.max(best, threads * iters * 8.0 * S.length() * 2 / s / 1e9);
            }
        } finally {
            pool.shutdown();
        }
        return best;
    }
}
