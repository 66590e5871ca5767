package org.fomm4j.networks.tpsmm;

import org.fomm4j.tensor.FrameArena;
import java.util.ArrayList;
import java.util.List;
import org.fomm4j.config.TpsmmConfig;
import org.fomm4j.kernels.Activation;
import org.fomm4j.kernels.Conv2d;
import org.fomm4j.kernels.ConvSpec;
import org.fomm4j.kernels.Kernels;
import org.fomm4j.nn.DownBlock2d;
import org.fomm4j.nn.Layers;
import org.fomm4j.nn.Warps;
import org.fomm4j.nn.Norm;
import org.fomm4j.nn.ResBlock2d;
import org.fomm4j.nn.SameBlock2d;
import org.fomm4j.nn.UpBlock2d;
import org.fomm4j.tensor.Tensor;
import org.fomm4j.weights.WeightReader;

/**
 * TPSMM inpainting network ({@code modules/inpainting_network.py}): encodes the source
 * ({@code first} and 3 down blocks, InstanceNorm), then decodes from the deepest map warped by the
 * deformation and masked by the coarsest occlusion map; at every scale two ResBlocks and an up
 * block, concatenated with the encoder map of that scale, warped and occluded by that scale's mask;
 * finally {@code out * (1 - occ) + enc}, {@code final} 7x7 conv, sigmoid, and the blend
 * {@code out * (1 - occ) + warped_source * occ}. Warping resizes the deformation bilinearly and samples
 * with {@code align_corners=True}. Tensors under {@code inpainting_network.}.
 */
public final class InpaintingNetwork {
    /** Source-side values reused for every driving frame: the source and its encoder maps (fine to coarse). */
    public record SourceFeatures(Tensor source, List<Tensor> encoderMaps) {
    }

    /** @param deformed the source warped by the deformation {@code [N, C, H, W]} */
    public record Output(Tensor prediction, Tensor deformed) {
    }

    private final Kernels k;
    private final SameBlock2d first;
    private final List<DownBlock2d> downBlocks = new ArrayList<>();
    private final List<UpBlock2d> upBlocks = new ArrayList<>();
    private final List<ResBlock2d> resBlocks = new ArrayList<>();
    private final Conv2d last;
    private final int numDownBlocks;
    private final boolean multiMask;

    public InpaintingNetwork(Kernels k, WeightReader r, TpsmmConfig c) {
        this.k = k;
        TpsmmConfig.Generator g = c.generator();
        int be = g.blockExpansion(), mf = g.maxFeatures();
        this.numDownBlocks = g.numDownBlocks();
        this.multiMask = c.multiMask();
        this.first = new SameBlock2d(k, r.sub("first"), c.numChannels(), be, 7, 3, Norm.INSTANCE);
        for (int i = 0; i < numDownBlocks; i++) {
            downBlocks.add(new DownBlock2d(k, r.sub("down_blocks").sub(Integer.toString(i)), Math.min(mf, be << i),
                    Math.min(mf, be << (i + 1)), Norm.INSTANCE));
        }
        // As the reference builds them: for encoder level i (in_features -> out_features), a decoder up block
        // out_features (twice that, with the concatenated skip, except at the deepest level) -> in_features and two
        // ResBlocks of its input width; stored deepest first (the reference reverses both lists).
        for (int j = 0; j < numDownBlocks; j++) {
            int i = numDownBlocks - 1 - j;
            int inFeatures = Math.min(mf, be << i), outFeatures = Math.min(mf, be << (i + 1));
            int decoderIn = i == numDownBlocks - 1 ? outFeatures : 2 * outFeatures;
            upBlocks.add(new UpBlock2d(k, r.sub("up_blocks").sub(Integer.toString(j)), decoderIn, inFeatures, Norm.INSTANCE));
            resBlocks.add(new ResBlock2d(k, r.sub("resblock").sub(Integer.toString(2 * j)), decoderIn, 3, 1, Norm.INSTANCE));
            resBlocks.add(new ResBlock2d(k, r.sub("resblock").sub(Integer.toString(2 * j + 1)), decoderIn, 3, 1, Norm.INSTANCE));
        }
        this.last = Layers.conv(k, r.sub("final"), ConvSpec.of(be, c.numChannels(), 7, 3));
    }

    /** @param source {@code [N, C, H, W]} in {@code [0, 1]} */
    public SourceFeatures encodeSource(Tensor source) {
        List<Tensor> maps = new ArrayList<>();
        Tensor out = first.forward(source);
        maps.add(out);
        for (DownBlock2d d : downBlocks) {
            out = d.forward(out);
            maps.add(out);
        }
        return new SourceFeatures(source, maps);
    }

    public Output generate(SourceFeatures src, TpsmmDenseMotionNetwork.Output dm) {
        List<Tensor> maps = src.encoderMaps();
        List<Tensor> occ = dm.occlusionMaps();
        Tensor deformation = dm.deformation();
        Tensor out = occlude(deform(maps.get(maps.size() - 1), deformation), occ.get(0));
        Tensor enc = null;
        for (int i = 0; i < numDownBlocks; i++) {
            out = resBlocks.get(2 * i).forward(out);
            out = resBlocks.get(2 * i + 1).forward(out);
            out = upBlocks.get(i).forward(out);
            enc = deform(maps.get(maps.size() - (i + 2)), deformation);
            enc = occlude(enc, occ.get(multiMask ? i + 1 : 0));
            if (i == numDownBlocks - 1) {
                break;
            }
            out = Tensor.concat(1, out, enc);
        }
        Tensor deformed = deform(src.source(), deformation);
        Tensor occLast = fit(occ.get(occ.size() - 1), out);
        out = blend(out, occLast, enc, false);
        out = last.apply(out, Activation.SIGMOID);
        out = blend(out, occLast, deformed, true);
        return new Output(out, deformed);
    }

    /**
     * {@code a * (1 - occ) + b} or, with {@code weighted}, {@code a * (1 - occ) + b * occ}, the
     * one-channel {@code occ} broadcast over channels.
     */
    private static Tensor blend(Tensor a, Tensor occ, Tensor b, boolean weighted) {
        int n = a.dim(0), c = a.dim(1), hw = a.dim(2) * a.dim(3);
        b.requireShape("blend operand", a.shape());
        float[] x = a.data(), o = occ.data(), y = b.data();
        float[] r = FrameArena.zeros(x.length);
        for (int bb = 0; bb < n; bb++) {
            for (int ch = 0; ch < c; ch++) {
                int base = (bb * c + ch) * hw;
                for (int i = 0; i < hw; i++) {
                    float m = o[bb * hw + i];
                    r[base + i] = x[base + i] * (1f - m) + (weighted ? y[base + i] * m : y[base + i]);
                }
            }
        }
        return Tensor.of(r, a.shape());
    }

    private Tensor fit(Tensor occ, Tensor like) {
        if (occ.dim(2) != like.dim(2) || occ.dim(3) != like.dim(3)) {
            return k.resizeBilinear(occ, like.dim(2), like.dim(3), true);
        }
        return occ;
    }

    private Tensor occlude(Tensor x, Tensor occ) {
        return k.multiplyByMap(x, multiMask ? occ : fit(occ, x));
    }

    private Tensor deform(Tensor input, Tensor deformation) {
        return Warps.deform(k, input, deformation, true);
    }
}
