package org.fomm4j.training.autograd;

import org.fomm4j.kernels.CoordinateGrid;
import org.fomm4j.kernels.Parallel;

/**
 * TPSMM's motions with their backward passes ({@code modules/util.py: TPS}, mode {@code kp}, paper eq. 2;
 * {@code dense_motion.py: create_transformations}; {@code model.py}'s background loss).
 *
 * <p>A group of {@code n} driving keypoints {@code p_i} (control points) and source keypoints {@code q_i}
 * defines {@code T(z) = A [z; 1] + sum_i w_i U(|z - p_i|^2)}, {@code U(s) = s log(s + 1e-9)}, where
 * {@code P = [w; A^T] = L^-1 [q; 0]}, {@code L = [[K, C], [C^T, 0]] + 0.01 I}, {@code K_ij = U(|p_i - p_j|^2)},
 * {@code C = [p, 1]}. Backward: {@code dP} from the warp, then {@code dY = L^-T dP} gives {@code dq} and
 * {@code dL = -dY P^T} gives {@code dp} through {@code K} and {@code C}, plus the warp's own
 * {@code dp_i = sum_z dT(z) . w_i U'(|z - p_i|^2) 2 (p_i - z)}; {@code U'(s) = log(s + 1e-9) + s / (s + 1e-9)}.
 * {@code L} is built in float32 in the reference's order, then solved and applied in double: the system is
 * poorly conditioned for nearby keypoints, and the reference's float32 {@code torch.inverse} and warp move
 * the motions by their own rounding (its warped source is 2e-4 off its float64 run in the training fixture).
 */
public final class TpsOps {
    static final double RIDGE = 0.01;

    private TpsOps() {
    }

    /**
     * The K thin-plate-spline motions over the {@code h x w} coordinate grid ({@code TPS.transform_frame}).
     *
     * @param kpDriving {@code [N, G * n, 2]} driving keypoints {@code (x, y)} in {@code [-1, 1]}: control points
     * @param kpSource  {@code [N, G * n, 2]} source keypoints: their images
     * @param n         points per spline (5 in TPSMM)
     * @return {@code [N, G, h, w, 2]}: where each driving-frame position samples the source
     * @throws IllegalArgumentException if the shapes do not match
     * @throws ArithmeticException if a system is singular
     */
    public static Var motions(Tape t, Var kpDriving, Var kpSource, int n, int h, int w) {
        int bs = kpDriving.dim(0), points = kpDriving.dim(1), groups = points / n, m = n + 3;
        kpSource.requireShape("kpSource", bs, points, 2);
        if (points % n != 0) {
            throw new IllegalArgumentException("tps: " + points + " keypoints are not groups of " + n);
        }
        float[] gx = CoordinateGrid.axis(w), gy = CoordinateGrid.axis(h);
        float[] pd = kpDriving.value(), ps = kpSource.value();
        double[][] inverse = new double[bs * groups][];
        double[][] params = new double[bs * groups][];
        float[] out = new float[bs * groups * h * w * 2];
        Parallel.forEach(bs * groups, task -> {
            int off = task * n * 2;
            double[] l = system(pd, off, n);
            double[] inv = invert(l, m);
            double[] par = new double[m * 2];
            for (int r = 0; r < m; r++) {
                for (int i = 0; i < n; i++) {
                    par[2 * r] += inv[r * m + i] * ps[off + 2 * i];
                    par[2 * r + 1] += inv[r * m + i] * ps[off + 2 * i + 1];
                }
            }
            inverse[task] = inv;
            params[task] = par;
            int base = task * h * w * 2;
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    double zx = gx[x], zy = gy[y];
                    double tx = par[2 * n] * zx + par[2 * (n + 1)] * zy + par[2 * (n + 2)];
                    double ty = par[2 * n + 1] * zx + par[2 * (n + 1) + 1] * zy + par[2 * (n + 2) + 1];
                    for (int i = 0; i < n; i++) {
                        double dx = zx - pd[off + 2 * i], dy = zy - pd[off + 2 * i + 1];
                        double u = u(dx * dx + dy * dy);
                        tx += u * par[2 * i];
                        ty += u * par[2 * i + 1];
                    }
                    out[base + (y * w + x) * 2] = (float) tx;
                    out[base + (y * w + x) * 2 + 1] = (float) ty;
                }
            }
        });
        Var motion = t.output(out, new int[] {bs, groups, h, w, 2}, kpDriving, kpSource);
        t.record(motion, () -> {
            float[] dout = motion.grad();
            float[] dpd = kpDriving.requiresGrad() ? kpDriving.grad() : null;
            float[] dps = kpSource.requiresGrad() ? kpSource.grad() : null;
            Parallel.forEach(bs * groups, task -> {
                int off = task * n * 2, base = task * h * w * 2;
                double[] par = params[task];
                double[] dP = new double[m * 2], dp = new double[n * 2];
                for (int y = 0; y < h; y++) {
                    for (int x = 0; x < w; x++) {
                        double zx = gx[x], zy = gy[y];
                        double gX = dout[base + (y * w + x) * 2], gY = dout[base + (y * w + x) * 2 + 1];
                        dP[2 * n] += gX * zx;
                        dP[2 * n + 1] += gY * zx;
                        dP[2 * (n + 1)] += gX * zy;
                        dP[2 * (n + 1) + 1] += gY * zy;
                        dP[2 * (n + 2)] += gX;
                        dP[2 * (n + 2) + 1] += gY;
                        for (int i = 0; i < n; i++) {
                            double dx = zx - pd[off + 2 * i], dy = zy - pd[off + 2 * i + 1];
                            double s = dx * dx + dy * dy;
                            dP[2 * i] += gX * u(s);
                            dP[2 * i + 1] += gY * u(s);
                            double g = (gX * par[2 * i] + gY * par[2 * i + 1]) * du(s) * 2;
                            dp[2 * i] -= g * dx;
                            dp[2 * i + 1] -= g * dy;
                        }
                    }
                }
                // Through the solve: dY = L^-T dP; dL = -dY P^T.
                double[] inv = inverse[task];
                double[] dY = new double[m * 2];
                for (int r = 0; r < m; r++) {
                    for (int q = 0; q < m; q++) {
                        dY[2 * r] += inv[q * m + r] * dP[2 * q];
                        dY[2 * r + 1] += inv[q * m + r] * dP[2 * q + 1];
                    }
                }
                if (dps != null) {
                    for (int i = 0; i < 2 * n; i++) {
                        dps[off + i] += (float) dY[i];
                    }
                }
                if (dpd == null) {
                    return;
                }
                for (int i = 0; i < n; i++) {
                    for (int j = 0; j < n; j++) {
                        double dLij = -(dY[2 * i] * par[2 * j] + dY[2 * i + 1] * par[2 * j + 1]);
                        double dLji = -(dY[2 * j] * par[2 * i] + dY[2 * j + 1] * par[2 * i + 1]);
                        double dx = pd[off + 2 * i] - pd[off + 2 * j], dy = pd[off + 2 * i + 1] - pd[off + 2 * j + 1];
                        double s = dx * dx + dy * dy;
                        if (s == 0) {
                            continue;
                        }
                        double g = (dLij + dLji) * du(s) * 2;
                        dp[2 * i] += g * dx;
                        dp[2 * i + 1] += g * dy;
                    }
                    for (int d = 0; d < 2; d++) {
                        // L[i][n + d] = L[n + d][i] = p_i[d]
                        double dLa = -(dY[2 * i] * par[2 * (n + d)] + dY[2 * i + 1] * par[2 * (n + d) + 1]);
                        double dLb = -(dY[2 * (n + d)] * par[2 * i] + dY[2 * (n + d) + 1] * par[2 * i + 1]);
                        dp[2 * i + d] += dLa + dLb;
                    }
                }
                for (int i = 0; i < 2 * n; i++) {
                    dpd[off + i] += (float) dp[i];
                }
            });
        });
        return motion;
    }

    static double u(double s) {
        return s * Math.log(s + 1e-9);
    }

    static double du(double s) {
        return Math.log(s + 1e-9) + s / (s + 1e-9);
    }

    /** {@code L + 0.01 I} of one group, {@code (n + 3)^2} row-major, entries rounded as the reference's float32. */
    private static double[] system(float[] p, int off, int n) {
        int m = n + 3;
        double[] l = new double[m * m];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                float dx = p[off + 2 * i] - p[off + 2 * j], dy = p[off + 2 * i + 1] - p[off + 2 * j + 1];
                float r = (float) Math.sqrt(dx * dx + dy * dy);
                float k = r * r;
                l[i * m + j] = k * (float) Math.log(k + 1e-9f);
            }
            l[i * m + n] = l[n * m + i] = p[off + 2 * i];
            l[i * m + n + 1] = l[(n + 1) * m + i] = p[off + 2 * i + 1];
            l[i * m + n + 2] = l[(n + 2) * m + i] = 1;
        }
        for (int i = 0; i < m; i++) {
            l[i * m + i] = (float) l[i * m + i] + (float) RIDGE;
        }
        return l;
    }

    /** Gauss-Jordan with partial pivoting. */
    static double[] invert(double[] a, int m) {
        double[][] r = new double[m][2 * m];
        for (int i = 0; i < m; i++) {
            System.arraycopy(a, i * m, r[i], 0, m);
            r[i][m + i] = 1;
        }
        for (int c = 0; c < m; c++) {
            int piv = c;
            for (int q = c + 1; q < m; q++) {
                if (Math.abs(r[q][c]) > Math.abs(r[piv][c])) {
                    piv = q;
                }
            }
            if (r[piv][c] == 0) {
                throw new ArithmeticException("singular thin-plate-spline system");
            }
            double[] tmp = r[c];
            r[c] = r[piv];
            r[piv] = tmp;
            double d = r[c][c];
            for (int k = 0; k < 2 * m; k++) {
                r[c][k] /= d;
            }
            for (int q = 0; q < m; q++) {
                if (q != c && r[q][c] != 0) {
                    double f = r[q][c];
                    for (int k = 0; k < 2 * m; k++) {
                        r[q][k] -= f * r[c][k];
                    }
                }
            }
        }
        double[] inv = new double[m * m];
        for (int i = 0; i < m; i++) {
            System.arraycopy(r[i], m, inv, i * m, m);
        }
        return inv;
    }

    /**
     * The background motion: the affine map {@code bg [N, 2, 3]} (the first two rows of the background
     * predictor's 3x3 matrix, whose last row is {@code [0, 0, 1]}) applied to the coordinate grid
     * ({@code create_transformations} with {@code bg_param}; the homogeneous division is by exactly 1).
     *
     * @param bg {@code [N, 6]}: {@code a, b, c, d, e, f} of {@code [[a, b, c], [d, e, f]]}
     * @return {@code [N, 1, h, w, 2]}
     */
    public static Var affineGrid(Tape t, Var bg, int h, int w) {
        int n = bg.dim(0);
        bg.requireShape("background affine", n, 6);
        float[] gx = CoordinateGrid.axis(w), gy = CoordinateGrid.axis(h), a = bg.value();
        float[] out = new float[n * h * w * 2];
        for (int s = 0; s < n; s++) {
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    int o = ((s * h + y) * w + x) * 2;
                    out[o] = a[6 * s] * gx[x] + a[6 * s + 1] * gy[y] + a[6 * s + 2];
                    out[o + 1] = a[6 * s + 3] * gx[x] + a[6 * s + 4] * gy[y] + a[6 * s + 5];
                }
            }
        }
        Var grid = t.output(out, new int[] {n, 1, h, w, 2}, bg);
        t.record(grid, () -> {
            float[] dg = grid.grad(), da = bg.grad();
            for (int s = 0; s < n; s++) {
                double[] acc = new double[6];
                for (int y = 0; y < h; y++) {
                    for (int x = 0; x < w; x++) {
                        int o = ((s * h + y) * w + x) * 2;
                        for (int d = 0; d < 2; d++) {
                            acc[3 * d] += dg[o + d] * gx[x];
                            acc[3 * d + 1] += dg[o + d] * gy[y];
                            acc[3 * d + 2] += dg[o + d];
                        }
                    }
                }
                for (int i = 0; i < 6; i++) {
                    da[6 * s + i] += (float) acc[i];
                }
            }
        });
        return grid;
    }

    /**
     * TPSMM's background loss before its weight: {@code mean |I - B(s, d) B(d, s)|} over {@code N x 3 x 3},
     * where each {@code B} is a background affine completed with the row {@code [0, 0, 1]} (whose entries of
     * the product are exact, so they add 0).
     *
     * @param forward  {@code [N, 6]}: background predictor on (source, driving)
     * @param backward {@code [N, 6]}: on (driving, source)
     * @return a scalar
     */
    public static Var backgroundConsistency(Tape t, Var forward, Var backward) {
        int n = forward.dim(0);
        forward.requireShape("background affine", n, 6);
        backward.requireShape("background affine", n, 6);
        float[] a = forward.value(), b = backward.value();
        float[] sign = new float[n * 6];
        float total = 0;
        for (int s = 0; s < n; s++) {
            for (int r = 0; r < 2; r++) {
                for (int c = 0; c < 3; c++) {
                    // (A B)[r][c] = sum_k A[r][k] B[k][c], B[2] = [0, 0, 1]
                    float v = a[6 * s + 3 * r] * b[6 * s + c] + a[6 * s + 3 * r + 1] * b[6 * s + 3 + c]
                            + (c == 2 ? a[6 * s + 3 * r + 2] : 0f);
                    float e = (r == c ? 1f : 0f) - v;
                    total += Math.abs(e);
                    sign[6 * s + 3 * r + c] = Math.signum(e);
                }
            }
        }
        int count = n * 9;
        Var loss = t.output(new float[] {total / count}, new int[] {1}, forward, backward);
        t.record(loss, () -> {
            float g = loss.grad()[0] / count;
            float[] da = forward.requiresGrad() ? forward.grad() : null, db = backward.requiresGrad() ? backward.grad() : null;
            for (int s = 0; s < n; s++) {
                for (int r = 0; r < 2; r++) {
                    for (int c = 0; c < 3; c++) {
                        float dv = -g * sign[6 * s + 3 * r + c];
                        if (da != null) {
                            da[6 * s + 3 * r] += dv * b[6 * s + c];
                            da[6 * s + 3 * r + 1] += dv * b[6 * s + 3 + c];
                            if (c == 2) {
                                da[6 * s + 3 * r + 2] += dv;
                            }
                        }
                        if (db != null) {
                            db[6 * s + c] += dv * a[6 * s + 3 * r];
                            db[6 * s + 3 + c] += dv * a[6 * s + 3 * r + 1];
                        }
                    }
                }
            }
        });
        return loss;
    }
}
