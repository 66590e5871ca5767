package org.fomm4j.networks.tpsmm;

import org.fomm4j.config.TpsmmConfig;
import org.fomm4j.kernels.Kernels;
import org.fomm4j.nn.ResNet18;
import org.fomm4j.tensor.Tensor;
import org.fomm4j.weights.WeightReader;

/**
 * TPSMM keypoint detector ({@code modules/keypoint_detector.py: KPDetector}): a ResNet-18
 * ({@code fg_encoder}) whose {@code fc} gives {@code K * 5 * 2} values, squashed by
 * {@code sigmoid * 2 - 1}. Input {@code [N, C, H, W]} in {@code [0, 1]}; output {@code fg_kp}
 * {@code [N, K * 5, 2]}, {@code (x, y)} in {@code (-1, 1)}.
 */
public final class TpsmmKpDetector {
    private final ResNet18 fgEncoder;
    private final int points;

    public TpsmmKpDetector(Kernels k, WeightReader r, TpsmmConfig c) {
        this.points = c.numTps() * 5;
        this.fgEncoder = new ResNet18(k, r.sub("fg_encoder"), c.numChannels(), points * 2);
    }

    public Tensor detect(Tensor image) {
        float[] v = fgEncoder.forward(image);
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (1.0 / (1.0 + Math.exp(-v[i]))) * 2f - 1f;
        }
        return Tensor.of(v, image.dim(0), points, 2);
    }
}
