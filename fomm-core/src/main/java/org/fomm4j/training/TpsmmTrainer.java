package org.fomm4j.training;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.SplittableRandom;
import org.fomm4j.config.TpsmmConfig;
import org.fomm4j.kernels.Parallel;
import org.fomm4j.training.autograd.Var;
import org.fomm4j.training.data.TrainingData;

/**
 * TPSMM's training loop (the reference {@code train.py}): per step a batch of (source, driving) pairs, the
 * {@link TpsmmFullModel} loss, its gradient, gradients clipped to an inf-norm of 10 for the keypoint
 * detector, the dense motion network and the background predictor ({@code clip_grad_norm_}), then one
 * {@link Adam} step ({@code weight_decay=1e-4}) for keypoint detector, dense motion and inpainting networks
 * together, and one for the background predictor once it has started ({@code bg_start}); all at
 * {@code lr_generator}, times 0.1 at each epoch milestone. TPS dropout before {@code dropout_epoch}.
 *
 * <p>As for FOMM's {@link Trainer}, the batch, the equivariance transform and the dropout mask of step
 * {@code s} depend only on the seed and {@code s}, so a resumed run sees the data the uninterrupted one would,
 * and the batch may be split over threads ({@link DataParallelStep}).
 */
public final class TpsmmTrainer implements ModelTrainer {
    static final double WEIGHT_DECAY = 1e-4;
    static final double MAX_GRAD_NORM = 10;

    private final TpsmmConfig config;
    private final TrainParams params;
    private final TpsmmTrainParams tpsmm;
    private final Parameters parameters;
    private final TrainingData data;
    private final TpsmmFullModel[] shardModels;
    private final DataParallelStep parallel;
    private final Adam adam;
    private final Adam adamBg;
    private final long seed;
    private final int batch;
    private long step;

    /**
     * @param batch  pairs per step
     * @param shards parts the batch is split into, one thread each
     * @throws IllegalArgumentException if the data's frame size does not fit the model, or {@code shards} does not
     *                                  divide {@code batch}
     */
    public TpsmmTrainer(TpsmmConfig config, TrainParams params, TpsmmTrainParams tpsmm, Parameters parameters,
                        TrainingData data, long seed, int batch, int shards) {
        if (shards < 1 || batch % shards != 0) {
            throw new IllegalArgumentException("training: " + shards + " shards do not divide a batch of " + batch);
        }
        int h = data.frameHeight(), w = data.frameWidth();
        int motion = 1 << config.denseMotion().numBlocks(), inpaint = 1 << config.generator().numDownBlocks();
        double scale = config.denseMotion().scaleFactor();
        if (h * scale % motion != 0 || w * scale % motion != 0 || h % inpaint != 0 || w % inpaint != 0 || h < 32 || w < 32) {
            throw new IllegalArgumentException("training frames of " + h + "x" + w + " do not fit this model: at least 32x32, "
                    + "divisible by " + inpaint + ", and by " + motion + " after the dense motion network's downsampling by " + scale);
        }
        this.config = config;
        this.params = params;
        this.tpsmm = tpsmm;
        this.parameters = parameters;
        this.data = data;
        this.seed = seed;
        this.batch = batch;
        this.parallel = new DataParallelStep(shards, parameters);
        this.shardModels = new TpsmmFullModel[shards];
        for (int i = 0; i < shards; i++) {
            shardModels[i] = new TpsmmFullModel(new TpsmmTrainingModel(config, parallel.parameters(i)), params, tpsmm);
        }
        Map<String, Var> main = new LinkedHashMap<>();
        main.putAll(parameters.parameters("inpainting_network."));
        main.putAll(parameters.parameters("dense_motion_network."));
        main.putAll(parameters.parameters("kp_detector."));
        this.adam = new Adam(main, params.lrGenerator(), WEIGHT_DECAY);
        this.adamBg = new Adam(parameters.parameters("bg_predictor."), params.lrGenerator(), WEIGHT_DECAY);
    }

    /** A step's losses, weighted as in the total ({@code warp}, {@code bg} 0 when off). */
    public record StepResult(long step, int epoch, double total, double reconstruction, double equivarianceValue,
                             double warp, double bg, double seconds, double learningRate, int batch, int maxFrameGap) {
        public double samplesPerSecond() {
            return batch / seconds;
        }
    }

    @Override
    public long step() {
        return step;
    }

    @Override
    public long stepsPerEpoch() {
        return Math.max(1, ((long) params.numRepeats() * data.videos() + batch - 1) / batch);
    }

    @Override
    public Parameters parameters() {
        return parameters;
    }

    public TpsmmConfig config() {
        return config;
    }

    /** Runs one training step. */
    public StepResult trainStep() {
        long t0 = System.nanoTime();
        int epoch = epoch();
        double lr = params.lrGenerator() * params.lrFactor(epoch);
        adam.setLearningRate(lr);
        adamBg.setLearningRate(lr);
        int h = data.frameHeight(), w = data.frameWidth(), frame = 3 * h * w;
        float[] source = new float[batch * frame], driving = new float[batch * frame];
        long s = step;
        int gap = params.maxFrameGap(step, (long) params.numEpochs() * stepsPerEpoch());
        Parallel.forEach(batch, i -> data.pair(new SplittableRandom(Trainer.mix(seed, s, i)), gap, source, driving, i * frame));
        Random rng = new Random(Trainer.mix(seed, s, -1));
        TpsEquivarianceTransform transform = TpsEquivarianceTransform.random(batch, params.sigmaAffine(), params.sigmaTps(),
                params.pointsTps(), rng);
        int k1 = config.numTps() + 1;
        float[] keep = TpsmmFullModel.dropoutMask(batch, config.numTps(), tpsmm.dropoutP(epoch), rng);
        double[] losses = parallel.run(batch, (tape, shard, from, count) -> {
            TpsmmFullModel.Result r = shardModels[shard].forward(tape,
                    Var.constant(Arrays.copyOfRange(source, from * frame, (from + count) * frame), count, 3, h, w),
                    Var.constant(Arrays.copyOfRange(driving, from * frame, (from + count) * frame), count, 3, h, w), epoch,
                    transform.slice(from, count), keep == null ? null : Arrays.copyOfRange(keep, from * k1, (from + count) * k1));
            return new Var[] {r.total(), r.reconstructionLoss(), r.equivarianceValue(), r.warpLoss(), r.bgLoss()};
        });
        boolean bg = config.bg() && epoch >= tpsmm.bgStart();
        Adam.clipGradNormInf(parameters.parameters("kp_detector.").values(), MAX_GRAD_NORM);
        Adam.clipGradNormInf(parameters.parameters("dense_motion_network.").values(), MAX_GRAD_NORM);
        adam.step();
        if (bg) {
            Adam.clipGradNormInf(parameters.parameters("bg_predictor.").values(), MAX_GRAD_NORM);
            adamBg.step();
        }
        step++;
        if (!Double.isFinite(losses[0])) {
            throw new ArithmeticException("training diverged at step " + step + ": loss " + losses[0]);
        }
        return new StepResult(step, epoch, losses[0], losses[1], losses[2], losses[3], losses[4],
                (System.nanoTime() - t0) / 1e9, lr, batch, gap);
    }

    @Override
    public StepLog nextStep() {
        StepResult r = trainStep();
        String summary = String.format(Locale.ROOT, "(reconstruction %.4f, equivariance %.4f, warp %.4f, background %.4f)",
                r.reconstruction(), r.equivarianceValue(), r.warp(), r.bg());
        String csv = String.format(Locale.ROOT, "%d,%d,%.6f,%.6f,%.6f,%.6f,%.6f,%.3g,%.4f,%.2f", r.step(), r.epoch(), r.total(),
                r.reconstruction(), r.equivarianceValue(), r.warp(), r.bg(), r.learningRate(), r.seconds(), r.samplesPerSecond());
        return new StepLog(r.step(), r.epoch(), r.total(), summary, csv, r.seconds(), r.learningRate(), r.batch(), r.maxFrameGap());
    }

    @Override
    public String logHeader() {
        return "step,epoch,loss_total,loss_reconstruction,loss_equivariance_value,loss_warp,loss_bg,learning_rate,seconds,"
                + "samples_per_second";
    }

    @Override
    public Map<String, float[]> optimizerState() {
        Map<String, float[]> m = new LinkedHashMap<>();
        adam.state().forEach((k, v) -> m.put("generator." + k, v));
        adamBg.state().forEach((k, v) -> m.put("bg_predictor." + k, v));
        return m;
    }

    @Override
    public void restore(Map<String, float[]> optimizer, long step) {
        adam.load(Trainer.strip(optimizer, "generator."));
        adamBg.load(Trainer.strip(optimizer, "bg_predictor."));
        this.step = step;
    }
}
