package org.fomm4j.training;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import org.fomm4j.config.ConfigException;
import org.fomm4j.config.YamlConfig;

/**
 * The {@code train_params} that only TPSMM's trainer reads (the rest is {@link TrainParams}): the weights of
 * the warp loss and the background loss, the epoch the background predictor starts at ({@code bg_start}),
 * and the TPS dropout schedule: before {@code dropout_epoch}, each of the K transformations is dropped with
 * probability {@code min(epoch / dropout_inc_epoch * dropout_maxp + dropout_startp, dropout_maxp)} (paper
 * eqs. 7-8, reference {@code GeneratorFullModel.forward}).
 */
public record TpsmmTrainParams(double warpLoss, double bg, int bgStart, int dropoutEpoch, double dropoutMaxp,
                               double dropoutStartp, int dropoutIncEpoch) {

    /** @throws ConfigException naming the field when one is out of range */
    public static TpsmmTrainParams load(Path yaml) {
        return fromTree(YamlConfig.read(yaml));
    }

    /** @throws ConfigException naming the field when one is out of range */
    public static TpsmmTrainParams fromTree(JsonNode root) {
        JsonNode tp = root.path("train_params");
        JsonNode lw = tp.path("loss_weights");
        TpsmmTrainParams p = new TpsmmTrainParams(lw.path("warp_loss").asDouble(10), lw.path("bg").asDouble(10),
                tp.path("bg_start").asInt(10), tp.path("dropout_epoch").asInt(35), tp.path("dropout_maxp").asDouble(0.3),
                tp.path("dropout_startp").asDouble(0.1), tp.path("dropout_inc_epoch").asInt(10));
        if (!(p.dropoutMaxp >= 0 && p.dropoutMaxp < 1 && p.dropoutStartp >= 0 && p.dropoutStartp < 1)) {
            throw new ConfigException("config: train_params.dropout_maxp and dropout_startp must be in [0, 1)");
        }
        if (p.dropoutIncEpoch < 1) {
            throw new ConfigException("config: train_params.dropout_inc_epoch must be positive, got " + p.dropoutIncEpoch);
        }
        if (!(p.warpLoss >= 0 && p.bg >= 0)) {
            throw new ConfigException("config: train_params.loss_weights.warp_loss and bg must not be negative");
        }
        return p;
    }

    /** The probability of dropping a transformation in {@code epoch}; 0 from {@code dropout_epoch} on. */
    public double dropoutP(int epoch) {
        if (epoch >= dropoutEpoch) {
            return 0;
        }
        return Math.min((double) epoch / dropoutIncEpoch * dropoutMaxp + dropoutStartp, dropoutMaxp);
    }
}
