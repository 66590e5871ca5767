package org.fomm4j.training.data;

import java.util.SplittableRandom;

/**
 * The appearance of one procedural creature (an <em>identity</em>): a textured elliptic body, a head with
 * eyes on a neck, two arms and two legs of two segments each, their colours and sizes, and the background
 * it is filmed against. Everything is drawn from a seed, so an identity is its number; lengths are in the
 * frame's normalized coordinates ({@code [-1, 1]} across).
 */
public record Creature(float[] bodyColor, float[] headColor, float[] limbColor, float[] patternColor,
                       float bodyRx, float bodyRy, float headRadius, float neck, float[] upper, float[] lower,
                       float[] thickness, float patternFrequency, float patternAngle, boolean spots,
                       float[] background0, float[] background1, float backgroundAngle, float[][] blobs) {

    /** Identity {@code id}: the same id always gives the same creature. */
    public static Creature of(long id) {
        SplittableRandom r = new SplittableRandom(0x5DEECE66DL ^ (id * 0x9E3779B97F4A7C15L));
        float[] body = color(r), head = mix(body, color(r), 0.5f), limb = mix(body, color(r), 0.6f), pattern = color(r);
        float[] up = new float[4], lo = new float[4], th = new float[4];
        for (int i = 0; i < 4; i++) {
            up[i] = uniform(r, 0.16f, 0.26f);
            lo[i] = uniform(r, 0.14f, 0.24f);
            th[i] = uniform(r, 0.045f, 0.075f);
        }
        // Left and right limbs of a pair share their size, as animals do.
        up[1] = up[0];
        lo[1] = lo[0];
        th[1] = th[0];
        up[3] = up[2];
        lo[3] = lo[2];
        th[3] = th[2];
        float[][] blobs = new float[4][];
        for (int i = 0; i < blobs.length; i++) {
            blobs[i] = new float[] {uniform(r, -1, 1), uniform(r, -1, 1), uniform(r, 0.15f, 0.5f),
                    uniform(r, 0, 1), uniform(r, 0, 1), uniform(r, 0, 1)};
        }
        return new Creature(body, head, limb, pattern, uniform(r, 0.16f, 0.24f), uniform(r, 0.22f, 0.32f),
                uniform(r, 0.11f, 0.16f), uniform(r, 0.04f, 0.09f), up, lo, th, uniform(r, 12, 30),
                uniform(r, 0, (float) Math.PI), r.nextBoolean(), dim(color(r)), dim(color(r)),
                uniform(r, 0, (float) (2 * Math.PI)), blobs);
    }

    private static float[] color(SplittableRandom r) {
        return new float[] {uniform(r, 0.1f, 1f), uniform(r, 0.1f, 1f), uniform(r, 0.1f, 1f)};
    }

    /** Backgrounds paler and less saturated than the creatures, so the figure stands out. */
    private static float[] dim(float[] c) {
        return new float[] {0.35f + 0.4f * c[0], 0.35f + 0.4f * c[1], 0.35f + 0.4f * c[2]};
    }

    private static float[] mix(float[] a, float[] b, float t) {
        return new float[] {a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1]), a[2] + t * (b[2] - a[2])};
    }

    static float uniform(SplittableRandom r, float lo, float hi) {
        return lo + (float) r.nextDouble() * (hi - lo);
    }
}
