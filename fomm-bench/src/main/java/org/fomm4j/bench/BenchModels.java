package org.fomm4j.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;
import org.fomm4j.config.FommConfig;
import org.fomm4j.config.TpsmmConfig;
import org.fomm4j.config.YamlConfig;
import org.fomm4j.tensor.Tensor;

/** The official full-size configs bundled with the benchmarks, and random input frames. */
final class BenchModels {
    private BenchModels() {
    }

    static FommConfig fommConfig(String name) {
        String res = "fomm-" + name + ".yaml";
        try (InputStream in = BenchModels.class.getResourceAsStream(res)) {
            if (in == null) {
                throw new IllegalArgumentException("no bundled FOMM config " + name + " (have: vox-256)");
            }
            return FommConfig.fromTree(YamlConfig.parse(new String(in.readAllBytes(), StandardCharsets.UTF_8)));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static TpsmmConfig tpsmmConfig(String name) {
        String res = "tpsmm-" + name + ".yaml";
        try (InputStream in = BenchModels.class.getResourceAsStream(res)) {
            if (in == null) {
                throw new IllegalArgumentException("no bundled TPSMM config " + name + " (have: vox-256)");
            }
            return TpsmmConfig.fromTree(YamlConfig.parse(new String(in.readAllBytes(), StandardCharsets.UTF_8)));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A smooth random image {@code [1, 3, h, w]} in {@code [0, 1]}. */
    static Tensor image(long seed, int h, int w) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] d = new float[3 * h * w];
        double fx = 1 + r.nextDouble() * 4, fy = 1 + r.nextDouble() * 4;
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    d[(c * h + y) * w + x] = (float) (0.5 + 0.4 * Math.sin(fx * x / w * 6.28 + c) * Math.cos(fy * y / h * 6.28)
                            + 0.05 * r.nextDouble());
                }
            }
        }
        return Tensor.of(d, 1, 3, h, w);
    }
}
