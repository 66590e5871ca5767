package org.fomm4j.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.fomm4j.tensor.Npy;
import org.fomm4j.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs the example as its README shows it, on the repository's bundled model and fixture frames, and
 * checks what it wrote against the reference PyTorch predictions of the same weights
 * ({@code relative_prediction} in the fixture): every pixel within one 8-bit step (the PNGs are rounded
 * to 1/255; the float predictions match within 2e-5). Also checks that the README's code is this file.
 */
class AnimateFramesTest {
    static final Path REPO = Path.of("..", "..");

    @TempDir
    Path out;

    @Test
    void animatesTheBundledFramesAsTheReferenceDoes() throws IOException {
        Path fixture = REPO.resolve("testdata/fixtures/fomm-vox-small");
        AnimateFrames.main(new String[] {REPO.resolve("weights/fomm-vox-small.fomm4j").toString(),
            fixture.resolve("source.png").toString(), fixture.resolve("driving").toString(), out.toString()});
        Tensor expected = Npy.readNpz(fixture.resolve("expected.npz")).get("relative_prediction");
        List<Path> written;
        try (var s = Files.list(out)) {
            written = s.sorted().toList();
        }
        assertEquals(expected.dim(0), written.size(), written.toString());
        int hw = 256 * 256;
        for (int t = 0; t < written.size(); t++) {
            BufferedImage img = ImageIO.read(written.get(t).toFile());
            assertEquals(256, img.getWidth());
            assertEquals(256, img.getHeight());
            double worst = 0;
            for (int i = 0; i < hw; i++) {
                int rgb = img.getRGB(i % 256, i / 256);
                int[] c = {rgb >> 16 & 0xff, rgb >> 8 & 0xff, rgb & 0xff};
                for (int ch = 0; ch < 3; ch++) {
                    double e = expected.get(((t * 3) + ch) * hw + i);
                    worst = Math.max(worst, Math.abs(c[ch] / 255.0 - e));
                }
            }
            double w = worst;
            int frame = t;
            assertTrue(worst <= 0.5 / 255 + 1e-4, () -> "frame " + frame + ": worst pixel off by " + w);
        }
    }

    @Test
    void theReadmeShowsTheCodeThatRuns() throws IOException {
        String readme = Files.readString(Path.of("README.md"));
        String code = Files.readString(Path.of("src/main/java/org/fomm4j/examples/AnimateFrames.java"));
        int start = readme.indexOf("```java\n") + "```java\n".length();
        int end = readme.indexOf("```", start);
        assertEquals(code, readme.substring(start, end), "README.md's code block must be AnimateFrames.java");
    }
}
