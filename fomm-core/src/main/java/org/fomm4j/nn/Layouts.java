package org.fomm4j.nn;

import org.fomm4j.tensor.FrameArena;
import org.fomm4j.tensor.Tensor;

/** Layout changes between channels-last grids ({@code [N, H, W, C]}, e.g. flows) and NCHW maps. */
public final class Layouts {
    private Layouts() {
    }

    /** {@code [N, H, W, C] -> [N, C, H, W]} ({@code permute(0, 3, 1, 2)}). */
    public static Tensor toChannelsFirst(Tensor nhwc) {
        int n = nhwc.dim(0), h = nhwc.dim(1), w = nhwc.dim(2), c = nhwc.dim(3);
        float[] in = nhwc.toHeap().data();
        float[] out = FrameArena.zeros(in.length);
        for (int b = 0; b < n; b++) {
            for (int i = 0; i < h * w; i++) {
                for (int ch = 0; ch < c; ch++) {
                    out[(b * c + ch) * h * w + i] = in[(b * h * w + i) * c + ch];
                }
            }
        }
        return Tensor.of(out, n, c, h, w);
    }

    /** {@code [N, C, H, W] -> [N, H, W, C]} ({@code permute(0, 2, 3, 1)}). */
    public static Tensor toChannelsLast(Tensor nchw) {
        int n = nchw.dim(0), c = nchw.dim(1), h = nchw.dim(2), w = nchw.dim(3);
        float[] in = nchw.toHeap().data();
        float[] out = FrameArena.zeros(in.length);
        for (int b = 0; b < n; b++) {
            for (int i = 0; i < h * w; i++) {
                for (int ch = 0; ch < c; ch++) {
                    out[(b * h * w + i) * c + ch] = in[(b * c + ch) * h * w + i];
                }
            }
        }
        return Tensor.of(out, n, h, w, c);
    }
}
