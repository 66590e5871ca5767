package org.fomm4j.kernels;

import org.fomm4j.tensor.FrameArena;
import static org.fomm4j.kernels.PanamaKernels.SPECIES;
import static org.fomm4j.kernels.PanamaKernels.VL;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorMask;
import org.fomm4j.tensor.Tensor;

/**
 * The Vector API versions of the per-pixel kernels (normalization, sampling, softmaxes, motion mixing):
 * the semantics, shapes and errors of each are {@link ScalarKernels}' (see {@link Kernels}). Every
 * method is a body over whole vectors and a scalar tail; none uses masks in its loop. Planes, rows or
 * pixels are spread over {@link Parallel}. Results do not depend on the JIT's state: exponentials and
 * lane sums come from {@link VectorMath}, never from {@code lanewise(EXP)} or float {@code reduceLanes}.
 *
 * <p>Sampling ({@code gridSample}, {@code resizeBilinear}) loads its neighbours with gathers, which x86
 * (AVX2, AVX-512) has; elsewhere the scalar reference is used for them.
 */
final class PanamaMaps {
    /** The odd lanes: the y components of interleaved (x, y) pairs. */
    private static final VectorMask<Float> ODD = VectorMask.fromLong(SPECIES, 0xAAAAAAAAAAAAAAAAL);
    /** Gathers are instructions on x86 with 256 bits and more; the Vector API emulates them otherwise. */
    static final boolean GATHER = SPECIES.vectorBitSize() >= 256
            && System.getProperty("os.arch", "").matches("amd64|x86_64");
    /** Lane i takes lane i / 2 (first half duplicated): {@code [a, a, b, b, ...]}. */
    private static final VectorShuffle<Float> DUP_LO = VectorShuffle.fromOp(SPECIES, i -> i / 2);
    /** Lane i takes lane VL / 2 + i / 2 (second half duplicated). */
    private static final VectorShuffle<Float> DUP_HI = VectorShuffle.fromOp(SPECIES, i -> VL / 2 + i / 2);
    /** Elements per block of float partial sums before they are added up in double. */
    private static final int SUM_BLOCK = 64 * VL;

    private PanamaMaps() {
    }

    /** Sum of {@code a[from .. from + len)}: float lanes per block, blocks added in double. */
    static double sum(float[] a, int from, int len) {
        double total = 0;
        float[] lanes = new float[VL];
        int i = 0, bound = SPECIES.loopBound(len);
        while (i < bound) {
            int end = Math.min(bound, i + SUM_BLOCK);
            FloatVector acc = FloatVector.zero(SPECIES);
            for (; i < end; i += VL) {
                acc = acc.add(FloatVector.fromArray(SPECIES, a, from + i));
            }
            total += VectorMath.sumLanes(acc, lanes);
        }
        for (; i < len; i++) {
            total += a[from + i];
        }
        return total;
    }

    /** Sum of {@code (a[i] - mean)^2}: float lanes per block, blocks added in double. */
    static double sumSquaredDeviation(float[] a, int from, int len, float mean) {
        double total = 0;
        float[] lanes = new float[VL];
        FloatVector m = FloatVector.broadcast(SPECIES, mean);
        int i = 0, bound = SPECIES.loopBound(len);
        while (i < bound) {
            int end = Math.min(bound, i + SUM_BLOCK);
            FloatVector acc = FloatVector.zero(SPECIES);
            for (; i < end; i += VL) {
                FloatVector d = FloatVector.fromArray(SPECIES, a, from + i).sub(m);
                acc = d.fma(d, acc);
            }
            total += VectorMath.sumLanes(acc, lanes);
        }
        for (; i < len; i++) {
            double d = a[from + i] - (double) mean;
            total += d * d;
        }
        return total;
    }

    static Tensor instanceNorm(Tensor x, float[] gamma, float[] beta, boolean relu) {
        x.requireRank("instanceNorm input", 4);
        int n = x.dim(0), c = x.dim(1), hw = x.dim(2) * x.dim(3);
        if (gamma.length != c || beta.length != c) {
            throw new IllegalArgumentException("instanceNorm: " + c + " channels but " + gamma.length + " weights");
        }
        float[] in = x.toHeap().data();
        float[] out = FrameArena.floats(in.length);
        FloatVector zero = FloatVector.zero(SPECIES);
        Parallel.forEach(n * c, p -> {
            int ch = p % c, base = p * hw;
            double mean = sum(in, base, hw) / hw;
            double var = sumSquaredDeviation(in, base, hw, (float) mean) / hw;
            double inv = 1.0 / Math.sqrt(var + 1e-5);
            float scale = (float) (gamma[ch] * inv);
            float shift = (float) (beta[ch] - mean * gamma[ch] * inv);
            FloatVector vs = FloatVector.broadcast(SPECIES, scale), vt = FloatVector.broadcast(SPECIES, shift);
            int i = 0;
            for (int bound = SPECIES.loopBound(hw); i < bound; i += VL) {
                FloatVector v = FloatVector.fromArray(SPECIES, in, base + i).fma(vs, vt);
                (relu ? v.max(zero) : v).intoArray(out, base + i);
            }
            for (; i < hw; i++) {
                float v = in[base + i] * scale + shift;
                out[base + i] = relu && v < 0f ? 0f : v;
            }
        });
        return Tensor.of(out, x.shape());
    }

    static Tensor sigmoid(Tensor x) {
        float[] in = x.toHeap().data();
        float[] out = FrameArena.floats(in.length);
        FloatVector one = FloatVector.broadcast(SPECIES, 1f);
        int chunk = Math.max(VL, (in.length / (4 * Parallel.threads()) + VL - 1) / VL * VL);
        Parallel.forEach((in.length + chunk - 1) / chunk, t -> {
            int from = t * chunk, to = Math.min(in.length, from + chunk);
            int i = from;
            for (int bound = from + SPECIES.loopBound(to - from); i < bound; i += VL) {
                FloatVector v = FloatVector.fromArray(SPECIES, in, i);
                one.div(one.add(VectorMath.exp(v.neg()))).intoArray(out, i);
            }
            for (; i < to; i++) {
                out[i] = 1f / (1f + VectorMath.exp(-in[i]));
            }
        });
        return Tensor.of(out, x.shape());
    }

    static Tensor upsampleNearest2x(Tensor x) {
        x.requireRank("upsampleNearest2x input", 4);
        int n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3), oh = 2 * h, ow = 2 * w;
        float[] in = x.toHeap().data();
        float[] out = FrameArena.floats(n * c * oh * ow);
        Parallel.forEach(n * c, p -> {
            for (int y = 0; y < h; y++) {
                int src = (p * h + y) * w, dst = (p * oh + 2 * y) * ow;
                int xx = 0;
                for (int bound = SPECIES.loopBound(w); xx < bound; xx += VL) {
                    FloatVector v = FloatVector.fromArray(SPECIES, in, src + xx);
                    v.rearrange(DUP_LO).intoArray(out, dst + 2 * xx);
                    v.rearrange(DUP_HI).intoArray(out, dst + 2 * xx + VL);
                }
                for (; xx < w; xx++) {
                    out[dst + 2 * xx] = out[dst + 2 * xx + 1] = in[src + xx];
                }
                System.arraycopy(out, dst, out, dst + ow, ow);
            }
        });
        return Tensor.of(out, n, c, oh, ow);
    }

    static Tensor softmaxSpatial(Tensor x, float temperature) {
        x.requireRank("softmaxSpatial input", 4);
        int planes = x.dim(0) * x.dim(1), len = x.dim(2) * x.dim(3);
        float[] in = x.toHeap().data();
        float[] out = FrameArena.floats(in.length);
        Parallel.forEach(planes, p -> {
            int base = p * len, bound = SPECIES.loopBound(len);
            FloatVector vmax = FloatVector.broadcast(SPECIES, Float.NEGATIVE_INFINITY);
            int i = 0;
            for (; i < bound; i += VL) {
                FloatVector v = FloatVector.fromArray(SPECIES, in, base + i).div(temperature);
                v.intoArray(out, base + i);
                vmax = vmax.max(v);
            }
            float max = vmax.reduceLanes(VectorOperators.MAX);
            for (; i < len; i++) {
                out[base + i] = in[base + i] / temperature;
                max = Math.max(max, out[base + i]);
            }
            FloatVector m = FloatVector.broadcast(SPECIES, max);
            for (i = 0; i < bound; i += VL) {
                VectorMath.exp(FloatVector.fromArray(SPECIES, out, base + i).sub(m)).intoArray(out, base + i);
            }
            for (; i < len; i++) {
                out[base + i] = VectorMath.exp(out[base + i] - max);
            }
            float total = (float) sum(out, base, len);
            // Weights below 2^-100 become 0 (ScalarKernels.NEGLIGIBLE): a sharp heatmap (low temperature) is
            // otherwise mostly tiny values whose products, in the keypoints and in every gradient that
            // flows back through the heatmap into the convolutions, are subnormal, and each multiply that
            // touches a subnormal takes a microcode assist (measured: training 3-10x slower at temperature 0.01).
            for (i = 0; i < bound; i += VL) {
                FloatVector v = FloatVector.fromArray(SPECIES, out, base + i).div(total);
                v.blend(0f, v.lt(ScalarKernels.NEGLIGIBLE)).intoArray(out, base + i);
            }
            for (; i < len; i++) {
                out[base + i] = ScalarKernels.flushNegligible(out[base + i] / total);
            }
        });
        return Tensor.of(out, x.shape());
    }

    static Tensor softmaxChannels(Tensor x) {
        x.requireRank("softmaxChannels input", 4);
        int n = x.dim(0), c = x.dim(1), hw = x.dim(2) * x.dim(3);
        float[] in = x.toHeap().data();
        float[] out = FrameArena.floats(in.length);
        int chunk = Math.max(VL, (hw / (4 * Parallel.threads()) + VL - 1) / VL * VL);
        int chunks = (hw + chunk - 1) / chunk;
        Parallel.forEach(n * chunks, t -> {
            int b = t / chunks, from = (t % chunks) * chunk, to = Math.min(hw, from + chunk);
            int base = b * c * hw;
            int i = from;
            for (int bound = from + SPECIES.loopBound(to - from); i < bound; i += VL) {
                FloatVector max = FloatVector.fromArray(SPECIES, in, base + i);
                for (int ch = 1; ch < c; ch++) {
                    max = max.max(FloatVector.fromArray(SPECIES, in, base + ch * hw + i));
                }
                FloatVector total = FloatVector.zero(SPECIES);
                for (int ch = 0; ch < c; ch++) {
                    FloatVector e = VectorMath.exp(FloatVector.fromArray(SPECIES, in, base + ch * hw + i).sub(max));
                    e.intoArray(out, base + ch * hw + i);
                    total = total.add(e);
                }
                for (int ch = 0; ch < c; ch++) {
                    FloatVector v = FloatVector.fromArray(SPECIES, out, base + ch * hw + i).div(total);
                    v.blend(0f, v.lt(ScalarKernels.NEGLIGIBLE)).intoArray(out, base + ch * hw + i);
                }
            }
            for (; i < to; i++) {
                float max = Float.NEGATIVE_INFINITY;
                for (int ch = 0; ch < c; ch++) {
                    max = Math.max(max, in[base + ch * hw + i]);
                }
                float total = 0f;
                for (int ch = 0; ch < c; ch++) {
                    float e = VectorMath.exp(in[base + ch * hw + i] - max);
                    out[base + ch * hw + i] = e;
                    total += e;
                }
                for (int ch = 0; ch < c; ch++) {
                    out[base + ch * hw + i] = ScalarKernels.flushNegligible(out[base + ch * hw + i] / total);
                }
            }
        });
        return Tensor.of(out, x.shape());
    }

    /**
     * Works on the interleaved {@code (x, y)} layout directly: a vector of the output covers {@code VL / 2}
     * pixels, and each mask value is duplicated into the two lanes of its pixel with a shuffle.
     */
    static Tensor mixMotions(Tensor masks, Tensor motions) {
        masks.requireRank("mixMotions masks", 4);
        int n = masks.dim(0), m = masks.dim(1), h = masks.dim(2), w = masks.dim(3), hw = h * w;
        motions.requireShape("mixMotions motions", n, m, h, w, 2);
        float[] k = masks.toHeap().data(), mo = motions.toHeap().data();
        float[] out = FrameArena.floats(n * hw * 2);
        int chunk = Math.max(VL, (hw / (4 * Parallel.threads()) + VL - 1) / VL * VL);
        int chunks = (hw + chunk - 1) / chunk;
        Parallel.forEach(n * chunks, t -> {
            int b = t / chunks, from = (t % chunks) * chunk, to = Math.min(hw, from + chunk);
            int i = from;
            for (int bound = from + SPECIES.loopBound(to - from); i < bound; i += VL) {
                FloatVector lo = FloatVector.zero(SPECIES), hi = lo;
                for (int r = 0; r < m; r++) {
                    FloatVector weight = FloatVector.fromArray(SPECIES, k, (b * m + r) * hw + i);
                    int mi = ((b * m + r) * hw + i) * 2;
                    lo = FloatVector.fromArray(SPECIES, mo, mi).fma(weight.rearrange(DUP_LO), lo);
                    hi = FloatVector.fromArray(SPECIES, mo, mi + VL).fma(weight.rearrange(DUP_HI), hi);
                }
                lo.intoArray(out, (b * hw + i) * 2);
                hi.intoArray(out, (b * hw + i) * 2 + VL);
            }
            for (; i < to; i++) {
                float sx = 0f, sy = 0f;
                for (int r = 0; r < m; r++) {
                    float weight = k[(b * m + r) * hw + i];
                    int mi = ((b * m + r) * hw + i) * 2;
                    sx = Math.fma(mo[mi], weight, sx);
                    sy = Math.fma(mo[mi + 1], weight, sy);
                }
                out[(b * hw + i) * 2] = sx;
                out[(b * hw + i) * 2 + 1] = sy;
            }
        });
        return Tensor.of(out, n, h, w, 2);
    }

    /**
     * On the interleaved layout: lane {@code 2x + c} of a row is {@code A[c][0] (gx - dx) + A[c][1] (gy - dy)
     * + s[c]}, with the coefficients alternating between lanes and {@code gx} duplicated per pixel.
     */
    static Tensor taylorMotions(Tensor kpDriving, Tensor kpSource, Tensor affine, int height, int width) {
        kpDriving.requireRank("kpDriving", 3);
        int n = kpDriving.dim(0), k = kpDriving.dim(1);
        kpDriving.requireShape("kpDriving", n, k, 2);
        kpSource.requireShape("kpSource", n, k, 2);
        if (affine != null) {
            affine.requireShape("jacobian product J_s J_d^-1", n, k, 2, 2);
        }
        float[] gx = CoordinateGrid.axis(width), gy = CoordinateGrid.axis(height);
        int hw = height * width, row = 2 * width;
        // gxx[2x] = gxx[2x + 1] = gx[x].
        float[] gxx = new float[row];
        for (int x = 0; x < width; x++) {
            gxx[2 * x] = gxx[2 * x + 1] = gx[x];
        }
        float[] out = FrameArena.floats(n * (k + 1) * hw * 2);
        Parallel.forEach(n * (k + 1), task -> {
            int b = task / (k + 1), r = task % (k + 1) - 1;
            int base = task * hw * 2;
            // Per lane parity: even lanes (x) use row 0 of A, odd lanes (y) row 1.
            float ax, ay, bx, by, sx, sy, dx, dy;
            if (r < 0) {
                ax = 1f; bx = 0f; ay = 0f; by = 1f; sx = sy = dx = dy = 0f;
            } else {
                int kp = (b * k + r) * 2;
                dx = kpDriving.get(kp);
                dy = kpDriving.get(kp + 1);
                sx = kpSource.get(kp);
                sy = kpSource.get(kp + 1);
                ax = 1f; bx = 0f; ay = 0f; by = 1f;
                if (affine != null) {
                    int a = (b * k + r) * 4;
                    ax = affine.get(a);
                    bx = affine.get(a + 1);
                    ay = affine.get(a + 2);
                    by = affine.get(a + 3);
                }
            }
            float[] ca = new float[row], cb = new float[row], cs = new float[row];
            for (int l = 0; l < row; l += 2) {
                ca[l] = ax;
                ca[l + 1] = ay;
                cb[l] = bx;
                cb[l + 1] = by;
                cs[l] = sx;
                cs[l + 1] = sy;
            }
            boolean identity = r < 0, hasAffine = affine != null;
            for (int y = 0; y < height; y++) {
                float cy = gy[y] - dy;
                int o = base + y * row;
                int l = 0;
                if (identity) {
                    FloatVector vy = FloatVector.broadcast(SPECIES, gy[y]);
                    for (int bound = SPECIES.loopBound(row); l < bound; l += VL) {
                        // x lanes: gx; y lanes: gy.
                        FloatVector.fromArray(SPECIES, gxx, l).blend(vy, ODD).intoArray(out, o + l);
                    }
                    for (; l < row; l++) {
                        out[o + l] = (l & 1) == 0 ? gx[l >> 1] : gy[y];
                    }
                } else {
                    for (int bound = SPECIES.loopBound(row); l < bound; l += VL) {
                        FloatVector cx = FloatVector.fromArray(SPECIES, gxx, l).sub(dx);
                        FloatVector a = FloatVector.fromArray(SPECIES, ca, l);
                        FloatVector bb = FloatVector.fromArray(SPECIES, cb, l);
                        FloatVector s = FloatVector.fromArray(SPECIES, cs, l);
                        // (a cx + b cy) + s in the reference's order; without jacobians A = I, exactly cx + s / cy + s.
                        a.mul(cx).add(bb.mul(cy)).add(s).intoArray(out, o + l);
                    }
                    for (; l < row; l++) {
                        float cxs = gx[l >> 1] - dx;
                        if (hasAffine) {
                            out[o + l] = (l & 1) == 0 ? (ax * cxs + bx * cy) + sx : (ay * cxs + by * cy) + sy;
                        } else {
                            out[o + l] = (l & 1) == 0 ? cxs + sx : cy + sy;
                        }
                    }
                }
            }
        });
        return Tensor.of(out, n, k + 1, height, width, 2);
    }

    /**
     * Per output pixel the four neighbours' offsets and weights are computed once (outside samples
     * get weight 0 and offset 0), then every channel gathers them a vector of pixels at a time.
     */
    static Tensor gridSample(Tensor input, Tensor grid, boolean alignCorners, GridPadding padding) {
        ScalarKernels.checkGridSample(input, grid);
        int n = input.dim(0), c = input.dim(1), h = input.dim(2), w = input.dim(3);
        int oh = grid.dim(1), ow = grid.dim(2);
        float[] in = input.toHeap().data(), g = grid.toHeap().data();
        float[] out = FrameArena.floats(n * c * oh * ow);
        int owPad = (ow + VL - 1) / VL * VL;
        Parallel.forEach(n * oh, task -> {
            int b = task / oh, row = task % oh;
            int[] idx = new int[4 * owPad];
            float[] wt = new float[4 * owPad];
            for (int x = 0; x < ow; x++) {
                int p = row * ow + x;
                float ix = ScalarKernels.sourceIndex(g[(b * oh * ow + p) * 2], w, alignCorners, padding);
                float iy = ScalarKernels.sourceIndex(g[(b * oh * ow + p) * 2 + 1], h, alignCorners, padding);
                int x0 = (int) Math.floor(ix), y0 = (int) Math.floor(iy);
                float wx = ix - x0, ex = 1f - wx, ny = iy - y0, sy = 1f - ny;
                boolean x0in = x0 >= 0 && x0 < w, x1in = x0 + 1 >= 0 && x0 + 1 < w;
                boolean y0in = y0 >= 0 && y0 < h, y1in = y0 + 1 >= 0 && y0 + 1 < h;
                idx[x] = x0in && y0in ? y0 * w + x0 : 0;
                wt[x] = x0in && y0in ? sy * ex : 0f;
                idx[owPad + x] = x1in && y0in ? y0 * w + x0 + 1 : 0;
                wt[owPad + x] = x1in && y0in ? sy * wx : 0f;
                idx[2 * owPad + x] = x0in && y1in ? (y0 + 1) * w + x0 : 0;
                wt[2 * owPad + x] = x0in && y1in ? ny * ex : 0f;
                idx[3 * owPad + x] = x1in && y1in ? (y0 + 1) * w + x0 + 1 : 0;
                wt[3 * owPad + x] = x1in && y1in ? ny * wx : 0f;
            }
            for (int ch = 0; ch < c; ch++) {
                int base = (b * c + ch) * h * w, dst = (b * c + ch) * oh * ow + row * ow;
                int x = 0;
                for (int bound = SPECIES.loopBound(ow); x < bound; x += VL) {
                    // The reference's order: ((nw + ne) + sw) + se, each value times its weight.
                    FloatVector v = FloatVector.fromArray(SPECIES, in, base, idx, x)
                            .mul(FloatVector.fromArray(SPECIES, wt, x));
                    v = v.add(FloatVector.fromArray(SPECIES, in, base, idx, owPad + x)
                            .mul(FloatVector.fromArray(SPECIES, wt, owPad + x)));
                    v = v.add(FloatVector.fromArray(SPECIES, in, base, idx, 2 * owPad + x)
                            .mul(FloatVector.fromArray(SPECIES, wt, 2 * owPad + x)));
                    v = v.add(FloatVector.fromArray(SPECIES, in, base, idx, 3 * owPad + x)
                            .mul(FloatVector.fromArray(SPECIES, wt, 3 * owPad + x)));
                    v.intoArray(out, dst + x);
                }
                for (; x < ow; x++) {
                    out[dst + x] = in[base + idx[x]] * wt[x] + in[base + idx[owPad + x]] * wt[owPad + x]
                            + in[base + idx[2 * owPad + x]] * wt[2 * owPad + x]
                            + in[base + idx[3 * owPad + x]] * wt[3 * owPad + x];
                }
            }
        });
        return Tensor.of(out, n, c, oh, ow);
    }

    static Tensor resizeBilinear(Tensor x, int outH, int outW, boolean alignCorners) {
        x.requireRank("resizeBilinear input", 4);
        int n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3);
        float[] in = x.toHeap().data();
        float[] out = FrameArena.floats(n * c * outH * outW);
        float sh = ScalarKernels.resizeScale(h, outH, alignCorners);
        ScalarKernels.ResizeAxis ax = ScalarKernels.ResizeAxis.of(w, outW, alignCorners);
        int[] x0s = ax.x0(), x1s = ax.x1();
        float[] lx0s = ax.l0(), lx1s = ax.l1();
        Parallel.forEach(n * c, p -> {
            int b = p * h * w;
            for (int oy = 0; oy < outH; oy++) {
                float fy = ScalarKernels.sourceIndex(sh, oy, alignCorners);
                int y0 = (int) fy;
                int y1 = y0 < h - 1 ? y0 + 1 : y0;
                float ly1 = fy - y0, ly0 = 1f - ly1;
                int r0 = b + y0 * w, r1 = b + y1 * w, dst = (p * outH + oy) * outW;
                int ox = 0;
                for (int bound = SPECIES.loopBound(outW); ox < bound; ox += VL) {
                    FloatVector lx0 = FloatVector.fromArray(SPECIES, lx0s, ox), lx1 = FloatVector.fromArray(SPECIES, lx1s, ox);
                    FloatVector top = FloatVector.fromArray(SPECIES, in, r0, x0s, ox).mul(lx0)
                            .add(FloatVector.fromArray(SPECIES, in, r0, x1s, ox).mul(lx1));
                    FloatVector bottom = FloatVector.fromArray(SPECIES, in, r1, x0s, ox).mul(lx0)
                            .add(FloatVector.fromArray(SPECIES, in, r1, x1s, ox).mul(lx1));
                    top.mul(ly0).add(bottom.mul(ly1)).intoArray(out, dst + ox);
                }
                for (; ox < outW; ox++) {
                    int x0 = x0s[ox], x1 = x1s[ox];
                    float lx0 = lx0s[ox], lx1 = lx1s[ox];
                    out[dst + ox] = ly0 * (lx0 * in[r0 + x0] + lx1 * in[r0 + x1]) + ly1 * (lx0 * in[r1 + x0] + lx1 * in[r1 + x1]);
                }
            }
        });
        return Tensor.of(out, n, c, outH, outW);
    }

    /**
     * {@link ThinPlateSpline#motions} with the splines evaluated {@code VL} pixels at a time: the fit (a
     * small double-precision solve per group) is the scalar one; the evaluation does the reference's
     * float32 operations in its order, with {@link VectorMath#log} for the kernel {@code r^2 log r^2}.
     */
    static Tensor tpsMotions(Tensor kpDriving, Tensor kpSource, int groupSize, int height, int width) {
        int bs = kpDriving.dim(0), points = kpDriving.dim(1), groups = points / groupSize;
        kpSource.requireShape("kpSource", bs, points, 2);
        float[] gx = CoordinateGrid.axis(width), gy = CoordinateGrid.axis(height);
        float[] out = FrameArena.floats(bs * groups * height * width * 2);
        ThinPlateSpline[] splines = new ThinPlateSpline[bs * groups];
        for (int task = 0; task < bs * groups; task++) {
            int b = task / groups, g = task % groups;
            float[] c = new float[groupSize * 2], t = new float[groupSize * 2];
            for (int i = 0; i < groupSize * 2; i++) {
                c[i] = kpDriving.get((b * points + g * groupSize) * 2 + i);
                t[i] = kpSource.get((b * points + g * groupSize) * 2 + i);
            }
            splines[task] = ThinPlateSpline.fit(c, t);
        }
        int n = groupSize;
        Parallel.forEach(bs * groups * height, task -> {
            int spline = task / height, y = task % height;
            float[] c = splines[spline].control(), p = splines[spline].params();
            float ax = p[2 * n], bx = p[2 * (n + 1)], cx = p[2 * (n + 2)];
            float ay = p[2 * n + 1], by = p[2 * (n + 1) + 1], cy = p[2 * (n + 2) + 1];
            float yy = gy[y];
            FloatVector vy = FloatVector.broadcast(SPECIES, yy);
            int base = (spline * height + y) * width * 2;
            int x = 0;
            for (int bound = SPECIES.loopBound(width); x < bound; x += VL) {
                FloatVector vx = FloatVector.fromArray(SPECIES, gx, x);
                FloatVector tx = vx.mul(ax).add(vy.mul(bx)).add(cx);
                FloatVector ty = vx.mul(ay).add(vy.mul(by)).add(cy);
                FloatVector rx = FloatVector.zero(SPECIES), ry = rx;
                for (int i = 0; i < n; i++) {
                    FloatVector dx = vx.sub(c[2 * i]), dy = vy.sub(c[2 * i + 1]);
                    FloatVector r2 = dx.mul(dx).add(dy.mul(dy));
                    FloatVector w = r2.mul(VectorMath.log(r2.add(1e-9f)));
                    rx = rx.add(w.mul(p[2 * i]));
                    ry = ry.add(w.mul(p[2 * i + 1]));
                }
                FloatVector ox = tx.add(rx), oy = ty.add(ry);
                VectorMath.zipLo(ox, oy).intoArray(out, base + 2 * x);
                VectorMath.zipHi(ox, oy).intoArray(out, base + 2 * x + VL);
            }
            for (; x < width; x++) {
                float xx = gx[x];
                float tx = ax * xx + bx * yy + cx, ty = ay * xx + by * yy + cy;
                float rx = 0f, ry = 0f;
                for (int i = 0; i < n; i++) {
                    float dx = xx - c[2 * i], dy = yy - c[2 * i + 1];
                    float r2 = dx * dx + dy * dy;
                    float w = r2 * VectorMath.log(r2 + 1e-9f);
                    rx += w * p[2 * i];
                    ry += w * p[2 * i + 1];
                }
                out[base + 2 * x] = tx + rx;
                out[base + 2 * x + 1] = ty + ry;
            }
        });
        return Tensor.of(out, bs, groups, height, width, 2);
    }
}
