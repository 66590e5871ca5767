package org.fomm4j.networks;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.fomm4j.Fixtures;
import org.fomm4j.config.FommConfig;
import org.fomm4j.kernels.KernelProvider;
import org.fomm4j.networks.fomm.FommModel;
import org.fomm4j.tensor.Tensor;
import org.fomm4j.weights.StateDict;
import org.fomm4j.weights.WeightException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A model built from each official full-size FOMM config expects exactly the tensors (names and
 * shapes) that the official checkpoint holds for {@code generator} and {@code kp_detector}, as listed
 * in {@code testdata/reference/state-dicts/fomm-*.json}.
 */
class FommOfficialConfigsTest {

    static Stream<Path> manifests() throws IOException {
        return Files.list(Fixtures.testdata().resolve("reference/state-dicts"))
                .filter(p -> p.getFileName().toString().startsWith("fomm-")).sorted();
    }

    static Map<String, int[]> manifestTensors(JsonNode manifest) {
        Map<String, int[]> out = new LinkedHashMap<>();
        for (String net : new String[] {"kp_detector", "generator"}) {
            Iterator<Map.Entry<String, JsonNode>> it = manifest.get("networks").get(net).fields();
            while (it.hasNext()) {
                Map.Entry<String, JsonNode> e = it.next();
                JsonNode shape = e.getValue().get("shape");
                int[] s = new int[shape.size()];
                for (int i = 0; i < s.length; i++) {
                    s[i] = shape.get(i).intValue();
                }
                out.put(net + "." + e.getKey(), s);
            }
        }
        return out;
    }

    static StateDict zeros(Map<String, int[]> tensors) {
        Map<String, Tensor> m = new LinkedHashMap<>();
        tensors.forEach((k, s) -> m.put(k, Tensor.zeros(s)));
        return StateDict.of(m);
    }

    @ParameterizedTest
    @MethodSource("manifests")
    void modelExpectsExactlyTheOfficialTensors(Path manifestFile) throws IOException {
        JsonNode manifest = new ObjectMapper().readTree(manifestFile.toFile());
        Path config = Fixtures.testdata().resolve("reference/configs/fomm").resolve(manifest.get("config").asText());
        Map<String, int[]> official = manifestTensors(manifest);

        FommModel model = FommModel.create(FommConfig.load(config), zeros(official), KernelProvider.scalar());

        Map<String, int[]> declared = model.expectedTensors();
        assertEquals(new TreeSet<>(official.keySet()), new TreeSet<>(declared.keySet()), "tensor names for " + config);
        for (var e : official.entrySet()) {
            assertArrayEquals(e.getValue(), declared.get(e.getKey()), "shape of " + e.getKey());
        }
        long params = 0;
        for (var e : official.entrySet()) {
            String k = e.getKey();
            // Learnable parameters only: BatchNorm running statistics and the blur buffers are buffers.
            if (!k.endsWith("num_batches_tracked") && !k.contains("running_") && !k.endsWith("down.weight")) {
                params += Tensor.zeros(e.getValue()).size();
            }
        }
        long expectedParams = manifest.get("parameters").get("kp_detector").asLong() + manifest.get("parameters").get("generator").asLong();
        assertEquals(expectedParams, params, "learnable parameter count");
    }

    @Test
    void missingUnexpectedAndMisshapedTensorsAreNamed() throws IOException {
        Path manifestFile = Fixtures.testdata().resolve("reference/state-dicts/fomm-vox-256.json");
        JsonNode manifest = new ObjectMapper().readTree(manifestFile.toFile());
        FommConfig config = FommConfig.load(Fixtures.testdata().resolve("reference/configs/fomm/vox-256.yaml"));
        Map<String, int[]> official = manifestTensors(manifest);

        Map<String, int[]> missing = new HashMap<>(official);
        missing.remove("generator.final.bias");
        WeightException e1 = assertThrows(WeightException.class,
                () -> FommModel.create(config, zeros(missing), KernelProvider.scalar()));
        assertTrue(e1.getMessage().contains("missing tensor generator.final.bias"), e1.getMessage());

        Map<String, int[]> extra = new LinkedHashMap<>(official);
        extra.put("kp_detector.extra.weight", new int[] {3});
        WeightException e2 = assertThrows(WeightException.class,
                () -> FommModel.create(config, zeros(extra), KernelProvider.scalar()));
        assertTrue(e2.getMessage().contains("unexpected tensor kp_detector.extra.weight"), e2.getMessage());

        Map<String, int[]> wrong = new LinkedHashMap<>(official);
        wrong.put("kp_detector.kp.weight", new int[] {10, 35, 5, 5});
        WeightException e3 = assertThrows(WeightException.class,
                () -> FommModel.create(config, zeros(wrong), KernelProvider.scalar()));
        assertTrue(e3.getMessage().contains("kp_detector.kp.weight has shape [10, 35, 5, 5]"), e3.getMessage());
    }
}
