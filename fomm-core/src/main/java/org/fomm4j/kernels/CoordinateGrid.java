package org.fomm4j.kernels;

/**
 * The normalized pixel-centre coordinates of the reference {@code make_coordinate_grid}:
 * {@code c_i = 2 * (i / (n - 1)) - 1}, computed in float32 in the same order, so {@code -1} and
 * {@code 1} are the centres of the first and last pixel.
 */
public final class CoordinateGrid {
    private CoordinateGrid() {
    }

    /** The {@code n} coordinates along one axis. */
    public static float[] axis(int n) {
        float[] c = new float[n];
        float denom = n - 1;
        for (int i = 0; i < n; i++) {
            c[i] = 2f * (i / denom) - 1f;
        }
        return c;
    }
}
