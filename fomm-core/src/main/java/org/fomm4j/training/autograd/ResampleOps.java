package org.fomm4j.training.autograd;

import org.fomm4j.kernels.Parallel;
import org.fomm4j.tensor.Tensor;

/**
 * Pooling, upsampling, anti-aliased downsampling and bilinear resizing of NCHW tensors, with their
 * backward passes (each the transpose of its forward map). Parallel over {@code (n, c)} planes.
 */
public final class ResampleOps {
    private ResampleOps() {
    }

    /** {@code nn.AvgPool2d(2)}: {@code [N, C, H, W] -> [N, C, H/2, W/2]} (odd last row/column dropped). */
    public static Var avgPool2x2(Tape t, Var x) {
        int planes = x.dim(0) * x.dim(1), h = x.dim(2), w = x.dim(3), oh = h / 2, ow = w / 2;
        float[] out = ConvOps.K.avgPool2x2(Tensor.of(x.value(), x.shape())).data();
        Var yv = t.output(out, new int[] {x.dim(0), x.dim(1), oh, ow}, x);
        t.record(yv, () -> {
            float[] dy = yv.grad(), dx = x.grad();
            Parallel.forEach(planes, p -> {
                for (int y = 0; y < oh; y++) {
                    int r0 = (p * h + 2 * y) * w, r1 = r0 + w, o = (p * oh + y) * ow;
                    for (int xx = 0; xx < ow; xx++) {
                        float g = dy[o + xx] * 0.25f;
                        dx[r0 + 2 * xx] += g;
                        dx[r0 + 2 * xx + 1] += g;
                        dx[r1 + 2 * xx] += g;
                        dx[r1 + 2 * xx + 1] += g;
                    }
                }
            });
        });
        return yv;
    }

    /** {@code F.interpolate(x, scale_factor=2)} (nearest): {@code [N, C, H, W] -> [N, C, 2H, 2W]}. */
    public static Var upsampleNearest2x(Tape t, Var x) {
        int planes = x.dim(0) * x.dim(1), h = x.dim(2), w = x.dim(3), oh = 2 * h, ow = 2 * w;
        float[] out = ConvOps.K.upsampleNearest2x(Tensor.of(x.value(), x.shape())).data();
        Var yv = t.output(out, new int[] {x.dim(0), x.dim(1), oh, ow}, x);
        t.record(yv, () -> {
            float[] dy = yv.grad(), dx = x.grad();
            Parallel.forEach(planes, p -> {
                for (int y = 0; y < oh; y++) {
                    int src = (p * h + y / 2) * w, dst = (p * oh + y) * ow;
                    for (int xx = 0; xx < ow; xx++) {
                        dx[src + xx / 2] += dy[dst + xx];
                    }
                }
            });
        });
        return yv;
    }

    /**
     * The references' {@code AntiAliasInterpolation2d}: a depthwise Gaussian blur ({@code sigma = (1/scale - 1)/2},
     * size {@code 2 round(4 sigma) + 1}, zero padding {@code size/2}), then nearest sampling at
     * {@code floor(dst / scale)}: {@code [N, C, H, W] -> [N, C, floor(H scale), floor(W scale)]}. Scale 1 is the
     * identity. The kernel is {@link #gaussianKernel} (or the state dict's {@code down.weight}, the same values).
     *
     * @param kernel {@code size x size} weights, shared by every channel
     */
    public static Var antiAlias(Tape t, Var x, double scale, float[] kernel) {
        if (scale == 1) {
            return x;
        }
        int n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3);
        int size = (int) Math.round(Math.sqrt(kernel.length)), ka = size / 2;
        int oh = (int) Math.floor(h * scale), ow = (int) Math.floor(w * scale);
        float inv = (float) (1.0 / scale);
        int[] sy = new int[oh], sx = new int[ow];
        for (int i = 0; i < oh; i++) {
            sy[i] = Math.min((int) Math.floor(i * inv), h - 1);
        }
        for (int i = 0; i < ow; i++) {
            sx[i] = Math.min((int) Math.floor(i * inv), w - 1);
        }
        float[] in = x.value(), out = new float[n * c * oh * ow];
        Parallel.forEach(n * c, p -> {
            for (int oy = 0; oy < oh; oy++) {
                for (int ox = 0; ox < ow; ox++) {
                    float acc = 0f;
                    for (int ky = 0; ky < size; ky++) {
                        int iy = sy[oy] + ky - ka;
                        if (iy < 0 || iy >= h) {
                            continue;
                        }
                        for (int kx = 0; kx < size; kx++) {
                            int ix = sx[ox] + kx - ka;
                            if (ix >= 0 && ix < w) {
                                acc += in[(p * h + iy) * w + ix] * kernel[ky * size + kx];
                            }
                        }
                    }
                    out[(p * oh + oy) * ow + ox] = acc;
                }
            }
        });
        Var y = t.output(out, new int[] {n, c, oh, ow}, x);
        t.record(y, () -> {
            float[] dy = y.grad(), dx = x.grad();
            Parallel.forEach(n * c, p -> {
                for (int oy = 0; oy < oh; oy++) {
                    for (int ox = 0; ox < ow; ox++) {
                        float g = dy[(p * oh + oy) * ow + ox];
                        for (int ky = 0; ky < size; ky++) {
                            int iy = sy[oy] + ky - ka;
                            if (iy < 0 || iy >= h) {
                                continue;
                            }
                            for (int kx = 0; kx < size; kx++) {
                                int ix = sx[ox] + kx - ka;
                                if (ix >= 0 && ix < w) {
                                    dx[(p * h + iy) * w + ix] += g * kernel[ky * size + kx];
                                }
                            }
                        }
                    }
                }
            });
        });
        return y;
    }

    /**
     * The normalized Gaussian of {@code AntiAliasInterpolation2d} for {@code scale}: {@code size x size},
     * {@code exp(-(i - (size-1)/2)^2 / (2 sigma^2))} per axis, product, divided by its sum.
     */
    public static float[] gaussianKernel(double scale) {
        double sigma = (1 / scale - 1) / 2;
        int size = 2 * (int) Math.rint(sigma * 4) + 1;
        double mean = (size - 1) / 2.0;
        double[] g = new double[size];
        for (int i = 0; i < size; i++) {
            g[i] = Math.exp(-(i - mean) * (i - mean) / (2 * sigma * sigma));
        }
        double sum = 0;
        float[] k = new float[size * size];
        for (int y = 0; y < size; y++) {
            for (int x = 0; x < size; x++) {
                sum += g[y] * g[x];
            }
        }
        for (int y = 0; y < size; y++) {
            for (int x = 0; x < size; x++) {
                k[y * size + x] = (float) (g[y] * g[x] / sum);
            }
        }
        return k;
    }

    /**
     * {@code F.interpolate(x, size=(oh, ow), mode='bilinear', align_corners)} as PyTorch computes it: with
     * {@code alignCorners=false} the source coordinate is {@code (dst + 0.5) * in/out - 0.5} clamped at 0,
     * with {@code true} {@code dst * (in - 1)/(out - 1)}.
     */
    public static Var resizeBilinear(Tape t, Var x, int oh, int ow, boolean alignCorners) {
        int planes = x.dim(0) * x.dim(1), h = x.dim(2), w = x.dim(3);
        if (oh == h && ow == w) {
            return x;
        }
        int[] y0 = new int[oh], y1 = new int[oh], x0 = new int[ow], x1 = new int[ow];
        float[] ly = new float[oh], lx = new float[ow];
        axis(h, oh, alignCorners, y0, y1, ly);
        axis(w, ow, alignCorners, x0, x1, lx);
        float[] out = ConvOps.K.resizeBilinear(Tensor.of(x.value(), x.shape()), oh, ow, alignCorners).data();
        Var yv = t.output(out, new int[] {x.dim(0), x.dim(1), oh, ow}, x);
        t.record(yv, () -> {
            float[] dy = yv.grad(), dx = x.grad();
            Parallel.forEach(planes, p -> {
                int b = p * h * w;
                for (int i = 0; i < oh; i++) {
                    float a = ly[i];
                    for (int j = 0; j < ow; j++) {
                        float bb = lx[j], g = dy[(p * oh + i) * ow + j];
                        dx[b + y0[i] * w + x0[j]] += (1 - a) * (1 - bb) * g;
                        dx[b + y0[i] * w + x1[j]] += (1 - a) * bb * g;
                        dx[b + y1[i] * w + x0[j]] += a * (1 - bb) * g;
                        dx[b + y1[i] * w + x1[j]] += a * bb * g;
                    }
                }
            });
        });
        return yv;
    }

    private static void axis(int in, int out, boolean alignCorners, int[] i0, int[] i1, float[] lambda) {
        float scale = alignCorners ? (out > 1 ? (float) (in - 1) / (out - 1) : 0f) : (float) in / out;
        for (int d = 0; d < out; d++) {
            float src = alignCorners ? d * scale : Math.max((d + 0.5f) * scale - 0.5f, 0f);
            int lo = Math.min((int) src, in - 1);
            i0[d] = lo;
            i1[d] = lo + (lo < in - 1 ? 1 : 0);
            lambda[d] = src - lo;
        }
    }
}
