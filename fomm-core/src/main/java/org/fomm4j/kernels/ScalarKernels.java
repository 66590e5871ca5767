package org.fomm4j.kernels;

import org.fomm4j.tensor.FrameArena;
import org.fomm4j.tensor.Tensor;

/**
 * The plain reference implementation of {@link Kernels}: straightforward loops, no SIMD, obviously
 * equal to the PyTorch definitions. Work is split over output channels, planes or rows on the shared
 * pool (each output element is computed exactly as in a sequential loop), so the reference stays usable
 * on real models.
 */
public class ScalarKernels implements Kernels {

    @Override
    public String name() {
        return "scalar";
    }

    @Override
    public Conv2d conv2d(ConvSpec spec, float[] weight, float[] bias) {
        checkConvWeights(spec, weight, bias);
        return new ScalarConv2d(spec, weight.clone(), bias == null ? null : bias.clone());
    }

    static void checkConvWeights(ConvSpec spec, float[] weight, float[] bias) {
        if (weight.length != spec.weightCount()) {
            throw new IllegalArgumentException("convolution " + spec + " needs " + spec.weightCount()
                    + " weights, got " + weight.length);
        }
        if (bias != null && bias.length != spec.outChannels()) {
            throw new IllegalArgumentException("convolution " + spec + " needs " + spec.outChannels()
                    + " biases, got " + bias.length);
        }
    }

    static int[] checkConvInput(ConvSpec spec, Tensor input) {
        input.requireRank("convolution input", 4);
        int[] s = input.shape();
        if (s[1] != spec.inChannels()) {
            throw new IllegalArgumentException("convolution expects " + spec.inChannels() + " input channels but got "
                    + s[1] + " (input shape " + java.util.Arrays.toString(s) + ")");
        }
        return s;
    }

    static float activate(float v, Activation a) {
        return switch (a) {
            case NONE -> v;
            case RELU -> v > 0f ? v : 0f;
            case SIGMOID -> sigmoid(v);
        };
    }

    static float sigmoid(float v) {
        return (float) (1.0 / (1.0 + Math.exp(-v)));
    }

    /** Direct convolution, one output channel per task. */
    private record ScalarConv2d(ConvSpec spec, float[] weight, float[] bias) implements Conv2d {
        @Override
        public Tensor apply(Tensor input, Activation activation) {
            int[] s = checkConvInput(spec, input);
            int n = s[0], h = s[2], w = s[3];
            int oh = spec.outH(h), ow = spec.outW(w);
            int cout = spec.outChannels(), groups = spec.groups();
            int cinG = spec.inChannels() / groups, coutG = cout / groups;
            int kh = spec.kernelH(), kw = spec.kernelW(), st = spec.stride(), ph = spec.padH(), pw = spec.padW();
            float[] in = input.toHeap().data();
            float[] out = FrameArena.zeros(n * cout * oh * ow);
            Parallel.forEach(n * cout, task -> {
                int b = task / cout, co = task % cout, g = co / coutG;
                int outBase = (b * cout + co) * oh * ow;
                for (int oy = 0; oy < oh; oy++) {
                    for (int ox = 0; ox < ow; ox++) {
                        float acc = 0f;
                        for (int ci = 0; ci < cinG; ci++) {
                            int inBase = (b * spec.inChannels() + g * cinG + ci) * h * w;
                            int wBase = (co * cinG + ci) * kh * kw;
                            for (int ky = 0; ky < kh; ky++) {
                                int iy = oy * st - ph + ky;
                                if (iy < 0 || iy >= h) {
                                    continue;
                                }
                                for (int kx = 0; kx < kw; kx++) {
                                    int ix = ox * st - pw + kx;
                                    if (ix < 0 || ix >= w) {
                                        continue;
                                    }
                                    acc += in[inBase + iy * w + ix] * weight[wBase + ky * kw + kx];
                                }
                            }
                        }
                        if (bias != null) {
                            acc += bias[co];
                        }
                        out[outBase + oy * ow + ox] = activate(acc, activation);
                    }
                }
            });
            return Tensor.of(out, n, cout, oh, ow);
        }
    }

    @Override
    public Tensor relu(Tensor x) {
        float[] in = x.toHeap().data();
        float[] out = FrameArena.zeros(in.length);
        for (int i = 0; i < in.length; i++) {
            out[i] = in[i] > 0f ? in[i] : 0f;
        }
        return Tensor.of(out, x.shape());
    }

    @Override
    public Tensor sigmoid(Tensor x) {
        float[] in = x.toHeap().data();
        float[] out = FrameArena.zeros(in.length);
        for (int i = 0; i < in.length; i++) {
            out[i] = sigmoid(in[i]);
        }
        return Tensor.of(out, x.shape());
    }

    @Override
    public Tensor channelAffine(Tensor x, float[] scale, float[] shift, boolean relu) {
        x.requireRank("channelAffine input", 4);
        int n = x.dim(0), c = x.dim(1), hw = x.dim(2) * x.dim(3);
        if (scale.length != c || shift.length != c) {
            throw new IllegalArgumentException("channelAffine: " + c + " channels but " + scale.length + " scales and "
                    + shift.length + " shifts");
        }
        float[] in = x.toHeap().data();
        float[] out = FrameArena.zeros(in.length);
        for (int b = 0; b < n; b++) {
            for (int ch = 0; ch < c; ch++) {
                int base = (b * c + ch) * hw;
                for (int i = 0; i < hw; i++) {
                    float v = in[base + i] * scale[ch] + shift[ch];
                    out[base + i] = relu && v < 0f ? 0f : v;
                }
            }
        }
        return Tensor.of(out, x.shape());
    }

    @Override
    public Tensor instanceNorm(Tensor x, float[] gamma, float[] beta, boolean relu) {
        x.requireRank("instanceNorm input", 4);
        int n = x.dim(0), c = x.dim(1), hw = x.dim(2) * x.dim(3);
        if (gamma.length != c || beta.length != c) {
            throw new IllegalArgumentException("instanceNorm: " + c + " channels but " + gamma.length + " weights");
        }
        float[] in = x.toHeap().data();
        float[] out = FrameArena.zeros(in.length);
        Parallel.forEach(n * c, p -> {
            int ch = p % c, base = p * hw;
            double sum = 0;
            for (int i = 0; i < hw; i++) {
                sum += in[base + i];
            }
            double mean = sum / hw, sq = 0;
            for (int i = 0; i < hw; i++) {
                double d = in[base + i] - mean;
                sq += d * d;
            }
            double inv = 1.0 / Math.sqrt(sq / hw + 1e-5);
            float scale = (float) (gamma[ch] * inv);
            float shift = (float) (beta[ch] - mean * gamma[ch] * inv);
            for (int i = 0; i < hw; i++) {
                float v = in[base + i] * scale + shift;
                out[base + i] = relu && v < 0f ? 0f : v;
            }
        });
        return Tensor.of(out, x.shape());
    }

    @Override
    public Tensor maxPool2d(Tensor x, int kernel, int stride, int pad) {
        x.requireRank("maxPool2d input", 4);
        int n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3);
        int oh = (h + 2 * pad - kernel) / stride + 1, ow = (w + 2 * pad - kernel) / stride + 1;
        float[] in = x.toHeap().data();
        float[] out = FrameArena.zeros(n * c * oh * ow);
        Parallel.forEach(n * c, p -> {
            for (int oy = 0; oy < oh; oy++) {
                for (int ox = 0; ox < ow; ox++) {
                    float m = Float.NEGATIVE_INFINITY;
                    for (int ky = 0; ky < kernel; ky++) {
                        int iy = oy * stride - pad + ky;
                        if (iy < 0 || iy >= h) {
                            continue;
                        }
                        for (int kx = 0; kx < kernel; kx++) {
                            int ix = ox * stride - pad + kx;
                            if (ix >= 0 && ix < w) {
                                m = Math.max(m, in[(p * h + iy) * w + ix]);
                            }
                        }
                    }
                    out[(p * oh + oy) * ow + ox] = m;
                }
            }
        });
        return Tensor.of(out, n, c, oh, ow);
    }

    @Override
    public Tensor add(Tensor a, Tensor b) {
        b.requireShape("add operand", a.shape());
        float[] x = a.toHeap().data(), y = b.toHeap().data();
        float[] out = FrameArena.zeros(x.length);
        for (int i = 0; i < x.length; i++) {
            out[i] = x[i] + y[i];
        }
        return Tensor.of(out, a.shape());
    }

    @Override
    public Tensor multiplyByMap(Tensor x, Tensor map) {
        x.requireRank("multiplyByMap input", 4);
        int n = x.dim(0), c = x.dim(1), hw = x.dim(2) * x.dim(3);
        map.requireShape("multiplyByMap map", n, 1, x.dim(2), x.dim(3));
        float[] in = x.toHeap().data(), m = map.toHeap().data();
        float[] out = FrameArena.zeros(in.length);
        for (int b = 0; b < n; b++) {
            for (int ch = 0; ch < c; ch++) {
                int base = (b * c + ch) * hw;
                for (int i = 0; i < hw; i++) {
                    out[base + i] = in[base + i] * m[b * hw + i];
                }
            }
        }
        return Tensor.of(out, x.shape());
    }

    @Override
    public Tensor avgPool2x2(Tensor x) {
        x.requireRank("avgPool2x2 input", 4);
        int n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3), oh = h / 2, ow = w / 2;
        float[] in = x.toHeap().data();
        float[] out = FrameArena.zeros(n * c * oh * ow);
        Parallel.forEach(n * c, p -> {
            for (int y = 0; y < oh; y++) {
                for (int xx = 0; xx < ow; xx++) {
                    int i = p * h * w + 2 * y * w + 2 * xx;
                    out[(p * oh + y) * ow + xx] = (in[i] + in[i + 1] + in[i + w] + in[i + w + 1]) / 4f;
                }
            }
        });
        return Tensor.of(out, n, c, oh, ow);
    }

    /** Nearest x2 upsampling as a static helper (for {@link Conv2d#applyUpsampled2x}'s default). */
    static Tensor upsample2x(Tensor x) {
        return new ScalarKernels().upsampleNearest2x(x);
    }

    @Override
    public Tensor upsampleNearest2x(Tensor x) {
        x.requireRank("upsampleNearest2x input", 4);
        int n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3), oh = 2 * h, ow = 2 * w;
        float[] in = x.toHeap().data();
        float[] out = FrameArena.zeros(n * c * oh * ow);
        Parallel.forEach(n * c, p -> {
            for (int y = 0; y < oh; y++) {
                int src = (p * h + y / 2) * w, dst = (p * oh + y) * ow;
                for (int xx = 0; xx < ow; xx++) {
                    out[dst + xx] = in[src + xx / 2];
                }
            }
        });
        return Tensor.of(out, n, c, oh, ow);
    }

    /** Source coordinate of PyTorch's {@code area_pixel_compute_source_index} (linear modes). */
    static float sourceIndex(float scale, int dst, boolean alignCorners) {
        if (alignCorners) {
            return scale * dst;
        }
        float src = scale * (dst + 0.5f) - 0.5f;
        return src < 0f ? 0f : src;
    }

    static float resizeScale(int in, int out, boolean alignCorners) {
        if (alignCorners) {
            return out > 1 ? (float) (in - 1) / (out - 1) : 0f;
        }
        return (float) in / out;
    }

    @Override
    public Tensor resizeBilinear(Tensor x, int outH, int outW, boolean alignCorners) {
        x.requireRank("resizeBilinear input", 4);
        int n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3);
        float[] in = x.toHeap().data();
        float[] out = FrameArena.zeros(n * c * outH * outW);
        float sh = resizeScale(h, outH, alignCorners);
        ResizeAxis ax = ResizeAxis.of(w, outW, alignCorners);
        int[] x0s = ax.x0(), x1s = ax.x1();
        float[] lx0s = ax.l0(), lx1s = ax.l1();
        Parallel.forEach(n * c, p -> {
            int b = p * h * w;
            for (int oy = 0; oy < outH; oy++) {
                float fy = sourceIndex(sh, oy, alignCorners);
                int y0 = (int) fy;
                int y1 = y0 < h - 1 ? y0 + 1 : y0;
                float ly1 = fy - y0, ly0 = 1f - ly1;
                for (int ox = 0; ox < outW; ox++) {
                    int x0 = x0s[ox], x1 = x1s[ox];
                    float lx0 = lx0s[ox], lx1 = lx1s[ox];
                    out[(p * outH + oy) * outW + ox] =
                            ly0 * (lx0 * in[b + y0 * w + x0] + lx1 * in[b + y0 * w + x1])
                                    + ly1 * (lx0 * in[b + y1 * w + x0] + lx1 * in[b + y1 * w + x1]);
                }
            }
        });
        return Tensor.of(out, n, c, outH, outW);
    }

    /** Grid coordinate to pixel coordinate, PyTorch's {@code grid_sampler_unnormalize}. */
    static float unnormalize(float coord, int size, boolean alignCorners) {
        return alignCorners ? ((coord + 1f) / 2f) * (size - 1) : ((coord + 1f) * size - 1f) / 2f;
    }

    /**
     * Grid coordinate to the pixel coordinate sampled, PyTorch's {@code grid_sampler_compute_source_index}
     * for bilinear sampling: unnormalized, and with reflection padding reflected at the border (pixel
     * centres with {@code alignCorners}, outer edges without) and clipped to {@code [0, size - 1]}.
     */
    static float sourceIndex(float coord, int size, boolean alignCorners, GridPadding padding) {
        float c = unnormalize(coord, size, alignCorners);
        if (padding == GridPadding.REFLECTION) {
            c = alignCorners ? reflect(c, 0, 2 * (size - 1)) : reflect(c, -1, 2 * size - 1);
            c = Math.min(size - 1f, Math.max(c, 0f));
        }
        return c;
    }

    /** PyTorch's {@code reflect_coordinates}, in float as there. */
    private static float reflect(float in, int twiceLow, int twiceHigh) {
        if (twiceLow == twiceHigh) {
            return 0f;
        }
        float min = twiceLow / 2f;
        float span = (twiceHigh - twiceLow) / 2f;
        in = Math.abs(in - min);
        float extra = in % span;
        int flips = (int) Math.floor(in / span);
        return flips % 2 == 0 ? extra + min : span - extra + min;
    }

    /** Checks {@code gridSample}'s operands: input {@code [N, C, H, W]}, grid {@code [N, Ho, Wo, 2]}. */
    static void checkGridSample(Tensor input, Tensor grid) {
        input.requireRank("gridSample input", 4);
        grid.requireRank("gridSample grid", 4);
        if (grid.dim(0) != input.dim(0) || grid.dim(3) != 2) {
            throw new IllegalArgumentException("gridSample: grid " + java.util.Arrays.toString(grid.shape())
                    + " does not match input " + java.util.Arrays.toString(input.shape()) + " (want [N, Ho, Wo, 2])");
        }
    }

    /**
     * Bilinear resize along one axis of {@code in} pixels to {@code out}: per output index the two source
     * indices and their weights ({@code x0, x1, l0, l1}), PyTorch's {@code upsample_bilinear2d} order.
     */
    record ResizeAxis(int[] x0, int[] x1, float[] l0, float[] l1) {
        static ResizeAxis of(int in, int out, boolean alignCorners) {
            float scale = resizeScale(in, out, alignCorners);
            int[] x0 = new int[out], x1 = new int[out];
            float[] l0 = new float[out], l1 = new float[out];
            for (int o = 0; o < out; o++) {
                float f = sourceIndex(scale, o, alignCorners);
                x0[o] = (int) f;
                x1[o] = x0[o] < in - 1 ? x0[o] + 1 : x0[o];
                l1[o] = f - x0[o];
                l0[o] = 1f - l1[o];
            }
            return new ResizeAxis(x0, x1, l0, l1);
        }
    }

    @Override
    public Tensor gridSample(Tensor input, Tensor grid, boolean alignCorners, GridPadding padding) {
        checkGridSample(input, grid);
        int n = input.dim(0), c = input.dim(1), h = input.dim(2), w = input.dim(3);
        int oh = grid.dim(1), ow = grid.dim(2);
        float[] in = input.toHeap().data(), g = grid.toHeap().data();
        float[] out = FrameArena.zeros(n * c * oh * ow);
        Parallel.forEach(n * oh, task -> {
            int b = task / oh, row = task % oh;
            for (int p = row * ow; p < (row + 1) * ow; p++) {
                float ix = sourceIndex(g[(b * oh * ow + p) * 2], w, alignCorners, padding);
                float iy = sourceIndex(g[(b * oh * ow + p) * 2 + 1], h, alignCorners, padding);
                int x0 = (int) Math.floor(ix), y0 = (int) Math.floor(iy);
                float wx = ix - x0, ex = 1f - wx, ny = iy - y0, sy = 1f - ny;
                float nw = sy * ex, ne = sy * wx, sw = ny * ex, se = ny * wx;
                boolean x0in = x0 >= 0 && x0 < w, x1in = x0 + 1 >= 0 && x0 + 1 < w;
                boolean y0in = y0 >= 0 && y0 < h, y1in = y0 + 1 >= 0 && y0 + 1 < h;
                for (int ch = 0; ch < c; ch++) {
                    int base = (b * c + ch) * h * w;
                    float vnw = x0in && y0in ? in[base + y0 * w + x0] : 0f;
                    float vne = x1in && y0in ? in[base + y0 * w + x0 + 1] : 0f;
                    float vsw = x0in && y1in ? in[base + (y0 + 1) * w + x0] : 0f;
                    float vse = x1in && y1in ? in[base + (y0 + 1) * w + x0 + 1] : 0f;
                    out[(b * c + ch) * oh * ow + p] = vnw * nw + vne * ne + vsw * sw + vse * se;
                }
            }
        });
        return Tensor.of(out, n, c, oh, ow);
    }

    @Override
    public Tensor softmaxSpatial(Tensor x, float temperature) {
        x.requireRank("softmaxSpatial input", 4);
        int planes = x.dim(0) * x.dim(1), len = x.dim(2) * x.dim(3);
        float[] in = x.toHeap().data();
        float[] out = FrameArena.zeros(in.length);
        for (int p = 0; p < planes; p++) {
            int base = p * len;
            float max = Float.NEGATIVE_INFINITY;
            for (int i = 0; i < len; i++) {
                out[base + i] = in[base + i] / temperature;
                max = Math.max(max, out[base + i]);
            }
            float sum = 0f;
            for (int i = 0; i < len; i++) {
                float e = (float) Math.exp(out[base + i] - max);
                out[base + i] = e;
                sum += e;
            }
            for (int i = 0; i < len; i++) {
                out[base + i] = flushNegligible(out[base + i] / sum);
            }
        }
        return Tensor.of(out, x.shape());
    }

    /**
     * Softmax weights below this are 0: they are far below float32's resolution of their sum (2^-24), and
     * left in they make subnormal products downstream, which are slow on every x86 core (see
     * {@code PanamaMaps.softmaxSpatial}).
     */
    static final float NEGLIGIBLE = 0x1p-100f;

    /** {@code v}, or 0 where it is below {@link #NEGLIGIBLE}. */
    static float flushNegligible(float v) {
        return v < NEGLIGIBLE ? 0f : v;
    }

    @Override
    public Tensor softmaxChannels(Tensor x) {
        x.requireRank("softmaxChannels input", 4);
        int n = x.dim(0), c = x.dim(1), hw = x.dim(2) * x.dim(3);
        float[] in = x.toHeap().data();
        float[] out = FrameArena.zeros(in.length);
        for (int b = 0; b < n; b++) {
            for (int i = 0; i < hw; i++) {
                int base = b * c * hw + i;
                float max = Float.NEGATIVE_INFINITY;
                for (int ch = 0; ch < c; ch++) {
                    max = Math.max(max, in[base + ch * hw]);
                }
                float sum = 0f;
                for (int ch = 0; ch < c; ch++) {
                    float e = (float) Math.exp(in[base + ch * hw] - max);
                    out[base + ch * hw] = e;
                    sum += e;
                }
                for (int ch = 0; ch < c; ch++) {
                    out[base + ch * hw] = flushNegligible(out[base + ch * hw] / sum);
                }
            }
        }
        return Tensor.of(out, x.shape());
    }

    @Override
    public Tensor mixMotions(Tensor masks, Tensor motions) {
        masks.requireRank("mixMotions masks", 4);
        int n = masks.dim(0), m = masks.dim(1), h = masks.dim(2), w = masks.dim(3), hw = h * w;
        motions.requireShape("mixMotions motions", n, m, h, w, 2);
        float[] k = masks.toHeap().data(), mo = motions.toHeap().data();
        float[] out = FrameArena.zeros(n * hw * 2);
        for (int b = 0; b < n; b++) {
            for (int i = 0; i < hw; i++) {
                float sx = 0f, sy = 0f;
                for (int r = 0; r < m; r++) {
                    float weight = k[(b * m + r) * hw + i];
                    int mi = ((b * m + r) * hw + i) * 2;
                    sx += mo[mi] * weight;
                    sy += mo[mi + 1] * weight;
                }
                out[(b * hw + i) * 2] = sx;
                out[(b * hw + i) * 2 + 1] = sy;
            }
        }
        return Tensor.of(out, n, h, w, 2);
    }

    @Override
    public Tensor taylorMotions(Tensor kpDriving, Tensor kpSource, Tensor affine, int height, int width) {
        kpDriving.requireRank("kpDriving", 3);
        int n = kpDriving.dim(0), k = kpDriving.dim(1);
        kpDriving.requireShape("kpDriving", n, k, 2);
        kpSource.requireShape("kpSource", n, k, 2);
        if (affine != null) {
            affine.requireShape("jacobian product J_s J_d^-1", n, k, 2, 2);
        }
        float[] gx = CoordinateGrid.axis(width), gy = CoordinateGrid.axis(height);
        int hw = height * width;
        float[] out = FrameArena.zeros(n * (k + 1) * hw * 2);
        for (int b = 0; b < n; b++) {
            int base0 = b * (k + 1) * hw * 2;
            for (int y = 0; y < height; y++) {
                for (int x = 0; x < width; x++) {
                    out[base0 + (y * width + x) * 2] = gx[x];
                    out[base0 + (y * width + x) * 2 + 1] = gy[y];
                }
            }
            for (int r = 0; r < k; r++) {
                int kp = (b * k + r) * 2;
                float dx = kpDriving.get(kp), dy = kpDriving.get(kp + 1);
                float sx = kpSource.get(kp), sy = kpSource.get(kp + 1);
                float a00 = 1f, a01 = 0f, a10 = 0f, a11 = 1f;
                if (affine != null) {
                    int a = (b * k + r) * 4;
                    a00 = affine.get(a);
                    a01 = affine.get(a + 1);
                    a10 = affine.get(a + 2);
                    a11 = affine.get(a + 3);
                }
                int base = base0 + (r + 1) * hw * 2;
                for (int y = 0; y < height; y++) {
                    float cy = gy[y] - dy;
                    for (int x = 0; x < width; x++) {
                        float cx = gx[x] - dx;
                        int o = base + (y * width + x) * 2;
                        if (affine != null) {
                            out[o] = (a00 * cx + a01 * cy) + sx;
                            out[o + 1] = (a10 * cx + a11 * cy) + sy;
                        } else {
                            out[o] = cx + sx;
                            out[o + 1] = cy + sy;
                        }
                    }
                }
            }
        }
        return Tensor.of(out, n, k + 1, height, width, 2);
    }

    @Override
    public Tensor tpsMotions(Tensor kpDriving, Tensor kpSource, int groupSize, int height, int width) {
        return ThinPlateSpline.motions(kpDriving, kpSource, groupSize, height, width);
    }

    /** Rows {@code [i0, i1)} and columns {@code [j0, j1)} of {@link Kernels#gemmTN}; the vector version's tails. */
    static void gemmTNRows(float[] a, int m, float[] b, int n, int q, float[] c, int i0, int i1, int j0, int j1) {
        for (int i = i0; i < i1; i++) {
            for (int j = j0; j < j1; j++) {
                float acc = 0f;
                for (int t = 0; t < q; t++) {
                    acc += a[t * m + i] * b[t * n + j];
                }
                c[i * n + j] += acc;
            }
        }
    }
}
