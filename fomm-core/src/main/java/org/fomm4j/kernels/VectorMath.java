package org.fomm4j.kernels;

import static org.fomm4j.kernels.PanamaKernels.SPECIES;
import static org.fomm4j.kernels.PanamaKernels.VL;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
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

    private static final float SQRTHF = 0.707106781186547524f;
    private static final float[] LOG_P = {7.0376836292e-2f, -1.1514610310e-1f, 1.1676998740e-1f, -1.2420140846e-1f,
            1.4249322787e-1f, -1.6668057665e-1f, 2.0000714765e-1f, -2.4999993993e-1f, 3.3333331174e-1f};

    /**
     * Natural log (Cephes {@code logf}) for positive normal inputs, within 2 ulp of {@code Math.log};
     * built, like {@link #exp}, from exact operations only, with {@link #log(float)} its scalar mirror.
     */
    static FloatVector log(FloatVector x) {
        IntVector bits = (IntVector) x.reinterpretAsInts();
        // x = m * 2^e with m in [0.5, 1).
        IntVector e = bits.lanewise(VectorOperators.LSHR, 23).sub(126);
        FloatVector m = bits.and(0x807FFFFF).or(0x3F000000).reinterpretAsFloats();
        VectorMask<Float> small = m.lt(SQRTHF);
        // m < sqrt(1/2): use 2m - 1 and e - 1, else m - 1.
        FloatVector f = m.add(m, small).sub(1f);
        FloatVector fe = (FloatVector) e.sub(1, small.cast(e.species())).convert(VectorOperators.I2F, 0);
        FloatVector z = f.mul(f);
        FloatVector y = FloatVector.broadcast(SPECIES, LOG_P[0]);
        for (int i = 1; i < LOG_P.length; i++) {
            y = y.mul(f).add(LOG_P[i]);
        }
        y = y.mul(f).mul(z);
        y = y.add(fe.mul(C2));
        y = y.sub(z.mul(0.5f));
        return f.add(y).add(fe.mul(C1));
    }

    static float log(float x) {
        int bits = Float.floatToRawIntBits(x);
        int e = (bits >>> 23) - 126;
        float m = Float.intBitsToFloat((bits & 0x807FFFFF) | 0x3F000000);
        float f;
        if (m < SQRTHF) {
            e -= 1;
            f = (m + m) - 1f;
        } else {
            f = m - 1f;
        }
        float fe = e;
        float z = f * f;
        float y = LOG_P[0];
        for (int i = 1; i < LOG_P.length; i++) {
            y = y * f + LOG_P[i];
        }
        y = y * f * z;
        y = y + fe * C2;
        y = y - z * 0.5f;
        return (f + y) + fe * C1;
    }

    private static final FloatVector ZIP_LO = lanes(l -> (l & 1) == 0 ? l / 2 : VL + l / 2);
    private static final FloatVector ZIP_HI = lanes(l -> (l & 1) == 0 ? VL / 2 + l / 2 : VL + VL / 2 + l / 2);

    /** A vector of lane indices {@code f(l)}, as floats (the index operand of {@code selectFrom}). */
    static FloatVector lanes(java.util.function.IntUnaryOperator f) {
        float[] a = new float[VL];
        for (int l = 0; l < VL; l++) {
            a[l] = f.applyAsInt(l);
        }
        return FloatVector.fromArray(SPECIES, a, 0);
    }

    /** {@code [a0, b0, a1, b1, ...]}: the first halves of {@code a} and {@code b} interleaved. */
    static FloatVector zipLo(FloatVector a, FloatVector b) {
        return ZIP_LO.selectFrom(a, b);
    }

    private static final FloatVector UNZIP_EVEN = lanes(l -> 2 * l);
    private static final FloatVector UNZIP_ODD = lanes(l -> 2 * l + 1);

    /** The even lanes of the concatenation {@code a || b} (lanes 0, 2, .. of a, then of b). */
    static FloatVector unzipEven(FloatVector a, FloatVector b) {
        return UNZIP_EVEN.selectFrom(a, b);
    }

    /** The odd lanes of the concatenation {@code a || b}. */
    static FloatVector unzipOdd(FloatVector a, FloatVector b) {
        return UNZIP_ODD.selectFrom(a, b);
    }

    /** The second halves of {@code a} and {@code b} interleaved. */
    static FloatVector zipHi(FloatVector a, FloatVector b) {
        return ZIP_HI.selectFrom(a, b);
    }
}
