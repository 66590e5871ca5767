package org.fomm4j.bench;

import java.util.concurrent.atomic.LongAdder;
import org.fomm4j.kernels.Activation;
import org.fomm4j.kernels.Conv2d;
import org.fomm4j.kernels.ConvSpec;
import org.fomm4j.kernels.GridPadding;
import org.fomm4j.kernels.Kernels;
import org.fomm4j.tensor.Tensor;

/** Wraps kernels and counts the convolution FLOPs (2 per multiply-add) actually executed. */
final class CountingKernels implements Kernels {
    private final Kernels k;
    final LongAdder convFlops = new LongAdder();
    /** Per layer shape: nanoseconds and FLOPs, when {@code profile} is on. */
    final java.util.Map<String, long[]> layers = new java.util.concurrent.ConcurrentSkipListMap<>();
    /** Per network (the innermost {@code org.fomm4j.networks} class that built the layer): nanoseconds and FLOPs. */
    final java.util.Map<String, long[]> networks = new java.util.concurrent.ConcurrentSkipListMap<>();
    volatile boolean profile;
    /** Per layer shape key: the spec and input height and width, for timing the algorithms one by one. */
    final java.util.Map<String, Object[]> shapes = new java.util.concurrent.ConcurrentSkipListMap<>();

    /** The network class constructing the convolution: looked up once per layer, when it is built. */
    private static String network() {
        return StackWalker.getInstance().walk(frames -> frames
                .map(StackWalker.StackFrame::getClassName)
                .filter(c -> c.startsWith("org.fomm4j.networks.") && !c.endsWith("Model"))
                .findFirst()
                .map(c -> c.substring(c.lastIndexOf('.') + 1))
                .orElse("other"));
    }

    CountingKernels(Kernels k) {
        this.k = k;
    }

    @Override
    public String name() {
        return k.name();
    }

    // Every method is delegated, the interface's default ones too: a default left to the interface runs its
    // scalar reference (the jacobian head's correlation did, 6% of a FOMM step, until CountingKernelsTest).
    @Override
    public boolean vectorApi() {
        return k.vectorApi();
    }

    @Override
    public void gemmTN(float[] a, int m, float[] b, int n, int q, float[] c, int j0, int j1) {
        k.gemmTN(a, m, b, n, q, c, j0, j1);
    }

    @Override
    public void convWeightGradient(float[] x, int xOff, int xSample, float[] dy, int dyOff, int dySample, int n,
                                   int oCount, int k, int wp, int len, float[] dw, int dwOff, int dwStride) {
        this.k.convWeightGradient(x, xOff, xSample, dy, dyOff, dySample, n, oCount, k, wp, len, dw, dwOff, dwStride);
    }

    @Override
    public Tensor gridSample(Tensor input, Tensor grid, boolean alignCorners) {
        return gridSample(input, grid, alignCorners, GridPadding.ZEROS);
    }

    @Override
    public Conv2d conv2d(ConvSpec spec, float[] weight, float[] bias) {
        Conv2d c = k.conv2d(spec, weight, bias);
        String net = network();
        return new Conv2d() {
            @Override
            public ConvSpec spec() {
                return spec;
            }

            @Override
            public Tensor applyAdd(Tensor input, Activation activation, Tensor residual) {
                return measure(input.dim(0), input.dim(2), input.dim(3), () -> c.applyAdd(input, activation, residual));
            }

            @Override
            public Tensor applyUpsampled2x(Tensor input, Activation activation) {
                return measure(input.dim(0), 2 * input.dim(2), 2 * input.dim(3), () -> c.applyUpsampled2x(input, activation));
            }

            @Override
            public Tensor apply(Tensor input, Activation activation) {
                return measure(input.dim(0), input.dim(2), input.dim(3), () -> c.apply(input, activation));
            }

            private Tensor measure(int n, int h, int w, java.util.function.Supplier<Tensor> run) {
                long f = n * spec.flops(h, w);
                convFlops.add(f);
                if (!profile) {
                    return run.get();
                }
                long t0 = System.nanoTime();
                Tensor out = run.get();
                long dt = System.nanoTime() - t0;
                String key = String.format("%4d->%4d k%d %3dx%-3d", spec.inChannels(), spec.outChannels(), spec.kernelH(), h, w);
                shapes.putIfAbsent(key, new Object[] {spec, h, w});
                long[] acc = layers.computeIfAbsent(key, x -> new long[2]);
                synchronized (acc) {
                    acc[0] += dt;
                    acc[1] += f;
                }
                long[] nacc = networks.computeIfAbsent(net, x -> new long[2]);
                synchronized (nacc) {
                    nacc[0] += dt;
                    nacc[1] += f;
                }
                return out;
            }
        };
    }
    /** Per non-convolution kernel: nanoseconds, when {@code profile} is on. */
    final java.util.Map<String, long[]> ops = new java.util.concurrent.ConcurrentSkipListMap<>();

    private <T> T timed(String op, java.util.function.Supplier<T> f) {
        if (!profile) {
            return f.get();
        }
        long t0 = System.nanoTime();
        T r = f.get();
        long dt = System.nanoTime() - t0;
        long[] acc = ops.computeIfAbsent(op, x -> new long[1]);
        synchronized (acc) {
            acc[0] += dt;
        }
        return r;
    }

    @Override public Tensor relu(Tensor x) { return timed("relu", () -> k.relu(x)); }
    @Override public Tensor sigmoid(Tensor x) { return timed("sigmoid", () -> k.sigmoid(x)); }
    @Override public Tensor channelAffine(Tensor x, float[] s, float[] t, boolean relu) { return timed("channelAffine", () -> k.channelAffine(x, s, t, relu)); }
    @Override public Tensor instanceNorm(Tensor x, float[] g, float[] b, boolean relu) { return timed("instanceNorm", () -> k.instanceNorm(x, g, b, relu)); }
    @Override public Tensor maxPool2d(Tensor x, int kk, int s, int p) { return timed("maxPool2d", () -> k.maxPool2d(x, kk, s, p)); }
    @Override public Tensor add(Tensor a, Tensor b) { return timed("add", () -> k.add(a, b)); }
    @Override public Tensor multiplyByMap(Tensor x, Tensor map) { return timed("multiplyByMap", () -> k.multiplyByMap(x, map)); }
    @Override public Tensor avgPool2x2(Tensor x) { return timed("avgPool2x2", () -> k.avgPool2x2(x)); }
    @Override public Tensor upsampleNearest2x(Tensor x) { return timed("upsampleNearest2x", () -> k.upsampleNearest2x(x)); }
    @Override public Tensor resizeBilinear(Tensor x, int h, int w, boolean a) { return timed("resizeBilinear", () -> k.resizeBilinear(x, h, w, a)); }
    @Override public Tensor gridSample(Tensor in, Tensor grid, boolean a, GridPadding p) { return timed("gridSample", () -> k.gridSample(in, grid, a, p)); }
    @Override public Tensor softmaxSpatial(Tensor x, float t) { return timed("softmaxSpatial", () -> k.softmaxSpatial(x, t)); }
    @Override public Tensor softmaxChannels(Tensor x) { return timed("softmaxChannels", () -> k.softmaxChannels(x)); }
    @Override public Tensor mixMotions(Tensor m, Tensor mo) { return timed("mixMotions", () -> k.mixMotions(m, mo)); }
    @Override public Tensor taylorMotions(Tensor d, Tensor s, Tensor a, int h, int w) { return timed("taylorMotions", () -> k.taylorMotions(d, s, a, h, w)); }
    @Override public Tensor tpsMotions(Tensor d, Tensor s, int g, int h, int w) { return timed("tpsMotions", () -> k.tpsMotions(d, s, g, h, w)); }
}
