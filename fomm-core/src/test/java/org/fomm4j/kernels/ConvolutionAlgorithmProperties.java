package org.fomm4j.kernels;

import static org.fomm4j.kernels.KernelEquivalenceProperties.random;
import static org.fomm4j.kernels.KernelEquivalenceProperties.randomArray;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import net.jqwik.api.Assume;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.fomm4j.tensor.Tensor;

/**
 * Winograd F(4x4, 3x3) equals the scalar direct convolution on odd sizes: images smaller than one
 * tile, partial last tiles in both directions, tile counts that are not a multiple of the vector
 * length or of the micro-kernel's tile block, channel counts that leave the last output-channel block
 * partial, batches, every activation, padding 0..2. Runs at 128, 256 and 512 bits (surefire).
 *
 * <p>Tolerance: the transforms scale values by up to 8 (A) and 5 (B), so float32 Winograd F(4x4, 3x3)
 * loses far more than a direct sum. Measured against the scalar reference (40 random layers per
 * {@code cin}, inputs and weights in [-1, 1], 3x3, 7 output channels): worst error 1.3e-5 at cin 1,
 * 5.4e-5 at 16, 2.9e-4 at 64, 1.1e-3 at 256, i.e. at most {@code 1.5e-6 * 9 cin}; the direct GEMM's
 * worst is 7e-7 to 2.7e-5 on the same layers (18-42x less). Asserted at {@code 2.5e-6 * 9 cin + 2e-5}.
 */
class ConvolutionAlgorithmProperties {
    // Also the channel-vectorized convolution and the adaptive choice among the algorithms.
    static final Kernels SCALAR = KernelProvider.scalar();
    static final double WINOGRAD_TOL_PER_TERM = 2.5e-6;

    @Property(tries = 120)
    void winogradMatchesScalarConvolution(@ForAll @IntRange(min = 1, max = 2) int n,
                                          @ForAll @IntRange(min = 1, max = 40) int cin,
                                          @ForAll @IntRange(min = 1, max = 15) int cout,
                                          @ForAll @IntRange(min = 0, max = 2) int pad,
                                          @ForAll @IntRange(min = 1, max = 41) int h,
                                          @ForAll @IntRange(min = 1, max = 45) int w,
                                          @ForAll Activation activation,
                                          @ForAll long seed) {
        Assume.that(h + 2 * pad >= 3 && w + 2 * pad >= 3);
        Random r = new Random(seed);
        ConvSpec spec = ConvSpec.of(cin, cout, 3, pad);
        float[] wt = randomArray(r, spec.weightCount());
        float[] bias = randomArray(r, cout);
        Tensor x = random(r, n, cin, h, w);
        Tensor expected = SCALAR.conv2d(spec, wt, bias).apply(x, activation);
        Tensor actual = new WinogradConv2d(spec, wt, bias).apply(x, activation);
        KernelEquivalenceProperties.assertClose(expected, actual, WINOGRAD_TOL_PER_TERM * cin * 9 + 2e-5);
    }

    @Property(tries = 40)
    void winogradPhasedLayoutMatchesScalar(@ForAll @IntRange(min = 1, max = 2) int n,
                                           @ForAll @IntRange(min = 1, max = 9) int cin,
                                           @ForAll @IntRange(min = 1, max = 9) int cout,
                                           @ForAll @IntRange(min = 0, max = 2) int pad,
                                           @ForAll @IntRange(min = 1, max = 23) int h,
                                           @ForAll @IntRange(min = 1, max = 4) int vectorsPerRow,
                                           @ForAll @IntRange(min = -3, max = 0) int trim,
                                           @ForAll Activation activation,
                                           @ForAll long seed) {
        // Output widths whose tile rows are whole vectors (4 * VL * k, less up to 3 columns of a partial
        // last tile): the phased input layout. Heights leave partial tile blocks.
        int ow = 4 * PanamaKernels.VL * vectorsPerRow + trim;
        int w = ow - 2 * pad + 2;
        Assume.that(w >= 1 && h + 2 * pad >= 3);
        Random r = new Random(seed);
        ConvSpec spec = ConvSpec.of(cin, cout, 3, pad);
        float[] wt = randomArray(r, spec.weightCount());
        float[] bias = randomArray(r, cout);
        Tensor x = random(r, n, cin, h, w);
        KernelEquivalenceProperties.assertClose(SCALAR.conv2d(spec, wt, bias).apply(x, activation),
                new WinogradConv2d(spec, wt, bias).apply(x, activation), WINOGRAD_TOL_PER_TERM * cin * 9 + 2e-5);
    }

    @Property(tries = 300)
    void phasedRowMatchesItsDefinition(@ForAll @IntRange(min = 1, max = 150) int sw,
                                       @ForAll @IntRange(min = 1, max = 2) int u,
                                       @ForAll @IntRange(min = 0, max = 3) int pw,
                                       @ForAll @IntRange(min = 0, max = 9) int extraQ,
                                       @ForAll @IntRange(min = 0, max = 70) int before,
                                       @ForAll @IntRange(min = 0, max = 70) int after,
                                       @ForAll long seed) {
        // The vectors may read past the row into its neighbours (or stop at the array's ends); whatever
        // they read, padded column xx holds input x = xx - pw read upsampled, and 0 outside the row.
        Random r = new Random(seed);
        int w = u * sw, qLen = (w + pw + 3) / 4 + extraQ;
        float[] in = new float[before + sw + after];
        for (int i = 0; i < in.length; i++) {
            in[i] = r.nextFloat() + 1f;
        }
        float[] padded = new float[4 * qLen + 5];
        java.util.Arrays.fill(padded, Float.NaN);
        WinogradConv2d.phasedRow(in, before, sw, u, pw, padded, 3, qLen);
        for (int xx = 0; xx < 4 * qLen; xx++) {
            int x = xx - pw;
            float expected = x >= 0 && x < w ? in[before + x / u] : 0f;
            float actual = padded[3 + (xx & 3) * qLen + (xx >> 2)];
            int col = xx;
            assertTrue(expected == actual, () -> "column " + col + ": expected " + expected + ", got " + actual);
        }
        assertTrue(Float.isNaN(padded[0]) && Float.isNaN(padded[4 * qLen + 3]), "wrote outside the row");
    }

    @Property(tries = 6)
    void winogradMatchesScalarOnLayerSizedInputs(@ForAll @IntRange(min = 60, max = 70) int size,
                                                 @ForAll @IntRange(min = 64, max = 130) int cin,
                                                 @ForAll long seed) {
        // Several chunks of tile blocks and more than one block per Winograd point.
        Random r = new Random(seed);
        ConvSpec spec = ConvSpec.of(cin, 37, 3, 1);
        float[] wt = randomArray(r, spec.weightCount());
        Tensor x = random(r, 1, cin, size, size + 3);
        Tensor expected = SCALAR.conv2d(spec, wt, null).apply(x, Activation.RELU);
        Tensor actual = new WinogradConv2d(spec, wt, null).apply(x, Activation.RELU);
        double worst = 0;
        for (int i = 0; i < expected.size(); i++) {
            worst = Math.max(worst, Math.abs(expected.get(i) - actual.get(i)));
        }
        double tol = WINOGRAD_TOL_PER_TERM * cin * 9 + 2e-5;
        double w = worst;
        assertTrue(worst <= tol, () -> "max error " + w + " > " + tol);
    }

    @Property(tries = 60)
    void channelVectorConvolutionMatchesScalar(@ForAll @IntRange(min = 1, max = 2) int n,
                                               @ForAll @IntRange(min = 1, max = 37) int cin,
                                               @ForAll @IntRange(min = 1, max = 150) int cout,
                                               @ForAll @IntRange(min = 1, max = 7) int kernel,
                                               @ForAll @IntRange(min = 1, max = 3) int stride,
                                               @ForAll @IntRange(min = 0, max = 3) int pad,
                                               @ForAll @IntRange(min = 1, max = 19) int h,
                                               @ForAll @IntRange(min = 1, max = 23) int w,
                                               @ForAll Activation activation,
                                               @ForAll long seed) {
        // Output channels past a vector block, pixels past a pixel block, strides, padding wider than
        // the kernel's reach, depths past one weight slice (cin * taps > 256).
        Assume.that(h + 2 * pad >= kernel && w + 2 * pad >= kernel);
        Random r = new Random(seed);
        ConvSpec spec = new ConvSpec(cin, cout, kernel, kernel, stride, pad, pad, 1);
        float[] wt = randomArray(r, spec.weightCount());
        float[] bias = randomArray(r, cout);
        Tensor x = random(r, n, cin, h, w);
        KernelEquivalenceProperties.assertClose(SCALAR.conv2d(spec, wt, bias).apply(x, activation),
                new ChannelVectorConv2d(spec, wt, bias).apply(x, activation), 2e-6 * cin * kernel * kernel + 1e-6);
    }

    @Property(tries = 40)
    void upsamplingFusedIntoTheConvolutionIsExact(@ForAll @IntRange(min = 1, max = 2) int n,
                                                  @ForAll @IntRange(min = 1, max = 20) int cin,
                                                  @ForAll @IntRange(min = 1, max = 40) int cout,
                                                  @ForAll @IntRange(min = 1, max = 40) int h,
                                                  @ForAll @IntRange(min = 1, max = 40) int w,
                                                  @ForAll Activation activation,
                                                  @ForAll long seed) {
        // Reading the input upsampled while packing it gives bit-for-bit the convolution of the upsampled
        // tensor (same values in the same padded buffer), in both input layouts and through the dispatcher.
        Random r = new Random(seed);
        ConvSpec spec = ConvSpec.of(cin, cout, 3, 1);
        float[] wt = randomArray(r, spec.weightCount());
        float[] bias = randomArray(r, cout);
        Tensor x = random(r, n, cin, h, w);
        Tensor up = SCALAR.upsampleNearest2x(x);
        WinogradConv2d wg = new WinogradConv2d(spec, wt, bias);
        KernelEquivalenceProperties.assertClose(wg.apply(up, activation), wg.applyUpsampled2x(x, activation), 0);
        AdaptiveConv2d ad = new AdaptiveConv2d(spec, wt, bias);
        KernelEquivalenceProperties.assertClose(ad.apply(up, activation), ad.applyUpsampled2x(x, activation), 0);
        // The residual added in the store equals adding it afterwards, bit for bit.
        Tensor y = wg.apply(up, activation);
        Tensor res = random(r, y.shape());
        KernelEquivalenceProperties.assertClose(SCALAR.add(y, res), wg.applyAdd(up, activation, res), 0);
        KernelEquivalenceProperties.assertClose(SCALAR.add(ad.apply(up, activation), res), ad.applyAdd(up, activation, res), 0);
    }

    @Property(tries = 60)
    void pixelGemmReadingInPlaceEqualsItsPackedPanels(@ForAll @IntRange(min = 1, max = 2) int n,
                                                     @ForAll @IntRange(min = 1, max = 23) int cin,
                                                     @ForAll @IntRange(min = 1, max = 41) int cout,
                                                     @ForAll @IntRange(min = 1, max = 7) int kernel,
                                                     @ForAll @IntRange(min = 1, max = 2) int stride,
                                                     @ForAll @IntRange(min = 0, max = 3) int pad,
                                                     @ForAll @IntRange(min = 1, max = 21) int h,
                                                     @ForAll @IntRange(min = 1, max = 70) int w,
                                                     @ForAll Activation activation,
                                                     @ForAll long seed) {
        // Output channels past two register-tile blocks (where the panels are used), depths past one
        // panel slice (cin * taps > 512), rows wider than a tile and tiles wrapping rows, stride 2 (always
        // panels): both forms equal the scalar convolution and, summing in the same order, each other.
        Assume.that(h + 2 * pad >= kernel && w + 2 * pad >= kernel);
        Random r = new Random(seed);
        ConvSpec spec = new ConvSpec(cin, cout, kernel, kernel, stride, pad, pad, 1);
        float[] wt = randomArray(r, spec.weightCount());
        float[] bias = randomArray(r, cout);
        Tensor x = random(r, n, cin, h, w);
        Tensor inPlace = new PanamaConv2d(spec, wt, bias, false).apply(x, activation);
        Tensor packed = new PanamaConv2d(spec, wt, bias, true).apply(x, activation);
        KernelEquivalenceProperties.assertClose(SCALAR.conv2d(spec, wt, bias).apply(x, activation), inPlace,
                2e-6 * cin * kernel * kernel + 1e-6);
        KernelEquivalenceProperties.assertClose(packed, inPlace, 0);
    }

    @Property(tries = 50)
    void narrowConvolutionMatchesScalar(@ForAll @IntRange(min = 1, max = 2) int n,
                                        @ForAll @IntRange(min = 1, max = 40) int cin,
                                        @ForAll @IntRange(min = 1, max = 3) int cout,
                                        @ForAll @IntRange(min = 1, max = 7) int kernel,
                                        @ForAll @IntRange(min = 0, max = 3) int pad,
                                        @ForAll @IntRange(min = 1, max = 40) int h,
                                        @ForAll @IntRange(min = 1, max = 70) int w,
                                        @ForAll Activation activation,
                                        @ForAll long seed) {
        // 1-3 output channels, images smaller and larger than one 8-vector tile, rows wrapping inside a tile.
        Assume.that(h + 2 * pad >= kernel && w + 2 * pad >= kernel);
        Random r = new Random(seed);
        ConvSpec spec = ConvSpec.of(cin, cout, kernel, pad);
        float[] wt = randomArray(r, spec.weightCount());
        float[] bias = randomArray(r, cout);
        Tensor x = random(r, n, cin, h, w);
        KernelEquivalenceProperties.assertClose(SCALAR.conv2d(spec, wt, bias).apply(x, activation),
                new NarrowConv2d(spec, wt, bias).apply(x, activation), 2e-6 * cin * kernel * kernel + 1e-6);
    }

    @Property(tries = 40)
    void winograd7MatchesScalar(@ForAll @IntRange(min = 1, max = 2) int n,
                                @ForAll @IntRange(min = 1, max = 40) int cin,
                                @ForAll @IntRange(min = 1, max = 30) int cout,
                                @ForAll @IntRange(min = 0, max = 4) int pad,
                                @ForAll @IntRange(min = 1, max = 40) int h,
                                @ForAll @IntRange(min = 1, max = 45) int w,
                                @ForAll Activation activation,
                                @ForAll long seed) {
        // F(2x2, 7x7): odd output sizes (a tile half outside), bands of tile rows cut short, channel counts that
        // leave the last output block and the last block of tiles partial. Its transforms scale by up to 5.25 (B)
        // and 2 (A), so its float32 error per term is larger than a direct sum's.
        Assume.that(h + 2 * pad >= 7 && w + 2 * pad >= 7);
        Random r = new Random(seed);
        ConvSpec spec = ConvSpec.of(cin, cout, 7, pad);
        float[] wt = randomArray(r, spec.weightCount());
        float[] bias = randomArray(r, cout);
        Tensor x = random(r, n, cin, h, w);
        KernelEquivalenceProperties.assertClose(SCALAR.conv2d(spec, wt, bias).apply(x, activation),
                new Winograd7Conv2d(spec, wt, bias).apply(x, activation), 2 * WINOGRAD_TOL_PER_TERM * cin * 49 + 1e-5);
    }

    @Property(tries = 40)
    void winograd7WeightGradientMatchesScalar(@ForAll @IntRange(min = 1, max = 3) int n,
                                              @ForAll @IntRange(min = 1, max = 30) int ci,
                                              @ForAll @IntRange(min = 1, max = 20) int co,
                                              @ForAll @IntRange(min = 0, max = 4) int pad,
                                              @ForAll @IntRange(min = 1, max = 40) int h,
                                              @ForAll @IntRange(min = 1, max = 45) int w,
                                              @ForAll long seed) {
        // F(2x2, 7x7), its transforms reaching 5.25: twice the per-term tolerance.
        assertWeightGradientMatchesScalar(WinogradWeightGradient.F2_7, 7, 2 * WINOGRAD_TOL_PER_TERM, n, ci, co, pad, h, w,
                seed);
    }

    @Property(tries = 40)
    void winograd3WeightGradientMatchesScalar(@ForAll @IntRange(min = 1, max = 3) int n,
                                              @ForAll @IntRange(min = 1, max = 30) int ci,
                                              @ForAll @IntRange(min = 1, max = 20) int co,
                                              @ForAll @IntRange(min = 0, max = 3) int pad,
                                              @ForAll @IntRange(min = 1, max = 40) int h,
                                              @ForAll @IntRange(min = 1, max = 45) int w,
                                              @ForAll long seed) {
        // F(2x2, 3x3): the generic transforms (columns split by phase).
        assertWeightGradientMatchesScalar(WinogradWeightGradient.F2_3, 3, WINOGRAD_TOL_PER_TERM, n, ci, co, pad, h, w, seed);
    }

    /**
     * A Winograd weight gradient against the scalar one (the direct sum over the batch and the plane), on odd output
     * sizes, chunks of tile rows cut short, tile counts that are not a multiple of the vector length, and channel counts
     * that leave the last register tile partial; it adds to what dW held. Tolerance {@code tolPerTerm} per summed term.
     */
    private static void assertWeightGradientMatchesScalar(WinogradWeightGradient f, int k, double tolPerTerm, int n, int ci,
                                                          int co, int pad, int h, int w, long seed) {
        Assume.that(h + 2 * pad >= k && w + 2 * pad >= k);
        Random r = new Random(seed);
        int oh = h + 2 * pad - k + 1, ow = w + 2 * pad - k + 1;
        float[] x = randomArray(r, n * ci * h * w);
        float[] dy = randomArray(r, n * co * oh * ow);
        float[] start = randomArray(r, co * ci * k * k);
        float[] expected = start.clone();
        float[] actual = start.clone();
        ConvWeightGradient.accumulate(SCALAR, x, dy, expected, n, ci, h, w, co, k, pad, oh, ow);
        f.accumulate(x, dy, actual, n, ci, h, w, co, pad, oh, ow);
        KernelEquivalenceProperties.assertClose(Tensor.of(expected, co, ci, k, k), Tensor.of(actual, co, ci, k, k),
                tolPerTerm * n * oh * ow + 1e-5);
    }

    @Property(tries = 30)
    void dispatchedThreeByThreeMatchesScalar(@ForAll @IntRange(min = 1, max = 33) int cin,
                                             @ForAll @IntRange(min = 1, max = 70) int cout,
                                             @ForAll @IntRange(min = 3, max = 40) int size,
                                             @ForAll long seed) {
        // Whatever path AdaptiveConv2d picks for the shape (Winograd or GEMM), the result is the convolution.
        Random r = new Random(seed);
        ConvSpec spec = ConvSpec.of(cin, cout, 3, 1);
        float[] wt = randomArray(r, spec.weightCount());
        float[] bias = randomArray(r, cout);
        Tensor x = random(r, 1, cin, size, size);
        KernelEquivalenceProperties.assertClose(SCALAR.conv2d(spec, wt, bias).apply(x, Activation.NONE),
                new AdaptiveConv2d(spec, wt, bias).apply(x, Activation.NONE), WINOGRAD_TOL_PER_TERM * cin * 9 + 2e-5);
    }
}
