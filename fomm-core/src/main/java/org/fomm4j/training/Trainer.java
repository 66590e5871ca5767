package org.fomm4j.training;

import java.util.Map;
import java.util.Random;
import java.util.SplittableRandom;
import org.fomm4j.config.FommConfig;
import org.fomm4j.kernels.Parallel;
import org.fomm4j.training.autograd.Tape;
import org.fomm4j.training.autograd.Var;
import org.fomm4j.training.data.TrainingData;

/**
 * FOMM's training loop ({@code train.py} of the reference, generator side): per step a batch of
 * (source, driving) pairs, the {@link GeneratorFullModel} loss, its gradient, and one {@link Adam} step for
 * the keypoint detector and one for the generator, with the learning rates of {@code train_params}
 * multiplied by 0.1 at each epoch milestone. An epoch is {@code num_repeats} passes over the dataset's
 * videos, one pair per video.
 *
 * <p>The batch and the equivariance transform of step {@code s} depend only on the seed and {@code s}, so a
 * run resumed from a checkpoint sees the same data as the uninterrupted run would (values agree to float32
 * rounding: the Vector API's lane reductions add in another order before and after the JIT compiles them).
 */
public final class Trainer {
    private final FommConfig config;
    private final TrainParams params;
    private final Parameters parameters;
    private final TrainingData data;
    private final GeneratorFullModel full;
    private final Adam adamKp;
    private final Adam adamGenerator;
    private final long seed;
    private final int batch;
    private long step;

    /** The losses of one step (weighted as in the total) and its time. */
    public record StepResult(long step, int epoch, double total, double reconstruction, double equivarianceValue,
                             double equivarianceJacobian, double seconds, double learningRate, int batch) {
        public double samplesPerSecond() {
            return batch / seconds;
        }
    }

    /**
     * @param batch pairs per step ({@code train_params.batch_size} unless overridden)
     * @throws IllegalArgumentException if the data's frame size does not fit the model
     */
    public Trainer(FommConfig config, TrainParams params, Parameters parameters, TrainingData data, long seed, int batch) {
        this.config = config;
        this.params = params;
        this.parameters = parameters;
        this.data = data;
        this.seed = seed;
        this.batch = batch;
        int need = 1 << Math.max(config.kpDetector().numBlocks(), config.generator().denseMotion() == null ? 0
                : config.generator().denseMotion().numBlocks());
        double minScale = Math.min(config.kpDetector().scaleFactor(),
                config.generator().denseMotion() == null ? 1 : config.generator().denseMotion().scaleFactor());
        if (data.frameHeight() * minScale % need != 0 || data.frameWidth() * minScale % need != 0) {
            throw new IllegalArgumentException("training frames of " + data.frameHeight() + "x" + data.frameWidth()
                    + " do not fit this model: after its downsampling by " + minScale + " they must be divisible by " + need);
        }
        this.full = new GeneratorFullModel(new FommTrainingModel(config, parameters), params);
        this.adamKp = new Adam(parameters.parameters("kp_detector."), params.lrKpDetector());
        this.adamGenerator = new Adam(parameters.parameters("generator."), params.lrGenerator());
    }

    public long step() {
        return step;
    }

    public Parameters parameters() {
        return parameters;
    }

    public FommConfig config() {
        return config;
    }

    /** Steps per epoch: {@code ceil(num_repeats * videos / batch)}. */
    public long stepsPerEpoch() {
        return Math.max(1, ((long) params.numRepeats() * data.videos() + batch - 1) / batch);
    }

    public int epoch() {
        return (int) (step / stepsPerEpoch());
    }

    /** Runs one training step. */
    public StepResult trainStep() {
        long t0 = System.nanoTime();
        int epoch = epoch();
        double factor = params.lrFactor(epoch);
        adamKp.setLearningRate(params.lrKpDetector() * factor);
        adamGenerator.setLearningRate(params.lrGenerator() * factor);
        int h = data.frameHeight(), w = data.frameWidth(), frame = 3 * h * w;
        float[] source = new float[batch * frame], driving = new float[batch * frame];
        long s = step;
        Parallel.forEach(batch, i -> data.pair(new SplittableRandom(mix(seed, s, i)), source, driving, i * frame));
        EquivarianceTransform transform = EquivarianceTransform.random(batch, params.sigmaAffine(), params.sigmaTps(),
                params.pointsTps(), new Random(mix(seed, s, -1)));
        Tape tape = new Tape();
        GeneratorFullModel.Result r = full.forward(tape, Var.constant(source, batch, 3, h, w),
                Var.constant(driving, batch, 3, h, w), transform);
        parameters.zeroGrad();
        tape.backward(r.total());
        adamKp.step();
        adamGenerator.step();
        step++;
        if (!Double.isFinite(r.total().item())) {
            throw new ArithmeticException("training diverged at step " + step + ": loss " + r.total().item());
        }
        return new StepResult(step, epoch, r.total().item(), r.reconstructionLoss().item(),
                r.equivarianceValue() == null ? 0 : r.equivarianceValue().item(),
                r.equivarianceJacobian() == null ? 0 : r.equivarianceJacobian().item(),
                (System.nanoTime() - t0) / 1e9, adamGenerator.learningRate(), batch);
    }

    private static long mix(long seed, long step, int item) {
        long z = seed * 0x9E3779B97F4A7C15L + step * 0xBF58476D1CE4E5B9L + item * 0x94D049BB133111EBL;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        return z ^ (z >>> 31);
    }

    /** Optimizer state for a checkpoint: {@code kp_detector.*} and {@code generator.*} moments and steps. */
    public Map<String, float[]> optimizerState() {
        Map<String, float[]> m = new java.util.LinkedHashMap<>();
        adamKp.state().forEach((k, v) -> m.put("kp_detector." + k, v));
        adamGenerator.state().forEach((k, v) -> m.put("generator." + k, v));
        return m;
    }

    /** Restores {@link #optimizerState()} and the step count of a checkpoint. */
    public void restore(Map<String, float[]> optimizer, long step) {
        adamKp.load(strip(optimizer, "kp_detector."));
        adamGenerator.load(strip(optimizer, "generator."));
        this.step = step;
    }

    private static Map<String, float[]> strip(Map<String, float[]> m, String prefix) {
        Map<String, float[]> out = new java.util.LinkedHashMap<>();
        m.forEach((k, v) -> {
            if (k.startsWith(prefix)) {
                out.put(k.substring(prefix.length()), v);
            }
        });
        return out;
    }
}
