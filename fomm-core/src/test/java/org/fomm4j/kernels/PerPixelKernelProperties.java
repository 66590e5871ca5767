package org.fomm4j.kernels;

import static org.fomm4j.kernels.KernelEquivalenceProperties.PANAMA;
import static org.fomm4j.kernels.KernelEquivalenceProperties.SCALAR;
import static org.fomm4j.kernels.KernelEquivalenceProperties.assertClose;
import static org.fomm4j.kernels.KernelEquivalenceProperties.random;
import static org.fomm4j.kernels.KernelEquivalenceProperties.randomArray;

import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.fomm4j.tensor.Tensor;

/**
 * The Vector API per-pixel kernels ({@code PanamaMaps}) equal the scalar reference on odd sizes, sizes
 * below one vector and tails; surefire runs this at 128, 256 and 512 bits. Tolerances: kernels doing the
 * reference's operations in its order are asserted exact (upsampling, Taylor motions, grid_sample,
 * bilinear resize); the others differ by our exp ({@code VectorMath}, within 2 ulp of {@code Math.exp}) or by
 * summation order (instance norm's statistics, the softmax sums, the fused multiply-adds of the motion
 * mix), and are asserted within a few float32 ulps of their magnitude.
 */
class PerPixelKernelProperties {

    @Property(tries = 60)
    void normalizationAndActivation(@ForAll @IntRange(min = 1, max = 2) int n,
                                    @ForAll @IntRange(min = 1, max = 6) int c,
                                    @ForAll @IntRange(min = 1, max = 70) int h,
                                    @ForAll @IntRange(min = 1, max = 41) int w,
                                    @ForAll boolean relu,
                                    @ForAll long seed) {
        Random r = new Random(seed);
        Tensor x = random(r, n, c, h, w);
        // A non-zero mean, as after a convolution.
        for (int i = 0; i < x.size(); i++) {
            x.data()[i] = 3f * x.data()[i] + 1.5f;
        }
        float[] gamma = randomArray(r, c), beta = randomArray(r, c);
        assertClose(SCALAR.instanceNorm(x, gamma, beta, relu), PANAMA.instanceNorm(x, gamma, beta, relu), 1e-5);
        assertClose(SCALAR.sigmoid(x), PANAMA.sigmoid(x), 3e-7);
        assertClose(SCALAR.upsampleNearest2x(x), PANAMA.upsampleNearest2x(x), 0);
    }

    @Property(tries = 200)
    void vectorExpIsItsScalarMirrorAndCloseToMathExp(@ForAll long seed) {
        // Bit-for-bit the same in vector lanes and scalar tails (so results never depend on where a loop
        // splits, nor on the JIT), and within 2 ulp of Math.exp where the result is a normal float.
        Random r = new Random(seed);
        float[] x = new float[PanamaKernels.VL];
        for (int i = 0; i < x.length; i++) {
            x[i] = (r.nextFloat() * 2 - 1) * (r.nextBoolean() ? 87f : 4f);
        }
        float[] v = new float[x.length];
        VectorMath.exp(jdk.incubator.vector.FloatVector.fromArray(PanamaKernels.SPECIES, x, 0)).intoArray(v, 0);
        for (int i = 0; i < x.length; i++) {
            float s = VectorMath.exp(x[i]);
            org.junit.jupiter.api.Assertions.assertEquals(Float.floatToIntBits(s), Float.floatToIntBits(v[i]), "x = " + x[i]);
            float ref = (float) Math.exp(x[i]);
            org.junit.jupiter.api.Assertions.assertTrue(Math.abs(s - ref) <= 2 * Math.ulp(ref),
                    () -> "exp(" + s + ") vs Math.exp " + ref);
        }
    }

    @Property(tries = 200)
    void vectorLogIsItsScalarMirrorAndCloseToMathLog(@ForAll long seed) {
        Random r = new Random(seed);
        float[] x = new float[PanamaKernels.VL];
        for (int i = 0; i < x.length; i++) {
            // Positive normal floats over many binades, and the TPS kernel's arguments near 1e-9.
            x[i] = (float) Math.exp((r.nextDouble() * 2 - 1) * (r.nextBoolean() ? 80 : 3));
        }
        float[] v = new float[x.length];
        VectorMath.log(jdk.incubator.vector.FloatVector.fromArray(PanamaKernels.SPECIES, x, 0)).intoArray(v, 0);
        for (int i = 0; i < x.length; i++) {
            float s = VectorMath.log(x[i]);
            org.junit.jupiter.api.Assertions.assertEquals(Float.floatToIntBits(s), Float.floatToIntBits(v[i]), "x = " + x[i]);
            float ref = (float) Math.log(x[i]);
            float xi = x[i];
            org.junit.jupiter.api.Assertions.assertTrue(Math.abs(s - ref) <= 2 * Math.ulp(ref) + 1e-7f,
                    () -> "log(" + xi + ") = " + s + " vs Math.log " + ref);
        }
    }

    @Property(tries = 40)
    void tpsMotions(@ForAll @IntRange(min = 1, max = 2) int n,
                    @ForAll @IntRange(min = 1, max = 4) int groups,
                    @ForAll @IntRange(min = 2, max = 37) int h,
                    @ForAll @IntRange(min = 2, max = 53) int w,
                    @ForAll long seed) {
        // The splines' fit is shared; the evaluation differs from the reference only in log (2 ulp). Keypoints
        // are jittered pentagons, spread out like the detector's: with nearly coincident points the ridge
        // system is near-singular, its large weights cancel and amplify any last-bit difference (that case is
        // covered end to end by TpsmmParityTest on the real fixture).
        Random r = new Random(seed);
        Tensor kpD = pentagons(r, n, groups), kpS = pentagons(r, n, groups);
        Tensor expected = SCALAR.tpsMotions(kpD, kpS, 5, h, w), actual = PANAMA.tpsMotions(kpD, kpS, 5, h, w);
        for (int i = 0; i < expected.size(); i++) {
            double e = expected.get(i), d = Math.abs(actual.get(i) - e);
            int idx = i;
            org.junit.jupiter.api.Assertions.assertTrue(d <= 1e-6 + 1e-6 * Math.abs(e),
                    () -> "element " + idx + ": " + actual.get(idx) + " vs " + e);
        }
    }

    static Tensor pentagons(Random r, int n, int groups) {
        Tensor t = Tensor.zeros(n, groups * 5, 2);
        for (int b = 0; b < n; b++) {
            for (int g = 0; g < groups; g++) {
                float cx = r.nextFloat() - 0.5f, cy = r.nextFloat() - 0.5f, rad = 0.2f + 0.3f * r.nextFloat();
                for (int i = 0; i < 5; i++) {
                    double a = 2 * Math.PI * i / 5 + 0.3 * (r.nextDouble() - 0.5);
                    int o = ((b * groups + g) * 5 + i) * 2;
                    t.data()[o] = cx + rad * (float) Math.cos(a) + 0.05f * (r.nextFloat() - 0.5f);
                    t.data()[o + 1] = cy + rad * (float) Math.sin(a) + 0.05f * (r.nextFloat() - 0.5f);
                }
            }
        }
        return t;
    }

    @Property(tries = 60)
    void softmaxes(@ForAll @IntRange(min = 1, max = 2) int n,
                   @ForAll @IntRange(min = 1, max = 12) int c,
                   @ForAll @IntRange(min = 1, max = 61) int h,
                   @ForAll @IntRange(min = 1, max = 37) int w,
                   @ForAll long seed) {
        Random r = new Random(seed);
        Tensor x = random(r, n, c, h, w);
        for (int i = 0; i < x.size(); i++) {
            x.data()[i] *= 8f;
        }
        assertClose(SCALAR.softmaxSpatial(x, 0.1f), PANAMA.softmaxSpatial(x, 0.1f), 2e-6);
        assertClose(SCALAR.softmaxChannels(x), PANAMA.softmaxChannels(x), 1e-6);
    }

    @Property(tries = 60)
    void motions(@ForAll @IntRange(min = 1, max = 2) int n,
                 @ForAll @IntRange(min = 1, max = 11) int k,
                 @ForAll @IntRange(min = 2, max = 40) int h,
                 @ForAll @IntRange(min = 2, max = 45) int w,
                 @ForAll boolean jacobians,
                 @ForAll long seed) {
        // At least 2 pixels per axis: the coordinate grid 2i/(n-1) - 1 is undefined for one pixel.
        Random r = new Random(seed);
        Tensor kpD = random(r, n, k, 2), kpS = random(r, n, k, 2);
        Tensor affine = jacobians ? random(r, n, k, 2, 2) : null;
        Tensor expected = SCALAR.taylorMotions(kpD, kpS, affine, h, w);
        assertClose(expected, PANAMA.taylorMotions(kpD, kpS, affine, h, w), 0);
        Tensor masks = SCALAR.softmaxChannels(random(r, n, k + 1, h, w));
        assertClose(SCALAR.mixMotions(masks, expected), PANAMA.mixMotions(masks, expected), 1e-6);
    }

    @Property(tries = 60)
    void sampling(@ForAll @IntRange(min = 1, max = 2) int n,
                  @ForAll @IntRange(min = 1, max = 5) int c,
                  @ForAll @IntRange(min = 1, max = 33) int h,
                  @ForAll @IntRange(min = 1, max = 29) int w,
                  @ForAll @IntRange(min = 1, max = 47) int oh,
                  @ForAll @IntRange(min = 1, max = 51) int ow,
                  @ForAll boolean alignCorners,
                  @ForAll GridPadding padding,
                  @ForAll long seed) {
        Random r = new Random(seed);
        Tensor x = random(r, n, c, h, w);
        // Coordinates past [-1, 1] too: zeros, or reflected (several times over at 3.5).
        Tensor grid = random(r, n, oh, ow, 2);
        float scale = padding == GridPadding.ZEROS ? 1.3f : 3.5f;
        for (int i = 0; i < grid.size(); i++) {
            grid.data()[i] *= scale;
        }
        assertClose(SCALAR.gridSample(x, grid, alignCorners, padding), PANAMA.gridSample(x, grid, alignCorners, padding), 0);
        assertClose(SCALAR.resizeBilinear(x, oh, ow, alignCorners), PANAMA.resizeBilinear(x, oh, ow, alignCorners), 0);
    }
}
