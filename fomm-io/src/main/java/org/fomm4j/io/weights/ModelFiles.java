package org.fomm4j.io.weights;

import java.io.IOException;
import java.nio.file.Path;
import org.fomm4j.config.ConfigException;
import org.fomm4j.config.FommConfig;
import org.fomm4j.kernels.KernelProvider;
import org.fomm4j.kernels.Kernels;
import org.fomm4j.config.TpsmmConfig;
import org.fomm4j.networks.fomm.FommModel;
import org.fomm4j.networks.tpsmm.TpsmmModel;

/** Loads models from our weight files. */
public final class ModelFiles {
    private ModelFiles() {
    }

    /** Opens a weight file and tells its family, without building anything. */
    public static ModelFamily family(Path file) throws IOException {
        try (WeightFile wf = WeightFile.open(file)) {
            return ModelFamily.byId(wf.family());
        }
    }

    /**
     * Builds a FOMM model from a weight file. The file stays mapped until the model is closed.
     *
     * @throws WeightFileException if the file is not a fomm4j weight file
     * @throws ConfigException     if it holds another family's model
     */
    public static FommModel loadFomm(Path file) throws IOException {
        return loadFomm(file, KernelProvider.get());
    }

    public static FommModel loadFomm(Path file, Kernels kernels) throws IOException {
        WeightFile wf = WeightFile.open(file);
        try {
            if (!"fomm".equals(wf.family())) {
                throw new ConfigException("model file " + file + " holds a " + wf.family() + " model, not a FOMM model");
            }
            FommModel m = FommModel.create(FommConfig.fromTree(wf.config()), wf.stateDict(), kernels);
            return m.withResource(wf);
        } catch (RuntimeException e) {
            wf.close();
            throw e;
        }
    }

    /**
     * Builds a TPSMM model from a weight file. The file stays mapped until the model is closed.
     *
     * @throws WeightFileException if the file is not a fomm4j weight file
     * @throws ConfigException     if it holds another family's model
     */
    public static TpsmmModel loadTpsmm(Path file) throws IOException {
        return loadTpsmm(file, KernelProvider.get());
    }

    public static TpsmmModel loadTpsmm(Path file, Kernels kernels) throws IOException {
        WeightFile wf = WeightFile.open(file);
        try {
            if (!"tpsmm".equals(wf.family())) {
                throw new ConfigException("model file " + file + " holds a " + wf.family() + " model, not a TPSMM model");
            }
            TpsmmConfig config = TpsmmConfig.fromTree(wf.config());
            String size = wf.metadata().get("frame_size");
            if (size != null) {
                int s = Integer.parseInt(size);
                config = config.withFrameSize(s, s);
            }
            return TpsmmModel.create(config, wf.stateDict(), kernels).withResource(wf);
        } catch (RuntimeException e) {
            wf.close();
            throw e;
        }
    }
}
