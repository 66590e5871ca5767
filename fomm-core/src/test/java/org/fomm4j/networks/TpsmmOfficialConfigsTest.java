package org.fomm4j.networks;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.fomm4j.Fixtures;
import org.fomm4j.config.TpsmmConfig;
import org.fomm4j.networks.tpsmm.TpsmmModel;
import org.fomm4j.tensor.Tensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A TPSMM model built from each official config expects exactly the tensors of the official
 * checkpoint's inference networks ({@code testdata/reference/state-dicts/tpsmm-*.json}), and its
 * learnable parameter counts match.
 */
class TpsmmOfficialConfigsTest {

    static Stream<Path> manifests() throws IOException {
        return Files.list(Fixtures.testdata().resolve("reference/state-dicts"))
                .filter(p -> p.getFileName().toString().startsWith("tpsmm-")).sorted();
    }

    @ParameterizedTest
    @MethodSource("manifests")
    void modelExpectsExactlyTheOfficialTensors(Path manifestFile) throws IOException {
        JsonNode manifest = new ObjectMapper().readTree(manifestFile.toFile());
        Path config = Fixtures.testdata().resolve("reference/configs/tpsmm").resolve(manifest.get("config").asText());
        Map<String, int[]> official = new LinkedHashMap<>();
        Map<String, Long> learnable = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> nets = manifest.get("networks").fields(); nets.hasNext(); ) {
            Map.Entry<String, JsonNode> net = nets.next();
            long count = 0;
            for (Iterator<Map.Entry<String, JsonNode>> it = net.getValue().fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                int[] s = new int[e.getValue().get("shape").size()];
                for (int i = 0; i < s.length; i++) {
                    s[i] = e.getValue().get("shape").get(i).intValue();
                }
                official.put(net.getKey() + "." + e.getKey(), s);
                String k = e.getKey();
                if (!k.endsWith("num_batches_tracked") && !k.contains("running_") && !k.equals("down.weight")) {
                    count += Tensor.zeros(s).size();
                }
            }
            learnable.put(net.getKey(), count);
        }
        boolean bg = manifest.get("networks").has("bg_predictor");
        Map<String, int[]> declared = TpsmmModel.expectedTensors(TpsmmConfig.load(config), bg);
        assertEquals(new TreeSet<>(official.keySet()), new TreeSet<>(declared.keySet()), "tensor names for " + config);
        for (var e : official.entrySet()) {
            assertArrayEquals(e.getValue(), declared.get(e.getKey()), "shape of " + e.getKey());
        }
        for (var e : learnable.entrySet()) {
            assertEquals(manifest.get("parameters").get(e.getKey()).asLong(), e.getValue(), "parameters of " + e.getKey());
        }
    }
}
