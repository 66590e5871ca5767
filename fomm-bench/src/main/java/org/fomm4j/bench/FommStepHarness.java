package org.fomm4j.bench;

import java.util.Arrays;
import org.fomm4j.animation.AnimationMode;
import org.fomm4j.animation.FommAnimator;
import org.fomm4j.animation.TpsmmAnimator;
import org.fomm4j.config.FommConfig;
import org.fomm4j.config.TpsmmConfig;
import org.fomm4j.networks.tpsmm.TpsmmModel;
import org.fomm4j.kernels.KernelProvider;
import org.fomm4j.kernels.Parallel;
import org.fomm4j.networks.fomm.FommModel;
import org.fomm4j.tensor.Tensor;

/**
 * A quick report without JMH: seconds per animation step of the full-size vox-256 models with random
 * weights (median of N frames after warm-up), the convolution FLOPs per step and the achieved
 * GFLOP/s, GC and allocation during the timed steps. Usage: {@code FommStepHarness [frames] [fomm|tpsmm|both]};
 * {@code -Dfomm4j.warmup=N} warm-up frames (default 20); {@code -Dfomm4j.profile=true} adds the time per
 * convolution shape, per network and per other kernel, {@code -Dfomm4j.shapes=true} times every convolution
 * algorithm on every shape.
 */
public final class FommStepHarness {
    private FommStepHarness() {
    }

    private static double peak;

    public static void main(String[] args) {
        int frames = args.length > 0 ? Integer.parseInt(args[0]) : 7;
        String which = args.length > 1 ? args[1] : "both";
        System.out.println(Machine.describe());
        var widths = FmaPeak.perWidth(Parallel.threads());
        peak = widths.values().stream().mapToDouble(Double::doubleValue).max().orElse(1);
        StringBuilder sb = new StringBuilder();
        widths.forEach((bits, g) -> sb.append(String.format(" %d-bit %.0f", bits, g)));
        System.out.printf("measured FMA peak (12 chains/thread, %d threads), GFLOP/s:%s; one thread: %.0f%n",
                Parallel.threads(), sb, FmaPeak.measure(1));
        System.out.printf("kernels: %s%n", KernelProvider.get().name());
        if (!which.equals("tpsmm")) {
            fomm(frames);
        }
        if (!which.equals("fomm")) {
            tpsmm(frames);
        }
    }

    private static void tpsmm(int frames) {
        TpsmmConfig c = BenchModels.tpsmmConfig("vox-256");
        CountingKernels k = new CountingKernels(KernelProvider.get());
        TpsmmModel model = TpsmmModel.createRandom(c, 42, k);
        Tensor source = BenchModels.image(1, c.frameHeight(), c.frameWidth());
        k.convFlops.reset();
        try (TpsmmAnimator anim = new TpsmmAnimator(model, source, AnimationMode.RELATIVE, false)) {
            long sourceFlops = k.convFlops.sumThenReset();
            Tensor driving = BenchModels.image(2, c.frameHeight(), c.frameWidth());
            anim.animate(driving);
            long stepFlops = k.convFlops.sumThenReset();
            report("TPSMM", k, sourceFlops, stepFlops, frames, () -> anim.animate(driving));
        }
    }

    private static void report(String name, CountingKernels k, long sourceFlops, long stepFlops, int frames, Runnable step) {
        // -Dfomm4j.warmup=N frames first (default 20): the JIT compiles the once-per-frame code paths only
        // after tens of frames.
        for (int i = 0, n = Integer.getInteger("fomm4j.warmup", 20); i < n; i++) {
            step.run();
        }
        double[] t = new double[frames];
        long gcCount0 = gcCount(), gcMs0 = gcMillis(), alloc0 = allocatedBytes();
        for (int i = 0; i < frames; i++) {
            long t0 = System.nanoTime();
            step.run();
            t[i] = (System.nanoTime() - t0) / 1e9;
        }
        long gcs = gcCount() - gcCount0, gcMs = gcMillis() - gcMs0, alloc = allocatedBytes() - alloc0;
        Arrays.sort(t);
        double median = t[frames / 2];
        System.out.printf("%s vox-256, kernels %s, %d threads%n", name, k.name(), Parallel.threads());
        System.out.printf("source side (once): %.1f GFLOP; per step: %.1f GFLOP (convolutions)%n", sourceFlops / 1e9, stepFlops / 1e9);
        System.out.printf("seconds per step: median %.3f (min %.3f, max %.3f over %d frames)%n", median, t[0], t[frames - 1], frames);
        System.out.printf("effective: %.1f GFLOP/s (direct-convolution FLOPs per second; Winograd layers execute 4x fewer), %.0f%% of the measured FMA peak%n", stepFlops / median / 1e9,
                100 * stepFlops / median / 1e9 / peak);
        System.out.printf("peak RSS so far: %s; during the timed steps: %d GCs (%d ms), %.1f MB allocated per step (all threads)%n",
                peakRss(), gcs, gcMs, alloc / 1e6 / frames);
        System.out.printf("fomm4j %s step s %.3f (min %.3f max %.3f, %d reps, %d threads)%n", name.toLowerCase(), median,
                t[0], t[frames - 1], frames, Parallel.threads());
        if (Boolean.getBoolean("fomm4j.profile")) {
            k.layers.clear();
            k.networks.clear();
            k.ops.clear();
            k.profile = true;
            long t0 = System.nanoTime();
            step.run();
            double total = (System.nanoTime() - t0) / 1e9;
            k.profile = false;
            double convs = 0;
            System.out.println("  per convolution shape (GFLOP/s counts the direct convolution's multiply-adds,"
                    + " so Winograd layers can exceed the peak):");
            for (var e : k.layers.entrySet()) {
                convs += e.getValue()[0] / 1e9;
                double g = e.getValue()[1] / (double) e.getValue()[0];
                System.out.printf("  conv %s %8.1f ms %6.1f GFLOP/s %4.0f%% of peak%n", e.getKey(), e.getValue()[0] / 1e6,
                        g, 100 * g / peak);
            }
            System.out.println("  per network (convolutions only):");
            for (var e : k.networks.entrySet()) {
                double g = e.getValue()[1] / (double) e.getValue()[0];
                System.out.printf("  %-26s %8.1f ms %6.1f GFLOP %6.1f GFLOP/s %4.0f%% of peak%n", e.getKey(),
                        e.getValue()[0] / 1e6, e.getValue()[1] / 1e9, g, 100 * g / peak);
            }
            double others = 0;
            StringBuilder sb = new StringBuilder("  other kernels, ms:");
            for (var e : k.ops.entrySet()) {
                others += e.getValue()[0] / 1e9;
                sb.append(String.format(" %s %.1f", e.getKey(), e.getValue()[0] / 1e6));
            }
            System.out.println(sb);
            System.out.printf("  profiled step %.3f s: convolutions %.3f s (%.0f%%), other kernels %.3f s, the rest"
                    + " (keypoint math, TPS, concatenation, copies) %.3f s%n", total, convs, 100 * convs / total, others,
                    total - convs - others);
            if (Boolean.getBoolean("fomm4j.shapes")) {
                ConvShapes.compare(k.shapes, peak);
            }
        }
    }

    static long gcCount() {
        return java.lang.management.ManagementFactory.getGarbageCollectorMXBeans().stream()
                .mapToLong(java.lang.management.GarbageCollectorMXBean::getCollectionCount).sum();
    }

    static long gcMillis() {
        return java.lang.management.ManagementFactory.getGarbageCollectorMXBeans().stream()
                .mapToLong(java.lang.management.GarbageCollectorMXBean::getCollectionTime).sum();
    }

    /** Bytes allocated so far by all live threads (HotSpot's per-thread counters). */
    static long allocatedBytes() {
        if (java.lang.management.ManagementFactory.getThreadMXBean() instanceof com.sun.management.ThreadMXBean b) {
            long[] ids = b.getAllThreadIds();
            long sum = 0;
            for (long a : b.getThreadAllocatedBytes(ids)) {
                sum += Math.max(0, a);
            }
            return sum;
        }
        return 0;
    }

    /** VmHWM of this process (Linux), for the memory report. */
    static String peakRss() {
        try {
            for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/status"))) {
                if (line.startsWith("VmHWM:")) {
                    return line.substring(6).trim();
                }
            }
        } catch (java.io.IOException | RuntimeException e) {
            // not Linux
        }
        return "unknown";
    }

    private static void fomm(int frames) {
        FommConfig c = BenchModels.fommConfig("vox-256");
        CountingKernels k = new CountingKernels(KernelProvider.get());
        FommModel model = FommModel.createRandom(c, 42, k);
        Tensor source = BenchModels.image(1, c.frameHeight(), c.frameWidth());
        k.convFlops.reset();
        try (FommAnimator anim = new FommAnimator(model, source, AnimationMode.RELATIVE)) {
            long sourceFlops = k.convFlops.sumThenReset();
            Tensor driving = BenchModels.image(2, c.frameHeight(), c.frameWidth());
            anim.animate(driving);
            long stepFlops = k.convFlops.sumThenReset();
            report("FOMM", k, sourceFlops, stepFlops, frames, () -> anim.animate(driving));
        }
    }
}
