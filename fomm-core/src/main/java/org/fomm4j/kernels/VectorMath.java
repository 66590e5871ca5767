package org.fomm4j.kernels;

import static org.fomm4j.kernels.PanamaKernels.SPECIES;
import static org.fomm4j.kernels.PanamaKernels.VL;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;

/**
 * Deterministic vector math. The Vector API's {@code lanewise(EXP)} is SVML once C2 has compiled a
 * loop and per-lane {@code Math.exp} before, and {@code reduceLanes(ADD)} on floats has an unspecified
 * order; both made results depend on how warm the JIT was (a frame computed twice could differ in the
 * last bits). These use only IEEE-exact operations (add, multiply, fused multiply-add, bit shifts), so
 * a value is the same in every compilation tier, at every vector width, and in the scalar tails.
 */
final class VectorMath {
    private static final float LOG2E = 1.44269504088896341f;
    /** 1.5 * 2^23: adding it rounds to an integer held in the low mantissa bits. */
    private static final float ROUND = 12582912f;
    private static final int ROUND_BITS = Float.floatToRawIntBits(ROUND);
    /** ln 2 split in two (Cody-Waite), the first with few mantissa bits so n * C1 is exact. */
    private static final float C1 = 0.693359375f;
    private static final float C2 = -2.12194440e-4f;
    /** Cephes {@code expf} polynomial. */
    private static final float P0 = 1.9875691500e-4f;
    private static final float P1 = 1.3981999507e-3f;
    private static final float P2 = 8.3334519073e-3f;
    private static final float P3 = 4.1665795894e-2f;
    private static final float P4 = 1.6666665459e-1f;
    private static final float P5 = 5.0000001201e-1f;
    /** The clamp keeps 2^n a normal float: results below ~1.2e-38 come out as ~1.2e-38 instead of 0. */
    private static final float LO = -87.33654f;
    private static final float HI = 88.37626f;

    private VectorMath() {
    }

    /** {@code e^x} within 2 ulp of {@code Math.exp} on [-87.3, 88.3]. */
    static FloatVector exp(FloatVector x) {
        x = x.max(LO).min(HI);
        FloatVector t = x.fma(FloatVector.broadcast(SPECIES, LOG2E), FloatVector.broadcast(SPECIES, ROUND));
        FloatVector n = t.sub(ROUND);
        FloatVector r = n.fma(FloatVector.broadcast(SPECIES, -C1), x);
        r = n.fma(FloatVector.broadcast(SPECIES, -C2), r);
        FloatVector p = r.fma(FloatVector.broadcast(SPECIES, P0), FloatVector.broadcast(SPECIES, P1));
        p = p.fma(r, FloatVector.broadcast(SPECIES, P2));
        p = p.fma(r, FloatVector.broadcast(SPECIES, P3));
        p = p.fma(r, FloatVector.broadcast(SPECIES, P4));
        p = p.fma(r, FloatVector.broadcast(SPECIES, P5));
        FloatVector y = p.fma(r.mul(r), r).add(1f);
        IntVector e = ((IntVector) t.reinterpretAsInts()).sub(ROUND_BITS - 127).lanewise(VectorOperators.LSHL, 23);
        return y.mul(e.reinterpretAsFloats());
    }

    /** The same function, lane by lane: the scalar tails of vector loops use it. */
    static float exp(float x) {
        x = Math.min(Math.max(x, LO), HI);
        float t = Math.fma(x, LOG2E, ROUND);
        float n = t - ROUND;
        float r = Math.fma(n, -C1, x);
        r = Math.fma(n, -C2, r);
        float p = Math.fma(r, P0, P1);
        p = Math.fma(p, r, P2);
        p = Math.fma(p, r, P3);
        p = Math.fma(p, r, P4);
        p = Math.fma(p, r, P5);
        float y = Math.fma(p, r * r, r) + 1f;
        int e = (Float.floatToRawIntBits(t) - (ROUND_BITS - 127)) << 23;
        return y * Float.intBitsToFloat(e);
    }

    /** Sum of the lanes in lane order (deterministic, unlike {@code reduceLanes(ADD)}). */
    static double sumLanes(FloatVector v, float[] scratch) {
        v.intoArray(scratch, 0);
        double s = 0;
        for (int i = 0; i < VL; i++) {
            s += scratch[i];
        }
        return s;
    }
}
