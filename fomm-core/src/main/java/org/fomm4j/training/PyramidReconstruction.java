package org.fomm4j.training;

import org.fomm4j.training.autograd.LossOps;
import org.fomm4j.training.autograd.ResampleOps;
import org.fomm4j.training.autograd.Tape;
import org.fomm4j.training.autograd.Var;

/**
 * The reconstruction term both papers' {@code GeneratorFullModel} compute on an image pyramid
 * ({@code ImagePyramide}: anti-aliased downsampling to each of {@code train_params.scales}), here with the
 * mean absolute difference per scale in place of the VGG-19 perceptual loss (whose ImageNet weights we do
 * not ship), weighted by {@code loss_weights.reconstruction} ({@link TrainParams#reconstructionWeights()}).
 */
final class PyramidReconstruction {
    private final double[] scales;
    private final float[] weights;
    private final float[][] kernels;

    PyramidReconstruction(TrainParams params) {
        this.scales = params.scales();
        this.weights = new float[scales.length];
        this.kernels = new float[scales.length][];
        for (int i = 0; i < scales.length; i++) {
            weights[i] = (float) params.reconstructionWeights()[i];
            kernels[i] = scales[i] == 1 ? null : ResampleOps.gaussianKernel(scales[i]);
        }
    }

    /** {@code perScale[i]}: unweighted L1 at scale {@code i}; {@code loss}: their weighted sum. */
    record Terms(Var[] perScale, Var loss) {
    }

    /**
     * @param prediction {@code [N, 3, H, W]}
     * @param driving    {@code [N, 3, H, W]}, the frame it reconstructs
     */
    Terms apply(Tape t, Var prediction, Var driving) {
        Var[] rec = new Var[scales.length];
        for (int i = 0; i < scales.length; i++) {
            Var real = ResampleOps.antiAlias(t, driving, scales[i], kernels[i]);
            Var fake = ResampleOps.antiAlias(t, prediction, scales[i], kernels[i]);
            rec[i] = LossOps.meanAbsDiff(t, fake, real);
        }
        return new Terms(rec, LossOps.weightedSum(t, rec, weights));
    }
}
