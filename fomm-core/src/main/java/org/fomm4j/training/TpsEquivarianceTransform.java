package org.fomm4j.training;

import java.util.Arrays;
import java.util.Random;
import org.fomm4j.kernels.CoordinateGrid;
import org.fomm4j.kernels.GridPadding;
import org.fomm4j.training.autograd.GridSampleOps;
import org.fomm4j.training.autograd.Tape;
import org.fomm4j.training.autograd.Var;

/**
 * The random warp of TPSMM's equivariance loss ({@code modules/util.py: TPS}, mode {@code random}): per batch
 * item an affine {@code theta = [I | 0] + N(0, sigmaAffine)} ({@code [2, 3]}) plus a thin-plate term over a
 * {@code points x points} grid of control points {@code c_k} with weights {@code w_k ~ N(0, sigmaTps)}:
 * {@code T(z) = theta [z; 1] + sum_k w_k U(|z - c_k|^2)}, {@code U(s) = s log(s + 1e-9)}, the same scalar
 * added to both coordinates (as the reference's broadcast does). Unlike FOMM's {@link EquivarianceTransform}
 * the distance is Euclidean and frames are sampled with {@code align_corners=True}. Coordinates
 * {@code (x, y)} in {@code [-1, 1]}.
 */
public final class TpsEquivarianceTransform {
    private final int batch;
    private final float[] theta;
    private final float[] controlPoints;
    private final float[] controlParams;
    private final int numControl;

    /**
     * @param theta         {@code [N, 2, 3]}
     * @param controlPoints {@code [P, 2]} ({@code (x, y)}, x fastest)
     * @param controlParams {@code [N, P]}
     * @throws IllegalArgumentException if the sizes do not fit the batch
     */
    public TpsEquivarianceTransform(int batch, float[] theta, float[] controlPoints, float[] controlParams) {
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
    public TpsEquivarianceTransform slice(int from, int count) {
        if (from < 0 || count < 1 || from + count > batch) {
            throw new IllegalArgumentException("transform: samples " + from + " + " + count + " of a batch of " + batch);
        }
        return new TpsEquivarianceTransform(count, Arrays.copyOfRange(theta, from * 6, (from + count) * 6),
                controlPoints, Arrays.copyOfRange(controlParams, from * numControl, (from + count) * numControl));
    }

    /** A random transform as the reference draws it ({@code transform_params} of the config). */
    public static TpsEquivarianceTransform random(int batch, double sigmaAffine, double sigmaTps, int points, Random rng) {
        EquivarianceTransform.Draw d = EquivarianceTransform.draw(batch, sigmaAffine, sigmaTps, points, rng);
        return new TpsEquivarianceTransform(batch, d.theta(), d.controlPoints(), d.controlParams());
    }

    /** {@code transform_frame} then {@code grid_sample(reflection, align_corners=True)}: {@code [N, C, H, W]}. */
    public Var transformFrame(Tape t, Var frames) {
        int h = frames.dim(2), w = frames.dim(3);
        float[] gx = CoordinateGrid.axis(w), gy = CoordinateGrid.axis(h);
        float[] grid = new float[batch * h * w * 2];
        for (int n = 0; n < batch; n++) {
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    int o = ((n * h + y) * w + x) * 2;
                    warp(n, gx[x], gy[y], grid, o);
                }
            }
        }
        return GridSampleOps.gridSample(t, frames, Var.constant(grid, batch, h, w, 2), GridPadding.REFLECTION, true);
    }

    private void warp(int n, float x, float y, float[] out, int o) {
        int b = n * 6;
        float tx = theta[b] * x + theta[b + 1] * y + theta[b + 2];
        float ty = theta[b + 3] * x + theta[b + 4] * y + theta[b + 5];
        float s = 0f;
        for (int k = 0; k < numControl; k++) {
            float dx = x - controlPoints[2 * k], dy = y - controlPoints[2 * k + 1];
            float r = dx * dx + dy * dy;
            s += r * (float) Math.log(r + 1e-9f) * controlParams[n * numControl + k];
        }
        out[o] = tx + s;
        out[o + 1] = ty + s;
    }

    /** {@code warp_coordinates}: {@code [N, P, 2] -> [N, P, 2]}, differentiable in the coordinates. */
    public Var warpCoordinates(Tape t, Var coords) {
        int p = coords.dim(1);
        coords.requireShape("coordinates", batch, p, 2);
        float[] c = coords.value(), out = new float[c.length];
        for (int n = 0; n < batch; n++) {
            for (int i = 0; i < p; i++) {
                int o = (n * p + i) * 2;
                warp(n, c[o], c[o + 1], out, o);
            }
        }
        Var y = t.output(out, coords.shape(), coords);
        t.record(y, () -> {
            float[] d = y.grad(), dc = coords.grad();
            for (int n = 0; n < batch; n++) {
                int b = n * 6;
                for (int i = 0; i < p; i++) {
                    int o = (n * p + i) * 2;
                    double gx = 0, gy = 0;
                    for (int k = 0; k < numControl; k++) {
                        double dx = c[o] - controlPoints[2 * k], dy = c[o + 1] - controlPoints[2 * k + 1];
                        double r = dx * dx + dy * dy;
                        double f = (Math.log(r + 1e-9) + r / (r + 1e-9)) * 2 * controlParams[n * numControl + k];
                        gx += f * dx;
                        gy += f * dy;
                    }
                    float s = d[o] + d[o + 1];
                    dc[o] += d[o] * theta[b] + d[o + 1] * theta[b + 3] + s * (float) gx;
                    dc[o + 1] += d[o] * theta[b + 1] + d[o + 1] * theta[b + 4] + s * (float) gy;
                }
            }
        });
        return y;
    }
}
