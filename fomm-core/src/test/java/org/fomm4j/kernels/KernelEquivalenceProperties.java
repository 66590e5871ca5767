package org.fomm4j.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import net.jqwik.api.Assume;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.fomm4j.tensor.Tensor;

/**
 * The Vector API kernels equal the scalar reference on random shapes, including odd sizes, sizes
 * below one vector and tails. Surefire runs this class once per vector width (128, 256, 512 bits,
 * forced with {@code -Dfomm4j.vector.bits}) besides the default run.
 */
class KernelEquivalenceProperties {
    static final Kernels SCALAR = KernelProvider.scalar();
    static final Kernels PANAMA = KernelProvider.panama();

    static Tensor random(Random r, int... shape) {
        Tensor t = Tensor.zeros(shape);
        float[] d = t.data();
        for (int i = 0; i < d.length; i++) {
            d[i] = r.nextFloat() * 2 - 1;
        }
        return t;
    }

    static float[] randomArray(Random r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = r.nextFloat() * 2 - 1;
        }
        return a;
    }

    @net.jqwik.api.Example
    void runsAtTheForcedVectorWidth() {
        String bits = System.getProperty("fomm4j.vector.bits");
        if (bits != null) {
            assertEquals("panama-" + bits, PANAMA.name());
        } else {
            assertTrue(PANAMA.name().startsWith("panama-"), PANAMA.name());
        }
    }

    @Property(tries = 80)
    void convolutionMatchesScalar(@ForAll @IntRange(min = 1, max = 2) int n,
                                  @ForAll @IntRange(min = 1, max = 9) int cin,
                                  @ForAll @IntRange(min = 1, max = 11) int cout,
                                  @ForAll @IntRange(min = 1, max = 7) int kernel,
                                  @ForAll @IntRange(min = 0, max = 3) int pad,
                                  @ForAll @IntRange(min = 1, max = 23) int h,
                                  @ForAll @IntRange(min = 1, max = 37) int w,
                                  @ForAll Activation activation,
                                  @ForAll long seed) {
        Assume.that(h + 2 * pad >= kernel && w + 2 * pad >= kernel);
        Random r = new Random(seed);
        ConvSpec spec = ConvSpec.of(cin, cout, kernel, pad);
        float[] wt = randomArray(r, spec.weightCount());
        float[] bias = randomArray(r, cout);
        Tensor x = random(r, n, cin, h, w);
        Tensor expected = SCALAR.conv2d(spec, wt, bias).apply(x, activation);
        Tensor actual = PANAMA.conv2d(spec, wt, bias).apply(x, activation);
        // Sums of cin*k*k products of magnitude <= 1, accumulated in another order.
        assertClose(expected, actual, 2e-6 * cin * kernel * kernel + 1e-6);
    }

    @Property(tries = 80)
    void convolutionWeightGradientMatchesScalar(@ForAll @IntRange(min = 1, max = 3) int n,
                                                @ForAll @IntRange(min = 1, max = 11) int oCount,
                                                @ForAll @IntRange(min = 1, max = 7) int k,
                                                @ForAll @IntRange(min = 1, max = 40) int wp,
                                                @ForAll @IntRange(min = 1, max = 30) int rows,
                                                @ForAll long seed) {
        Assume.that(wp >= k);
        Random r = new Random(seed);
        int len = rows * wp, xPlane = (rows + k - 1) * wp + k - 1;
        // Offsets and strides that are not multiples of the vector length, as for real layers.
        int xOff = 3, xSample = xPlane + 5, dyOff = 1, dySample = oCount * len + 2, dwStride = k * k + 4;
        float[] x = randomArray(r, xOff + n * xSample);
        float[] dy = randomArray(r, dyOff + n * dySample);
        float[] expected = randomArray(r, 2 + oCount * dwStride);
        float[] actual = expected.clone();
        SCALAR.convWeightGradient(x, xOff, xSample, dy, dyOff, dySample, n, oCount, k, wp, len, expected, 2, dwStride);
        PANAMA.convWeightGradient(x, xOff, xSample, dy, dyOff, dySample, n, oCount, k, wp, len, actual, 2, dwStride);
        for (int i = 0; i < expected.length; i++) {
            // Sums of n * len products of magnitude <= 1 in another order.
            assertEquals(expected[i], actual[i], 2e-6 * n * len + 1e-5, "dw[" + i + "]");
        }
    }

    @Property(tries = 80)
    void outerProductSumMatchesScalar(@ForAll @IntRange(min = 1, max = 11) int m,
                                      @ForAll @IntRange(min = 1, max = 150) int n,
                                      @ForAll @IntRange(min = 1, max = 40) int q,
                                      @ForAll @IntRange(min = 0, max = 150) int from,
                                      @ForAll @IntRange(min = 0, max = 150) int to,
                                      @ForAll long seed) {
        int j0 = Math.min(from, to) % (n + 1), j1 = Math.min(n, Math.max(from, to));
        Assume.that(j0 <= j1);
        Random r = new Random(seed);
        float[] a = randomArray(r, q * m), b = randomArray(r, q * n);
        float[] expected = randomArray(r, m * n);
        float[] actual = expected.clone();
        SCALAR.gemmTN(a, m, b, n, q, expected, j0, j1);
        PANAMA.gemmTN(a, m, b, n, q, actual, j0, j1);
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], 2e-6 * q + 1e-6, "c[" + i + "], columns " + j0 + ".." + j1);
        }
    }

    @Property(tries = 40)
    void stridedAndGroupedConvolutionMatchesScalar(@ForAll @IntRange(min = 1, max = 3) int groups,
                                                   @ForAll @IntRange(min = 1, max = 4) int stride,
                                                   @ForAll @IntRange(min = 1, max = 5) int kernel,
                                                   @ForAll @IntRange(min = 3, max = 19) int size,
                                                   @ForAll long seed) {
        Random r = new Random(seed);
        ConvSpec spec = new ConvSpec(2 * groups, 3 * groups, kernel, kernel, stride, kernel / 2, kernel / 2, groups);
        float[] wt = randomArray(r, spec.weightCount());
        Tensor x = random(r, 1, 2 * groups, size, size + 2);
        assertClose(SCALAR.conv2d(spec, wt, null).apply(x, Activation.NONE),
                PANAMA.conv2d(spec, wt, null).apply(x, Activation.NONE), 1e-5);
    }

    @Property(tries = 60)
    void elementwiseKernelsMatchScalar(@ForAll @IntRange(min = 1, max = 3) int n,
                                       @ForAll @IntRange(min = 1, max = 7) int c,
                                       @ForAll @IntRange(min = 1, max = 21) int h,
                                       @ForAll @IntRange(min = 1, max = 19) int w,
                                       @ForAll boolean relu,
                                       @ForAll long seed) {
        Random r = new Random(seed);
        Tensor x = random(r, n, c, h, w), y = random(r, n, c, h, w), map = random(r, n, 1, h, w);
        float[] scale = randomArray(r, c), shift = randomArray(r, c);
        assertClose(SCALAR.relu(x), PANAMA.relu(x), 0);
        assertClose(SCALAR.add(x, y), PANAMA.add(x, y), 0);
        assertClose(SCALAR.multiplyByMap(x, map), PANAMA.multiplyByMap(x, map), 0);
        // The vector path uses a fused multiply-add: one rounding fewer.
        assertClose(SCALAR.channelAffine(x, scale, shift, relu), PANAMA.channelAffine(x, scale, shift, relu), 3e-7);
    }

    @Property(tries = 10)
    void realLayerShapesMatchScalar(@ForAll("layers") int[] layer, @ForAll long seed) {
        Random r = new Random(seed);
        int cin = layer[0], cout = layer[1], size = layer[2], kernel = layer[3];
        ConvSpec spec = ConvSpec.of(cin, cout, kernel, kernel / 2);
        float[] wt = randomArray(r, spec.weightCount());
        Tensor x = random(r, 1, cin, size, size);
        assertClose(SCALAR.conv2d(spec, wt, null).apply(x, Activation.RELU),
                PANAMA.conv2d(spec, wt, null).apply(x, Activation.RELU), 2e-6 * cin * kernel * kernel);
    }

    @net.jqwik.api.Provide
    net.jqwik.api.Arbitrary<int[]> layers() {
        return net.jqwik.api.Arbitraries.of(new int[] {44, 16, 64, 3}, new int[] {35, 10, 16, 7}, new int[] {64, 3, 32, 7},
                new int[] {128, 64, 8, 3}, new int[] {256, 128, 4, 3}, new int[] {8, 32, 2, 3});
    }

    static void assertClose(Tensor expected, Tensor actual, double tol) {
        assertEquals(java.util.Arrays.toString(expected.shape()), java.util.Arrays.toString(actual.shape()));
        for (int i = 0; i < expected.size(); i++) {
            double d = Math.abs(expected.get(i) - actual.get(i));
            final int idx = i;
            assertTrue(d <= tol, () -> "element " + idx + ": " + actual.get(idx) + " vs expected " + expected.get(idx)
                    + " (tolerance " + tol + ", kernels " + PANAMA.name() + ")");
        }
    }
}
