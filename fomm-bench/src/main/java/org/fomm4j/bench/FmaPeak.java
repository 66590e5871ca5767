package org.fomm4j.bench;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ForkJoinPool;
import java.util.stream.IntStream;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The machine's FMA peak as Java reaches it: 12 independent vector FMA chains per thread, in
 * registers, no memory traffic, on every thread at once; best of a few runs. Twelve chains cover the
 * FMA latency (4 cycles) times the FMA ports (2) with room to spare; fewer (the 8 this harness used
 * before) leave 512-bit FMA units idle on some cores, and the "fraction of peak" then flatters. Measured
 * per vector width up to the platform's preferred one; {@link #measure} is the widest.
 */
final class FmaPeak {
    private FmaPeak() {
    }

    // One copy per width: the Vector API is only compiled to SIMD instructions when the species is a
    // constant in the compiled method.
    private static float chains128(long iters) {
        VectorSpecies<Float> s = FloatVector.SPECIES_128;
        FloatVector m = FloatVector.broadcast(s, 0.9999f), c = FloatVector.broadcast(s, 1e-4f);
        FloatVector a0 = FloatVector.broadcast(s, 1f), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0;
        FloatVector a6 = a0, a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0;
        for (long i = 0; i < iters; i++) {
            a0 = a0.fma(m, c);
            a1 = a1.fma(m, c);
            a2 = a2.fma(m, c);
            a3 = a3.fma(m, c);
            a4 = a4.fma(m, c);
            a5 = a5.fma(m, c);
            a6 = a6.fma(m, c);
            a7 = a7.fma(m, c);
            a8 = a8.fma(m, c);
            a9 = a9.fma(m, c);
            a10 = a10.fma(m, c);
            a11 = a11.fma(m, c);
        }
        return a0.add(a1).add(a2).add(a3).add(a4).add(a5).add(a6).add(a7).add(a8).add(a9).add(a10).add(a11)
                .reduceLanes(VectorOperators.ADD);
    }

    private static float chains256(long iters) {
        VectorSpecies<Float> s = FloatVector.SPECIES_256;
        FloatVector m = FloatVector.broadcast(s, 0.9999f), c = FloatVector.broadcast(s, 1e-4f);
        FloatVector a0 = FloatVector.broadcast(s, 1f), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0;
        FloatVector a6 = a0, a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0;
        for (long i = 0; i < iters; i++) {
            a0 = a0.fma(m, c);
            a1 = a1.fma(m, c);
            a2 = a2.fma(m, c);
            a3 = a3.fma(m, c);
            a4 = a4.fma(m, c);
            a5 = a5.fma(m, c);
            a6 = a6.fma(m, c);
            a7 = a7.fma(m, c);
            a8 = a8.fma(m, c);
            a9 = a9.fma(m, c);
            a10 = a10.fma(m, c);
            a11 = a11.fma(m, c);
        }
        return a0.add(a1).add(a2).add(a3).add(a4).add(a5).add(a6).add(a7).add(a8).add(a9).add(a10).add(a11)
                .reduceLanes(VectorOperators.ADD);
    }

    private static float chains512(long iters) {
        VectorSpecies<Float> s = FloatVector.SPECIES_512;
        FloatVector m = FloatVector.broadcast(s, 0.9999f), c = FloatVector.broadcast(s, 1e-4f);
        FloatVector a0 = FloatVector.broadcast(s, 1f), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0;
        FloatVector a6 = a0, a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0;
        for (long i = 0; i < iters; i++) {
            a0 = a0.fma(m, c);
            a1 = a1.fma(m, c);
            a2 = a2.fma(m, c);
            a3 = a3.fma(m, c);
            a4 = a4.fma(m, c);
            a5 = a5.fma(m, c);
            a6 = a6.fma(m, c);
            a7 = a7.fma(m, c);
            a8 = a8.fma(m, c);
            a9 = a9.fma(m, c);
            a10 = a10.fma(m, c);
            a11 = a11.fma(m, c);
        }
        return a0.add(a1).add(a2).add(a3).add(a4).add(a5).add(a6).add(a7).add(a8).add(a9).add(a10).add(a11)
                .reduceLanes(VectorOperators.ADD);
    }

    /** GFLOP/s (2 per lane per FMA) with {@code threads} threads at vector width {@code s}. */
    static double measure(VectorSpecies<Float> s, int threads) {
        long iters = 30_000_000L;
        double best = 0;
        ForkJoinPool pool = new ForkJoinPool(threads);
        try {
            for (int run = 0; run < 4; run++) {
                long t0 = System.nanoTime();
                double sink = pool.submit(() -> IntStream.range(0, threads).parallel()
                        .mapToDouble(i -> switch (s.vectorBitSize()) {
                            case 128 -> chains128(iters);
                            case 256 -> chains256(iters);
                            default -> chains512(iters);
                        }).sum()).join();
                double sec = (System.nanoTime() - t0) / 1e9;
                if (sink == 42) {
                    System.out.print("");
                }
                best = Math.max(best, threads * iters * 12.0 * s.length() * 2 / sec / 1e9);
            }
        } finally {
            pool.shutdown();
        }
        return best;
    }

    /** The peak at the preferred (widest) vector width on {@code threads} threads. */
    static double measure(int threads) {
        return measure(FloatVector.SPECIES_PREFERRED, threads);
    }

    /** Peak per vector width (bits, up to the preferred one) on {@code threads} threads. */
    static Map<Integer, Double> perWidth(int threads) {
        Map<Integer, Double> m = new LinkedHashMap<>();
        int max = FloatVector.SPECIES_PREFERRED.vectorBitSize();
        for (VectorSpecies<Float> s : java.util.List.of(FloatVector.SPECIES_128, FloatVector.SPECIES_256,
                FloatVector.SPECIES_512)) {
            if (s.vectorBitSize() <= max) {
                m.put(s.vectorBitSize(), measure(s, threads));
            }
        }
        return m;
    }
}
