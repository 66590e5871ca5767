package org.fomm4j.training;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import org.fomm4j.config.ConfigException;
import org.fomm4j.config.YamlConfig;

/**
 * {@code train_params} of the official YAML configs: epochs, repeats of the dataset per epoch, learning
 * rates and their milestones (multiplied by 0.1 at each, as the reference's {@code MultiStepLR}), batch
 * size, pyramid scales, the equivariance transform and the loss weights.
 *
 * <p>The reconstruction weight per pyramid scale is {@code loss_weights.reconstruction} when present (our
 * L1 pyramid loss, as in the training fixture); otherwise the first {@code perceptual} weight, so an
 * official config (VGG-19 perceptual loss, whose ImageNet weights we do not ship) trains with an L1
 * pyramid of the same weight.
 *
 * <p>{@code max_frame_gap} (our addition; absent in the reference, which pairs any two frames of a video):
 * {@code [start, end]} (or one number for both), the largest distance in frames between a pair's source and
 * driving frame, growing linearly from {@code start} at the first step to {@code end} at the last step of
 * {@code num_epochs}: a curriculum from small motions, whose reconstruction gradient still tells the
 * keypoints where to go, to large ones. {@code maxFrameGap} is {@code null} when unlimited.
 *
 * <p>{@code loss_weights.keypoint_separation} (our addition, default 0 as the reference): the weight of
 * {@link org.fomm4j.training.autograd.LossOps#keypointSeparation} on the source and driving keypoints, with
 * length scale {@code loss_weights.keypoint_separation_sigma} (default 0.1, in {@code [-1, 1]} units). It
 * counters the keypoints' collapse onto one point, which the equivariance losses alone allow.
 *
 * <p>{@code freeze_batch_norm} (our addition, default {@code false} as the reference): every BatchNorm
 * normalizes with its running statistics, which stay fixed, instead of the batch's
 * ({@link org.fomm4j.training.autograd.NormOps#batchNormFrozen}): for fine-tuning a trained model, so that
 * the network the loss sees is the one inference runs.
 */
public record TrainParams(int numEpochs, int numRepeats, int[] epochMilestones, double lrGenerator, double lrKpDetector,
                          int batchSize, double[] scales, int checkpointFreq, double sigmaAffine, double sigmaTps,
                          int pointsTps, double[] reconstructionWeights, double equivarianceValue,
                          double equivarianceJacobian, int[] maxFrameGap, double keypointSeparation,
                          double keypointSeparationSigma, boolean freezeBatchNorm) {

    /** Largest frame gap a pair may have: {@link TrainingData}'s "unlimited". */
    public static final int UNLIMITED_GAP = Integer.MAX_VALUE;

    /** @throws ConfigException naming the field when one is missing or out of range */
    public static TrainParams load(Path yaml) {
        return fromTree(YamlConfig.read(yaml));
    }

    /** @throws ConfigException naming the field when one is missing or out of range */
    public static TrainParams fromTree(JsonNode root) {
        JsonNode tp = root.get("train_params");
        if (tp == null || !tp.isObject()) {
            throw new ConfigException("config: train_params is missing");
        }
        JsonNode tr = tp.path("transform_params");
        JsonNode lw = tp.path("loss_weights");
        double[] scales = doubles(tp.path("scales"), new double[] {1, 0.5, 0.25, 0.125});
        double[] rec;
        if (lw.has("reconstruction")) {
            rec = doubles(lw.get("reconstruction"), null);
        } else {
            double w = lw.path("perceptual").isArray() && lw.get("perceptual").size() > 0
                    ? lw.get("perceptual").get(0).asDouble() : 10;
            rec = new double[scales.length];
            java.util.Arrays.fill(rec, w);
        }
        if (rec.length != scales.length) {
            throw new ConfigException("config: train_params.loss_weights.reconstruction has " + rec.length
                    + " weights for " + scales.length + " scales");
        }
        for (double s : scales) {
            if (!(s > 0 && s <= 1)) {
                throw new ConfigException("config: train_params.scales must be in (0, 1], got " + s);
            }
        }
        int[] milestones = tp.path("epoch_milestones").isArray()
                ? java.util.stream.StreamSupport.stream(tp.get("epoch_milestones").spliterator(), false).mapToInt(JsonNode::asInt).toArray()
                : new int[0];
        TrainParams p = new TrainParams(tp.path("num_epochs").asInt(100), tp.path("num_repeats").asInt(1), milestones,
                tp.path("lr_generator").asDouble(2e-4), tp.path("lr_kp_detector").asDouble(2e-4), tp.path("batch_size").asInt(2),
                scales, tp.path("checkpoint_freq").asInt(50), tr.path("sigma_affine").asDouble(0.05),
                tr.path("sigma_tps").asDouble(0.005), tr.path("points_tps").asInt(5), rec,
                lw.path("equivariance_value").asDouble(10), lw.path("equivariance_jacobian").asDouble(10),
                frameGap(tp.get("max_frame_gap")), number(lw, "keypoint_separation", 0),
                number(lw, "keypoint_separation_sigma", 0.1), flag(tp, "freeze_batch_norm"));
        if (!(p.keypointSeparation >= 0 && p.keypointSeparation <= 1e6)) {
            throw new ConfigException("config: train_params.loss_weights.keypoint_separation must be in [0, 1e6], got "
                    + lw.get("keypoint_separation"));
        }
        if (!(p.keypointSeparationSigma > 0 && p.keypointSeparationSigma <= 10)) {
            throw new ConfigException("config: train_params.loss_weights.keypoint_separation_sigma must be in (0, 10], got "
                    + lw.get("keypoint_separation_sigma"));
        }
        if (p.batchSize < 1 || p.batchSize > 4096) {
            throw new ConfigException("config: train_params.batch_size must be in [1, 4096], got " + p.batchSize);
        }
        if (p.numEpochs < 1 || p.numRepeats < 1) {
            throw new ConfigException("config: train_params.num_epochs and num_repeats must be positive");
        }
        if (p.pointsTps < 2 || p.pointsTps > 64) {
            throw new ConfigException("config: train_params.transform_params.points_tps must be in [2, 64], got " + p.pointsTps);
        }
        return p;
    }

    /** {@code train_params.name}: {@code false} when absent. */
    private static boolean flag(JsonNode parent, String name) {
        JsonNode n = parent.get(name);
        if (n == null || n.isNull()) {
            return false;
        }
        if (!n.isBoolean()) {
            throw new ConfigException("config: train_params." + name + " must be true or false, got " + n);
        }
        return n.asBoolean();
    }

    /** {@code loss_weights.name}, or {@code dflt} when absent; NaN (refused by the range checks) when not a number. */
    private static double number(JsonNode parent, String name, double dflt) {
        JsonNode n = parent.get(name);
        return n == null || n.isNull() ? dflt : n.isNumber() ? n.asDouble() : Double.NaN;
    }

    private static int[] frameGap(JsonNode n) {
        if (n == null || n.isNull()) {
            return null;
        }
        double[] d = n.isArray() ? doubles(n, null) : new double[] {n.asDouble(Double.NaN)};
        if (d.length < 1 || d.length > 2) {
            throw new ConfigException("config: train_params.max_frame_gap must be one number or [start, end], got " + n);
        }
        int[] g = {(int) d[0], (int) d[d.length - 1]};
        for (int i = 0; i < d.length; i++) {
            if (!(d[i] >= 1 && d[i] <= 1e6) || d[i] != Math.rint(d[i])) {
                throw new ConfigException("config: train_params.max_frame_gap must be whole numbers of frames in [1, 1000000], got " + n);
            }
        }
        return g;
    }

    /**
     * The largest frame gap at step {@code step} of a run of {@code totalSteps}: linear from start to end,
     * then end; {@link #UNLIMITED_GAP} without {@code max_frame_gap}.
     */
    public int maxFrameGap(long step, long totalSteps) {
        if (maxFrameGap == null) {
            return UNLIMITED_GAP;
        }
        double f = totalSteps <= 1 ? 1 : Math.min(1, (double) step / (totalSteps - 1));
        return (int) Math.round(maxFrameGap[0] + (maxFrameGap[1] - maxFrameGap[0]) * f);
    }

    private static double[] doubles(JsonNode n, double[] dflt) {
        if (n == null || n.isMissingNode() || n.isNull()) {
            if (dflt == null) {
                throw new ConfigException("config: a list of numbers is missing in train_params");
            }
            return dflt;
        }
        if (!n.isArray()) {
            throw new ConfigException("config: expected a list of numbers in train_params, got " + n);
        }
        double[] d = new double[n.size()];
        for (int i = 0; i < d.length; i++) {
            d[i] = n.get(i).asDouble();
        }
        return d;
    }

    /** The learning-rate factor in {@code epoch}: 0.1 per milestone passed. */
    public double lrFactor(int epoch) {
        double f = 1;
        for (int m : epochMilestones) {
            if (epoch >= m) {
                f *= 0.1;
            }
        }
        return f;
    }
}
