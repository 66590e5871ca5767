package org.fomm4j.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.FloatRange;
import net.jqwik.api.constraints.IntRange;
import org.fomm4j.tensor.Tensor;

/**
 * Properties of TPSMM's TPS transform. Exact properties are checked on the unregularized system
 * (which validates how {@code L} and {@code Y} are assembled and solved); the reference's 0.01 ridge
 * then moves the result by a bounded amount.
 */
class ThinPlateSplineProperties {

    /** Five control points over [-1, 1], at least 0.3 apart (as detected keypoints of one group are). */
    static float[] spread(Random r) {
        float[] p = new float[10];
        for (int i = 0; i < 5; i++) {
            boolean ok;
            do {
                p[2 * i] = r.nextFloat() * 2 - 1;
                p[2 * i + 1] = r.nextFloat() * 2 - 1;
                ok = true;
                for (int j = 0; j < i; j++) {
                    ok &= Math.hypot(p[2 * i] - p[2 * j], p[2 * i + 1] - p[2 * j + 1]) > 0.3;
                }
            } while (!ok);
        }
        return p;
    }

    static float[] moved(Random r, float[] control, float motion) {
        float[] t = new float[control.length];
        for (int i = 0; i < t.length; i++) {
            t[i] = control[i] + (r.nextFloat() * 2 - 1) * motion;
        }
        return t;
    }

    @Property(tries = 200)
    void withoutRegularizationItInterpolatesExactly(@ForAll long seed, @ForAll @FloatRange(min = 0f, max = 0.5f) float motion) {
        Random r = new Random(seed);
        float[] c = spread(r), t = moved(r, c, motion);
        ThinPlateSpline tps = ThinPlateSpline.fit(c, t, 0f);
        float[] out = new float[2];
        for (int i = 0; i < 5; i++) {
            tps.apply(c[2 * i], c[2 * i + 1], out, 0);
            assertEquals(t[2 * i], out[0], 1e-4, "x of T(p_" + i + ")");
            assertEquals(t[2 * i + 1], out[1], 1e-4, "y of T(p_" + i + ")");
        }
    }

    @Property(tries = 300)
    void withTheReferenceRidgeItInterpolatesUpToTheRegularization(@ForAll long seed,
                                                                 @ForAll @FloatRange(min = 0f, max = 0.5f) float motion) {
        // (K + 0.01 I) w + P a = q and P^T w + 0.01 a = 0, i.e. T(p_i) = q_i - 0.01 w_i and
        // sum_i w_i (p_i, 1) = -0.01 a: the regularized system's own equations, read off the transform.
        Random r = new Random(seed);
        float[] c = spread(r), t = moved(r, c, motion);
        ThinPlateSpline tps = ThinPlateSpline.fit(c, t);
        float[] p = tps.parameters();
        float lambda = ThinPlateSpline.REGULARIZATION;
        double scale = 1;
        for (float v : p) {
            scale = Math.max(scale, Math.abs(v));
        }
        double tol = 1e-5 * scale * 10;
        float[] out = new float[2];
        for (int i = 0; i < 5; i++) {
            tps.apply(c[2 * i], c[2 * i + 1], out, 0);
            assertEquals(t[2 * i] - lambda * p[2 * i], out[0], tol, "x of T(p_" + i + ")");
            assertEquals(t[2 * i + 1] - lambda * p[2 * i + 1], out[1], tol, "y of T(p_" + i + ")");
        }
        for (int d = 0; d < 2; d++) {
            double sx = 0, sy = 0, s1 = 0;
            for (int i = 0; i < 5; i++) {
                sx += p[2 * i + d] * c[2 * i];
                sy += p[2 * i + d] * c[2 * i + 1];
                s1 += p[2 * i + d];
            }
            assertEquals(-lambda * p[2 * 5 + d], sx, tol);
            assertEquals(-lambda * p[2 * 6 + d], sy, tol);
            assertEquals(-lambda * p[2 * 7 + d], s1, tol);
        }
    }

    @Property(tries = 200)
    void identicalControlPointsGiveTheIdentity(@ForAll long seed, @ForAll @IntRange(min = 2, max = 40) int size) {
        float[] p = spread(new Random(seed));
        Tensor kp = Tensor.of(p, 1, 5, 2);
        float[] gx = CoordinateGrid.axis(size + 1), gy = CoordinateGrid.axis(size);
        // Exactly without the ridge ...
        ThinPlateSpline exact = ThinPlateSpline.fit(p, p, 0f);
        float[] out = new float[2];
        for (int y = 0; y < size; y++) {
            for (int x = 0; x <= size; x++) {
                exact.apply(gx[x], gy[y], out, 0);
                assertEquals(gx[x], out[0], 1e-5);
                assertEquals(gy[y], out[1], 1e-5);
            }
        }
        // ... and, with a ridge, it converges to the identity as the ridge vanishes.
        double previous = Double.MAX_VALUE, atFirst = 0;
        for (float lambda : new float[] {1e-4f, 1e-5f, 1e-6f}) {
            ThinPlateSpline s = ThinPlateSpline.fit(p, p, lambda);
            double dev = 0;
            for (int y = 0; y < size; y++) {
                for (int x = 0; x <= size; x++) {
                    s.apply(gx[x], gy[y], out, 0);
                    dev = Math.max(dev, Math.hypot(out[0] - gx[x], out[1] - gy[y]));
                }
            }
            assertTrue(dev <= previous + 1e-5, "deviation " + dev + " at ridge " + lambda + " after " + previous);
            if (previous == Double.MAX_VALUE) {
                atFirst = dev;
            }
            previous = dev;
        }
        // The deviation shrinks in proportion to the ridge: 100 times less from 1e-4 to 1e-6 (at least 20 times
        // here). Not a fixed bound: near-degenerate control points (seed -5732175726957004575) deviate 0.112 at
        // 1e-4 and 0.00103 at 1e-6, which failed the former "below 1e-3 at 1e-6" on 2026-12-07.
        assertTrue(previous <= atFirst / 20 + 1e-5, "identity up to " + previous + " at ridge 1e-6, " + atFirst + " at 1e-4");
        // The grid helper the models use agrees with the single-point transform.
        Tensor grid = ThinPlateSpline.motions(kp, kp, 5, size, size + 1);
        ThinPlateSpline model = ThinPlateSpline.fit(p, p);
        model.apply(gx[size], gy[size - 1], out, 0);
        assertEquals(out[0], grid.get(((size - 1) * (size + 1) + size) * 2));
    }

    @Property(tries = 100)
    void anAffineMotionIsReproducedEverywhere(@ForAll long seed) {
        Random r = new Random(seed);
        float[] c = spread(r);
        float a = 1 + (r.nextFloat() - 0.5f) * 0.2f, b = (r.nextFloat() - 0.5f) * 0.2f, tx = (r.nextFloat() - 0.5f) * 0.2f;
        float[] t = new float[10];
        for (int i = 0; i < 5; i++) {
            t[2 * i] = a * c[2 * i] + b * c[2 * i + 1] + tx;
            t[2 * i + 1] = -b * c[2 * i] + a * c[2 * i + 1] - tx;
        }
        ThinPlateSpline tps = ThinPlateSpline.fit(c, t, 0f);
        float[] out = new float[2];
        for (int i = 0; i < 10; i++) {
            float x = r.nextFloat() * 2 - 1, y = r.nextFloat() * 2 - 1;
            tps.apply(x, y, out, 0);
            assertEquals(a * x + b * y + tx, out[0], 1e-4);
            assertEquals(-b * x + a * y - tx, out[1], 1e-4);
        }
    }
}
