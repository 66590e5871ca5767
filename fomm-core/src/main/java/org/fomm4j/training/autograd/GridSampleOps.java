package org.fomm4j.training.autograd;

import org.fomm4j.kernels.GridPadding;
import org.fomm4j.kernels.Parallel;

/**
 * {@code F.grid_sample(input, grid, mode='bilinear', padding_mode, align_corners)} with the gradient with
 * respect to the input and to the grid, following PyTorch's {@code GridSampler} kernels (including the
 * derivative of reflection and clipping of the source index).
 *
 * <p>The grid's batch may be a multiple {@code M} of the input's: grid item {@code g} samples input item
 * {@code g / M} (the dense motion network warps one source by {@code K + 1} motions without copying it).
 */
public final class GridSampleOps {
    private GridSampleOps() {
    }

    /**
     * @param input {@code [N, C, H, W]}
     * @param grid  {@code [N*M, Ho, Wo, 2]}, {@code (x, y)} in {@code [-1, 1]}
     * @return {@code [N*M, C, Ho, Wo]}
     */
    public static Var gridSample(Tape t, Var input, Var grid, GridPadding padding, boolean alignCorners) {
        int n = input.dim(0), c = input.dim(1), h = input.dim(2), w = input.dim(3);
        int gn = grid.dim(0), oh = grid.dim(1), ow = grid.dim(2);
        if (grid.rank() != 4 || grid.dim(3) != 2 || gn % n != 0) {
            throw new IllegalArgumentException("grid_sample: grid " + grid + " does not fit input " + input);
        }
        int m = gn / n, plane = oh * ow;
        float[] in = input.value(), g = grid.value(), out = new float[gn * c * plane];
        // Source indices and their derivative per grid point, shared by forward and backward.
        float[] ix = new float[gn * plane], iy = new float[gn * plane], mx = new float[gn * plane], my = new float[gn * plane];
        Parallel.forEach(gn, q -> {
            int src = q / m;
            for (int p = 0; p < plane; p++) {
                int gi = q * plane + p;
                float[] r = sourceIndex(g[2 * gi], w, padding, alignCorners);
                ix[gi] = r[0];
                mx[gi] = r[1];
                r = sourceIndex(g[2 * gi + 1], h, padding, alignCorners);
                iy[gi] = r[0];
                my[gi] = r[1];
                float fx = ix[gi], fy = iy[gi];
                int x0 = (int) Math.floor(fx), y0 = (int) Math.floor(fy);
                float ax = fx - x0, ay = fy - y0;
                for (int ch = 0; ch < c; ch++) {
                    int b = (src * c + ch) * h * w;
                    float v = 0f;
                    v += (1 - ax) * (1 - ay) * at(in, b, x0, y0, w, h);
                    v += ax * (1 - ay) * at(in, b, x0 + 1, y0, w, h);
                    v += (1 - ax) * ay * at(in, b, x0, y0 + 1, w, h);
                    v += ax * ay * at(in, b, x0 + 1, y0 + 1, w, h);
                    out[(q * c + ch) * plane + p] = v;
                }
            }
        });
        Var y = t.output(out, new int[] {gn, c, oh, ow}, input, grid);
        t.record(y, () -> {
            float[] dy = y.grad();
            float[] dg = grid.requiresGrad() ? grid.grad() : null;
            float[] din = input.requiresGrad() ? input.grad() : null;
            // Tasks own whole input items so that the scattered input gradient needs no locks.
            Parallel.forEach(n, src -> {
                for (int q = src * m; q < (src + 1) * m; q++) {
                    for (int p = 0; p < plane; p++) {
                        int gi = q * plane + p;
                        float fx = ix[gi], fy = iy[gi];
                        int x0 = (int) Math.floor(fx), y0 = (int) Math.floor(fy);
                        float ax = fx - x0, ay = fy - y0;
                        float gx = 0f, gy = 0f;
                        for (int ch = 0; ch < c; ch++) {
                            int b = (src * c + ch) * h * w;
                            float go = dy[(q * c + ch) * plane + p];
                            if (go == 0f) {
                                continue;
                            }
                            float nw = at(in, b, x0, y0, w, h), ne = at(in, b, x0 + 1, y0, w, h);
                            float sw = at(in, b, x0, y0 + 1, w, h), se = at(in, b, x0 + 1, y0 + 1, w, h);
                            gx += go * ((ne - nw) * (1 - ay) + (se - sw) * ay);
                            gy += go * ((sw - nw) * (1 - ax) + (se - ne) * ax);
                            if (din != null) {
                                add(din, b, x0, y0, w, h, (1 - ax) * (1 - ay) * go);
                                add(din, b, x0 + 1, y0, w, h, ax * (1 - ay) * go);
                                add(din, b, x0, y0 + 1, w, h, (1 - ax) * ay * go);
                                add(din, b, x0 + 1, y0 + 1, w, h, ax * ay * go);
                            }
                        }
                        if (dg != null) {
                            dg[2 * gi] += gx * mx[gi];
                            dg[2 * gi + 1] += gy * my[gi];
                        }
                    }
                }
            });
        });
        return y;
    }

    private static float at(float[] a, int base, int x, int y, int w, int h) {
        return x >= 0 && x < w && y >= 0 && y < h ? a[base + y * w + x] : 0f;
    }

    private static void add(float[] a, int base, int x, int y, int w, int h, float v) {
        if (x >= 0 && x < w && y >= 0 && y < h) {
            a[base + y * w + x] += v;
        }
    }

    /** PyTorch's {@code grid_sampler_compute_source_index_set_grad}: {@code {index, d index / d coordinate}}. */
    static float[] sourceIndex(float coord, int size, GridPadding padding, boolean alignCorners) {
        float idx, mult;
        if (alignCorners) {
            idx = (coord + 1) / 2 * (size - 1);
            mult = (size - 1) / 2f;
        } else {
            idx = ((coord + 1) * size - 1) / 2;
            mult = size / 2f;
        }
        if (padding == GridPadding.REFLECTION) {
            float[] r = alignCorners ? reflect(idx, 0, 2 * (size - 1)) : reflect(idx, -1, 2 * size - 1);
            idx = r[0];
            mult *= r[1];
            if (idx <= 0) {
                idx = 0;
                mult = 0;
            } else if (idx >= size - 1) {
                idx = size - 1;
                mult = 0;
            }
        }
        return new float[] {idx, mult};
    }

    private static float[] reflect(float in, int twiceLow, int twiceHigh) {
        if (twiceLow == twiceHigh) {
            return new float[] {0f, 0f};
        }
        float min = twiceLow / 2f, span = (twiceHigh - twiceLow) / 2f;
        float sign = 1f;
        in = in - min;
        if (in < 0) {
            sign = -1f;
            in = -in;
        }
        // fmod, as PyTorch; |in| < span (the common case: inside the frame) is in itself, without the slow
        // float remainder (SharedRuntime::frem took 3% of a training step's profile).
        float extra = in < span ? in : in % span;
        int flips = (int) Math.floor(in / span);
        return flips % 2 == 0 ? new float[] {extra + min, sign} : new float[] {span - extra + min, -sign};
    }
}
