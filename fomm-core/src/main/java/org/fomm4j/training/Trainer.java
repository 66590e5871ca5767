package org.fomm4j.training;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.fomm4j.config.FommConfig;
import org.fomm4j.kernels.Parallel;
import org.fomm4j.tensor.FrameArena;
import org.fomm4j.training.autograd.BatchShards;
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
    private final int shards;
    /** Per shard: the loss on a parameter view with its own gradients (shard 0 uses {@link #parameters}). */
    private final GeneratorFullModel[] shardModels;
    private final Parameters[] shardParameters;
    private final ExecutorService shardThreads;
    /**
     * Per shard, the large buffers of the previous step handed out again ({@link FrameArena}; {@code null}
     * with {@code -Dfomm4j.trainArena=false}). Every activation, activation gradient and convolution
     * scratch buffer of a step dies with its tape, and a step asks for the same sizes in the same order as
     * the one before, so after the first step a step allocates (almost) none of its few GB: fresh arrays
     * had to be zeroed by the JVM, and at about 7 GB/s (a JFR allocation profile of run 20, 25 keypoints)
     * G1 was running a concurrent cycle more than once a second for the humongous ones.
     */
    private final FrameArena[] arenas;
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
        this.shards = shards;
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
        this.full = new GeneratorFullModel(new FommTrainingModel(config, parameters, params.freezeBatchNorm()), params);
        this.shardModels = new GeneratorFullModel[shards];
        this.shardParameters = new Parameters[shards];
        for (int i = 0; i < shards; i++) {
            shardParameters[i] = i == 0 ? parameters : parameters.withOwnGradients();
            shardModels[i] = i == 0 ? full : new GeneratorFullModel(new FommTrainingModel(config, shardParameters[i], params.freezeBatchNorm()), params);
        }
        this.arenas = new FrameArena[shards];
        if (Boolean.parseBoolean(System.getProperty("fomm4j.trainArena", "true"))) {
            for (int i = 0; i < shards; i++) {
                arenas[i] = new FrameArena();
            }
        }
        this.shardThreads = shards == 1 ? null : Executors.newFixedThreadPool(shards - 1, r -> {
            Thread t = new Thread(r, "fomm4j-training-shard");
            t.setDaemon(true);
            return t;
        });
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
        return shards;
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

    /** The largest source-driving frame gap of the current step ({@link TrainParams#maxFrameGap(long, long)}). */
    public int maxFrameGap() {
        return params.maxFrameGap(step, (long) params.numEpochs() * stepsPerEpoch());
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
        int gap = maxFrameGap();
        Parallel.forEach(batch, i -> data.pair(new SplittableRandom(mix(seed, s, i)), gap, source, driving, i * frame));
        EquivarianceTransform transform = EquivarianceTransform.random(batch, params.sigmaAffine(), params.sigmaTps(),
                params.pointsTps(), new Random(mix(seed, s, -1)));
        double[] losses = shards == 1 ? wholeBatch(source, driving, transform) : sharded(source, driving, transform);
        adamKp.step();
        adamGenerator.step();
        step++;
        if (!Double.isFinite(losses[0])) {
            throw new ArithmeticException("training diverged at step " + step + ": loss " + losses[0]);
        }
        return new StepResult(step, epoch, losses[0], losses[1], losses[2], losses[3], losses[4],
                (System.nanoTime() - t0) / 1e9, adamGenerator.learningRate(), batch, gap);
    }

    /** Forward and backward of the whole batch on one tape; {total, reconstruction, eq. value, eq. jacobian, separation}. */
    private double[] wholeBatch(float[] source, float[] driving, EquivarianceTransform transform) {
        int h = data.frameHeight(), w = data.frameWidth();
        try (FrameArena.Frame frame = enter(0)) {
            Tape tape = new Tape();
            GeneratorFullModel.Result r = full.forward(tape, Var.constant(source, batch, 3, h, w),
                    Var.constant(driving, batch, 3, h, w), transform);
            parameters.zeroGrad();
            tape.backward(r.total());
            return losses(r);
        }
    }

    /** Floats handed out again by the step arenas, and freshly allocated by them, over all shards ({0, 0} without arenas). */
    long[] arenaStats() {
        long[] t = new long[2];
        for (FrameArena a : arenas) {
            if (a != null) {
                t[0] += a.stats()[0];
                t[1] += a.stats()[1];
            }
        }
        return t;
    }

    /** Enters shard {@code shard}'s arena on this thread ({@code null}, closed by try-with-resources as a no-op, without one). */
    private FrameArena.Frame enter(int shard) {
        return arenas[shard] == null ? null : arenas[shard].enter();
    }

    /**
     * The batch split into {@link #shards} equal parts, one thread each, each part's loss the mean over its
     * samples: the batch's loss is the mean of the parts' losses and its gradient the mean of their gradients
     * (exact, as BatchNorm reduces over all parts).
     */
    private double[] sharded(float[] source, float[] driving, EquivarianceTransform transform) {
        int h = data.frameHeight(), w = data.frameWidth(), per = batch / shards, size = per * 3 * h * w;
        BatchShards group = new BatchShards(shards);
        double[][] losses = new double[shards][];
        Throwable[] errors = new Throwable[shards];
        Runnable[] tasks = new Runnable[shards];
        for (int i = 0; i < shards; i++) {
            int shard = i;
            tasks[i] = () -> Parallel.serially(() -> {
                try (FrameArena.Frame frame = enter(shard)) {
                    Tape tape = new Tape(group, shard);
                    GeneratorFullModel.Result r = shardModels[shard].forward(tape,
                            Var.constant(Arrays.copyOfRange(source, shard * size, (shard + 1) * size), per, 3, h, w),
                            Var.constant(Arrays.copyOfRange(driving, shard * size, (shard + 1) * size), per, 3, h, w),
                            transform.slice(shard * per, per));
                    shardParameters[shard].zeroGrad();
                    tape.backward(r.total());
                    losses[shard] = losses(r);
                } catch (Throwable e) {
                    errors[shard] = e;
                    group.abort();
                }
            });
        }
        List<Future<?>> running = new ArrayList<>();
        for (int i = 1; i < shards; i++) {
            running.add(shardThreads.submit(tasks[i]));
        }
        tasks[0].run();
        for (Future<?> f : running) {
            try {
                f.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("training step interrupted", e);
            } catch (ExecutionException e) {
                throw new IllegalStateException(e.getCause());
            }
        }
        // The first real failure, not the aborts it caused in the other shards.
        Throwable first = Arrays.stream(errors).filter(e -> e != null && !(e instanceof BatchShards.Aborted)).findFirst()
                .orElse(Arrays.stream(errors).filter(java.util.Objects::nonNull).findFirst().orElse(null));
        if (first != null) {
            rethrow(first);
        }
        float scale = 1f / shards;
        for (Map.Entry<String, Var> e : parameters.parameters().entrySet()) {
            float[] g = e.getValue().grad();
            for (int s = 1; s < shards; s++) {
                Var other = shardParameters[s].parameter(e.getKey());
                if (other.hasGrad()) {
                    float[] o = other.grad();
                    for (int j = 0; j < g.length; j++) {
                        g[j] += o[j];
                    }
                }
            }
            for (int j = 0; j < g.length; j++) {
                g[j] *= scale;
            }
        }
        double[] mean = new double[5];
        for (double[] l : losses) {
            for (int j = 0; j < mean.length; j++) {
                mean[j] += l[j] / shards;
            }
        }
        return mean;
    }

    private static double[] losses(GeneratorFullModel.Result r) {
        return new double[] {r.total().item(), r.reconstructionLoss().item(),
                r.equivarianceValue() == null ? 0 : r.equivarianceValue().item(),
                r.equivarianceJacobian() == null ? 0 : r.equivarianceJacobian().item(),
                r.keypointSeparation() == null ? 0 : r.keypointSeparation().item()};
    }

    private static void rethrow(Throwable e) {
        if (e instanceof RuntimeException re) {
            throw re;
        }
        if (e instanceof Error err) {
            throw err;
        }
        throw new IllegalStateException(e);
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
