package org.fomm4j.kernels;

import org.fomm4j.tensor.FrameArena;
import org.fomm4j.tensor.Tensor;

/**
 * Thin-plate-spline transforms of TPSMM ({@code modules/util.py: TPS}, mode {@code kp}; paper eq. 2).
 * For one group of {@code n} control points {@code p_i} (driving keypoints) with targets {@code q_i}
 * (source keypoints) the transform is {@code T(z) = A [z; 1] + sum_i w_i U(|z - p_i|^2)}, with
 * {@code U(r2) = r2 log(r2 + 1e-9)} (the reference's {@code r^2 log r^2} kernel), where
 * {@code [w; A^T]} solves {@code (L + 0.01 I) P = [q; 0]}, {@code L = [[K, C], [C^T, 0]]},
 * {@code K_ij = U(|p_i - p_j|^2)}, {@code C = [p, 1]}. The 0.01 is added to the whole of {@code L},
 * as in the reference, so {@code T} only approximately interpolates its control points (off by about
 * {@code lambda * w_i} there) and identical control points give the identity only where
 * {@code K + 0.01 I} is well conditioned: {@code K} has negative eigenvalues, so for some control
 * point layouts the ridge makes the system nearly singular and the transform large. That is the
 * reference's behaviour, reproduced here.
 *
 * <p>Numerics: {@code L} and the warp are computed in float32 in the reference's order of operations
 * ({@code |p_i - p_j|} then squared, float logs and sums); the system is solved exactly (double,
 * partial pivoting) instead of by the reference's float32 {@code torch.inverse}, whose rounding on this
 * poorly conditioned system (nearby control points) depends on the LAPACK build and moves the
 * transform by up to ~2e-4.
 */
public final class ThinPlateSpline {
    private final float[] control;
    /** {@code (n + 3) x 2}: the n kernel weights, then the affine coefficients of x, y and 1. */
    private final float[] params;

    private ThinPlateSpline(float[] control, float[] params) {
        this.control = control;
        this.params = params;
    }

    /**
     * @param control {@code n} control points {@code (x, y)} interleaved (driving keypoints)
     * @param target  their {@code n} images (source keypoints)
     * @throws ArithmeticException if the regularized system is singular
     */
    public static ThinPlateSpline fit(float[] control, float[] target) {
        return fit(control, target, REGULARIZATION);
    }

    /** The reference's ridge on the diagonal of {@code L}. */
    static final float REGULARIZATION = 0.01f;

    /** {@link #fit(float[], float[])} with another ridge (0 gives the exact interpolating spline). */
    static ThinPlateSpline fit(float[] control, float[] target, float lambda) {
        int n = control.length / 2, m = n + 3;
        double[][] a = new double[m][m + 2];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                float dx = control[2 * i] - control[2 * j], dy = control[2 * i + 1] - control[2 * j + 1];
                float r = (float) Math.sqrt(dx * dx + dy * dy);
                float k = r * r;
                a[i][j] = k * (float) Math.log(k + 1e-9f);
            }
            a[i][n] = a[n][i] = control[2 * i];
            a[i][n + 1] = a[n + 1][i] = control[2 * i + 1];
            a[i][n + 2] = a[n + 2][i] = 1f;
            a[i][m] = target[2 * i];
            a[i][m + 1] = target[2 * i + 1];
        }
        for (int i = 0; i < m; i++) {
            a[i][i] = (float) a[i][i] + lambda;
        }
        for (int c = 0; c < m; c++) {
            int piv = c;
            for (int r = c + 1; r < m; r++) {
                if (Math.abs(a[r][c]) > Math.abs(a[piv][c])) {
                    piv = r;
                }
            }
            if (a[piv][c] == 0) {
                throw new ArithmeticException("singular thin-plate-spline system");
            }
            double[] t = a[c];
            a[c] = a[piv];
            a[piv] = t;
            for (int r = 0; r < m; r++) {
                if (r != c && a[r][c] != 0) {
                    double f = a[r][c] / a[c][c];
                    for (int k = c; k < m + 2; k++) {
                        a[r][k] -= f * a[c][k];
                    }
                }
            }
        }
        float[] params = new float[m * 2];
        for (int i = 0; i < m; i++) {
            params[2 * i] = (float) (a[i][m] / a[i][i]);
            params[2 * i + 1] = (float) (a[i][m + 1] / a[i][i]);
        }
        return new ThinPlateSpline(control.clone(), params);
    }

    /** The kernel weights {@code w} ({@code n x 2}, row-major) then the affine rows for x, y, 1 ({@code 3 x 2}). */
    float[] parameters() {
        return params.clone();
    }

    /** Control points {@code (x, y)} interleaved (not a copy). */
    float[] control() {
        return control;
    }

    /** {@code (n + 3) x 2} parameters: kernel weights, then the affine coefficients of x, y and 1 (not a copy). */
    float[] params() {
        return params;
    }

    /** Writes {@code T(x, y)} to {@code out[off], out[off + 1]} (float32, the reference's order). */
    public void apply(float x, float y, float[] out, int off) {
        int n = control.length / 2;
        float tx = params[2 * n] * x + params[2 * (n + 1)] * y + params[2 * (n + 2)];
        float ty = params[2 * n + 1] * x + params[2 * (n + 1) + 1] * y + params[2 * (n + 2) + 1];
        float rx = 0f, ry = 0f;
        for (int i = 0; i < n; i++) {
            float dx = x - control[2 * i], dy = y - control[2 * i + 1];
            float r2 = dx * dx + dy * dy;
            float w = r2 * (float) Math.log(r2 + 1e-9f);
            rx += w * params[2 * i];
            ry += w * params[2 * i + 1];
        }
        out[off] = tx + rx;
        out[off + 1] = ty + ry;
    }

    /**
     * The TPS motions of all groups over the coordinate grid ({@code TPS.transform_frame}).
     *
     * @param kpDriving {@code [N, G * groupSize, 2]} control points
     * @param kpSource  {@code [N, G * groupSize, 2]} targets
     * @return {@code [N, G, height, width, 2]}: where each driving-frame pixel samples the source
     */
    public static Tensor motions(Tensor kpDriving, Tensor kpSource, int groupSize, int height, int width) {
        int bs = kpDriving.dim(0), points = kpDriving.dim(1), groups = points / groupSize;
        kpSource.requireShape("kpSource", bs, points, 2);
        float[] gx = CoordinateGrid.axis(width), gy = CoordinateGrid.axis(height);
        float[] out = FrameArena.zeros(bs * groups * height * width * 2);
        Parallel.forEach(bs * groups, task -> {
            int b = task / groups, g = task % groups;
            float[] c = new float[groupSize * 2], t = new float[groupSize * 2];
            for (int i = 0; i < groupSize * 2; i++) {
                c[i] = kpDriving.get((b * points + g * groupSize) * 2 + i);
                t[i] = kpSource.get((b * points + g * groupSize) * 2 + i);
            }
            ThinPlateSpline tps = fit(c, t);
            int base = task * height * width * 2;
            for (int y = 0; y < height; y++) {
                for (int x = 0; x < width; x++) {
                    tps.apply(gx[x], gy[y], out, base + (y * width + x) * 2);
                }
            }
        });
        return Tensor.of(out, bs, groups, height, width, 2);
    }
}
