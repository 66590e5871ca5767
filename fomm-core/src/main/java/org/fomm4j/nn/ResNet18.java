package org.fomm4j.nn;

import java.util.ArrayList;
import java.util.List;
import org.fomm4j.kernels.Activation;
import org.fomm4j.kernels.Conv2d;
import org.fomm4j.kernels.ConvSpec;
import org.fomm4j.kernels.Kernels;
import org.fomm4j.tensor.Tensor;
import org.fomm4j.weights.WeightReader;

/**
 * torchvision's {@code resnet18} in eval mode with a replaced {@code fc}: 7x7/2 conv, BatchNorm,
 * ReLU, 3x3/2 max-pool, four stages of two {@code BasicBlock}s (64, 128, 256, 512 channels; stages
 * 2-4 start with stride 2 and a 1x1/2 {@code downsample}), global average pooling, {@code fc}.
 * BatchNorm is folded into every convolution. Tensors {@code conv1, bn1, layerS.B.{conv1,bn1,conv2,bn2,
 * downsample.0,downsample.1}, fc}. {@code [N, inChannels, H, W] -> [N, outFeatures]}.
 */
public final class ResNet18 {
    private final Kernels k;
    private final Conv2d stem;
    private final List<Conv2d[]> blocks = new ArrayList<>();
    private final Linear fc;

    public ResNet18(Kernels k, WeightReader r, int inChannels, int outFeatures) {
        this.k = k;
        this.stem = foldedNoBias(k, r.sub("conv1"), r.sub("bn1"), new ConvSpec(inChannels, 64, 7, 7, 2, 3, 3, 1));
        int in = 64;
        int[] widths = {64, 128, 256, 512};
        for (int s = 0; s < 4; s++) {
            for (int b = 0; b < 2; b++) {
                WeightReader br = r.sub("layer" + (s + 1)).sub(Integer.toString(b));
                int stride = s > 0 && b == 0 ? 2 : 1;
                int out = widths[s];
                Conv2d c1 = foldedNoBias(k, br.sub("conv1"), br.sub("bn1"), new ConvSpec(in, out, 3, 3, stride, 1, 1, 1));
                Conv2d c2 = foldedNoBias(k, br.sub("conv2"), br.sub("bn2"), new ConvSpec(out, out, 3, 3, 1, 1, 1, 1));
                Conv2d ds = null;
                if (stride != 1 || in != out) {
                    ds = foldedNoBias(k, br.sub("downsample").sub("0"), br.sub("downsample").sub("1"),
                            new ConvSpec(in, out, 1, 1, stride, 0, 0, 1));
                }
                blocks.add(new Conv2d[] {c1, c2, ds});
                in = out;
            }
        }
        this.fc = Linear.read(r.sub("fc"), 512, outFeatures);
    }

    /** A bias-free conv ({@code weight} only) with its BatchNorm folded in. */
    private static Conv2d foldedNoBias(Kernels k, WeightReader conv, WeightReader norm, ConvSpec spec) {
        return Layers.convBn(k, conv, norm, spec, false);
    }

    public float[] forward(Tensor x) {
        Tensor h = k.maxPool2d(stem.apply(x, Activation.RELU), 3, 2, 1);
        for (Conv2d[] b : blocks) {
            Tensor y = b[0].apply(h, Activation.RELU);
            y = b[1].apply(y, Activation.NONE);
            Tensor identity = b[2] != null ? b[2].apply(h, Activation.NONE) : h;
            h = k.relu(k.add(y, identity));
        }
        int n = h.dim(0), c = h.dim(1), hw = h.dim(2) * h.dim(3);
        float[] d = h.data();
        float[] pooled = new float[n * c];
        for (int p = 0; p < n * c; p++) {
            double s = 0;
            for (int i = 0; i < hw; i++) {
                s += d[p * hw + i];
            }
            pooled[p] = (float) (s / hw);
        }
        return fc.forward(pooled, n);
    }
}
