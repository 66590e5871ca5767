package org.fomm4j.training;

import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import java.util.SplittableRandom;
import org.fomm4j.config.FommConfig;
import org.fomm4j.kernels.Parallel;
import org.fomm4j.training.autograd.BatchShards;
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
public final class Trainer implements ModelTrainer {
    private final FommConfig config;
    private final TrainParams params;
    private final Parameters parameters;
    private final TrainingData data;
    private final Adam adamKp;
    private final Adam adamGenerator;
    private final long seed;
    private final int batch;
    /** Per shard: the loss on its view of the parameters ({@link DataParallelStep#parameters}). */
    private final GeneratorFullModel[] shardModels;
    private final DataParallelStep parallel;
    private long step;

    /** The losses of one step (weighted as in the total; {@code keypointSeparation} 0 when its weight is),
     * its time, and the frame gap its pairs had at most ({@link TrainParams#UNLIMITED_GAP} without
     * {@code max_frame_gap}). */
    public record StepResult(long step, int epoch, double total, double reconstruction, double equivarianceValue,
                             double equivarianceJacobian, double keypointSeparation, double seconds, double learningRate,
                             int batch, int maxFrameGap) {
        public double samplesPerSecond() {
            return batch / seconds;
        }

        /** As {@code fomm train} logs and prints it. */
        public StepLog log() {
            String summary = String.format(java.util.Locale.ROOT, "(reconstruction %.4f, equivariance %.4f + %.4f%s)",
                    reconstruction, equivarianceValue, equivarianceJacobian,
                    keypointSeparation == 0 ? "" : String.format(java.util.Locale.ROOT, ", separation %.4f", keypointSeparation));
            String csv = String.format(java.util.Locale.ROOT, "%d,%d,%.6f,%.6f,%.6f,%.6f,%.3g,%.4f,%.2f,%.6f", step, epoch,
                    total, reconstruction, equivarianceValue, equivarianceJacobian, learningRate, seconds, samplesPerSecond(),
                    keypointSeparation);
            return new StepLog(step, epoch, total, summary, csv, seconds, learningRate, batch, maxFrameGap);
        }
    }

    @Override
    public StepLog nextStep() {
        return trainStep().log();
    }

    @Override
    public String logHeader() {
        return "step,epoch,loss_total,loss_reconstruction,loss_equivariance_value,loss_equivariance_jacobian,learning_rate,"
                + "seconds,samples_per_second,loss_keypoint_separation";
    }

    /**
     * @param batch pairs per step ({@code train_params.batch_size} unless overridden)
     * @throws IllegalArgumentException if the data's frame size does not fit the model
     */
    public Trainer(FommConfig config, TrainParams params, Parameters parameters, TrainingData data, long seed, int batch) {
        this(config, params, parameters, data, seed, batch, defaultShards(batch));
    }

    /**
     * @param shards parts the batch is split into, each run on its own thread ({@link BatchShards}: BatchNorm
     *               statistics are synchronized, so the step is the unsplit one up to float32 summation order)
     * @throws IllegalArgumentException if the data's frame size does not fit the model, or {@code shards} does
     *                                  not divide {@code batch}
     */
    public Trainer(FommConfig config, TrainParams params, Parameters parameters, TrainingData data, long seed, int batch,
                   int shards) {
        if (shards < 1 || batch % shards != 0) {
            throw new IllegalArgumentException("training: " + shards + " shards do not divide a batch of " + batch);
        }
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
        this.parallel = new DataParallelStep(shards, parameters);
        this.shardModels = new GeneratorFullModel[shards];
        for (int i = 0; i < shards; i++) {
            shardModels[i] = new GeneratorFullModel(new FommTrainingModel(config, parallel.parameters(i), params.freezeBatchNorm()), params);
        }
        this.adamKp = new Adam(parameters.parameters("kp_detector."), params.lrKpDetector());
        this.adamGenerator = new Adam(parameters.parameters("generator."), params.lrGenerator());
    }

    /**
     * Shards for a batch: one per core ({@code -Dfomm4j.threads}), as many as divide the batch, or
     * {@code -Dfomm4j.trainShards=N}. Data parallelism, because one training sample is hundreds of small
     * operations (4x4 planes, 2x2 matrices) that a parallel loop per operation cannot keep two cores busy on.
     */
    public static int defaultShards(int batch) {
        int want = Integer.getInteger("fomm4j.trainShards", Parallel.threads());
        int s = Math.max(1, Math.min(want, batch));
        while (batch % s != 0) {
            s--;
        }
        return s;
    }

    /** Parts each batch is split into. */
    public int shards() {
        return parallel.shards();
    }

    @Override
    public long step() {
        return step;
    }

    @Override
    public Parameters parameters() {
        return parameters;
    }

    public FommConfig config() {
        return config;
    }

    /** Steps per epoch: {@code ceil(num_repeats * videos / batch)}. */
    @Override
    public long stepsPerEpoch() {
        return Math.max(1, ((long) params.numRepeats() * data.videos() + batch - 1) / batch);
    }

    /** The largest source-driving frame gap of the current step ({@link TrainParams#maxFrameGap(long, long)}). */
    public int maxFrameGap() {
        return params.maxFrameGap(step, (long) params.numEpochs() * stepsPerEpoch());
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
        int gap = maxFrameGap();
        Parallel.forEach(batch, i -> data.pair(new SplittableRandom(mix(seed, s, i)), gap, source, driving, i * frame));
        EquivarianceTransform transform = EquivarianceTransform.random(batch, params.sigmaAffine(), params.sigmaTps(),
                params.pointsTps(), new Random(mix(seed, s, -1)));
        int per = batch / parallel.shards(), size = per * frame;
        double[] losses = parallel.run(batch, (tape, shard, from, count) -> {
            EquivarianceTransform t = parallel.shards() == 1 ? transform : transform.slice(from, count);
            GeneratorFullModel.Result r = shardModels[shard].forward(tape,
                    Var.constant(parallel.shards() == 1 ? source : Arrays.copyOfRange(source, from * frame, from * frame + size), count, 3, h, w),
                    Var.constant(parallel.shards() == 1 ? driving : Arrays.copyOfRange(driving, from * frame, from * frame + size), count, 3, h, w), t);
            return new Var[] {r.total(), r.reconstructionLoss(), r.equivarianceValue(), r.equivarianceJacobian(), r.keypointSeparation()};
        });
        adamKp.step();
        adamGenerator.step();
        step++;
        if (!Double.isFinite(losses[0])) {
            throw new ArithmeticException("training diverged at step " + step + ": loss " + losses[0]);
        }
        return new StepResult(step, epoch, losses[0], losses[1], losses[2], losses[3], losses[4],
                (System.nanoTime() - t0) / 1e9, adamGenerator.learningRate(), batch, gap);
    }

    /** Floats handed out again by the step arenas, and freshly allocated by them, over all shards ({0, 0} without arenas). */
    long[] arenaStats() {
        return parallel.arenaStats();
    }

    /** The seed of item {@code item} of step {@code step} (-1: the step's transform), from the run's seed alone. */
    static long mix(long seed, long step, int item) {
        long z = seed * 0x9E3779B97F4A7C15L + step * 0xBF58476D1CE4E5B9L + item * 0x94D049BB133111EBL;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        return z ^ (z >>> 31);
    }

    /** Optimizer state for a checkpoint: {@code kp_detector.*} and {@code generator.*} moments and steps. */
    @Override
    public Map<String, float[]> optimizerState() {
        Map<String, float[]> m = new java.util.LinkedHashMap<>();
        adamKp.state().forEach((k, v) -> m.put("kp_detector." + k, v));
        adamGenerator.state().forEach((k, v) -> m.put("generator." + k, v));
        return m;
    }

    /** Restores {@link #optimizerState()} and the step count of a checkpoint. */
    @Override
    public void restore(Map<String, float[]> optimizer, long step) {
        adamKp.load(strip(optimizer, "kp_detector."));
        adamGenerator.load(strip(optimizer, "generator."));
        this.step = step;
    }

    /** The entries of {@code m} under {@code prefix}, without it. */
    static Map<String, float[]> strip(Map<String, float[]> m, String prefix) {
        Map<String, float[]> out = new java.util.LinkedHashMap<>();
        m.forEach((k, v) -> {
            if (k.startsWith(prefix)) {
                out.put(k.substring(prefix.length()), v);
            }
        });
        return out;
    }
}
