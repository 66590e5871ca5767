package org.fomm4j.bench;

import java.util.concurrent.TimeUnit;
import org.fomm4j.animation.AnimationMode;
import org.fomm4j.animation.FommAnimator;
import org.fomm4j.config.FommConfig;
import org.fomm4j.kernels.KernelProvider;
import org.fomm4j.networks.fomm.FommModel;
import org.fomm4j.tensor.Tensor;
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
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One FOMM animation step at full size (official vox-256 config, random weights): keypoints of the
 * driving frame, dense motion, generator decoding. The source side (source keypoints, encoder
 * features) is computed once in setup, as the real animation loop does. Reports seconds per frame.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xmx6g", "-XX:+UseParallelGC"})
@Warmup(iterations = 3, time = 5)
@Measurement(iterations = 5, time = 10)
public class FommStepBenchmark {
    @Param({"vox-256"})
    public String config;

    private FommAnimator animator;
    private Tensor driving;

    @Setup
    public void setup() {
        FommConfig c = BenchModels.fommConfig(config);
        FommModel model = FommModel.createRandom(c, 42, KernelProvider.get());
        animator = new FommAnimator(model, BenchModels.image(1, c.frameHeight(), c.frameWidth()), AnimationMode.RELATIVE);
        driving = BenchModels.image(2, c.frameHeight(), c.frameWidth());
        animator.animate(driving);
    }

    @Benchmark
    public Tensor animationStep() {
        return animator.animate(driving);
    }

    @TearDown
    public void close() {
        animator.close();
    }
}
