package org.fomm4j.training;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.fomm4j.config.TpsmmConfig;
import org.fomm4j.networks.tpsmm.TpsmmModel;
import org.fomm4j.tensor.Tensor;
import org.fomm4j.training.autograd.ResampleOps;
import org.fomm4j.weights.StateDict;

/**
 * The initial weights of a TPSMM before training, as the reference gets them: torchvision's ResNet-18
 * convolutions {@code N(0, 2 / fan_out)} ({@code kaiming_normal_(mode='fan_out')}), BatchNorm {@code gamma = 1,
 * beta = 0}, running mean 0 and variance 1; every other convolution and linear layer PyTorch's default
 * {@code U(-1/sqrt(fan_in), 1/sqrt(fan_in))} for weight and bias; instance norms {@code gamma = 1, beta = 0};
 * the background predictor's {@code fc} zero weights and identity bias ({@code BGMotionPredictor.__init__});
 * the dense motion network's anti-aliasing buffer its Gaussian. The AVD network (trained separately in the
 * reference) is initialized too, so the file is a complete TPSMM.
 */
public final class TpsmmInit {
    private TpsmmInit() {
    }

    /** Every tensor of the model the config builds (with the background predictor when {@code bg}), from {@code seed}. */
    public static StateDict random(TpsmmConfig config, long seed) {
        Map<String, int[]> shapes = TpsmmModel.expectedTensors(config, config.bg());
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (var e : shapes.entrySet()) {
            String name = e.getKey();
            int[] shape = e.getValue();
            int n = 1;
            for (int d : shape) {
                n *= d;
            }
            float[] v = new float[n];
            String leaf = name.substring(name.lastIndexOf('.') + 1);
            if (name.endsWith("down.weight")) {
                float[] k = ResampleOps.gaussianKernel(config.denseMotion().scaleFactor());
                for (int c = 0; c < shape[0]; c++) {
                    System.arraycopy(k, 0, v, c * k.length, k.length);
                }
            } else if (leaf.equals("running_var")) {
                java.util.Arrays.fill(v, 1f);
            } else if (leaf.equals("running_mean") || leaf.equals("num_batches_tracked")) {
                // zeros
            } else if (name.equals("bg_predictor.bg_encoder.fc.weight")) {
                // zeros: the background starts as the identity
            } else if (name.equals("bg_predictor.bg_encoder.fc.bias")) {
                v[0] = 1f;
                v[4] = 1f;
            } else if (shape.length == 1 && leaf.equals("weight")) {
                java.util.Arrays.fill(v, 1f); // a normalization's scale
            } else if (shape.length == 1 && leaf.equals("bias") && isNormalization(name, shapes)) {
                // zeros
            } else if (shape.length == 4 && name.contains("_encoder.") && !name.contains(".fc.")) {
                double std = Math.sqrt(2.0 / (shape[0] * shape[2] * shape[3]));
                SplittableRandom r = FommInit.random(name, seed);
                for (int i = 0; i < n; i++) {
                    v[i] = (float) (nextGaussian(r) * std);
                }
            } else {
                String weight = leaf.equals("bias") ? name.substring(0, name.length() - 4) + "weight" : name;
                int[] ws = shapes.get(weight);
                int fanIn = 1;
                for (int i = 1; i < ws.length; i++) {
                    fanIn *= ws[i];
                }
                v = FommInit.uniformFanIn(name, n, fanIn, seed);
            }
            out.put(name, Tensor.of(v, shape));
        }
        return StateDict.of(out);
    }

    /** A bias whose weight is one value per channel: a BatchNorm's or an instance norm's shift. */
    private static boolean isNormalization(String bias, Map<String, int[]> shapes) {
        int[] w = shapes.get(bias.substring(0, bias.length() - 4) + "weight");
        return w != null && w.length == 1;
    }

    private static double nextGaussian(SplittableRandom r) {
        double u = r.nextDouble(), v = r.nextDouble();
        return Math.sqrt(-2 * Math.log(1 - u)) * Math.cos(2 * Math.PI * v);
    }
}
