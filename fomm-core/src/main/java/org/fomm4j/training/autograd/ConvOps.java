package org.fomm4j.training.autograd;

import java.util.concurrent.ConcurrentHashMap;
import org.fomm4j.kernels.Activation;
import org.fomm4j.kernels.Conv2d;
import org.fomm4j.kernels.ConvSpec;
import org.fomm4j.kernels.ConvWeightGradient;
import org.fomm4j.kernels.KernelProvider;
import org.fomm4j.kernels.Kernels;
import org.fomm4j.tensor.Tensor;

/**
 * {@code nn.Conv2d} (zero padding, one group, square kernel; stride 1, or any stride by {@link #conv2d(Tape, Var, Var, Var, int, int)}) with its backward pass.
 *
 * <p>Forward and input gradient run on the inference convolutions of {@link Kernels} (Winograd or direct,
 * vectorized, parallel): for stride 1 the input gradient is the convolution of the output gradient with
 * the weights transposed ({@code O <-> I}) and flipped, padded {@code k - 1 - pad}. The weight gradient
 * is {@code dW[o, i, ky, kx] = sum_{n, y, x} dY[n, o, y, x] * X[n, i, y + ky - pad, x + kx - pad]}, a
 * correlation of each input plane with each output-gradient plane ({@link Kernels#convWeightGradient},
 * no im2col), split over (input channel, output block) pairs across the pool.
 */
public final class ConvOps {
    /** The kernels every forward pass of this package runs on (the inference ones). */
    static final Kernels K = KernelProvider.get();
    /** Floating-point operations (2 per multiply-add) of every convolution run here, forward and backward. */
    private static final java.util.concurrent.atomic.LongAdder FLOPS = new java.util.concurrent.atomic.LongAdder();

    /** Convolution FLOPs (2 per multiply-add) done so far by this class: forward, input and weight gradients. */
    public static long flops() {
        return FLOPS.sum();
    }

    private ConvOps() {
    }

    /** An open {@link #shareBuiltConvolutions} scope; closing it drops what it built. */
    public interface Scope extends AutoCloseable {
        @Override
        void close();
    }

    /** A convolution as built from one weight array (by identity) and bias array, or its transposed-flipped twin. */
    private record Built(float[] weight, float[] bias, ConvSpec spec, boolean transposed) {
    }

    /** The convolutions built in the open {@link #shareBuiltConvolutions} scope, or null outside one. */
    private static volatile ConcurrentHashMap<Built, Conv2d> shared;

    /**
     * Opens a scope in which every convolution is built (weights transformed to the Winograd domain or packed
     * for the GEMM tiles) once per weight array and reused: by the shards of a data-parallel step, by the three
     * keypoint-detector passes of a TPSMM step, by every input gradient of a layer. Training rebuilt them at
     * every use, because the weights change every step: in a JFR of a TPSMM run (tps2, Zen 3) 15% of the samples
     * were in building them and 4.4% in transposing weights for the input gradients. The weights must not change in place while it is open (the optimizer steps
     * after it closes; finite-difference checks, which perturb weights, run outside one).
     *
     * @throws IllegalStateException if a scope is already open
     */
    public static Scope shareBuiltConvolutions() {
        synchronized (ConvOps.class) {
            if (shared != null) {
                throw new IllegalStateException("a shared-convolution scope is already open");
            }
            shared = new ConcurrentHashMap<>();
        }
        return () -> shared = null;
    }

    /** {@code K.conv2d(spec, w, b)}, shared within an open scope. */
    private static Conv2d conv(ConvSpec spec, float[] w, float[] b) {
        ConcurrentHashMap<Built, Conv2d> cache = shared;
        return cache == null ? K.conv2d(spec, w, b) : cache.computeIfAbsent(new Built(w, b, spec, false), k -> K.conv2d(spec, w, b));
    }

    /** Counts {@code flops} convolution FLOPs done outside {@link #conv2d} (the fused jacobian head). */
    static void countFlops(long flops) {
        FLOPS.add(flops);
    }

    /**
     * @param x    {@code [N, I, H, W]}
     * @param w    {@code [O, I, k, k]}
     * @param b    {@code [O]} or {@code null}
     * @param pad  zero padding on every side
     * @return {@code [N, O, H + 2 pad - k + 1, W + 2 pad - k + 1]}
     * @throws IllegalArgumentException if the shapes do not match
     */
    public static Var conv2d(Tape t, Var x, Var w, Var b, int pad) {
        if (x.rank() != 4 || w.rank() != 4 || w.dim(1) != x.dim(1) || w.dim(2) != w.dim(3)) {
            throw new IllegalArgumentException("conv2d: input " + x + " and weight " + w + " do not match");
        }
        int n = x.dim(0), ci = x.dim(1), h = x.dim(2), wd = x.dim(3);
        int co = w.dim(0), k = w.dim(2);
        if (b != null) {
            b.requireShape("conv2d bias", co);
        }
        ConvSpec spec = ConvSpec.of(ci, co, k, pad);
        int oh = spec.outH(h), ow = spec.outW(wd);
        Tensor y = conv(spec, w.value(), b == null ? null : b.value())
                .apply(Tensor.of(x.value(), n, ci, h, wd), Activation.NONE);
        long macs = (long) n * co * ci * k * k * oh * ow;
        FLOPS.add(2 * macs);
        Var out = t.output(y.data(), new int[] {n, co, oh, ow}, x, w, b);
        t.record(out, () -> backward(x, w, b, out.grad(), n, ci, h, wd, co, k, pad, oh, ow));
        return out;
    }

    /**
     * Adds the gradients of a stride-1 convolution {@code x [N, I, H, W] -> [N, O, oh, ow]} for the output
     * gradient {@code dy} to those of {@code x}, {@code w} and {@code b} that require one.
     */
    private static void backward(Var x, Var w, Var b, float[] dy, int n, int ci, int h, int wd, int co, int k, int pad,
                                 int oh, int ow) {
        long macs = (long) n * co * ci * k * k * oh * ow;
        if (b != null && b.requiresGrad()) {
            float[] db = b.grad();
            int plane = oh * ow;
            for (int s = 0; s < n; s++) {
                for (int o = 0; o < co; o++) {
                    double acc = 0;
                    int base = (s * co + o) * plane;
                    for (int p = 0; p < plane; p++) {
                        acc += dy[base + p];
                    }
                    db[o] += (float) acc;
                }
            }
        }
        if (w.requiresGrad()) {
            FLOPS.add(2 * macs);
            weightGradient(x.value(), dy, w.grad(), n, ci, h, wd, co, k, pad, oh, ow);
        }
        if (x.requiresGrad()) {
            FLOPS.add(2 * macs);
            float[] dx = inputGradient(dy, w.value(), n, ci, co, k, pad, oh, ow);
            float[] g = x.grad();
            for (int i = 0; i < g.length; i++) {
                g[i] += dx[i];
            }
        }
    }

    /**
     * {@code nn.Conv2d} with a stride (ResNet-18's stem, first blocks of stages 2-4 and their 1x1 shortcuts).
     * The forward pass runs the strided inference convolution; the backward pass spreads the output gradient
     * onto the stride-1 output grid (zeros between) and takes the stride-1 gradients from there, which is
     * exact because a strided output is the stride-1 output at every {@code stride}-th position.
     *
     * @param x      {@code [N, I, H, W]}
     * @param w      {@code [O, I, k, k]}
     * @param b      {@code [O]} or {@code null}
     * @param stride 1 or more
     * @param pad    zero padding on every side
     * @return {@code [N, O, (H + 2 pad - k) / stride + 1, (W + 2 pad - k) / stride + 1]}
     * @throws IllegalArgumentException if the shapes do not match
     */
    public static Var conv2d(Tape t, Var x, Var w, Var b, int stride, int pad) {
        if (stride == 1) {
            return conv2d(t, x, w, b, pad);
        }
        if (x.rank() != 4 || w.rank() != 4 || w.dim(1) != x.dim(1) || w.dim(2) != w.dim(3)) {
            throw new IllegalArgumentException("conv2d: input " + x + " and weight " + w + " do not match");
        }
        int n = x.dim(0), ci = x.dim(1), h = x.dim(2), wd = x.dim(3);
        int co = w.dim(0), k = w.dim(2);
        if (b != null) {
            b.requireShape("conv2d bias", co);
        }
        ConvSpec spec = new ConvSpec(ci, co, k, k, stride, pad, pad, 1);
        int oh = spec.outH(h), ow = spec.outW(wd);
        Tensor y = conv(spec, w.value(), b == null ? null : b.value())
                .apply(Tensor.of(x.value(), n, ci, h, wd), Activation.NONE);
        long macs = (long) n * co * ci * k * k * oh * ow;
        FLOPS.add(2 * macs);
        Var out = t.output(y.data(), new int[] {n, co, oh, ow}, x, w, b);
        int fh = h + 2 * pad - k + 1, fw = wd + 2 * pad - k + 1;
        t.record(out, () -> {
            float[] dy = out.grad();
            float[] full = new float[n * co * fh * fw];
            for (int plane = 0; plane < n * co; plane++) {
                for (int yy = 0; yy < oh; yy++) {
                    for (int xx = 0; xx < ow; xx++) {
                        full[(plane * fh + yy * stride) * fw + xx * stride] = dy[(plane * oh + yy) * ow + xx];
                    }
                }
            }
            // The zeros between add nothing to the bias's sums.
            backward(x, w, b, full, n, ci, h, wd, co, k, pad, fh, fw);
        });
        return out;
    }

    /** {@code conv(dY, flip(W)^T, pad k-1-pad)}: {@code [N, I, H, W]}. */
    static float[] inputGradient(float[] dy, float[] w, int n, int ci, int co, int k, int pad, int oh, int ow) {
        int tp = k - 1 - pad;
        ConvSpec spec = ConvSpec.of(co, ci, k, Math.max(tp, 0));
        ConcurrentHashMap<Built, Conv2d> cache = shared;
        Conv2d conv = cache == null ? transposed(spec, w, ci, co, k)
                : cache.computeIfAbsent(new Built(w, null, spec, true), key -> transposed(spec, w, ci, co, k));
        float[] full = conv
                .apply(Tensor.of(dy, n, co, oh, ow), Activation.NONE).data();
        if (tp >= 0) {
            return full;
        }
        // Padding wider than the kernel: the gradient is the inner part of the unpadded transposed convolution.
        int fh = oh - k + 1, fw = ow - k + 1, h = oh - 2 * pad + k - 1, wd = ow - 2 * pad + k - 1, off = -tp;
        float[] dx = new float[n * ci * h * wd];
        for (int p = 0; p < n * ci; p++) {
            for (int y = 0; y < h; y++) {
                System.arraycopy(full, (p * fh + y + off) * fw + off, dx, (p * h + y) * wd, wd);
            }
        }
        return dx;
    }

    /** The convolution with {@code w [co, ci, k, k]} transposed ({@code O <-> I}) and flipped. */
    private static Conv2d transposed(ConvSpec spec, float[] w, int ci, int co, int k) {
        float[] wt = new float[w.length];
        int kk = k * k;
        for (int o = 0; o < co; o++) {
            for (int i = 0; i < ci; i++) {
                int src = (o * ci + i) * kk, dst = (i * co + o) * kk;
                for (int q = 0; q < kk; q++) {
                    wt[dst + q] = w[src + kk - 1 - q];
                }
            }
        }
        return K.conv2d(spec, wt, null);
    }

    /** {@link ConvWeightGradient#accumulate} on this package's kernels. */
    static void weightGradient(float[] x, float[] dy, float[] dw, int n, int ci, int h, int wd, int co, int k, int pad,
                               int oh, int ow) {
        ConvWeightGradient.accumulate(K, x, dy, dw, n, ci, h, wd, co, k, pad, oh, ow);
    }
}
