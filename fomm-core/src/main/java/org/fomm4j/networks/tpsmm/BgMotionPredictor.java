package org.fomm4j.networks.tpsmm;

import org.fomm4j.config.TpsmmConfig;
import org.fomm4j.kernels.Kernels;
import org.fomm4j.nn.ResNet18;
import org.fomm4j.tensor.Tensor;
import org.fomm4j.weights.WeightReader;

/**
 * TPSMM background motion predictor ({@code modules/bg_motion_predictor.py}): a ResNet-18
 * ({@code bg_encoder}, 6-channel first conv) on the source and driving frames concatenated, giving
 * the top two rows of a 3x3 affine transform in homogeneous coordinates (last row {@code 0 0 1}).
 * Output {@code [N, 3, 3]}, acting on {@code (x, y, 1)} of the driving frame's grid.
 */
public final class BgMotionPredictor {
    private final ResNet18 bgEncoder;

    public BgMotionPredictor(Kernels k, WeightReader r, TpsmmConfig c) {
        this.bgEncoder = new ResNet18(k, r.sub("bg_encoder"), 2 * c.numChannels(), 6);
    }

    public Tensor predict(Tensor source, Tensor driving) {
        float[] p = bgEncoder.forward(Tensor.concat(1, source, driving));
        int n = source.dim(0);
        float[] out = new float[n * 9];
        for (int b = 0; b < n; b++) {
            System.arraycopy(p, b * 6, out, b * 9, 6);
            out[b * 9 + 8] = 1f;
        }
        return Tensor.of(out, n, 3, 3);
    }
}
