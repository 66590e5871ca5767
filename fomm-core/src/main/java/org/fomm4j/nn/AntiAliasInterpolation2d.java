package org.fomm4j.nn;

import org.fomm4j.tensor.Tensor;
import org.fomm4j.weights.WeightReader;

/**
 * {@code AntiAliasInterpolation2d}: Gaussian blur ({@code sigma = (1/scale - 1) / 2}, kernel size
 * {@code 2 * round(4 sigma) + 1}, zero padding {@code ka, kb}) then nearest downsampling by
 * {@code scale}. The blur kernel is the module's stored buffer {@code weight [C, 1, k, k]}.
 * Only the pixels the nearest resampling keeps are blurred ({@code src = floor(dst / scale)}, the
 * index rule of {@code F.interpolate(scale_factor=scale)}, equal to the {@code [::1/scale]} slicing
 * of TPSMM for integer {@code 1/scale}).
 * {@code [N, C, H, W] -> [N, C, floor(H * scale), floor(W * scale)]}.
 */
public final class AntiAliasInterpolation2d {
    private final int channels;
    private final double scale;
    private final int size;
    private final int ka;
    private final float[] weight;

    public AntiAliasInterpolation2d(WeightReader r, int channels, double scale) {
        this.channels = channels;
        this.scale = scale;
        double sigma = (1 / scale - 1) / 2;
        this.size = 2 * (int) Math.round(sigma * 4) + 1;
        this.ka = size / 2;
        this.weight = r.take("weight", channels, 1, size, size);
    }

    public Tensor forward(Tensor x) {
        x.requireRank("anti-alias input", 4);
        if (x.dim(1) != channels) {
            throw new IllegalArgumentException("anti-alias expects " + channels + " channels, got " + x.dim(1));
        }
        int n = x.dim(0), h = x.dim(2), w = x.dim(3);
        int oh = (int) Math.floor(h * scale), ow = (int) Math.floor(w * scale);
        // PyTorch computes the nearest index as floor(dst * (float) (1 / scale)).
        float inv = (float) (1.0 / scale);
        float[] in = x.toHeap().data();
        float[] out = new float[n * channels * oh * ow];
        for (int p = 0; p < n * channels; p++) {
            int c = p % channels;
            for (int oy = 0; oy < oh; oy++) {
                int sy = Math.min((int) Math.floor(oy * inv), h - 1);
                for (int ox = 0; ox < ow; ox++) {
                    int sx = Math.min((int) Math.floor(ox * inv), w - 1);
                    float acc = 0f;
                    for (int ky = 0; ky < size; ky++) {
                        int iy = sy + ky - ka;
                        if (iy < 0 || iy >= h) {
                            continue;
                        }
                        for (int kx = 0; kx < size; kx++) {
                            int ix = sx + kx - ka;
                            if (ix >= 0 && ix < w) {
                                acc += in[(p * h + iy) * w + ix] * weight[(c * size + ky) * size + kx];
                            }
                        }
                    }
                    out[(p * oh + oy) * ow + ox] = acc;
                }
            }
        }
        return Tensor.of(out, n, channels, oh, ow);
    }
}
