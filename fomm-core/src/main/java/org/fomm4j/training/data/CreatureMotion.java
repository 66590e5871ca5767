package org.fomm4j.training.data;

import java.util.SplittableRandom;

/**
 * How a creature moves in one video: position, scale and body tilt drift slowly, the head nods and every
 * limb swings at its shoulder or hip and bends at its elbow or knee, each joint a sum of two sinusoids of
 * its own frequency and phase. {@link #pose(double)} gives the joint angles at a time in seconds.
 */
public record CreatureMotion(double[] amplitude, double[] frequency, double[] phase, double[] base) {
    /** Pose parameters: x, y, scale, tilt, head, then upper and lower angle of each of the 4 limbs. */
    static final int PARAMS = 13;

    /** Video {@code id}'s motion. */
    public static CreatureMotion of(long id) {
        SplittableRandom r = new SplittableRandom(0x2545F4914F6CDD1DL ^ (id * 0xBF58476D1CE4E5B9L));
        double[] a = new double[2 * PARAMS], f = new double[2 * PARAMS], ph = new double[2 * PARAMS], b = new double[PARAMS];
        double[][] ranges = {
                {0.14}, {0.1}, {0.12}, {0.3}, {0.45},
                {0.9}, {0.9}, {0.9}, {0.9}, {0.9}, {0.9}, {0.9}, {0.9}};
        // Rest pose: arms out and down, legs down, elbows and knees slightly bent; mirrored left/right.
        b[0] = r.nextDouble() * 0.3 - 0.15;
        b[1] = r.nextDouble() * 0.2 - 0.1;
        b[2] = 1.3 + r.nextDouble() * 0.25;
        b[5] = 0.9 + r.nextDouble() * 0.6;
        b[6] = 0.4 * r.nextDouble();
        b[7] = -b[5];
        b[8] = -b[6];
        b[9] = 0.15 + 0.3 * r.nextDouble();
        b[10] = -0.3 * r.nextDouble();
        b[11] = -b[9];
        b[12] = -b[10];
        for (int i = 0; i < PARAMS; i++) {
            for (int k = 0; k < 2; k++) {
                int j = 2 * i + k;
                a[j] = ranges[i][0] * (k == 0 ? 1 : 0.4) * (0.3 + 0.7 * r.nextDouble());
                f[j] = (k == 0 ? 0.25 : 0.6) + r.nextDouble() * (k == 0 ? 0.5 : 0.9);
                ph[j] = r.nextDouble() * 2 * Math.PI;
            }
        }
        return new CreatureMotion(a, f, ph, b);
    }

    /** The pose parameters at {@code t} seconds. */
    public double[] pose(double t) {
        double[] p = base.clone();
        for (int i = 0; i < PARAMS; i++) {
            for (int k = 0; k < 2; k++) {
                int j = 2 * i + k;
                p[i] += amplitude[j] * Math.sin(2 * Math.PI * frequency[j] * t + phase[j]);
            }
        }
        return p;
    }
}
