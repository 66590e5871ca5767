package org.fomm4j.training;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import org.fomm4j.config.ConfigException;
import org.fomm4j.config.YamlConfig;

/**
 * {@code train_avd_params} of a TPSMM config (the reference {@code train_avd.py}): epochs of
 * {@code num_repeats} passes over the training videos in batches of {@code batch_size} pairs, Adam at
 * {@code lr} times 0.1 per {@code epoch_milestones} passed, the loss weight {@code lambda_shift}, and
 * {@code random_scale}: the driving keypoints are scaled by a random factor in
 * {@code [1 - random_scale, 1 + random_scale]} per axis and sample before the pose encoder sees them.
 */
public record AvdTrainParams(int numEpochs, int numRepeats, int batchSize, int[] epochMilestones, double lr,
                             double lambdaShift, double randomScale) {

    /** @throws ConfigException naming the field when one is missing or out of range */
    public static AvdTrainParams load(Path yaml) {
        return fromTree(YamlConfig.read(yaml));
    }

    /** @throws ConfigException naming the field when one is missing or out of range */
    public static AvdTrainParams fromTree(JsonNode root) {
        JsonNode tp = root.path("train_avd_params");
        if (!tp.isObject()) {
            throw new ConfigException("config: no train_avd_params (the official TPSMM configs have it: num_epochs, num_repeats, "
                    + "batch_size, epoch_milestones, lr, lambda_shift, random_scale)");
        }
        JsonNode ms = tp.path("epoch_milestones");
        int[] milestones = new int[ms.isArray() ? ms.size() : 0];
        for (int i = 0; i < milestones.length; i++) {
            milestones[i] = ms.get(i).asInt();
        }
        AvdTrainParams p = new AvdTrainParams(positive(tp, "num_epochs"), tp.path("num_repeats").asInt(1), positive(tp, "batch_size"),
                milestones, tp.path("lr").asDouble(Double.NaN), tp.path("lambda_shift").asDouble(1),
                tp.path("random_scale").asDouble(Double.NaN));
        if (!(p.lr > 0)) {
            throw new ConfigException("config: train_avd_params.lr must be a positive number");
        }
        if (!(p.randomScale >= 0 && p.randomScale < 1)) {
            throw new ConfigException("config: train_avd_params.random_scale must be in [0, 1)");
        }
        if (p.numRepeats < 1 || !(p.lambdaShift > 0)) {
            throw new ConfigException("config: train_avd_params.num_repeats and lambda_shift must be positive");
        }
        return p;
    }

    private static int positive(JsonNode tp, String field) {
        int v = tp.path(field).asInt(0);
        if (v < 1) {
            throw new ConfigException("config: train_avd_params." + field + " must be a positive integer");
        }
        return v;
    }

    /**
     * The learning-rate factor in {@code epoch}. The reference calls {@code scheduler.step(epoch)} at the end of
     * epoch {@code e}, so epoch {@code e + 1} runs at {@code gamma^(milestones <= e)}: a milestone {@code m}
     * lowers the rate from epoch {@code m + 1} on (one epoch later than {@code train.py}'s schedule).
     */
    public double lrFactor(int epoch) {
        double f = 1;
        for (int m : epochMilestones) {
            if (epoch - 1 >= m) {
                f *= 0.1;
            }
        }
        return f;
    }
}
