package org.fomm4j.networks;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import org.fomm4j.Fixtures;
import org.fomm4j.config.ConfigException;
import org.fomm4j.config.FommConfig;
import org.fomm4j.config.YamlConfig;
import org.fomm4j.networks.fomm.FommModel;
import org.junit.jupiter.api.Test;

/**
 * A config can ask for any size; one that cannot fit this JVM is refused with the numbers before its
 * weights are allocated (the thread's allocation counter stays small), and absurd frame sizes are refused
 * outright.
 */
class ConfigSizeLimitsTest {
    private static String fixtureConfig() throws IOException {
        return Files.readString(Fixtures.fixture("fomm-vox-small").resolve("config.yaml"));
    }

    private static long allocated() {
        return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean()).getCurrentThreadAllocatedBytes();
    }

    @Test
    void aHugeNumberOfKeypointsIsRefusedBeforeItsWeightsAreAllocated() throws IOException {
        for (String numKp : new String[] {"100000", "10000000"}) {
            FommConfig c = FommConfig.fromTree(YamlConfig.parse(fixtureConfig().replace("num_kp: 10", "num_kp: " + numKp)));
            long before = allocated();
            ConfigException e = assertThrows(ConfigException.class, () -> FommModel.expectedTensors(c));
            long used = allocated() - before;
            assertTrue(e.getMessage().contains("parameters") && e.getMessage().contains("GB"), e.getMessage());
            // The claims are 6 GB and 120 GB of weights; what is allocated before the refusal is the small
            // tensors read before the big one.
            assertTrue(used < 600L << 20, "allocated " + used + " bytes for num_kp " + numKp);
        }
    }

    @Test
    void framesLargerThan2048AreRefused() throws IOException {
        String yaml = fixtureConfig();
        int at = yaml.indexOf("frame_shape:");
        String bad = yaml.substring(0, at) + "frame_shape: [20000, 20000, 3]\n"
                + yaml.substring(yaml.indexOf('\n', yaml.indexOf("- 3", at)) + 1);
        ConfigException e = assertThrows(ConfigException.class, () -> FommConfig.fromTree(YamlConfig.parse(bad)));
        assertTrue(e.getMessage().contains("frame height is 20000"), e.getMessage());
    }
}
