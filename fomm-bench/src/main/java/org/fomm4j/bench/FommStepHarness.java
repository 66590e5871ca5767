package org.fomm4j.bench;

import java.util.Arrays;
import org.fomm4j.animation.AnimationMode;
import org.fomm4j.animation.FommAnimator;
import org.fomm4j.config.FommConfig;
import org.fomm4j.kernels.KernelProvider;
import org.fomm4j.kernels.Parallel;
import org.fomm4j.networks.fomm.FommModel;
import org.fomm4j.tensor.Tensor;

/**
 * A quick report without JMH: seconds per FOMM animation step (median of N frames after warm-up),
 * the convolution FLOPs per step and the achieved GFLOP/s. Usage: {@code FommStepHarness [frames]}.
 */
public final class FommStepHarness {
    private FommStepHarness() {
    }

    public static void main(String[] args) {
        int frames = args.length > 0 ? Integer.parseInt(args[0]) : 7;
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
            for (int i = 0; i < 2; i++) {
                anim.animate(driving);
            }
            double[] t = new double[frames];
            for (int i = 0; i < frames; i++) {
                long t0 = System.nanoTime();
                anim.animate(driving);
                t[i] = (System.nanoTime() - t0) / 1e9;
            }
            Arrays.sort(t);
            double median = t[frames / 2];
            System.out.printf("FOMM vox-256, kernels %s, %d threads%n", k.name(), Parallel.threads());
            System.out.printf("source side (once): %.1f GFLOP; per step: %.1f GFLOP (convolutions)%n", sourceFlops / 1e9, stepFlops / 1e9);
            System.out.printf("seconds per step: median %.3f (min %.3f, max %.3f over %d frames)%n", median, t[0], t[frames - 1], frames);
            System.out.printf("achieved: %.1f GFLOP/s%n", stepFlops / median / 1e9);
            if (Boolean.getBoolean("fomm4j.profile")) {
                k.profile = true;
                long t0 = System.nanoTime();
                anim.animate(driving);
                double total = (System.nanoTime() - t0) / 1e9;
                double convs = 0;
                for (var e : k.layers.entrySet()) {
                    convs += e.getValue()[0] / 1e9;
                    System.out.printf("  conv %s %8.1f ms %6.1f GFLOP/s%n", e.getKey(), e.getValue()[0] / 1e6,
                            e.getValue()[1] / (double) e.getValue()[0]);
                }
                System.out.printf("  profiled step %.3f s, of which convolutions %.3f s%n", total, convs);
            }
        }
    }
}
