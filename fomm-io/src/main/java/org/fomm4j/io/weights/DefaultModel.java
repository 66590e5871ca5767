package org.fomm4j.io.weights;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * The model shipped inside this library: a FOMM trained by {@code fomm train} on the procedural creatures
 * (64x64 frames, 80 keypoints; its last config {@code configs/creatures-64-separation-frozen-bn-generator64-full-res-kp80.yaml},
 * the whole history in {@code weights/README.md}), its convolution kernels stored in float16 ({@link HalfPrecision}),
 * used by {@code fomm animate} when no {@code --model} is given. Published face models cannot be bundled or
 * downloaded; this one shows what the method does on a category it was trained for.
 */
public final class DefaultModel {
    public static final String NAME = "fomm-creatures-64.fomm4j";
    private static final String RESOURCE = "/org/fomm4j/io/weights/" + NAME;
    private static Path extracted;

    private DefaultModel() {
    }

    /**
     * A file holding the default model (copied out of the jar once per process, deleted at exit, since
     * weight files are memory-mapped).
     *
     * @throws WeightFileException if this build has no default model
     */
    public static synchronized Path path() throws IOException {
        if (extracted != null && Files.exists(extracted)) {
            return extracted;
        }
        try (InputStream in = DefaultModel.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new WeightFileException("this build has no default model (weights/" + NAME + "); pass --model");
            }
            Path tmp = Files.createTempFile("fomm4j-default-", ".fomm4j");
            tmp.toFile().deleteOnExit();
            Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
            extracted = tmp;
            return tmp;
        }
    }
}
