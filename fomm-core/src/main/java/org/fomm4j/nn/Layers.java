package org.fomm4j.nn;

import org.fomm4j.kernels.Conv2d;
import org.fomm4j.kernels.ConvSpec;
import org.fomm4j.kernels.Kernels;
import org.fomm4j.weights.WeightReader;

/** Reads convolutions from a state dict, folding a following BatchNorm in at load time. */
public final class Layers {
    private Layers() {
    }

    /** {@code nn.Conv2d} with bias: tensors {@code weight [O, I/g, kh, kw]} and {@code bias [O]}. */
    public static Conv2d conv(Kernels k, WeightReader r, ConvSpec spec) {
        float[] w = r.take("weight", spec.outChannels(), spec.inChannels() / spec.groups(), spec.kernelH(), spec.kernelW());
        float[] b = r.take("bias", spec.outChannels());
        return k.conv2d(spec, w, b);
    }

    /**
     * Several convolutions over the same input fused into one whose output channels are theirs
     * concatenated in order (e.g. FOMM's {@code mask} and {@code occlusion} heads): the input is read
     * once. Each reader holds one {@code nn.Conv2d}; {@code outs[i]} is its output channel count.
     */
    public static Conv2d convConcat(Kernels k, int in, int kernel, int pad, WeightReader[] readers, int[] outs) {
        int total = 0;
        for (int o : outs) {
            total += o;
        }
        ConvSpec spec = ConvSpec.of(in, total, kernel, pad);
        // Every part is read (and its size checked) before the concatenation is allocated.
        float[][] ws = new float[readers.length][], bs = new float[readers.length][];
        for (int i = 0; i < readers.length; i++) {
            ws[i] = readers[i].take("weight", outs[i], in, kernel, kernel);
            bs[i] = readers[i].take("bias", outs[i]);
        }
        float[] w = new float[spec.weightCount()];
        float[] b = new float[total];
        int at = 0;
        for (int i = 0; i < readers.length; i++) {
            System.arraycopy(ws[i], 0, w, at * in * kernel * kernel, ws[i].length);
            System.arraycopy(bs[i], 0, b, at, bs[i].length);
            at += outs[i];
        }
        return k.conv2d(spec, w, b);
    }

    /** {@code conv} followed by {@code norm} (a {@code BatchNorm2d}, eval mode), folded into one convolution. */
    public static Conv2d convBn(Kernels k, WeightReader conv, WeightReader norm, ConvSpec spec) {
        return convBn(k, conv, norm, spec, true);
    }

    /**
     * As {@link #convBn(Kernels, WeightReader, WeightReader, ConvSpec)}; with {@code hasBias=false} the
     * convolution has only a {@code weight} (torchvision's ResNet), and the bias comes from the fold.
     */
    public static Conv2d convBn(Kernels k, WeightReader conv, WeightReader norm, ConvSpec spec, boolean hasBias) {
        int o = spec.outChannels();
        float[] w = conv.take("weight", o, spec.inChannels() / spec.groups(), spec.kernelH(), spec.kernelW());
        float[] b = hasBias ? conv.take("bias", o) : null;
        return k.conv2d(spec, w, BatchNorm.fold(w, b, BatchNorm.readStats(norm, o)));
    }
}
