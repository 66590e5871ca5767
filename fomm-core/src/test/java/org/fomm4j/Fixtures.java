package org.fomm4j;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.fomm4j.tensor.Npy;
import org.fomm4j.tensor.Tensor;
import org.fomm4j.weights.StateDict;

/**
 * Access to {@code ../shared} (override with {@code -Dfomm4j.shared=DIR}). A missing folder fails
 * the test: parity tests must run in CI, never skip.
 */
public final class Fixtures {
    private static final Map<Path, Map<String, Tensor>> CACHE = new ConcurrentHashMap<>();

    private Fixtures() {
    }

    public static Path shared() {
        String p = System.getProperty("fomm4j.shared");
        Path dir = p != null ? Path.of(p) : Path.of("..", "shared");
        if (!Files.isDirectory(dir.resolve("fixtures"))) {
            dir = Path.of("..", "..", "shared");
        }
        if (!Files.isDirectory(dir.resolve("fixtures"))) {
            fail("shared fixtures not found at " + dir.toAbsolutePath() + " (set -Dfomm4j.shared)");
        }
        return dir;
    }

    public static Path fixture(String name) {
        return shared().resolve("fixtures").resolve(name);
    }

    public static Map<String, Tensor> npz(Path file) {
        return CACHE.computeIfAbsent(file, f -> {
            try {
                return Npy.readNpz(f);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    public static StateDict stateDict(String fixture) {
        return StateDict.of(npz(fixture(fixture).resolve("state_dict.npz")));
    }

    public static Map<String, Tensor> expected(String fixture) {
        return npz(fixture(fixture).resolve("expected.npz"));
    }

    /**
     * Asserts {@code |actual - expected| <= atol + rtol * |expected|} element-wise, reporting the worst
     * element.
     */
    public static void assertClose(String what, Tensor expected, Tensor actual, double atol, double rtol) {
        if (!Arrays.equals(expected.shape(), actual.shape())) {
            fail(what + ": shape " + Arrays.toString(actual.shape()) + " but expected " + Arrays.toString(expected.shape()));
        }
        double worst = -1, maxAbs = 0;
        int at = -1;
        for (int i = 0, n = expected.size(); i < n; i++) {
            double e = expected.get(i), a = actual.get(i);
            double d = Math.abs(a - e);
            if (Double.isNaN(a)) {
                fail(what + ": NaN at " + i);
            }
            maxAbs = Math.max(maxAbs, d);
            double excess = d - (atol + rtol * Math.abs(e));
            if (excess > worst) {
                worst = excess;
                at = i;
            }
        }
        final int idx = at;
        final double m = maxAbs;
        if (Boolean.getBoolean("fomm4j.parity.report")) {
            // -Dfomm4j.parity.report=true: the measured maxima, for the README's numerics.
            System.out.printf("parity %s: max abs diff %.3g (atol %.1g)%n", what, maxAbs, atol);
        }
        assertTrue(worst <= 0, () -> what + ": element " + idx + " is " + actual.get(idx) + ", expected " + expected.get(idx)
                + " (max abs diff " + m + ", atol " + atol + ", rtol " + rtol + ")");
    }

    /** Asserts the mean absolute difference is at most {@code bound}. */
    public static void assertMeanClose(String what, Tensor expected, Tensor actual, double bound) {
        double sum = 0;
        for (int i = 0, n = expected.size(); i < n; i++) {
            sum += Math.abs(expected.get(i) - actual.get(i));
        }
        double mean = sum / expected.size();
        assertTrue(mean <= bound, () -> what + ": mean abs diff " + mean + " above " + bound);
    }

    /** Largest absolute difference, for reporting. */
    public static double maxAbsDiff(Tensor expected, Tensor actual) {
        double m = 0;
        for (int i = 0, n = expected.size(); i < n; i++) {
            m = Math.max(m, Math.abs(expected.get(i) - actual.get(i)));
        }
        return m;
    }
}
