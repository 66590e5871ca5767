package org.fomm4j.training;

import java.util.Random;
import org.fomm4j.kernels.CoordinateGrid;
import org.fomm4j.kernels.GridPadding;
import org.fomm4j.training.autograd.GridSampleOps;
import org.fomm4j.training.autograd.Tape;
import org.fomm4j.training.autograd.Var;

/**
 * The random warp of the equivariance losses (FOMM {@code modules/model.py} {@code Transform}, paper
 * section 3.3): per batch item an affine {@code theta = [I | 0] + N(0, sigmaAffine)} ({@code [2, 3]}) plus a
 * thin-plate-style term over a {@code points x points} grid of control points {@code c_k} with weights
 * {@code w_k ~ N(0, sigmaTps)}:
 * {@code T(z) = theta [z; 1] + sum_k w_k r_k^2 log(r_k + 1e-6)}, added to both coordinates, with the
 * reference's L1 distance {@code r_k = |z_x - c_kx| + |z_y - c_ky|}. Coordinates {@code (x, y)} in {@code [-1, 1]}.
 *
 * <p>{@link #warpCoordinates} and {@link #jacobian} are operations of the training graph: their
 * gradients with respect to the coordinates include the second derivative of {@code T} that the
 * reference gets from {@code torch.autograd.grad(create_graph=True)}.
 */
public final class EquivarianceTransform {
    private static final float EPS = 1e-6f;
    private final int batch;
    private final float[] theta;
    private final float[] controlPoints;
    private final float[] controlParams;
    private final int numControl;

    /**
     * @param theta         {@code [N, 2, 3]}
     * @param controlPoints {@code [P, 2]} ({@code P = points^2}, {@code (x, y)}, x fastest)
     * @param controlParams {@code [N, P]}
     */
    public EquivarianceTransform(int batch, float[] theta, float[] controlPoints, float[] controlParams) {
        this.batch = batch;
        this.numControl = controlPoints.length / 2;
        if (theta.length != batch * 6 || controlParams.length != batch * numControl) {
            throw new IllegalArgumentException("transform: theta of " + theta.length + " and params of "
                    + controlParams.length + " values do not fit a batch of " + batch + " with " + numControl + " control points");
        }
        this.theta = theta;
        this.controlPoints = controlPoints;
        this.controlParams = controlParams;
    }

    /** The transforms of samples {@code from .. from + count - 1}, for one shard of a batch. */
    public EquivarianceTransform slice(int from, int count) {
        if (from < 0 || count < 1 || from + count > batch) {
            throw new IllegalArgumentException("transform: samples " + from + " + " + count + " of a batch of " + batch);
        }
        return new EquivarianceTransform(count, java.util.Arrays.copyOfRange(theta, from * 6, (from + count) * 6),
                controlPoints, java.util.Arrays.copyOfRange(controlParams, from * numControl, (from + count) * numControl));
    }

    /** A random transform as the reference draws it ({@code transform_params} of the config). */
    public static EquivarianceTransform random(int batch, double sigmaAffine, double sigmaTps, int points, Random rng) {
        Draw d = draw(batch, sigmaAffine, sigmaTps, points, rng);
        return new EquivarianceTransform(batch, d.theta(), d.controlPoints(), d.controlParams());
    }

    /** The random parameters both papers draw: {@code theta [N, 2, 3]}, control points {@code [P, 2]}, weights {@code [N, P]}. */
    record Draw(float[] theta, float[] controlPoints, float[] controlParams) {
    }

    static Draw draw(int batch, double sigmaAffine, double sigmaTps, int points, Random rng) {
        float[] theta = new float[batch * 6];
        for (int n = 0; n < batch; n++) {
            for (int i = 0; i < 6; i++) {
                theta[n * 6 + i] = (float) (rng.nextGaussian() * sigmaAffine + (i == 0 || i == 4 ? 1 : 0));
            }
        }
        float[] axis = CoordinateGrid.axis(points);
        float[] cp = new float[points * points * 2];
        for (int y = 0; y < points; y++) {
            for (int x = 0; x < points; x++) {
                cp[(y * points + x) * 2] = axis[x];
                cp[(y * points + x) * 2 + 1] = axis[y];
            }
        }
        float[] params = new float[batch * points * points];
        for (int i = 0; i < params.length; i++) {
            params[i] = (float) (rng.nextGaussian() * sigmaTps);
        }
        return new Draw(theta, cp, params);
    }

    /** {@code transform_frame}: the frames {@code [N, C, H, W]} sampled at {@code T(grid)} with reflection padding. */
    public Var transformFrame(Tape t, Var frames) {
        int h = frames.dim(2), w = frames.dim(3);
        float[] gx = CoordinateGrid.axis(w), gy = CoordinateGrid.axis(h);
        float[] grid = new float[batch * h * w * 2];
        for (int n = 0; n < batch; n++) {
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    float[] r = warp(n, gx[x], gy[y]);
                    int o = ((n * h + y) * w + x) * 2;
                    grid[o] = r[0];
                    grid[o + 1] = r[1];
                }
            }
        }
        return GridSampleOps.gridSample(t, frames, Var.constant(grid, batch, h, w, 2), GridPadding.REFLECTION, false);
    }

    private float[] warp(int n, float x, float y) {
        float[] th = theta;
        int b = n * 6;
        float tx = th[b] * x + th[b + 1] * y + th[b + 2];
        float ty = th[b + 3] * x + th[b + 4] * y + th[b + 5];
        float s = 0f;
        for (int k = 0; k < numControl; k++) {
            float r = Math.abs(x - controlPoints[2 * k]) + Math.abs(y - controlPoints[2 * k + 1]);
            s += r * r * (float) Math.log(r + EPS) * controlParams[n * numControl + k];
        }
        return new float[] {tx + s, ty + s};
    }

    /** {@code warp_coordinates}: {@code [N, P, 2] -> [N, P, 2]}, differentiable in the coordinates. */
    public Var warpCoordinates(Tape t, Var coords) {
        int p = coords.dim(1);
        float[] c = coords.value(), out = new float[c.length];
        for (int n = 0; n < batch; n++) {
            for (int i = 0; i < p; i++) {
                int o = (n * p + i) * 2;
                float[] r = warp(n, c[o], c[o + 1]);
                out[o] = r[0];
                out[o + 1] = r[1];
            }
        }
        Var y = t.output(out, coords.shape(), coords);
        t.record(y, () -> {
            float[] d = y.grad(), dc = coords.grad();
            for (int n = 0; n < batch; n++) {
                for (int i = 0; i < p; i++) {
                    int o = (n * p + i) * 2;
                    float[] j = jacobianAt(n, c[o], c[o + 1]);
                    dc[o] += d[o] * j[0] + d[o + 1] * j[2];
                    dc[o + 1] += d[o] * j[1] + d[o + 1] * j[3];
                }
            }
        });
        return y;
    }

    /** {@code dT/dz} at one point, row-major: {@code [dTx/dx, dTx/dy, dTy/dx, dTy/dy]}. */
    private float[] jacobianAt(int n, float x, float y) {
        int b = n * 6;
        float gx = 0f, gy = 0f;
        for (int k = 0; k < numControl; k++) {
            float dx = x - controlPoints[2 * k], dy = y - controlPoints[2 * k + 1];
            float r = Math.abs(dx) + Math.abs(dy);
            float f1 = firstDerivative(r) * controlParams[n * numControl + k];
            gx += f1 * Math.signum(dx);
            gy += f1 * Math.signum(dy);
        }
        return new float[] {theta[b] + gx, theta[b + 1] + gy, theta[b + 3] + gx, theta[b + 4] + gy};
    }

    private static float firstDerivative(float r) {
        return 2 * r * (float) Math.log(r + EPS) + r * r / (r + EPS);
    }

    private static float secondDerivative(float r) {
        float re = r + EPS;
        return 2 * (float) Math.log(re) + 2 * r / re + (2 * r * re - r * r) / (re * re);
    }

    /**
     * {@code Transform.jacobian}: {@code dT/dz} at each point, {@code [N, P, 2] -> [N, P, 2, 2]}; the
     * backward pass carries the second derivative of {@code T}.
     */
    public Var jacobian(Tape t, Var coords) {
        int p = coords.dim(1);
        float[] c = coords.value(), out = new float[batch * p * 4];
        for (int n = 0; n < batch; n++) {
            for (int i = 0; i < p; i++) {
                int o = (n * p + i) * 2;
                System.arraycopy(jacobianAt(n, c[o], c[o + 1]), 0, out, (n * p + i) * 4, 4);
            }
        }
        Var y = t.output(out, new int[] {batch, p, 2, 2}, coords);
        t.record(y, () -> {
            float[] d = y.grad(), dc = coords.grad();
            for (int n = 0; n < batch; n++) {
                for (int i = 0; i < p; i++) {
                    int o = (n * p + i) * 2, q = (n * p + i) * 4;
                    float x = c[o], yy = c[o + 1];
                    // dJ[r][j] = dg_j for both rows r; d g_j / d z_l = sum_k w_k f''(r_k) s_kj s_kl.
                    float ex = d[q] + d[q + 2], ey = d[q + 1] + d[q + 3];
                    float hxx = 0f, hxy = 0f, hyy = 0f;
                    for (int k = 0; k < numControl; k++) {
                        float dx = x - controlPoints[2 * k], dy = yy - controlPoints[2 * k + 1];
                        float r = Math.abs(dx) + Math.abs(dy);
                        float f2 = secondDerivative(r) * controlParams[n * numControl + k];
                        float sx = Math.signum(dx), sy = Math.signum(dy);
                        hxx += f2 * sx * sx;
                        hxy += f2 * sx * sy;
                        hyy += f2 * sy * sy;
                    }
                    dc[o] += ex * hxx + ey * hxy;
                    dc[o + 1] += ex * hxy + ey * hyy;
                }
            }
        });
        return y;
    }
}
