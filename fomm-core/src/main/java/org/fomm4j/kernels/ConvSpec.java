package org.fomm4j.kernels;

/**
 * Geometry of a 2-D convolution as {@code torch.nn.Conv2d} defines it (no dilation): weight layout
 * OIHW = {@code [outChannels, inChannels / groups, kernelH, kernelW]}, zero padding, integer stride.
 */
public record ConvSpec(int inChannels, int outChannels, int kernelH, int kernelW,
                       int stride, int padH, int padW, int groups) {
    /** @throws IllegalArgumentException if a size is non-positive or channels are not divisible by groups */
    public ConvSpec {
        if (inChannels <= 0 || outChannels <= 0 || kernelH <= 0 || kernelW <= 0 || stride <= 0 || groups <= 0
                || padH < 0 || padW < 0) {
            throw new IllegalArgumentException("invalid convolution " + this);
        }
        if (inChannels % groups != 0 || outChannels % groups != 0) {
            throw new IllegalArgumentException("channels " + inChannels + "->" + outChannels
                    + " not divisible by groups " + groups);
        }
    }

    /** A square kernel, stride 1, one group. */
    public static ConvSpec of(int in, int out, int kernel, int pad) {
        return new ConvSpec(in, out, kernel, kernel, 1, pad, pad, 1);
    }

    public int outH(int h) {
        int o = (h + 2 * padH - kernelH) / stride + 1;
        if (h + 2 * padH < kernelH) {
            throw new IllegalArgumentException("input height " + h + " too small for kernel " + kernelH + " with padding " + padH);
        }
        return o;
    }

    public int outW(int w) {
        if (w + 2 * padW < kernelW) {
            throw new IllegalArgumentException("input width " + w + " too small for kernel " + kernelW + " with padding " + padW);
        }
        return (w + 2 * padW - kernelW) / stride + 1;
    }

    /** Number of weights: {@code out * in/groups * kh * kw}. */
    public int weightCount() {
        return outChannels * (inChannels / groups) * kernelH * kernelW;
    }

    /** Multiply-adds times two for an input of {@code h x w}, one batch item. */
    public long flops(int h, int w) {
        return 2L * outChannels * (inChannels / groups) * kernelH * kernelW * outH(h) * outW(w);
    }
}
