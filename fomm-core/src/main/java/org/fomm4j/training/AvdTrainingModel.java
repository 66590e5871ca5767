package org.fomm4j.training;

import org.fomm4j.config.TpsmmConfig;
import org.fomm4j.training.autograd.LinearOps;
import org.fomm4j.training.autograd.NormOps;
import org.fomm4j.training.autograd.Tape;
import org.fomm4j.training.autograd.TensorOps;
import org.fomm4j.training.autograd.Var;

/**
 * TPSMM's animation-via-disentanglement network in training mode (reference {@code modules/avd_network.py}),
 * differentiable: an identity encoder on the source keypoints and a pose encoder on the (randomly scaled)
 * driving keypoints, each {@code Linear-BatchNorm1d-ReLU} at widths 256, 512, 1024 and a last {@code Linear} to
 * its bottleneck, and a decoder from {@code cat(pose, identity)} through 1024, 512, 256 back to the {@code K * 5}
 * keypoints. The BatchNorms normalize with the batch's statistics and move their running statistics (momentum
 * 0.1, eps 1e-5), as {@code avd_network.train()} does. Parameters are {@code avd_network.*}, named as the
 * reference's state dict; the inference counterpart is {@link org.fomm4j.networks.tpsmm.AvdNetwork}.
 */
public final class AvdTrainingModel {
    static final double BN_MOMENTUM = 0.1, BN_EPS = 1e-5;

    private final Parameters p;
    private final int points;

    public AvdTrainingModel(TpsmmConfig config, Parameters parameters) {
        this.p = parameters;
        this.points = config.numTps() * 5;
    }

    /**
     * {@code avd_network(kp_source, kp_random)['fg_kp']}.
     *
     * @param kpSource {@code [N, K * 5, 2]}, {@code (x, y)} in {@code [-1, 1]}: the identity
     * @param kpRandom {@code [N, K * 5, 2]}: the pose
     * @return {@code [N, K * 5, 2]}
     * @throws IllegalArgumentException if the keypoints are not {@code [N, K * 5, 2]}, or {@code N < 2} (batch statistics)
     */
    public Var forward(Tape t, Var kpSource, Var kpRandom) {
        kpSource.requireShape("kp_source", kpSource.dim(0), points, 2);
        int n = kpSource.dim(0);
        kpRandom.requireShape("kp_random", n, points, 2);
        if (n < 2) {
            throw new IllegalArgumentException("AVD training needs at least 2 samples per batch (BatchNorm1d statistics), got " + n);
        }
        Var pose = mlp(t, "avd_network.pose_encoder", TensorOps.reshape(t, kpRandom, n, 2 * points));
        Var id = mlp(t, "avd_network.id_encoder", TensorOps.reshape(t, kpSource, n, 2 * points));
        Var rec = mlp(t, "avd_network.decoder", TensorOps.concat(t, 1, pose, id));
        return TensorOps.reshape(t, rec, n, points, 2);
    }

    /** {@code Sequential(Linear, BatchNorm1d, ReLU) x 3, Linear}: modules 0/1, 3/4, 6/7, 9. */
    private Var mlp(Tape t, String pre, Var x) {
        for (int i = 0; i < 3; i++) {
            x = linear(t, pre + "." + 3 * i, x);
            String bn = pre + "." + (3 * i + 1);
            int n = x.dim(0), c = x.dim(1);
            // BatchNorm1d over [N, C] is BatchNorm2d over [N, C, 1, 1]: the same statistics per channel.
            Var y = NormOps.batchNorm(t, TensorOps.reshape(t, x, n, c, 1, 1), p.parameter(bn + ".weight"), p.parameter(bn + ".bias"),
                    p.buffer(bn + ".running_mean"), p.buffer(bn + ".running_var"), BN_MOMENTUM, BN_EPS);
            x = TensorOps.relu(t, TensorOps.reshape(t, y, n, c));
        }
        return linear(t, pre + ".9", x);
    }

    private Var linear(Tape t, String pre, Var x) {
        return LinearOps.linear(t, x, p.parameter(pre + ".weight"), p.parameter(pre + ".bias"));
    }

    /**
     * The reference's {@code random_scale}: each sample's keypoints times {@code diag(theta[s])}, i.e.
     * {@code x * theta[s, 0]}, {@code y * theta[s, 1]}.
     *
     * @param kp    {@code [N, P, 2]}
     * @param theta {@code [N, 2]}
     * @return {@code [N, P, 2]}, a new array
     */
    public static float[] randomScale(float[] kp, float[] theta, int n, int points) {
        float[] out = new float[kp.length];
        for (int s = 0; s < n; s++) {
            for (int q = 0; q < points; q++) {
                int i = (s * points + q) * 2;
                out[i] = kp[i] * theta[2 * s];
                out[i + 1] = kp[i + 1] * theta[2 * s + 1];
            }
        }
        return out;
    }
}
