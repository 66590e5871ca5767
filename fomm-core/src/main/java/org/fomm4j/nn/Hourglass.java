package org.fomm4j.nn;

import java.util.ArrayList;
import java.util.List;
import org.fomm4j.kernels.Kernels;
import org.fomm4j.tensor.Tensor;
import org.fomm4j.weights.WeightReader;

/**
 * {@code Hourglass} of FOMM's {@code modules/util.py}: an encoder of {@code numBlocks} down blocks and
 * a decoder of up blocks whose outputs are concatenated with the encoder's skip outputs.
 * Input {@code [N, inFeatures, H, W]} with {@code H, W} divisible by {@code 2^numBlocks}; output
 * {@code [N, outFilters(), H, W]} with {@code outFilters = blockExpansion + inFeatures}.
 * Tensors {@code encoder.down_blocks.i.*}, {@code decoder.up_blocks.i.*}.
 */
public final class Hourglass {
    private final List<DownBlock2d> down = new ArrayList<>();
    private final List<UpBlock2d> up = new ArrayList<>();
    private final int outFilters;
    private final int numBlocks;

    private final int[] decoderChannels;

    public Hourglass(Kernels k, WeightReader r, int blockExpansion, int inFeatures, int numBlocks, int maxFeatures) {
        this(k, r, blockExpansion, inFeatures, numBlocks, maxFeatures, Norm.BATCH);
    }

    public Hourglass(Kernels k, WeightReader r, int blockExpansion, int inFeatures, int numBlocks, int maxFeatures, Norm norm) {
        this.numBlocks = numBlocks;
        WeightReader enc = r.sub("encoder").sub("down_blocks");
        for (int i = 0; i < numBlocks; i++) {
            int in = i == 0 ? inFeatures : Math.min(maxFeatures, blockExpansion << i);
            int out = Math.min(maxFeatures, blockExpansion << (i + 1));
            down.add(new DownBlock2d(k, enc.sub(Integer.toString(i)), in, out, norm));
        }
        WeightReader dec = r.sub("decoder").sub("up_blocks");
        int idx = 0;
        this.decoderChannels = new int[numBlocks + 1];
        for (int i = numBlocks - 1; i >= 0; i--) {
            int in = (i == numBlocks - 1 ? 1 : 2) * Math.min(maxFeatures, blockExpansion << (i + 1));
            int out = Math.min(maxFeatures, blockExpansion << i);
            decoderChannels[idx] = in;
            up.add(new UpBlock2d(k, dec.sub(Integer.toString(idx++)), in, out, norm));
        }
        this.outFilters = blockExpansion + inFeatures;
        decoderChannels[numBlocks] = outFilters;
    }

    public int outFilters() {
        return outFilters;
    }

    /**
     * Channels of the decoder outputs as TPSMM's {@code Hourglass.out_channels} lists them: entry
     * {@code j < numBlocks} is the input width of up block {@code j} (= the output of step
     * {@code j - 1}), the last entry is {@link #outFilters()}.
     */
    public int[] decoderChannels() {
        return decoderChannels.clone();
    }

    /** @throws IllegalArgumentException if {@code H} or {@code W} is not divisible by {@code 2^numBlocks} */
    public Tensor forward(Tensor x) {
        List<Tensor> all = forwardAll(x);
        return all.get(all.size() - 1);
    }

    /**
     * Every decoder output (TPSMM's {@code mode=1}): element {@code j} is the concatenation after up
     * block {@code j}, at {@code 2^(j+1-numBlocks)} of the input resolution; the last is {@link #forward}.
     */
    public List<Tensor> forwardAll(Tensor x) {
        int f = 1 << numBlocks;
        if (x.dim(2) % f != 0 || x.dim(3) % f != 0) {
            throw new IllegalArgumentException("hourglass with " + numBlocks + " blocks needs a size divisible by " + f
                    + ", got " + x.dim(2) + "x" + x.dim(3));
        }
        List<Tensor> outs = new ArrayList<>();
        outs.add(x);
        for (DownBlock2d d : down) {
            outs.add(d.forward(outs.get(outs.size() - 1)));
        }
        Tensor out = outs.remove(outs.size() - 1);
        List<Tensor> results = new ArrayList<>();
        for (UpBlock2d u : up) {
            out = u.forward(out);
            Tensor skip = outs.remove(outs.size() - 1);
            out = Tensor.concat(1, out, skip);
            results.add(out);
        }
        return results;
    }
}
