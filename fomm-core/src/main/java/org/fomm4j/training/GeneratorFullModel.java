package org.fomm4j.training;

import org.fomm4j.training.autograd.LossOps;
import org.fomm4j.training.autograd.MotionOps;
import org.fomm4j.training.autograd.Tape;
import org.fomm4j.training.autograd.Var;

/**
 * The generator-side loss of FOMM's {@code GeneratorFullModel} (paper section 3.4): the keypoint
 * detector on source and driving frames, the generator, an image-pyramid reconstruction loss and the
 * equivariance losses of keypoints and jacobians under a random {@link EquivarianceTransform}.
 *
 * <p>Reconstruction: the mean absolute difference between the driving frame and the prediction at each
 * pyramid scale ({@code ImagePyramide}: anti-aliased downsampling), weighted per scale; it replaces the
 * reference's VGG-19 perceptual loss on the same pyramid, whose ImageNet weights we do not ship.
 * Equivariance value: {@code |kp_d - T(kp(T^-1 frame))|} (mean); equivariance jacobian:
 * {@code |I - J_d^-1 (dT/dz J(T^-1 frame))|} (mean), each times its weight. The GAN terms (weight 0 in the
 * official configs) are not computed. Our addition, when its weight is not 0: the keypoint separation prior
 * ({@link LossOps#keypointSeparation}), the mean of its value on the source and on the driving keypoints,
 * times its weight.
 */
public final class GeneratorFullModel {
    private final FommTrainingModel model;
    private final TrainParams params;
    private final PyramidReconstruction pyramid;

    public GeneratorFullModel(FommTrainingModel model, TrainParams params) {
        this.model = model;
        this.params = params;
        this.pyramid = new PyramidReconstruction(params);
    }

    /**
     * Everything one step computes. {@code reconstruction[i]} is the unweighted L1 at scale {@code i};
     * the other losses are weighted; {@code total} is their sum. Equivariance fields are {@code null}
     * when their weight is 0.
     */
    public record Result(FommTrainingModel.Keypoints kpSource, FommTrainingModel.Keypoints kpDriving,
                         FommTrainingModel.Generated generated, Var[] reconstruction, Var reconstructionLoss,
                         Var transformedFrame, FommTrainingModel.Keypoints transformedKp, Var transformJacobian,
                         Var equivarianceValue, Var equivarianceJacobian, Var keypointSeparation, Var total) {
    }

    /**
     * @param source    {@code [N, 3, H, W]} in {@code [0, 1]}
     * @param driving   {@code [N, 3, H, W]}, a frame of the same video
     * @param transform the equivariance warp ({@code null}: no equivariance losses)
     */
    public Result forward(Tape t, Var source, Var driving, EquivarianceTransform transform) {
        FommTrainingModel.Keypoints kpS = model.kpDetector(t, source);
        FommTrainingModel.Keypoints kpD = model.kpDetector(t, driving);
        FommTrainingModel.Generated gen = model.generator(t, source, kpD, kpS);

        PyramidReconstruction.Terms reconstruction = pyramid.apply(t, gen.prediction(), driving);
        Var[] rec = reconstruction.perScale();
        Var recLoss = reconstruction.loss();

        Var transformed = null, eqValue = null, eqJac = null, tJac = null;
        FommTrainingModel.Keypoints kpT = null;
        boolean wantValue = params.equivarianceValue() != 0, wantJac = params.equivarianceJacobian() != 0
                && kpD.jacobian() != null;
        if (transform != null && (wantValue || wantJac)) {
            transformed = transform.transformFrame(t, driving);
            kpT = model.kpDetector(t, transformed);
            if (wantValue) {
                Var warped = transform.warpCoordinates(t, kpT.value());
                eqValue = LossOps.weightedSum(t, new Var[] {LossOps.meanAbsDiff(t, kpD.value(), warped)},
                        new float[] {(float) params.equivarianceValue()});
            }
            if (wantJac) {
                tJac = transform.jacobian(t, kpT.value());
                Var jt = MotionOps.matmul2x2(t, tJac, kpT.jacobian());
                Var value = MotionOps.matmul2x2(t, MotionOps.inverse2x2(t, kpD.jacobian()), jt);
                eqJac = LossOps.weightedSum(t, new Var[] {LossOps.meanAbsFromIdentity(t, value)},
                        new float[] {(float) params.equivarianceJacobian()});
            }
        }
        Var separation = null;
        if (params.keypointSeparation() != 0) {
            float sigma = (float) params.keypointSeparationSigma(), half = (float) (params.keypointSeparation() / 2);
            separation = LossOps.weightedSum(t, new Var[] {LossOps.keypointSeparation(t, kpS.value(), sigma),
                    LossOps.keypointSeparation(t, kpD.value(), sigma)}, new float[] {half, half});
        }
        java.util.List<Var> terms = new java.util.ArrayList<>();
        terms.add(recLoss);
        if (eqValue != null) {
            terms.add(eqValue);
        }
        if (eqJac != null) {
            terms.add(eqJac);
        }
        if (separation != null) {
            terms.add(separation);
        }
        float[] ones = new float[terms.size()];
        java.util.Arrays.fill(ones, 1f);
        Var total = LossOps.weightedSum(t, terms.toArray(Var[]::new), ones);
        return new Result(kpS, kpD, gen, rec, recLoss, transformed, kpT, tJac, eqValue, eqJac, separation, total);
    }
}
