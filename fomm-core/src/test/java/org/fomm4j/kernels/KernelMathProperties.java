package org.fomm4j.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.FloatRange;
import net.jqwik.api.constraints.IntRange;
import org.fomm4j.nn.BatchNorm;
import org.fomm4j.tensor.Tensor;

/** Mathematical properties of the kernels, checked on the kernels this JVM uses. */
class KernelMathProperties {
    static final Kernels K = KernelProvider.get();

    /** The grid whose samples land exactly on pixel centres for the given {@code align_corners}. */
    static Tensor identityGrid(int n, int h, int w, boolean alignCorners) {
        float[] g = new float[n * h * w * 2];
        for (int b = 0; b < n; b++) {
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    int o = ((b * h + y) * w + x) * 2;
                    g[o] = alignCorners ? (w == 1 ? 0f : 2f * x / (w - 1) - 1f) : (2f * x + 1f) / w - 1f;
                    g[o + 1] = alignCorners ? (h == 1 ? 0f : 2f * y / (h - 1) - 1f) : (2f * y + 1f) / h - 1f;
                }
            }
        }
        return Tensor.of(g, n, h, w, 2);
    }

    @Property(tries = 100)
    void gridSampleWithIdentityGridReturnsInput(@ForAll @IntRange(min = 1, max = 2) int n,
                                                @ForAll @IntRange(min = 1, max = 4) int c,
                                                @ForAll @IntRange(min = 2, max = 33) int h,
                                                @ForAll @IntRange(min = 2, max = 33) int w,
                                                @ForAll boolean alignCorners,
                                                @ForAll long seed) {
        Tensor x = KernelEquivalenceProperties.random(new Random(seed), n, c, h, w);
        Tensor out = K.gridSample(x, identityGrid(n, h, w, alignCorners), alignCorners);
        // Grid coordinates carry float32 rounding (a few ulps of up to 33 pixels).
        KernelEquivalenceProperties.assertClose(x, out, 1e-5);
    }

    @Property(tries = 100)
    void gridSampleOutsideTheImageReadsZeros(@ForAll @FloatRange(min = 1.01f, max = 5f) float beyond,
                                             @ForAll boolean alignCorners, @ForAll boolean negative) {
        // With align_corners=False a sample within half a pixel outside still sees the border pixel.
        float coord = (negative ? -1 : 1) * (beyond + 1f);
        Tensor x = Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 1, 1, 2, 3);
        Tensor out = K.gridSample(x, Tensor.of(new float[] {coord, 0f}, 1, 1, 1, 2), alignCorners);
        assertEquals(0f, out.get(0));
    }

    @Property(tries = 100)
    void spatialSoftmaxSumsToOne(@ForAll @IntRange(min = 1, max = 3) int c, @ForAll @IntRange(min = 1, max = 30) int h,
                                 @ForAll @IntRange(min = 1, max = 30) int w,
                                 @ForAll @FloatRange(min = 0.01f, max = 10f) float temperature, @ForAll long seed) {
        Tensor x = KernelEquivalenceProperties.random(new Random(seed), 1, c, h, w);
        Tensor s = K.softmaxSpatial(x, temperature);
        for (int ch = 0; ch < c; ch++) {
            double sum = 0;
            for (int i = 0; i < h * w; i++) {
                float v = s.get(ch * h * w + i);
                assertTrue(v >= 0 && v <= 1);
                sum += v;
            }
            assertEquals(1.0, sum, 1e-5);
        }
    }

    @Property(tries = 100)
    void channelSoftmaxSumsToOne(@ForAll @IntRange(min = 1, max = 12) int c, @ForAll @IntRange(min = 1, max = 9) int h,
                                 @ForAll long seed) {
        Tensor x = KernelEquivalenceProperties.random(new Random(seed), 2, c, h, h + 1);
        Tensor s = K.softmaxChannels(x);
        int hw = h * (h + 1);
        for (int b = 0; b < 2; b++) {
            for (int i = 0; i < hw; i++) {
                double sum = 0;
                for (int ch = 0; ch < c; ch++) {
                    sum += s.get((b * c + ch) * hw + i);
                }
                assertEquals(1.0, sum, 1e-5);
            }
        }
    }

    @Property(tries = 60)
    void foldedBatchNormEqualsConvolutionThenBatchNorm(@ForAll @IntRange(min = 1, max = 6) int cin,
                                                       @ForAll @IntRange(min = 1, max = 9) int cout,
                                                       @ForAll @IntRange(min = 1, max = 3) int half,
                                                       @ForAll long seed) {
        Random r = new Random(seed);
        int kernel = 2 * half - 1;
        ConvSpec spec = ConvSpec.of(cin, cout, kernel, half - 1);
        float[] w = KernelEquivalenceProperties.randomArray(r, spec.weightCount());
        float[] b = KernelEquivalenceProperties.randomArray(r, cout);
        float[] gamma = KernelEquivalenceProperties.randomArray(r, cout);
        float[] beta = KernelEquivalenceProperties.randomArray(r, cout);
        float[] mean = KernelEquivalenceProperties.randomArray(r, cout);
        float[] var = new float[cout];
        for (int i = 0; i < cout; i++) {
            var[i] = 0.1f + r.nextFloat();
        }
        Tensor x = KernelEquivalenceProperties.random(r, 1, cin, 9, 11);
        Tensor conv = K.conv2d(spec, w, b).apply(x, Activation.NONE);
        float[] expected = conv.toArray();
        int hw = 9 * 11;
        for (int o = 0; o < cout; o++) {
            for (int i = 0; i < hw; i++) {
                double v = (expected[o * hw + i] - mean[o]) / Math.sqrt(var[o] + BatchNorm.EPS) * gamma[o] + beta[o];
                expected[o * hw + i] = (float) v;
            }
        }
        float[] wf = w.clone();
        float[] bf = BatchNorm.fold(wf, b, gamma, beta, mean, var);
        Tensor folded = K.conv2d(spec, wf, bf).apply(x, Activation.NONE);
        KernelEquivalenceProperties.assertClose(Tensor.of(expected, conv.shape()), folded, 2e-5 * cin * kernel * kernel);
    }

    @Property(tries = 100)
    void taylorTransformMapsDrivingKeypointToSourceKeypoint(@ForAll @IntRange(min = 2, max = 40) int h,
                                                           @ForAll @IntRange(min = 2, max = 40) int w,
                                                           @ForAll long seed) {
        Random r = new Random(seed);
        int k = 3;
        int[] px = new int[k], py = new int[k];
        float[] gx = CoordinateGrid.axis(w), gy = CoordinateGrid.axis(h);
        float[] kd = new float[k * 2];
        for (int i = 0; i < k; i++) {
            px[i] = r.nextInt(w);
            py[i] = r.nextInt(h);
            kd[i * 2] = gx[px[i]];
            kd[i * 2 + 1] = gy[py[i]];
        }
        Tensor kpD = Tensor.of(kd, 1, k, 2);
        Tensor kpS = KernelEquivalenceProperties.random(r, 1, k, 2);
        Tensor affine = KernelEquivalenceProperties.random(r, 1, k, 2, 2);
        Tensor motions = K.taylorMotions(kpD, kpS, affine, h, w);
        for (int i = 0; i < k; i++) {
            int o = (((i + 1) * h + py[i]) * w + px[i]) * 2;
            assertEquals(kpS.get(i * 2), motions.get(o), 1e-6, "x of T(kp_d) for keypoint " + i);
            assertEquals(kpS.get(i * 2 + 1), motions.get(o + 1), 1e-6, "y of T(kp_d) for keypoint " + i);
        }
        // Region 0 is the identity grid.
        assertEquals(gx[w - 1], motions.get(((h - 1) * w + w - 1) * 2));
    }

    @Property(tries = 60)
    void nearestUpsamplingThenAveragePoolingIsIdentity(@ForAll @IntRange(min = 1, max = 17) int h,
                                                      @ForAll @IntRange(min = 1, max = 17) int w, @ForAll long seed) {
        Tensor x = KernelEquivalenceProperties.random(new Random(seed), 1, 2, h, w);
        KernelEquivalenceProperties.assertClose(x, K.avgPool2x2(K.upsampleNearest2x(x)), 0);
    }

    @Property(tries = 60)
    void bilinearResizeToTheSameSizeIsIdentity(@ForAll @IntRange(min = 1, max = 17) int h,
                                               @ForAll @IntRange(min = 1, max = 17) int w,
                                               @ForAll boolean alignCorners, @ForAll long seed) {
        Tensor x = KernelEquivalenceProperties.random(new Random(seed), 1, 2, h, w);
        KernelEquivalenceProperties.assertClose(x, K.resizeBilinear(x, h, w, alignCorners), 1e-6);
    }

    @Property(tries = 60)
    void mixingWithOneHotMasksSelectsThatMotion(@ForAll @IntRange(min = 1, max = 6) int m,
                                                @ForAll @IntRange(min = 1, max = 9) int h, @ForAll long seed) {
        Random r = new Random(seed);
        int pick = r.nextInt(m);
        Tensor motions = KernelEquivalenceProperties.random(r, 1, m, h, h, 2);
        float[] masks = new float[m * h * h];
        for (int i = 0; i < h * h; i++) {
            masks[pick * h * h + i] = 1f;
        }
        Tensor mixed = K.mixMotions(Tensor.of(masks, 1, m, h, h), motions);
        for (int i = 0; i < h * h * 2; i++) {
            assertEquals(motions.get(pick * h * h * 2 + i), mixed.get(i));
        }
    }
}
