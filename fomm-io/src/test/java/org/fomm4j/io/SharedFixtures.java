package org.fomm4j.io;

import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Files;
import java.nio.file.Path;

/** {@code ../shared} (or {@code -Dfomm4j.shared}); missing fixtures fail, never skip. */
public final class SharedFixtures {
    private SharedFixtures() {
    }

    public static Path shared() {
        String p = System.getProperty("fomm4j.shared");
        Path dir = p != null ? Path.of(p) : Path.of("..", "..", "shared");
        if (!Files.isDirectory(dir.resolve("fixtures"))) {
            fail("shared fixtures not found at " + dir.toAbsolutePath() + " (set -Dfomm4j.shared)");
        }
        return dir;
    }

    public static Path fixture(String name) {
        return shared().resolve("fixtures").resolve(name);
    }
}
