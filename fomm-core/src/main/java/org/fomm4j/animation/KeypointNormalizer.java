package org.fomm4j.animation;

import org.fomm4j.networks.fomm.Jacobians;
import org.fomm4j.networks.fomm.Keypoints;
import org.fomm4j.tensor.Tensor;

/**
 * FOMM's {@code normalize_kp} (demo.py / animate.py of first-order-model).
 */
public final class KeypointNormalizer {
    private KeypointNormalizer() {
    }

    /**
     * The movement scale of {@link AnimationMode#RELATIVE_ADAPT}:
     * {@code sqrt(area(hull(kpSource))) / sqrt(area(hull(kpDrivingInitial)))}.
     *
     * @throws IllegalArgumentException if the initial driving keypoints are collinear (zero area)
     */
    public static float adaptMovementScale(Keypoints kpSource, Keypoints kpDrivingInitial) {
        double sa = ConvexHullArea.of(kpSource.value());
        double da = ConvexHullArea.of(kpDrivingInitial.value());
        if (!(da > 0)) {
            throw new IllegalArgumentException("cannot adapt the movement scale: the initial driving keypoints are collinear");
        }
        return (float) (Math.sqrt(sa) / Math.sqrt(da));
    }

    /**
     * Normalizes driving keypoints.
     *
     * @param kpSource         {@code [1, K, ...]} source keypoints
     * @param kpDriving        {@code [N, K, ...]} keypoints of the driving frames
     * @param kpDrivingInitial {@code [1, K, ...]} keypoints of the initial driving frame (relative modes)
     * @return the keypoints to give the generator, {@code [N, K, ...]}
     */
    public static Keypoints normalize(Keypoints kpSource, Keypoints kpDriving, Keypoints kpDrivingInitial, AnimationMode mode) {
        if (mode == AnimationMode.STANDARD) {
            return kpDriving;
        }
        float scale = mode == AnimationMode.RELATIVE_ADAPT ? adaptMovementScale(kpSource, kpDrivingInitial) : 1f;
        int n = kpDriving.batch(), k = kpDriving.count();
        float[] v = new float[n * k * 2];
        for (int b = 0; b < n; b++) {
            for (int i = 0; i < k * 2; i++) {
                float diff = kpDriving.value().get(b * k * 2 + i) - kpDrivingInitial.value().get(i);
                v[b * k * 2 + i] = diff * scale + kpSource.value().get(i);
            }
        }
        Tensor jac = kpDriving.jacobian();
        if (jac != null && kpSource.jacobian() != null && kpDrivingInitial.jacobian() != null) {
            Tensor init = broadcast(Jacobians.inverse(kpDrivingInitial.jacobian()), n);
            Tensor src = broadcast(kpSource.jacobian(), n);
            jac = Jacobians.matmul(Jacobians.matmul(jac, init), src);
        }
        return new Keypoints(Tensor.of(v, n, k, 2), jac);
    }

    private static Tensor broadcast(Tensor t, int n) {
        if (t.dim(0) == n) {
            return t;
        }
        Tensor[] parts = new Tensor[n];
        java.util.Arrays.fill(parts, t.toHeap());
        return Tensor.concat(0, parts);
    }
}
