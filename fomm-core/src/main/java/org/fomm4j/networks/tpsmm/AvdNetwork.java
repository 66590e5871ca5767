package org.fomm4j.networks.tpsmm;

import org.fomm4j.config.TpsmmConfig;
import org.fomm4j.nn.Linear;
import org.fomm4j.tensor.Tensor;
import org.fomm4j.weights.WeightReader;

/**
 * TPSMM animation-via-disentanglement network ({@code modules/avd_network.py}): an identity encoder
 * on the source keypoints and a pose encoder on the driving keypoints (MLPs 256-512-1024 with
 * BatchNorm1d in eval mode, folded, and ReLU), and a decoder from both embeddings back to
 * {@code K * 5} keypoints. Keypoints are {@code [N, K * 5, 2]}.
 */
public final class AvdNetwork {
    private final Linear[] idEncoder;
    private final Linear[] poseEncoder;
    private final Linear[] decoder;
    private final int points;

    public AvdNetwork(WeightReader r, TpsmmConfig c) {
        this.points = c.numTps() * 5;
        int in = points * 2;
        this.idEncoder = mlp(r.sub("id_encoder"), new int[] {in, 256, 512, 1024, c.avd().idBottleSize()});
        this.poseEncoder = mlp(r.sub("pose_encoder"), new int[] {in, 256, 512, 1024, c.avd().poseBottleSize()});
        this.decoder = mlp(r.sub("decoder"), new int[] {c.avd().poseBottleSize() + c.avd().idBottleSize(), 1024, 512, 256, in});
    }

    /** {@code Sequential(Linear, BN, ReLU) x 3, Linear}: modules 0/1, 3/4, 6/7, 9. */
    private static Linear[] mlp(WeightReader r, int[] sizes) {
        Linear[] layers = new Linear[4];
        for (int i = 0; i < 3; i++) {
            layers[i] = Linear.readWithBatchNormRelu(r.sub(Integer.toString(3 * i)), r.sub(Integer.toString(3 * i + 1)),
                    sizes[i], sizes[i + 1]);
        }
        layers[3] = Linear.read(r.sub("9"), sizes[3], sizes[4]);
        return layers;
    }

    private static float[] run(Linear[] layers, float[] x, int n) {
        for (Linear l : layers) {
            x = l.forward(x, n);
        }
        return x;
    }

    /** The identity embedding of the source keypoints: depends on the source only. */
    public float[] identity(Tensor kpSource) {
        return run(idEncoder, kpSource.toArray(), kpSource.dim(0));
    }

    /**
     * {@code avd_network(kp_source, kp_driving)} with the source's identity embedding precomputed.
     *
     * @param identity {@link #identity} of one source frame
     */
    public Tensor forward(float[] identity, Tensor kpDriving) {
        int n = kpDriving.dim(0);
        float[] pose = run(poseEncoder, kpDriving.toArray(), n);
        // The source is one frame: its identity embedding is shared by every driving frame.
        int ps = pose.length / n, is = identity.length;
        float[] cat = new float[n * (ps + is)];
        for (int b = 0; b < n; b++) {
            System.arraycopy(pose, b * ps, cat, b * (ps + is), ps);
            System.arraycopy(identity, 0, cat, b * (ps + is) + ps, is);
        }
        return Tensor.of(run(decoder, cat, n), n, points, 2);
    }
}
