package org.fomm4j.training.autograd;

import java.util.Arrays;
import org.fomm4j.kernels.Activation;
import org.fomm4j.kernels.ConvSpec;
import org.fomm4j.kernels.CoordinateGrid;
import org.fomm4j.nn.Heatmaps;
import org.fomm4j.nn.JacobianHead;
import org.fomm4j.tensor.Tensor;

/**
 * FOMM's keypoint and motion operations with their backward passes: keypoints and jacobians from
 * heatmaps ({@code KPDetector.gaussian2kp}, paper eq. 8 and the jacobian head), Gaussian heatmaps around
 * keypoints ({@code kp2gaussian}), batched 2x2 products and inverses, the first-order (Taylor) sparse
 * motions ({@code DenseMotionNetwork.create_sparse_motions}, paper eq. 4) and their mixing by masks
 * (eq. 6). Coordinates are {@code (x, y)} in {@code [-1, 1]}, pixel centres {@code 2 i / (n - 1) - 1}.
 */
public final class MotionOps {
    private MotionOps() {
    }

    /** {@code value[n, k] = sum_p heat[n, k, p] * grid[p]}: {@code [N, K, H, W] -> [N, K, 2]}. */
    public static Var keypoints(Tape t, Var heat) {
        int n = heat.dim(0), k = heat.dim(1), h = heat.dim(2), w = heat.dim(3);
        float[] gx = CoordinateGrid.axis(w), gy = CoordinateGrid.axis(h);
        float[] hm = heat.value(), out = new float[n * k * 2];
        for (int q = 0; q < n * k; q++) {
            float sx = 0f, sy = 0f;
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    float v = hm[(q * h + y) * w + x];
                    sx += v * gx[x];
                    sy += v * gy[y];
                }
            }
            out[2 * q] = sx;
            out[2 * q + 1] = sy;
        }
        Var kp = t.output(out, new int[] {n, k, 2}, heat);
        t.record(kp, () -> {
            float[] d = kp.grad(), dh = heat.grad();
            for (int q = 0; q < n * k; q++) {
                for (int y = 0; y < h; y++) {
                    for (int x = 0; x < w; x++) {
                        dh[(q * h + y) * w + x] += d[2 * q] * gx[x] + d[2 * q + 1] * gy[y];
                    }
                }
            }
        });
        return kp;
    }

    /**
     * The jacobian head: {@code jacobian[n, k, c] = sum_p heat[n, k, p] * maps[n, 4 j(k) + c, p]} with
     * {@code j(k) = k}, or {@code 0} for a single jacobian map; {@code c} runs over the row-major 2x2.
     *
     * @param heat {@code [N, K, H, W]}
     * @param maps {@code [N, 4K, H, W]} or {@code [N, 4, H, W]}
     * @return {@code [N, K, 2, 2]}
     */
    public static Var jacobians(Tape t, Var heat, Var maps) {
        int n = heat.dim(0), k = heat.dim(1), plane = heat.dim(2) * heat.dim(3);
        int numMaps = maps.dim(1) / 4;
        float[] hm = heat.value(), jm = maps.value(), out = new float[n * k * 4];
        for (int s = 0; s < n; s++) {
            for (int kk = 0; kk < k; kk++) {
                int hb = (s * k + kk) * plane, j = numMaps == 1 ? 0 : kk;
                for (int c = 0; c < 4; c++) {
                    int mb = (s * numMaps * 4 + j * 4 + c) * plane;
                    float acc = 0f;
                    for (int p = 0; p < plane; p++) {
                        acc += hm[hb + p] * jm[mb + p];
                    }
                    out[(s * k + kk) * 4 + c] = acc;
                }
            }
        }
        Var jac = t.output(out, new int[] {n, k, 2, 2}, heat, maps);
        t.record(jac, () -> {
            float[] d = jac.grad();
            float[] dh = heat.requiresGrad() ? heat.grad() : null, dm = maps.requiresGrad() ? maps.grad() : null;
            for (int s = 0; s < n; s++) {
                for (int kk = 0; kk < k; kk++) {
                    int hb = (s * k + kk) * plane, j = numMaps == 1 ? 0 : kk;
                    for (int c = 0; c < 4; c++) {
                        int mb = (s * numMaps * 4 + j * 4 + c) * plane;
                        float g = d[(s * k + kk) * 4 + c];
                        for (int p = 0; p < plane; p++) {
                            if (dh != null) {
                                dh[hb + p] += g * jm[mb + p];
                            }
                            if (dm != null) {
                                dm[mb + p] += g * hm[hb + p];
                            }
                        }
                    }
                }
            }
        });
        return jac;
    }

    /**
     * The jacobian head of {@code KPDetector} fused with its heatmap-weighted sum:
     * {@code jacobians(heat, conv2d(features, weight, bias, pad))} without the {@code [N, 4K, h, w]} maps.
     * Since the maps are only ever summed against the heatmaps, {@code jacobian[n, k, c] = sum_{i, tap}
     * weight[r, i, tap] * A[n, k, i, tap] + bias[r] * sum_p heat[n, k, p]} with {@code r = 4 j(k) + c} and
     * {@code A[n, k, i, tap] = sum_p heat[n, k, p] * features[n, i, p + tap]} (zero outside the padded frame):
     * {@code A} is a weight gradient ({@link JacobianHead#patches}, with the heatmaps as output gradient),
     * the heatmaps' gradient is a convolution of the features with the {@code K} filters
     * {@code dA = sum_c dJ[n, k, c] weight[r]} and the features' gradient that convolution's input gradient.
     * Each pass is a {@code K}-channel correlation, where the unfused head's three passes (forward, input and
     * weight gradient) are {@code 4K}-channel convolutions: 4x fewer multiply-adds, forward and backward
     * (the {@code 4K x taps} products of patches and weights are negligible). Same function, other float32
     * summation order.
     *
     * @param heat     {@code [N, K, oh, ow]}, the spatial softmax of the keypoint head
     * @param features {@code [N, C, H, W]} with {@code oh = H + 2 pad - k + 1}, {@code ow} likewise
     * @param weight   {@code [4K, C, k, k]}, or {@code [4, C, k, k]} for a single jacobian map
     * @param bias     {@code [4K]} / {@code [4]}, or {@code null}
     * @return {@code [N, K, 2, 2]}, the 2x2 matrices row-major
     * @throws IllegalArgumentException if the shapes do not fit together
     */
    public static Var jacobianHead(Tape t, Var heat, Var features, Var weight, Var bias, int pad) {
        if (heat.rank() != 4 || features.rank() != 4 || weight.rank() != 4) {
            throw new IllegalArgumentException("jacobian head: heat " + heat + ", features " + features + " and weight "
                    + weight + " must be 4-d");
        }
        int n = heat.dim(0), k = heat.dim(1), oh = heat.dim(2), ow = heat.dim(3), plane = oh * ow;
        int c = features.dim(1), h = features.dim(2), w = features.dim(3), kw = weight.dim(2), rows = weight.dim(0);
        if (features.dim(0) != n || weight.dim(1) != c || weight.dim(3) != kw
                || (rows != 4 * k && rows != 4) || h + 2 * pad - kw + 1 != oh || w + 2 * pad - kw + 1 != ow
                || (bias != null && (bias.rank() != 1 || bias.dim(0) != rows))) {
            throw new IllegalArgumentException("jacobian head: heat " + heat + ", features " + features + ", weight " + weight
                    + ", bias " + bias + " and pad " + pad + " do not fit");
        }
        boolean single = rows == 4;
        int taps = c * kw * kw, fPlane = c * h * w;
        float[] hm = heat.value(), fm = features.value(), wm = weight.value(), bm = bias == null ? null : bias.value();
        double[] mass = new double[n * k];
        float[] patches = JacobianHead.patches(ConvOps.K, hm, fm, n, k, c, h, w, kw, pad, oh, ow, mass);
        ConvOps.countFlops(2L * n * k * taps * plane);
        float[] out = JacobianHead.jacobians(patches, mass, wm, bm, n, k, taps, single);
        Var jac = t.output(out, new int[] {n, k, 2, 2}, heat, features, weight, bias);
        t.record(jac, () -> {
            float[] d = jac.grad();
            if (weight.requiresGrad() || (bias != null && bias.requiresGrad())) {
                float[] dw = weight.requiresGrad() ? weight.grad() : null, db = bias != null && bias.requiresGrad() ? bias.grad() : null;
                for (int s = 0; s < n; s++) {
                    for (int kk = 0; kk < k; kk++) {
                        int pb = (s * k + kk) * taps;
                        for (int e = 0; e < 4; e++) {
                            int r = single ? e : 4 * kk + e;
                            float g = d[(s * k + kk) * 4 + e];
                            if (dw != null) {
                                for (int q = 0; q < taps; q++) {
                                    dw[r * taps + q] += g * patches[pb + q];
                                }
                            }
                            if (db != null) {
                                db[r] += (float) (g * mass[s * k + kk]);
                            }
                        }
                    }
                }
            }
            if (!heat.requiresGrad() && !features.requiresGrad()) {
                return;
            }
            for (int s = 0; s < n; s++) {
                // dA[k, i, tap] = sum_e dJ[k, e] weight[r(k, e), i, tap]; the bias term's share of dheat is constant per k
                float[] da = new float[k * taps], dBias = new float[k];
                for (int kk = 0; kk < k; kk++) {
                    for (int e = 0; e < 4; e++) {
                        int r = single ? e : 4 * kk + e;
                        float g = d[(s * k + kk) * 4 + e];
                        for (int q = 0; q < taps; q++) {
                            da[kk * taps + q] += g * wm[r * taps + q];
                        }
                        if (bm != null) {
                            dBias[kk] += g * bm[r];
                        }
                    }
                }
                if (heat.requiresGrad()) {
                    float[] f = Arrays.copyOfRange(fm, s * fPlane, (s + 1) * fPlane);
                    float[] dh = ConvOps.K.conv2d(ConvSpec.of(c, k, kw, pad), da, dBias)
                            .apply(Tensor.of(f, 1, c, h, w), Activation.NONE).data();
                    float[] g = heat.grad();
                    int base = s * k * plane;
                    for (int i = 0; i < k * plane; i++) {
                        g[base + i] += dh[i];
                    }
                    ConvOps.countFlops(2L * k * taps * plane);
                }
                if (features.requiresGrad()) {
                    float[] hs = Arrays.copyOfRange(hm, s * k * plane, (s + 1) * k * plane);
                    float[] df = ConvOps.inputGradient(hs, da, 1, c, k, kw, pad, oh, ow);
                    float[] g = features.grad();
                    int base = s * fPlane;
                    for (int i = 0; i < fPlane; i++) {
                        g[base + i] += df[i];
                    }
                    ConvOps.countFlops(2L * k * taps * plane);
                }
            }
        });
        return jac;
    }

    /**
     * {@code kp2gaussian}: {@code exp(-0.5 |grid - kp|^2 / variance)} for every keypoint:
     * {@code [N, K, 2] -> [N, K, h, w]}.
     */
    public static Var gaussians(Tape t, Var kp, int h, int w, float variance) {
        int n = kp.dim(0), k = kp.dim(1);
        float[] gx = CoordinateGrid.axis(w), gy = CoordinateGrid.axis(h);
        float[] v = kp.value();
        float[] out = Heatmaps.gaussians(Tensor.of(v, kp.shape()), h, w, variance);
        Var g = t.output(out, new int[] {n, k, h, w}, kp);
        t.record(g, () -> {
            float[] d = g.grad(), dk = kp.grad();
            for (int q = 0; q < n * k; q++) {
                float mx = v[2 * q], my = v[2 * q + 1];
                double sx = 0, sy = 0;
                for (int y = 0; y < h; y++) {
                    for (int x = 0; x < w; x++) {
                        int i = (q * h + y) * w + x;
                        float e = d[i] * out[i] / variance;
                        sx += e * (gx[x] - mx);
                        sy += e * (gy[y] - my);
                    }
                }
                dk[2 * q] += (float) sx;
                dk[2 * q + 1] += (float) sy;
            }
        });
        return g;
    }

    /** Batched {@code A B} of 2x2 matrices ({@code [..., 2, 2]}, row-major); same batch shape. */
    public static Var matmul2x2(Tape t, Var a, Var b) {
        a.requireShape("matmul operand", b.shape());
        float[] x = a.value(), y = b.value(), out = new float[x.length];
        for (int q = 0; q < x.length; q += 4) {
            mul(x, q, false, y, q, false, out, q);
        }
        Var r = t.output(out, a.shape(), a, b);
        t.record(r, () -> {
            float[] d = r.grad();
            float[] tmp = new float[4];
            for (int q = 0; q < x.length; q += 4) {
                if (a.requiresGrad()) {
                    mul(d, q, false, y, q, true, tmp, 0); // dA = dR B^T
                    addTo(a.grad(), q, tmp);
                }
                if (b.requiresGrad()) {
                    mul(x, q, true, d, q, false, tmp, 0); // dB = A^T dR
                    addTo(b.grad(), q, tmp);
                }
            }
        });
        return r;
    }

    /** Batched inverse of 2x2 matrices; {@code dA = -Y^T dY Y^T} with {@code Y = A^-1}. */
    public static Var inverse2x2(Tape t, Var a) {
        float[] x = a.value(), out = new float[x.length];
        for (int q = 0; q < x.length; q += 4) {
            float det = x[q] * x[q + 3] - x[q + 1] * x[q + 2];
            out[q] = x[q + 3] / det;
            out[q + 1] = -x[q + 1] / det;
            out[q + 2] = -x[q + 2] / det;
            out[q + 3] = x[q] / det;
        }
        Var r = t.output(out, a.shape(), a);
        t.record(r, () -> {
            float[] d = r.grad(), da = a.grad();
            float[] tmp = new float[4], tmp2 = new float[4];
            for (int q = 0; q < x.length; q += 4) {
                mul(out, q, true, d, q, false, tmp, 0);
                mul(tmp, 0, false, out, q, true, tmp2, 0);
                for (int i = 0; i < 4; i++) {
                    da[q + i] -= tmp2[i];
                }
            }
        });
        return r;
    }

    private static void mul(float[] a, int ao, boolean at, float[] b, int bo, boolean bt, float[] c, int co) {
        for (int i = 0; i < 2; i++) {
            for (int j = 0; j < 2; j++) {
                float s = 0f;
                for (int k = 0; k < 2; k++) {
                    float av = at ? a[ao + k * 2 + i] : a[ao + i * 2 + k];
                    float bv = bt ? b[bo + j * 2 + k] : b[bo + k * 2 + j];
                    s += av * bv;
                }
                c[co + i * 2 + j] = s;
            }
        }
    }

    private static void addTo(float[] g, int q, float[] v) {
        for (int i = 0; i < 4; i++) {
            g[q + i] += v[i];
        }
    }

    /**
     * The sparse motions: region 0 is the identity grid, region {@code k + 1} is
     * {@code A_k (z - kpDriving_k) + kpSource_k} at every pixel centre {@code z}.
     *
     * @param kpDriving {@code [N, K, 2]}
     * @param kpSource  {@code [N, K, 2]}
     * @param affine    {@code [N, K, 2, 2]} ({@code J_s J_d^-1}) or {@code null} for the identity
     * @return {@code [N, K + 1, h, w, 2]}
     */
    public static Var taylorMotions(Tape t, Var kpDriving, Var kpSource, Var affine, int h, int w) {
        int n = kpDriving.dim(0), k = kpDriving.dim(1), plane = h * w;
        float[] gx = CoordinateGrid.axis(w), gy = CoordinateGrid.axis(h);
        float[] kd = kpDriving.value(), a = affine == null ? null : affine.value();
        float[] out = ConvOps.K.taylorMotions(Tensor.of(kd, kpDriving.shape()), Tensor.of(kpSource.value(), kpSource.shape()),
                affine == null ? null : Tensor.of(a, affine.shape()), h, w).data();
        Var m = t.output(out, new int[] {n, k + 1, h, w, 2}, kpDriving, kpSource, affine);
        t.record(m, () -> {
            float[] d = m.grad();
            for (int s = 0; s < n; s++) {
                for (int r = 1; r <= k; r++) {
                    int kk = s * k + r - 1, base = (s * (k + 1) + r) * plane * 2;
                    double sx = 0, sy = 0, a00 = 0, a01 = 0, a10 = 0, a11 = 0;
                    for (int y = 0; y < h; y++) {
                        for (int x = 0; x < w; x++) {
                            int o = base + (y * w + x) * 2;
                            float dx = d[o], dy = d[o + 1];
                            float cx = gx[x] - kd[2 * kk], cy = gy[y] - kd[2 * kk + 1];
                            sx += dx;
                            sy += dy;
                            a00 += dx * cx;
                            a01 += dx * cy;
                            a10 += dy * cx;
                            a11 += dy * cy;
                        }
                    }
                    if (kpSource.requiresGrad()) {
                        kpSource.grad()[2 * kk] += (float) sx;
                        kpSource.grad()[2 * kk + 1] += (float) sy;
                    }
                    if (affine != null && affine.requiresGrad()) {
                        float[] da = affine.grad();
                        da[4 * kk] += (float) a00;
                        da[4 * kk + 1] += (float) a01;
                        da[4 * kk + 2] += (float) a10;
                        da[4 * kk + 3] += (float) a11;
                    }
                    if (kpDriving.requiresGrad()) {
                        // d/dkp_d of A (z - kp_d) summed over pixels: -A^T sum(d).
                        double gxs = a == null ? sx : a[4 * kk] * sx + a[4 * kk + 2] * sy;
                        double gys = a == null ? sy : a[4 * kk + 1] * sx + a[4 * kk + 3] * sy;
                        kpDriving.grad()[2 * kk] -= (float) gxs;
                        kpDriving.grad()[2 * kk + 1] -= (float) gys;
                    }
                }
            }
        });
        return m;
    }

    /**
     * {@code deformation[n, p, :] = sum_m masks[n, m, p] * motions[n, m, p, :]}.
     *
     * @param masks   {@code [N, M, h, w]}
     * @param motions {@code [N, M, h, w, 2]}
     * @return {@code [N, h, w, 2]}
     */
    public static Var mixMotions(Tape t, Var masks, Var motions) {
        int n = masks.dim(0), mm = masks.dim(1), h = masks.dim(2), w = masks.dim(3), plane = h * w;
        motions.requireShape("motions", n, mm, h, w, 2);
        float[] mk = masks.value(), mo = motions.value();
        float[] out = ConvOps.K.mixMotions(Tensor.of(mk, masks.shape()), Tensor.of(mo, motions.shape())).data();
        Var def = t.output(out, new int[] {n, h, w, 2}, masks, motions);
        t.record(def, () -> {
            float[] d = def.grad();
            float[] dk = masks.requiresGrad() ? masks.grad() : null, dm = motions.requiresGrad() ? motions.grad() : null;
            for (int s = 0; s < n; s++) {
                for (int r = 0; r < mm; r++) {
                    int mb = (s * mm + r) * plane;
                    for (int p = 0; p < plane; p++) {
                        float dx = d[(s * plane + p) * 2], dy = d[(s * plane + p) * 2 + 1];
                        if (dk != null) {
                            dk[mb + p] += dx * mo[(mb + p) * 2] + dy * mo[(mb + p) * 2 + 1];
                        }
                        if (dm != null) {
                            dm[(mb + p) * 2] += dx * mk[mb + p];
                            dm[(mb + p) * 2 + 1] += dy * mk[mb + p];
                        }
                    }
                }
            }
        });
        return def;
    }
}
