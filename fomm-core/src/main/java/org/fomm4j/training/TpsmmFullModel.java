package org.fomm4j.training;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.fomm4j.training.autograd.LossOps;
import org.fomm4j.training.autograd.Tape;
import org.fomm4j.training.autograd.TpsOps;
import org.fomm4j.training.autograd.Var;

/**
 * The loss of TPSMM's {@code GeneratorFullModel} ({@code modules/model.py}; paper section 3.5): keypoints of
 * source and driving frames, the background affine, dense motion with TPS dropout, the inpainting network,
 * then an image-pyramid reconstruction loss, the equivariance of keypoints under a random
 * {@link TpsEquivarianceTransform}, the warp loss (the driving frame's encoder features against the warped
 * source features, {@code InpaintingNetwork.get_encode}) and the background loss ({@code |I - B(s,d) B(d,s)|}).
 *
 * <p>Reconstruction: the mean absolute difference at each pyramid scale, weighted per scale, in place of the
 * reference's VGG-19 perceptual loss on the same pyramid (whose ImageNet weights we do not ship), as for
 * FOMM ({@link GeneratorFullModel}). The call order of the networks is the reference's, so BatchNorm
 * running statistics move in the same order.
 */
public final class TpsmmFullModel {
    private final TpsmmTrainingModel model;
    private final TrainParams params;
    private final TpsmmTrainParams tpsmm;
    private final PyramidReconstruction pyramid;

    public TpsmmFullModel(TpsmmTrainingModel model, TrainParams params, TpsmmTrainParams tpsmm) {
        this.model = model;
        this.params = params;
        this.tpsmm = tpsmm;
        this.pyramid = new PyramidReconstruction(params);
    }

    /**
     * Everything one step computes: {@code reconstruction[i]} unweighted per scale; the other losses weighted
     * (or {@code null} when off); {@code total} their sum. {@code bgParam} is {@code [N, 6]} or {@code null}.
     */
    public record Result(Var kpSource, Var kpDriving, Var bgParam, TpsmmTrainingModel.DenseMotion denseMotion,
                         TpsmmTrainingModel.Generated generated, Var[] reconstruction, Var reconstructionLoss,
                         Var transformedFrame, Var transformedKp, Var equivarianceValue, Var warpLoss, Var bgLoss, Var total) {
    }

    /**
     * The keep mask of TPS dropout for one batch: column 0 (the background) always kept, each other kept with
     * probability {@code 1 - p}; {@code null} when {@code p} is 0.
     */
    public static float[] dropoutMask(int batch, int numTps, double p, Random rng) {
        if (p <= 0) {
            return null;
        }
        float[] keep = new float[batch * (numTps + 1)];
        for (int s = 0; s < batch; s++) {
            keep[s * (numTps + 1)] = 1;
            for (int k = 1; k <= numTps; k++) {
                keep[s * (numTps + 1) + k] = rng.nextDouble() < 1 - p ? 1 : 0;
            }
        }
        return keep;
    }

    /**
     * @param source    {@code [N, 3, H, W]} in {@code [0, 1]}
     * @param driving   {@code [N, 3, H, W]}, a frame of the same video
     * @param epoch     the epoch (background predictor from {@code bg_start}; dropout before {@code dropout_epoch})
     * @param transform the equivariance warp ({@code null}: no equivariance loss)
     * @param keep      the TPS dropout keep mask {@code [N, K+1]} ({@link #dropoutMask}), or {@code null} for none
     */
    public Result forward(Tape t, Var source, Var driving, int epoch, TpsEquivarianceTransform transform, float[] keep) {
        Var kpS = model.kpDetector(t, source);
        Var kpD = model.kpDetector(t, driving);
        boolean bg = model.config().bg() && epoch >= tpsmm.bgStart();
        Var bgParam = bg ? model.bgPredictor(t, source, driving) : null;
        TpsmmTrainingModel.DenseMotion dm = model.denseMotion(t, source, kpD, kpS, bgParam,
                tpsmm.dropoutP(epoch) > 0 ? keep : null);
        TpsmmTrainingModel.Generated gen = model.inpainting(t, source, dm);

        PyramidReconstruction.Terms reconstruction = pyramid.apply(t, gen.prediction(), driving);
        Var[] rec = reconstruction.perScale();
        Var recLoss = reconstruction.loss();

        Var transformed = null, kpT = null, eqValue = null;
        if (transform != null && params.equivarianceValue() != 0) {
            transformed = transform.transformFrame(t, driving);
            kpT = model.kpDetector(t, transformed);
            Var warped = transform.warpCoordinates(t, kpT);
            eqValue = LossOps.weightedSum(t, new Var[] {LossOps.meanAbsDiff(t, kpD, warped)},
                    new float[] {(float) params.equivarianceValue()});
        }
        Var warp = null;
        if (tpsmm.warpLoss() != 0) {
            List<Var> encoded = model.encode(driving, dm.occlusion());
            List<Var> decoded = gen.warpedEncoderMaps();
            Var[] terms = new Var[encoded.size()];
            for (int i = 0; i < terms.length; i++) {
                terms[i] = LossOps.meanAbsDiff(t, encoded.get(i), decoded.get(decoded.size() - 1 - i));
            }
            float[] w = new float[terms.length];
            Arrays.fill(w, (float) tpsmm.warpLoss());
            warp = LossOps.weightedSum(t, terms, w);
        }
        Var bgLoss = null;
        if (bg && tpsmm.bg() != 0) {
            Var reverse = model.bgPredictor(t, driving, source);
            bgLoss = LossOps.weightedSum(t, new Var[] {TpsOps.backgroundConsistency(t, bgParam, reverse)},
                    new float[] {(float) tpsmm.bg()});
        }
        List<Var> terms = new ArrayList<>();
        for (Var v : new Var[] {eqValue, warp, bgLoss, recLoss}) {
            if (v != null) {
                terms.add(v);
            }
        }
        float[] ones = new float[terms.size()];
        Arrays.fill(ones, 1f);
        Var total = LossOps.weightedSum(t, terms.toArray(Var[]::new), ones);
        return new Result(kpS, kpD, bgParam, dm, gen, rec, recLoss, transformed, kpT, eqValue, warp, bgLoss, total);
    }
}
