package org.fomm4j.nn;

import org.fomm4j.tensor.FrameArena;
import org.fomm4j.tensor.Tensor;
import org.fomm4j.weights.WeightReader;

/**
 * {@code AntiAliasInterpolation2d}: Gaussian blur ({@code sigma = (1/scale - 1) / 2}, kernel size
 * {@code 2 * round(4 sigma) + 1}, zero padding {@code ka, kb}) then nearest downsampling by
 * {@code scale}. The blur kernel is the module's stored buffer {@code weight [C, 1, k, k]}.
 * Only the pixels the nearest resampling keeps are blurred ({@code src = floor(dst / scale)}, the
 * index rule of {@code F.interpolate(scale_factor=scale)}): for an integer {@code 1/scale} (every
 * official config) that is the kernels' depthwise convolution with stride {@code 1/scale}; otherwise a
 * direct loop over the kept pixels.
 * {@code [N, C, H, W] -> [N, C, floor(H * scale), floor(W * scale)]}.
 */
public final class AntiAliasInterpolation2d {
    private final int channels;
    private final double scale;
    private final int size;
    private final int ka;
    private final float[] weight;

    private final org.fomm4j.kernels.Conv2d depthwise;

    public AntiAliasInterpolation2d(WeightReader r, int channels, double scale) {
        this(null, r, channels, scale);
    }

    public AntiAliasInterpolation2d(org.fomm4j.kernels.Kernels k, WeightReader r, int channels, double scale) {
        this.channels = channels;
        this.scale = scale;
        double sigma = (1 / scale - 1) / 2;
        this.size = 2 * (int) Math.round(sigma * 4) + 1;
        this.ka = size / 2;
        this.weight = r.take("weight", channels, 1, size, size);
        double inv = 1 / scale;
        int stride = (int) Math.rint(inv);
        this.depthwise = k != null && Math.abs(inv - stride) < 1e-9
                ? k.conv2d(new org.fomm4j.kernels.ConvSpec(channels, channels, size, size, stride, ka, ka, channels), weight, null)
                : null;
    }

    public Tensor forward(Tensor x) {
        x.requireRank("anti-alias input", 4);
        if (x.dim(1) != channels) {
            throw new IllegalArgumentException("anti-alias expects " + channels + " channels, got " + x.dim(1));
        }
        int n = x.dim(0), h = x.dim(2), w = x.dim(3);
        int oh = (int) Math.floor(h * scale), ow = (int) Math.floor(w * scale);
        if (depthwise != null) {
            Tensor full = depthwise.apply(x, org.fomm4j.kernels.Activation.NONE);
            return full.dim(2) == oh && full.dim(3) == ow ? full : crop(full, oh, ow);
        }
        // PyTorch computes the nearest index as floor(dst * (float) (1 / scale)).
        float inv = (float) (1.0 / scale);
        float[] in = x.toHeap().data();
        float[] out = FrameArena.zeros(n * channels * oh * ow);
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

    /** The top-left {@code oh x ow} of each plane (a strided conv keeps a partial last step that interpolate drops). */
    private static Tensor crop(Tensor t, int oh, int ow) {
        int n = t.dim(0), c = t.dim(1), h = t.dim(2), w = t.dim(3);
        float[] in = t.data(), out = FrameArena.zeros(n * c * oh * ow);
        for (int p = 0; p < n * c; p++) {
            for (int y = 0; y < oh; y++) {
                System.arraycopy(in, (p * h + y) * w, out, (p * oh + y) * ow, ow);
            }
        }
        return Tensor.of(out, n, c, oh, ow);
    }
}
