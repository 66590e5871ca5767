package org.fomm4j.bench;

import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.fomm4j.kernels.KernelProvider;
import org.fomm4j.kernels.Kernels;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The convolution weight gradient {@code dW[o, i, ky, kx] = sum_{s, y, x} dY[s, o, y, x] X[s, i, y + ky, x + kx]}
 * ({@link Kernels#convWeightGradient}), on one thread, over a whole layer of the creatures training config
 * (batch 8), laid out as {@code ConvOps.weightGradient} lays it out (zero-padded input planes, output-gradient
 * rows widened to the padded row length) and cut into its tasks of 8 output channels for one input channel.
 * The work is {@code 2 * n * cout * cin * k * k * h * w} flops, so GFLOP/s = that / (ms per op * 1e6).
 * Shapes {@code n x cin -> cout, k x k, h x w (pad)}: the generator's up-block convolution and down-block
 * convolution at 64x64, a bottleneck convolution at 32x32, its first 7x7 and last 7x7 (3 output channels: a
 * 4-channel tile with one channel dropped), and a keypoint-detector hourglass level at 16x16.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xmx2g"})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class ConvWeightGradientBenchmark {
    /** {@code n,cin,cout,k,h,pad} (square planes). */
    @Param({"8,128,64,3,64,1", "8,64,128,3,64,1", "8,128,128,3,32,1", "8,3,64,7,64,3", "8,64,3,7,64,3",
            "8,64,64,3,16,1"})
    public String shape;

    private Kernels kernels;
    private float[] x;
    private float[] dy;
    private float[] dw;
    private int n;
    private int cin;
    private int cout;
    private int k;
    private int wp;
    private int xPlane;
    private int len;

    @Setup
    public void setup() {
        String[] p = shape.split(",");
        n = Integer.parseInt(p[0]);
        cin = Integer.parseInt(p[1]);
        cout = Integer.parseInt(p[2]);
        k = Integer.parseInt(p[3]);
        int h = Integer.parseInt(p[4]), pad = Integer.parseInt(p[5]);
        int hp = h + 2 * pad, oh = hp - k + 1;
        wp = hp;
        xPlane = hp * wp + k - 1;
        len = oh * wp;
        kernels = KernelProvider.panama();
        Random r = new Random(7);
        x = new float[n * cin * xPlane];
        dy = new float[n * cout * len];
        dw = new float[cout * cin * k * k];
        for (int i = 0; i < x.length; i++) {
            x[i] = r.nextFloat() - 0.5f;
        }
        for (int i = 0; i < dy.length; i++) {
            dy[i] = r.nextFloat() - 0.5f;
        }
    }

    @Benchmark
    public float[] layer() {
        int chunk = 8, blocks = (cout + chunk - 1) / chunk, kk = k * k;
        for (int task = 0; task < cin * blocks; task++) {
            int i = task / blocks, o0 = (task % blocks) * chunk, o1 = Math.min(cout, o0 + chunk);
            kernels.convWeightGradient(x, i * xPlane, cin * xPlane, dy, o0 * len, cout * len, n, o1 - o0, k, wp, len,
                    dw, (o0 * cin + i) * kk, cin * kk);
        }
        return dw;
    }
}
