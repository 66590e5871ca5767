package org.fomm4j.weights;

import java.util.SplittableRandom;

/**
 * Seeded random weights for benchmarks and tests that need a full-size model but no trained one:
 * convolution and linear weights He-initialized ({@code N(0, 2 / fan_in)}), biases zero, BatchNorm at
 * identity statistics (gamma 1, beta 0, mean 0, var 1), the anti-aliasing blur buffers a box filter.
 * Activations then keep a realistic range, so timings are representative.
 */
public final class RandomWeights implements WeightReader.Synthesizer {
    private final long seed;

    public RandomWeights(long seed) {
        this.seed = seed;
    }

    @Override
    public float[] values(String name, int[] shape) {
        int n = 1;
        for (int d : shape) {
            n *= d;
        }
        float[] v = new float[n];
        String leaf = name.substring(name.lastIndexOf('.') + 1);
        boolean norm = name.contains("norm") || name.contains(".bn");
        if (name.endsWith("down.weight")) {
            java.util.Arrays.fill(v, 1f / (shape[2] * shape[3]));
        } else if (leaf.equals("running_var") || norm && leaf.equals("weight")) {
            java.util.Arrays.fill(v, 1f);
        } else if (leaf.equals("weight") && shape.length >= 2) {
            int fanIn = n / shape[0];
            double std = Math.sqrt(2.0 / fanIn);
            SplittableRandom r = new SplittableRandom(seed ^ name.hashCode());
            for (int i = 0; i < n; i++) {
                v[i] = (float) (nextGaussian(r) * std);
            }
        }
        return v;
    }

    private static double nextGaussian(SplittableRandom r) {
        double u = 1 - r.nextDouble(), w = r.nextDouble();
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * w);
    }
}
