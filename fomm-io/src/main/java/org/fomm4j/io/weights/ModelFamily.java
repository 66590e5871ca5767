package org.fomm4j.io.weights;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.fomm4j.config.ConfigException;
import org.fomm4j.config.FommConfig;
import org.fomm4j.config.TpsmmConfig;
import org.fomm4j.networks.tpsmm.TpsmmModel;
import org.fomm4j.networks.fomm.FommModel;

/** The two model families, told apart by their config, with the networks inference needs. */
public enum ModelFamily {
    FOMM("fomm", List.of("kp_detector", "generator"), Set.of()),
    TPSMM("tpsmm", List.of("kp_detector", "dense_motion_network", "inpainting_network", "avd_network", "bg_predictor"),
            Set.of("bg_predictor"));

    private final String id;
    private final List<String> networks;
    private final Set<String> optional;

    ModelFamily(String id, List<String> networks, Set<String> optional) {
        this.id = id;
        this.networks = networks;
        this.optional = optional;
    }

    public String id() {
        return id;
    }

    public List<String> networks() {
        return networks;
    }

    public Set<String> optional() {
        return optional;
    }

    /**
     * FOMM configs have {@code model_params.common_params.num_kp}, TPSMM ones {@code num_tps}.
     *
     * @throws ConfigException for a config of neither family
     */
    public static ModelFamily of(JsonNode config) {
        JsonNode common = config.path("model_params").path("common_params");
        if (common.has("num_tps")) {
            return TPSMM;
        }
        if (common.has("num_kp")) {
            return FOMM;
        }
        throw new ConfigException("config is neither a FOMM nor a TPSMM model config (model_params.common_params has no num_kp or num_tps)");
    }

    public static ModelFamily byId(String id) {
        for (ModelFamily f : values()) {
            if (f.id.equals(id)) {
                return f;
            }
        }
        throw new ConfigException("unknown model family '" + id + "'");
    }

    /**
     * Tensors a model built from {@code config} reads.
     *
     * @param present the tensors the checkpoint has (decides optional networks such as TPSMM's background predictor)
     */
    public Map<String, int[]> expectedTensors(JsonNode config, Set<String> present) {
        return switch (this) {
            case FOMM -> FommModel.expectedTensors(FommConfig.fromTree(config));
            case TPSMM -> TpsmmModel.expectedTensors(TpsmmConfig.fromTree(config),
                    present.stream().anyMatch(n -> n.startsWith("bg_predictor.")));
        };
    }
}
