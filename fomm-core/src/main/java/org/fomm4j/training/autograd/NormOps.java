package org.fomm4j.training.autograd;

import org.fomm4j.kernels.Parallel;

/**
 * {@code BatchNorm2d} in training mode, as PyTorch's {@code F.batch_norm(training=True)}: per channel, the
 * mean and biased variance over {@code (N, H, W)} normalize the batch, {@code y = (x - mean) / sqrt(var + eps)
 * * gamma + beta}; the running statistics move by {@code momentum} towards the batch mean and the
 * <em>unbiased</em> variance ({@code var * m / (m - 1)}, {@code m = N*H*W}). Statistics in double.
 *
 * <p>Backward (the standard closed form): {@code dx = gamma / sqrt(var + eps) * (dy - mean(dy) - xhat *
 * mean(dy * xhat))}, {@code dgamma = sum(dy * xhat)}, {@code dbeta = sum(dy)}.
 */
public final class NormOps {
    private NormOps() {
    }

    /**
     * @param x           {@code [N, C, H, W]}
     * @param gamma       {@code [C]}
     * @param beta        {@code [C]}
     * @param runningMean {@code C} values updated in place, or {@code null} to leave the statistics alone
     * @param runningVar  {@code C} values updated in place (with {@code runningMean})
     * @return {@code [N, C, H, W]}
     */
    public static Var batchNorm(Tape t, Var x, Var gamma, Var beta, float[] runningMean, float[] runningVar,
                                double momentum, double eps) {
        int n = x.dim(0), c = x.dim(1), plane = x.dim(2) * x.dim(3);
        gamma.requireShape("batch norm weight", c);
        beta.requireShape("batch norm bias", c);
        float[] in = x.value(), g = gamma.value(), bt = beta.value();
        float[] out = new float[in.length];
        float[] xhat = new float[in.length];
        float[] invStd = new float[c];
        BatchShards shards = t.shards();
        int shard = t.shard();
        // Per channel: sum, then the sum of squared deviations from the mean (two passes, in double), each
        // summed over the shards of a data-parallel step; slot c carries the sample count.
        double[] sums = new double[c + 1];
        Parallel.forEach(c, ch -> sums[ch] = channelSum(in, n, c, ch, plane));
        sums[c] = (double) n * plane;
        double[] total = reduce(shards, shard, sums);
        long m = (long) total[c];
        double[] mean = new double[c];
        for (int ch = 0; ch < c; ch++) {
            mean[ch] = total[ch] / m;
        }
        double[] squares = new double[c];
        Parallel.forEach(c, ch -> squares[ch] = channelSquares(in, mean[ch], n, c, ch, plane));
        double[] sq = reduce(shards, shard, squares);
        boolean updateRunning = runningMean != null && shard == 0;
        Parallel.forEach(c, ch -> {
            double var = sq[ch] / m;
            double is = 1 / Math.sqrt(var + eps);
            invStd[ch] = (float) is;
            float fm = (float) mean[ch], fis = (float) is, gg = g[ch], bb = bt[ch];
            for (int s = 0; s < n; s++) {
                int base = (s * c + ch) * plane;
                for (int p = 0; p < plane; p++) {
                    float xh = (in[base + p] - fm) * fis;
                    xhat[base + p] = xh;
                    out[base + p] = xh * gg + bb;
                }
            }
            if (updateRunning) {
                runningMean[ch] = (float) ((1 - momentum) * runningMean[ch] + momentum * mean[ch]);
                runningVar[ch] = (float) ((1 - momentum) * runningVar[ch] + momentum * var * m / Math.max(1, m - 1));
            }
        });
        Var y = t.output(out, x.shape(), x, gamma, beta);
        t.record(y, () -> {
            float[] dy = y.grad();
            float[] dg = gamma.requiresGrad() ? gamma.grad() : null;
            float[] db = beta.requiresGrad() ? beta.grad() : null;
            float[] dx = x.requiresGrad() ? x.grad() : null;
            double[] local = new double[2 * c];
            Parallel.forEach(c, ch -> {
                double sdy = 0, sdyx = 0;
                for (int s = 0; s < n; s++) {
                    int base = (s * c + ch) * plane;
                    for (int p = 0; p < plane; p++) {
                        sdy += dy[base + p];
                        sdyx += dy[base + p] * xhat[base + p];
                    }
                }
                local[ch] = sdy;
                local[c + ch] = sdyx;
                // Each shard adds its own part: the parameter gradients are summed over the shards later.
                if (dg != null) {
                    dg[ch] += (float) sdyx;
                }
                if (db != null) {
                    db[ch] += (float) sdy;
                }
            });
            if (dx == null && shards == null) {
                return;
            }
            double[] sumsDy = reduce(shards, shard, local);
            if (dx != null) {
                Parallel.forEach(c, ch -> {
                    float k = g[ch] * invStd[ch];
                    float mdy = (float) (sumsDy[ch] / m), mdyx = (float) (sumsDy[c + ch] / m);
                    for (int s = 0; s < n; s++) {
                        int base = (s * c + ch) * plane;
                        for (int p = 0; p < plane; p++) {
                            dx[base + p] += k * (dy[base + p] - mdy - xhat[base + p] * mdyx);
                        }
                    }
                });
            }
        });
        return y;
    }

    /**
     * {@code BatchNorm2d} in evaluation mode, differentiable: normalized with the running statistics, which
     * stay as they are ({@code y = (x - runningMean) / sqrt(runningVar + eps) * gamma + beta}, the same
     * per-channel affine map inference applies). Training through it fits the network that inference runs
     * (as fine-tuning with frozen BatchNorm does), where {@link #batchNorm} fits one normalized by each
     * batch's statistics. Backward: {@code dx = dy * gamma / sqrt(runningVar + eps)}, {@code dgamma =
     * sum(dy * xhat)}, {@code dbeta = sum(dy)}; no statistics cross the shards.
     *
     * @param x           {@code [N, C, H, W]}
     * @param gamma       {@code [C]}
     * @param beta        {@code [C]}
     * @param runningMean {@code C} values, read only
     * @param runningVar  {@code C} values, read only
     * @return {@code [N, C, H, W]}
     */
    public static Var batchNormFrozen(Tape t, Var x, Var gamma, Var beta, float[] runningMean, float[] runningVar, double eps) {
        int n = x.dim(0), c = x.dim(1), plane = x.dim(2) * x.dim(3);
        gamma.requireShape("batch norm weight", c);
        beta.requireShape("batch norm bias", c);
        if (runningMean.length != c || runningVar.length != c) {
            throw new IllegalArgumentException("batch norm running statistics have " + runningMean.length + " and "
                    + runningVar.length + " values for " + c + " channels");
        }
        float[] in = x.value(), g = gamma.value(), bt = beta.value();
        float[] out = new float[in.length];
        float[] invStd = new float[c];
        Parallel.forEach(c, ch -> {
            // As the inference BatchNorm: 1 / sqrt(var + eps) in float, then (x - mean) * invStd * gamma + beta.
            float is = (float) (1 / Math.sqrt(runningVar[ch] + eps));
            invStd[ch] = is;
            float fm = runningMean[ch], gg = g[ch], bb = bt[ch];
            for (int s = 0; s < n; s++) {
                int base = (s * c + ch) * plane;
                for (int p = 0; p < plane; p++) {
                    out[base + p] = (in[base + p] - fm) * is * gg + bb;
                }
            }
        });
        Var y = t.output(out, x.shape(), x, gamma, beta);
        t.record(y, () -> {
            float[] dy = y.grad();
            float[] dg = gamma.requiresGrad() ? gamma.grad() : null;
            float[] db = beta.requiresGrad() ? beta.grad() : null;
            float[] dx = x.requiresGrad() ? x.grad() : null;
            Parallel.forEach(c, ch -> {
                double sdy = 0, sdyx = 0;
                float fm = runningMean[ch], is = invStd[ch], k = g[ch] * is;
                for (int s = 0; s < n; s++) {
                    int base = (s * c + ch) * plane;
                    for (int p = 0; p < plane; p++) {
                        float d = dy[base + p];
                        sdy += d;
                        sdyx += d * ((in[base + p] - fm) * is);
                        if (dx != null) {
                            dx[base + p] += k * d;
                        }
                    }
                }
                if (dg != null) {
                    dg[ch] += (float) sdyx;
                }
                if (db != null) {
                    db[ch] += (float) sdy;
                }
            });
        });
        return y;
    }

    /** Sum of channel {@code ch} over the batch and the plane. */
    private static double channelSum(float[] in, int n, int c, int ch, int plane) {
        double sum = 0;
        for (int s = 0; s < n; s++) {
            int base = (s * c + ch) * plane;
            for (int p = 0; p < plane; p++) {
                sum += in[base + p];
            }
        }
        return sum;
    }

    /** Sum of the squared deviations of channel {@code ch} from {@code mean}. */
    private static double channelSquares(float[] in, double mean, int n, int c, int ch, int plane) {
        double sq = 0;
        for (int s = 0; s < n; s++) {
            int base = (s * c + ch) * plane;
            for (int p = 0; p < plane; p++) {
                double d = in[base + p] - mean;
                sq += d * d;
            }
        }
        return sq;
    }

    private static double[] reduce(BatchShards shards, int shard, double[] local) {
        return shards == null ? local : shards.allReduce(shard, local);
    }

    /**
     * {@code nn.InstanceNorm2d(C, affine=True)} (no running statistics), TPSMM's normalization: every
     * {@code (n, c)} plane normalized by its own mean and biased variance (in double), then
     * {@code * gamma[c] + beta[c]}. Backward per plane: {@code dx = gamma / sqrt(var + eps) * (dy - mean(dy)
     * - xhat * mean(dy * xhat))}; {@code dgamma}, {@code dbeta} summed over the batch. No statistics cross
     * the shards of a data-parallel step (each plane is one sample's).
     *
     * @param x     {@code [N, C, H, W]}
     * @param gamma {@code [C]}
     * @param beta  {@code [C]}
     * @return {@code [N, C, H, W]}
     */
    public static Var instanceNorm(Tape t, Var x, Var gamma, Var beta, double eps) {
        int n = x.dim(0), c = x.dim(1), plane = x.dim(2) * x.dim(3);
        gamma.requireShape("instance norm weight", c);
        beta.requireShape("instance norm bias", c);
        float[] in = x.value(), g = gamma.value(), bt = beta.value();
        float[] out = new float[in.length], xhat = new float[in.length], invStd = new float[n * c];
        Parallel.forEach(n * c, q -> {
            int ch = q % c, base = q * plane;
            double sum = 0;
            for (int p = 0; p < plane; p++) {
                sum += in[base + p];
            }
            double mean = sum / plane, sq = 0;
            for (int p = 0; p < plane; p++) {
                double d = in[base + p] - mean;
                sq += d * d;
            }
            float is = (float) (1 / Math.sqrt(sq / plane + eps)), fm = (float) mean;
            invStd[q] = is;
            for (int p = 0; p < plane; p++) {
                float xh = (in[base + p] - fm) * is;
                xhat[base + p] = xh;
                out[base + p] = xh * g[ch] + bt[ch];
            }
        });
        Var y = t.output(out, x.shape(), x, gamma, beta);
        t.record(y, () -> {
            float[] dy = y.grad();
            float[] dx = x.requiresGrad() ? x.grad() : null;
            double[] sdy = new double[n * c], sdyx = new double[n * c];
            Parallel.forEach(n * c, q -> {
                int base = q * plane;
                double a = 0, b = 0;
                for (int p = 0; p < plane; p++) {
                    a += dy[base + p];
                    b += dy[base + p] * xhat[base + p];
                }
                sdy[q] = a;
                sdyx[q] = b;
                if (dx != null) {
                    float k = g[q % c] * invStd[q], mdy = (float) (a / plane), mdyx = (float) (b / plane);
                    for (int p = 0; p < plane; p++) {
                        dx[base + p] += k * (dy[base + p] - mdy - xhat[base + p] * mdyx);
                    }
                }
            });
            if (gamma.requiresGrad() || beta.requiresGrad()) {
                float[] dg = gamma.requiresGrad() ? gamma.grad() : null, db = beta.requiresGrad() ? beta.grad() : null;
                for (int ch = 0; ch < c; ch++) {
                    double a = 0, b = 0;
                    for (int s = 0; s < n; s++) {
                        a += sdy[s * c + ch];
                        b += sdyx[s * c + ch];
                    }
                    if (dg != null) {
                        dg[ch] += (float) b;
                    }
                    if (db != null) {
                        db[ch] += (float) a;
                    }
                }
            }
        });
        return y;
    }
}
