package org.fomm4j.nn;

import org.fomm4j.tensor.FrameArena;
import org.fomm4j.kernels.Kernels;
import org.fomm4j.tensor.Tensor;

/** Warping by sampling grids, as both references' dense motion and generator networks do it. */
public final class Warps {
    private Warps() {
    }

    /**
     * The source warped by each of {@code M} motions ({@code create_deformed_source_image}).
     *
     * @param source  {@code [N, C, h, w]}
     * @param motions {@code [N, M, h, w, 2]} sampling grids, {@code (x, y)} in {@code [-1, 1]}
     * @return {@code [N, M, C, h, w]}
     */
    public static Tensor sampleEach(Kernels k, Tensor source, Tensor motions, boolean alignCorners) {
        int n = source.dim(0), c = source.dim(1), h = source.dim(2), w = source.dim(3), m = motions.dim(1), hw = h * w;
        motions.requireShape("motions", n, m, h, w, 2);
        float[] src = source.toHeap().data();
        float[] repeated = FrameArena.zeros(n * m * c * hw);
        for (int b = 0; b < n; b++) {
            for (int r = 0; r < m; r++) {
                System.arraycopy(src, b * c * hw, repeated, (b * m + r) * c * hw, c * hw);
            }
        }
        Tensor out = k.gridSample(Tensor.of(repeated, n * m, c, h, w), motions.reshape(n * m, h, w, 2), alignCorners);
        return out.reshape(n, m, c, h, w);
    }

    /**
     * {@code deform_input}: the deformation {@code [N, h, w, 2]} is resized bilinearly to the input's
     * size if they differ, then the input {@code [N, C, H, W]} is sampled with it.
     */
    public static Tensor deform(Kernels k, Tensor input, Tensor deformation, boolean alignCorners) {
        int h = input.dim(2), w = input.dim(3);
        if (deformation.dim(1) != h || deformation.dim(2) != w) {
            deformation = Layouts.toChannelsLast(k.resizeBilinear(Layouts.toChannelsFirst(deformation), h, w, alignCorners));
        }
        return k.gridSample(input, deformation, alignCorners);
    }
}
