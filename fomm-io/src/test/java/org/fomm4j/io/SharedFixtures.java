package org.fomm4j.io;

import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Assumptions;

/**
 * The repository's {@code testdata/} ({@code -Dfomm4j.testdata=DIR} overrides it) and the parity fixtures,
 * each from its system property when set ({@code fomm4j.fommFixture}, {@code fomm4j.tpsmmFixture}). A
 * bundled fixture that is missing fails; the TPSMM one is not bundled and skips unless its property
 * names it. See {@code testdata/README.md}.
 */
public final class SharedFixtures {
    private static final Map<String, String> PROPERTIES = Map.of(
            "fomm-vox-small", "fomm4j.fommFixture",
            "tpsmm-vox-small", "fomm4j.tpsmmFixture",
            "fomm-train-small", "fomm4j.trainFixture");
    private static final Set<String> BUNDLED = Set.of("fomm-vox-small");

    private SharedFixtures() {
    }

    public static Path testdata() {
        String p = System.getProperty("fomm4j.testdata");
        Path dir = p != null && !p.isBlank() ? Path.of(p) : findUp("testdata");
        if (!Files.isDirectory(dir.resolve("fixtures"))) {
            fail("test data not found at " + dir.toAbsolutePath() + " (the repository's testdata/; set -Dfomm4j.testdata=DIR)");
        }
        return dir;
    }

    static Path findUp(String name) {
        for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
            if (Files.isDirectory(d.resolve(name))) {
                return d.resolve(name);
            }
        }
        return Path.of(name);
    }

    public static Path fixture(String name) {
        String property = PROPERTIES.get(name);
        String p = property == null ? null : System.getProperty(property);
        if (p != null && !p.isBlank()) {
            Path dir = Path.of(p);
            if (!Files.isDirectory(dir)) {
                fail("-D" + property + "=" + p + ": no such folder");
            }
            return dir;
        }
        Path dir = testdata().resolve("fixtures").resolve(name);
        if (!Files.isDirectory(dir)) {
            if (BUNDLED.contains(name)) {
                fail("bundled fixture missing: " + dir.toAbsolutePath());
            }
            Assumptions.abort("fixture " + name + " is not bundled (too large, see testdata/README.md): set -D"
                    + property + "=DIR to run this test");
        }
        return dir;
    }
}
