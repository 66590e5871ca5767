package org.fomm4j.kernels;

import org.fomm4j.tensor.Tensor;

/**
 * The numerical kernels every network is built from. Two implementations: {@link ScalarKernels}, the
 * plain reference, and a Vector API implementation ({@code PanamaKernels}) chosen at start-up by
 * {@link KernelProvider}. Both follow PyTorch's semantics, named per method, so that results agree
 * with the reference implementations within float32 rounding.
 *
 * <p>All tensors are NCHW float32 heap tensors unless stated; every method returns a new tensor and
 * leaves its inputs unchanged. Shape errors are {@link IllegalArgumentException}s.
 */
public interface Kernels {
    /** Short name for logs, e.g. {@code scalar} or {@code panama-256}. */
    String name();

    /**
     * Whether these are (or wrap) the Vector API kernels: algorithms written on the Vector API directly, outside
     * this interface (the Winograd weight gradients), are used only then. Wrappers delegate it.
     */
    default boolean vectorApi() {
        return false;
    }

    /**
     * Prepares a convolution ({@code torch.nn.functional.conv2d}, zero padding).
     *
     * @param weight OIHW, {@code spec.weightCount()} values (BatchNorm already folded in if any)
     * @param bias   {@code spec.outChannels()} values, or {@code null} for none
     */
    Conv2d conv2d(ConvSpec spec, float[] weight, float[] bias);

    /** {@code max(x, 0)} element-wise. */
    Tensor relu(Tensor x);

    /** {@code 1 / (1 + exp(-x))} element-wise ({@code torch.sigmoid}). */
    Tensor sigmoid(Tensor x);

    /**
     * Per-channel affine {@code x * scale[c] + shift[c]}, optionally followed by ReLU: BatchNorm in
     * eval mode where it cannot be folded into a preceding convolution (pre-activation ResBlock).
     */
    Tensor channelAffine(Tensor x, float[] scale, float[] shift, boolean relu);

    /**
     * {@code InstanceNorm2d(affine=True)} with the statistics of the current input (biased variance,
     * {@code eps = 1e-5}), optionally followed by ReLU: per {@code (n, c)} plane,
     * {@code (x - mean) / sqrt(var + eps) * gamma[c] + beta[c]}.
     */
    Tensor instanceNorm(Tensor x, float[] gamma, float[] beta, boolean relu);

    /**
     * {@code nn.MaxPool2d(kernel, stride, padding)}: padding counts as minus infinity; output size
     * {@code floor((H + 2 pad - kernel) / stride) + 1}.
     */
    Tensor maxPool2d(Tensor x, int kernel, int stride, int pad);

    /** Element-wise {@code a + b} (same shape). */
    Tensor add(Tensor a, Tensor b);

    /** {@code x[n,c,h,w] * map[n,0,h,w]}: multiplies every channel by a one-channel map. */
    Tensor multiplyByMap(Tensor x, Tensor map);

    /** {@code nn.AvgPool2d(2)}: 2x2 average pooling, stride 2, odd trailing row/column dropped. */
    Tensor avgPool2x2(Tensor x);

    /** {@code F.interpolate(x, scale_factor=2)} (mode nearest): {@code out[y][x] = in[y/2][x/2]}. */
    Tensor upsampleNearest2x(Tensor x);

    /**
     * {@code F.interpolate(x, size=(outH, outW), mode='bilinear', align_corners=alignCorners)}.
     * With {@code alignCorners=false} the source coordinate is {@code (dst + 0.5) * in/out - 0.5},
     * clamped at 0; with {@code true} it is {@code dst * (in - 1)/(out - 1)}.
     */
    Tensor resizeBilinear(Tensor x, int outH, int outW, boolean alignCorners);

    /**
     * {@code F.grid_sample(input, grid, mode='bilinear', padding_mode='zeros', align_corners)}.
     *
     * @param input {@code [N, C, H, W]}
     * @param grid  {@code [N, Ho, Wo, 2]}, {@code (x, y)} in {@code [-1, 1]}: {@code x=-1} is the left
     *              edge of the left pixel ({@code alignCorners=false}) or the left pixel's centre
     *              ({@code alignCorners=true}); samples outside read zeros
     * @return {@code [N, C, Ho, Wo]}
     * @throws IllegalArgumentException if the shapes do not match
     */
    default Tensor gridSample(Tensor input, Tensor grid, boolean alignCorners) {
        return gridSample(input, grid, alignCorners, GridPadding.ZEROS);
    }

    /**
     * {@code F.grid_sample(input, grid, mode='bilinear', padding_mode, align_corners)}: as
     * {@link #gridSample(Tensor, Tensor, boolean)}, with the sample points outside the input read as
     * {@code padding} says (PyTorch's {@code grid_sampler_compute_source_index}).
     *
     * @throws IllegalArgumentException if the shapes do not match
     */
    Tensor gridSample(Tensor input, Tensor grid, boolean alignCorners, GridPadding padding);

    /**
     * Softmax over the spatial positions of every {@code (n, c)} plane of {@code x / temperature}
     * ({@code F.softmax(x.view(N, C, -1) / temperature, dim=2)}).
     */
    Tensor softmaxSpatial(Tensor x, float temperature);

    /** Softmax over the channel dimension ({@code F.softmax(x, dim=1)}). */
    Tensor softmaxChannels(Tensor x);

    /**
     * Mixes per-region motions with masks: {@code out[n,h,w,:] = sum_m masks[n,m,h,w] * motions[n,m,h,w,:]}
     * (the dense motion network's deformation, FOMM eq. 4 / TPSMM eq. 8).
     *
     * @param masks   {@code [N, M, H, W]}
     * @param motions {@code [N, M, H, W, 2]}
     * @return {@code [N, H, W, 2]}
     */
    Tensor mixMotions(Tensor masks, Tensor motions);

    /**
     * First-order (Taylor) sparse motions of FOMM ({@code DenseMotionNetwork.create_sparse_motions}):
     * region 0 is the identity grid, region {@code k+1} is {@code T_k(z) = A_k (z - kpDriving_k) + kpSource_k}
     * over the coordinate grid of {@code height x width} ({@code x, y} in {@code [-1, 1]}, pixel centres
     * {@code 2i/(n-1) - 1}).
     *
     * @param kpDriving {@code [N, K, 2]}
     * @param kpSource  {@code [N, K, 2]}
     * @param affine    {@code [N, K, 2, 2]} = {@code J_s J_d^-1}, or {@code null} for the identity
     *                  (no jacobians)
     * @return {@code [N, K + 1, height, width, 2]}
     */
    Tensor taylorMotions(Tensor kpDriving, Tensor kpSource, Tensor affine, int height, int width);

    /**
     * TPSMM's thin-plate-spline motions over the coordinate grid ({@code TPS.transform_frame}, paper eq. 2):
     * every group of {@code groupSize} driving keypoints and their source keypoints defines one spline
     * ({@link ThinPlateSpline}), evaluated at every pixel centre ({@code (x, y)} in {@code [-1, 1]}).
     *
     * @param kpDriving {@code [N, G * groupSize, 2]} control points
     * @param kpSource  {@code [N, G * groupSize, 2]} targets
     * @return {@code [N, G, height, width, 2]}: where each driving-frame pixel samples the source
     * @throws ArithmeticException if a spline's regularized system is singular
     */
    Tensor tpsMotions(Tensor kpDriving, Tensor kpSource, int groupSize, int height, int width);

    /**
     * Sum of outer products: {@code c[cOff + i * n + j] += sum_{t < q} a[t * m + i] * b[bOff + t * n + j]} for
     * {@code i < m} and {@code j0 <= j < j1} ({@code C += A^T B}, A {@code q x m} and B {@code q x n}, all
     * row-major). The weight gradient of a convolution with small planes is this product of the transposed
     * output gradient and the transposed unfolded input, whose rows are long where the planes are short.
     * Runs on the calling thread; callers split columns across {@link Parallel}.
     */
    default void gemmTN(float[] a, int m, float[] b, int n, int q, float[] c, int j0, int j1) {
        ScalarKernels.gemmTNRows(a, m, b, n, q, c, 0, m, j0, j1);
    }

    /**
     * Weight gradient of a stride-1, zero-padded convolution, for one input channel and a run of output
     * channels, summed over a batch and added to {@code dw}:
     * {@code dw[dwOff + o * dwStride + ky * k + kx] += sum_{s < n, t < len} dy[dyOff + s * dySample + o * len + t]
     * * x[xOff + s * xSample + ky * wp + kx + t]} for {@code o < oCount} and {@code ky, kx < k}.
     *
     * <p>The caller lays the data out so that tap {@code (ky, kx)} of every output position is one
     * contiguous run of the input, which needs no im2col: each input plane zero-padded to rows of
     * {@code wp = W + 2 pad} floats ({@code H + 2 pad} rows, then {@code k - 1} floats of slack), each
     * output-gradient plane with its rows widened to {@code wp} floats by zeros ({@code len = OH * wp}).
     * Reads past an output row land on those zeros, so they add nothing. Runs on the calling thread;
     * callers split channels across {@link Parallel}.
     */
    default void convWeightGradient(float[] x, int xOff, int xSample, float[] dy, int dyOff, int dySample, int n,
                                    int oCount, int k, int wp, int len, float[] dw, int dwOff, int dwStride) {
        for (int o = 0; o < oCount; o++) {
            for (int ky = 0; ky < k; ky++) {
                for (int kx = 0; kx < k; kx++) {
                    float acc = 0f;
                    for (int s = 0; s < n; s++) {
                        int d = dyOff + s * dySample + o * len, xs = xOff + s * xSample + ky * wp + kx;
                        for (int t = 0; t < len; t++) {
                            acc += dy[d + t] * x[xs + t];
                        }
                    }
                    dw[dwOff + o * dwStride + ky * k + kx] += acc;
                }
            }
        }
    }
}
