package org.fomm4j.bench;

import java.util.concurrent.TimeUnit;
import org.fomm4j.animation.AnimationMode;
import org.fomm4j.animation.TpsmmAnimator;
import org.fomm4j.config.TpsmmConfig;
import org.fomm4j.kernels.KernelProvider;
import org.fomm4j.networks.tpsmm.TpsmmModel;
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
 * One TPSMM animation step at full size (official vox-256 config, random weights): keypoints of the
 * driving frame, TPS dense motion, inpainting. The source side (keypoints, encoder maps) is computed
 * once in setup, as the real animation loop does.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xmx6g", "-XX:+UseParallelGC"})
@Warmup(iterations = 3, time = 5)
@Measurement(iterations = 5, time = 10)
public class TpsmmStepBenchmark {
    @Param({"vox-256"})
    public String config;

    @Param({"RELATIVE"})
    public AnimationMode mode;

    private TpsmmAnimator animator;
    private Tensor driving;

    @Setup
    public void setup() {
        TpsmmConfig c = BenchModels.tpsmmConfig(config);
        TpsmmModel model = TpsmmModel.createRandom(c, 42, KernelProvider.get());
        animator = new TpsmmAnimator(model, BenchModels.image(1, c.frameHeight(), c.frameWidth()), mode, false);
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
