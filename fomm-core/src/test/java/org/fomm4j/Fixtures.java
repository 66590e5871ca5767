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
import org.junit.jupiter.api.Assumptions;
import org.fomm4j.tensor.Npy;
import org.fomm4j.tensor.Tensor;
import org.fomm4j.weights.StateDict;

/**
 * The test data: the repository's {@code testdata/} folder ({@code -Dfomm4j.testdata=DIR} overrides it),
 * and the parity fixtures, each from a system property when set ({@code fomm4j.fommFixture},
 * {@code fomm4j.tpsmmFixture}, {@code fomm4j.trainFixture}) so other cases of the same layout run through
 * the same tests. A bundled fixture that is missing fails; one that is not bundled (TPSMM, training)
 * skips with a message naming its property. See {@code testdata/README.md}.
 */
public final class Fixtures {
    private static final Map<Path, Map<String, Tensor>> CACHE = new ConcurrentHashMap<>();
    private static final Map<String, String> PROPERTIES = Map.of(
            "fomm-vox-small", "fomm4j.fommFixture",
            "tpsmm-vox-small", "fomm4j.tpsmmFixture",
            "fomm-train-small", "fomm4j.trainFixture",
            "tpsmm-train-small", "fomm4j.tpsmmTrainFixture",
            "tpsmm-avd-train-small", "fomm4j.avdTrainFixture");
    private static final java.util.Set<String> BUNDLED = java.util.Set.of("fomm-vox-small", "fomm-train-small",
            "tpsmm-train-small", "tpsmm-avd-train-small");

    private Fixtures() {
    }

    /** The test data folder (fails the test when it is missing). */
    public static Path testdata() {
        String p = System.getProperty("fomm4j.testdata");
        Path dir = p != null && !p.isBlank() ? Path.of(p) : findUp("testdata");
        if (!Files.isDirectory(dir.resolve("fixtures"))) {
            fail("test data not found at " + dir.toAbsolutePath() + " (the repository's testdata/; set -Dfomm4j.testdata=DIR)");
        }
        return dir;
    }

    /** {@code name} in the working directory or the nearest parent that has it. */
    static Path findUp(String name) {
        for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
            if (Files.isDirectory(d.resolve(name))) {
                return d.resolve(name);
            }
        }
        return Path.of(name);
    }

    /** A parity fixture folder: its property's value, else {@code testdata/fixtures/NAME}. */
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
