package org.fomm4j.networks.fomm;

import org.fomm4j.tensor.Tensor;

/** Batched 2x2 matrix algebra on {@code [..., 2, 2]} row-major tensors (computed in double, stored as float32). */
public final class Jacobians {
    private Jacobians() {
    }

    /**
     * {@code a @ b} per matrix.
     *
     * @throws IllegalArgumentException if the shapes differ
     */
    public static Tensor matmul(Tensor a, Tensor b) {
        b.requireShape("matmul operand", a.shape());
        int m = a.size() / 4;
        float[] out = new float[m * 4];
        for (int i = 0; i < m; i++) {
            int o = i * 4;
            double a00 = a.get(o), a01 = a.get(o + 1), a10 = a.get(o + 2), a11 = a.get(o + 3);
            double b00 = b.get(o), b01 = b.get(o + 1), b10 = b.get(o + 2), b11 = b.get(o + 3);
            out[o] = (float) (a00 * b00 + a01 * b10);
            out[o + 1] = (float) (a00 * b01 + a01 * b11);
            out[o + 2] = (float) (a10 * b00 + a11 * b10);
            out[o + 3] = (float) (a10 * b01 + a11 * b11);
        }
        return Tensor.of(out, a.shape());
    }

    /**
     * Inverse per matrix ({@code torch.inverse}).
     *
     * @throws ArithmeticException naming the matrix index if one is singular
     */
    public static Tensor inverse(Tensor a) {
        int m = a.size() / 4;
        float[] out = new float[m * 4];
        for (int i = 0; i < m; i++) {
            int o = i * 4;
            double a00 = a.get(o), a01 = a.get(o + 1), a10 = a.get(o + 2), a11 = a.get(o + 3);
            double det = a00 * a11 - a01 * a10;
            if (det == 0 || !Double.isFinite(det)) {
                throw new ArithmeticException("singular keypoint jacobian at index " + i + " (determinant " + det + ")");
            }
            out[o] = (float) (a11 / det);
            out[o + 1] = (float) (-a01 / det);
            out[o + 2] = (float) (-a10 / det);
            out[o + 3] = (float) (a00 / det);
        }
        return Tensor.of(out, a.shape());
    }
}
