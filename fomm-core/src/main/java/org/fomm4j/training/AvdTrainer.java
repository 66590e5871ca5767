package org.fomm4j.training;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.SplittableRandom;
import org.fomm4j.config.TpsmmConfig;
import org.fomm4j.kernels.Parallel;
import org.fomm4j.networks.tpsmm.TpsmmKpDetector;
import org.fomm4j.networks.tpsmm.TpsmmModel;
import org.fomm4j.tensor.Tensor;
import org.fomm4j.training.autograd.LossOps;
import org.fomm4j.training.autograd.Tape;
import org.fomm4j.training.autograd.TensorOps;
import org.fomm4j.training.autograd.Var;
import org.fomm4j.training.data.TrainingData;

/**
 * TPSMM's second training stage (the reference {@code train_avd.py}, {@code run.py --mode train_avd}): the
 * animation-via-disentanglement network learns to rebuild a driving frame's keypoints from the source
 * frame's keypoints (identity) and the driving keypoints scaled at random per axis (pose with another
 * identity's proportions), so that {@code fomm animate --mode avd} can move a source by a driving video of
 * another identity without copying its shape. Per step: a batch of (source, driving) pairs of the same
 * training videos (any two frames), keypoints of both from the trained keypoint detector (frozen, on the
 * inference path), {@code kp_random = diag(theta) kp_driving} with {@code theta ~ U(1 - random_scale,
 * 1 + random_scale)^2} per sample, loss {@code lambda_shift * mean|kp_driving - avd(kp_source, kp_random)|},
 * one {@link Adam} step (betas 0.5, 0.999) on {@code avd_network.*} only, at {@code lr} times
 * {@link AvdTrainParams#lrFactor}. Every other network stays as trained.
 *
 * <p>One deviation, deliberate: the reference never calls {@code kp_detector.eval()} in this stage, so its
 * keypoint detector normalizes with each batch's statistics and moves its BatchNorm running statistics
 * while the AVD network trains (its checkpoint's keypoint detector changes). Ours detects in evaluation
 * mode, the keypoints that {@code fomm animate} will feed the AVD network, and leaves the detector as it was.
 *
 * <p>The batch and the scales of step {@code s} depend only on the seed and {@code s}, so a resumed run sees
 * the data the uninterrupted one would.
 */
public final class AvdTrainer implements ModelTrainer {
    /** Pairs per keypoint-detector call: bounds the frames and activations held at once. */
    private static final int DETECT_CHUNK = 32;

    private final TpsmmConfig config;
    private final AvdTrainParams params;
    private final Parameters parameters;
    private final TrainingData data;
    private final TpsmmModel detectorModel;
    private final AvdTrainingModel model;
    private final Map<String, Var> trained;
    private final Adam adam;
    private final long seed;
    private final int batch;
    private long step;

    /**
     * @param parameters a trained TPSMM's parameters and buffers (all of them, as saved); {@code avd_network.*}
     *                   is trained, the rest only read
     * @throws IllegalArgumentException if {@code batch < 2} (BatchNorm1d statistics) or the data's frames are
     *                                  not the model's size
     */
    public AvdTrainer(TpsmmConfig config, AvdTrainParams params, Parameters parameters, TrainingData data, long seed,
                      int batch) {
        if (batch < 2) {
            throw new IllegalArgumentException("AVD training needs a batch of at least 2 (BatchNorm1d statistics), got " + batch);
        }
        if (data.frameHeight() != config.frameHeight() || data.frameWidth() != config.frameWidth()) {
            throw new IllegalArgumentException("training frames of " + data.frameHeight() + "x" + data.frameWidth()
                    + " do not fit this model's " + config.frameHeight() + "x" + config.frameWidth());
        }
        this.config = config;
        this.params = params;
        this.parameters = parameters;
        this.data = data;
        this.seed = seed;
        this.batch = batch;
        // The detector is frozen: an inference model on a copy of the weights now is the same network for the whole run.
        this.detectorModel = TpsmmModel.create(config, parameters.toStateDict());
        this.model = new AvdTrainingModel(config, parameters);
        this.trained = parameters.parameters("avd_network.");
        if (trained.isEmpty()) {
            throw new IllegalArgumentException("the model has no avd_network.* parameters to train");
        }
        this.adam = new Adam(trained, params.lr());
    }

    /** One step's loss and timing. */
    public record StepResult(long step, int epoch, double loss, double seconds, double learningRate, int batch) {
    }

    @Override
    public long step() {
        return step;
    }

    /** The reference's DataLoader with {@code drop_last}: {@code num_repeats * videos / batch} steps, at least 1. */
    @Override
    public long stepsPerEpoch() {
        return Math.max(1, (long) params.numRepeats() * data.videos() / batch);
    }

    @Override
    public Parameters parameters() {
        return parameters;
    }

    /**
     * The keypoints of step {@code s}'s pairs by the frozen detector, {@code [batch, P, 2]} each for the sources and
     * the driving frames. Pairs are drawn and detected {@link #DETECT_CHUNK} at a time, so memory does not grow
     * with the batch (a batch of 256 at 256x256 would be 400 MB of frames).
     */
    private float[][] keypoints(long s) {
        int h = config.frameHeight(), w = config.frameWidth(), frame = 3 * h * w, kpSize = config.numTps() * 5 * 2;
        TpsmmKpDetector detector = detectorModel.kpDetector();
        float[] kpSource = new float[batch * kpSize], kpDriving = new float[batch * kpSize];
        for (int from = 0; from < batch; from += DETECT_CHUNK) {
            int n = Math.min(DETECT_CHUNK, batch - from), first = from;
            float[] source = new float[n * frame], driving = new float[n * frame];
            Parallel.forEach(n, i -> data.pair(new SplittableRandom(Trainer.mix(seed, s, first + i)), TrainParams.UNLIMITED_GAP,
                    source, driving, i * frame));
            System.arraycopy(detector.detect(Tensor.of(source, n, 3, h, w)).toArray(), 0, kpSource, from * kpSize, n * kpSize);
            System.arraycopy(detector.detect(Tensor.of(driving, n, 3, h, w)).toArray(), 0, kpDriving, from * kpSize, n * kpSize);
        }
        return new float[][] {kpSource, kpDriving};
    }

    /** Runs one training step. */
    public StepResult trainStep() {
        long t0 = System.nanoTime();
        int epoch = epoch();
        double lr = params.lr() * params.lrFactor(epoch);
        adam.setLearningRate(lr);
        long s = step;
        float[][] kp = keypoints(s);
        float[] kpSource = kp[0], kpDriving = kp[1];
        Random rng = new Random(Trainer.mix(seed, s, -1));
        float[] theta = new float[2 * batch];
        for (int i = 0; i < theta.length; i++) {
            theta[i] = (float) (rng.nextDouble() * 2 * params.randomScale() + 1 - params.randomScale());
        }
        double loss = step(kpSource, kpDriving, theta).loss();
        step++;
        if (!Double.isFinite(loss)) {
            throw new ArithmeticException("AVD training diverged at step " + step + ": loss " + loss);
        }
        return new StepResult(step, epoch, loss, (System.nanoTime() - t0) / 1e9, lr, batch);
    }

    /**
     * The step after the keypoints: forward, backward and Adam on given keypoints and scales (what the parity
     * fixture fixes). Does not advance {@link #step()}.
     *
     * @param kpSource  {@code [batch, P, 2]}
     * @param kpDriving {@code [batch, P, 2]}: the target
     * @param theta     {@code [batch, 2]}: the scales of x and y
     * @return the loss and the reconstructed keypoints {@code [batch, P, 2]}, before the update
     */
    Outcome step(float[] kpSource, float[] kpDriving, float[] theta) {
        int points = config.numTps() * 5, n = kpSource.length / (points * 2);
        trained.values().forEach(Var::zeroGrad);
        Tape tape = new Tape();
        Var rec = model.forward(tape, Var.constant(kpSource, n, points, 2),
                Var.constant(AvdTrainingModel.randomScale(kpDriving, theta, n, points), n, points, 2));
        Var loss = TensorOps.scale(tape, LossOps.meanAbsDiff(tape, Var.constant(kpDriving, n, points, 2), rec),
                (float) params.lambdaShift());
        tape.backward(loss);
        adam.step();
        return new Outcome(loss.value()[0], rec.value());
    }

    /** What {@link #step(float[], float[], float[])} computed. */
    record Outcome(double loss, float[] reconstruction) {
    }

    @Override
    public StepLog nextStep() {
        StepResult r = trainStep();
        String summary = String.format(Locale.ROOT, "(keypoint reconstruction %.5f)", r.loss());
        String csv = String.format(Locale.ROOT, "%d,%d,%.6f,%.3g,%.4f,%.2f", r.step(), r.epoch(), r.loss(), r.learningRate(),
                r.seconds(), r.batch() / r.seconds());
        return new StepLog(r.step(), r.epoch(), r.loss(), summary, csv, r.seconds(), r.learningRate(), r.batch(),
                TrainParams.UNLIMITED_GAP);
    }

    @Override
    public String logHeader() {
        return "step,epoch,loss_rec_kp,learning_rate,seconds,samples_per_second";
    }

    @Override
    public Map<String, float[]> optimizerState() {
        Map<String, float[]> m = new LinkedHashMap<>();
        adam.state().forEach((k, v) -> m.put("avd_network." + k, v));
        return m;
    }

    @Override
    public void restore(Map<String, float[]> optimizer, long step) {
        adam.load(Trainer.strip(optimizer, "avd_network."));
        this.step = step;
    }
}
