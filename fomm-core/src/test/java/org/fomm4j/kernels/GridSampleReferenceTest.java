package org.fomm4j.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import org.fomm4j.tensor.Tensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@code gridSample} against PyTorch's {@code F.grid_sample} itself (values in
 * {@code grid-sample-reference.txt}, written by the script beside it): both paddings, both
 * {@code align_corners}, a grid reaching to ±3.5 so reflection folds several times. Scalar and Vector API
 * kernels. Tolerance 1e-6: same float32 formula, but PyTorch's CPU kernel may order the four products
 * differently (values are in [0, 1]).
 */
class GridSampleReferenceTest {
    @ParameterizedTest(name = "{0} align_corners={1}")
    @CsvSource({"ZEROS, false", "ZEROS, true", "REFLECTION, false", "REFLECTION, true"})
    void matchesPyTorch(GridPadding padding, boolean alignCorners) throws IOException {
        Map<String, float[]> ref = read();
        Tensor input = Tensor.of(ref.get("input"), 1, 2, 5, 7);
        Tensor grid = Tensor.of(ref.get("grid"), 1, 6, 9, 2);
        float[] expected = ref.get(padding.name().toLowerCase(java.util.Locale.ROOT) + "-" + alignCorners);
        assertEquals(2 * 6 * 9, expected.length);
        for (Kernels k : new Kernels[] {KernelEquivalenceProperties.SCALAR, KernelEquivalenceProperties.PANAMA}) {
            Tensor out = k.gridSample(input, grid, alignCorners, padding);
            for (int i = 0; i < expected.length; i++) {
                float e = expected[i], a = out.get(i);
                int at = i;
                assertTrue(Math.abs(e - a) <= 1e-6, () -> k + " at " + at + ": PyTorch " + e + ", ours " + a);
            }
        }
    }

    private static Map<String, float[]> read() throws IOException {
        Map<String, float[]> m = new HashMap<>();
        try (InputStream in = GridSampleReferenceTest.class.getResourceAsStream("grid-sample-reference.txt")) {
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                if (line.isBlank() || line.startsWith("#")) {
                    continue;
                }
                String[] f = line.trim().split(" ");
                float[] v = new float[f.length - 1];
                for (int i = 1; i < f.length; i++) {
                    v[i - 1] = Float.parseFloat(f[i]);
                }
                m.put(f[0], v);
            }
        }
        return m;
    }
}
