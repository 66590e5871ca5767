package org.fomm4j.training;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.fomm4j.config.FommConfig;
import org.fomm4j.networks.fomm.FommModel;
import org.fomm4j.tensor.Tensor;
import org.fomm4j.training.autograd.ResampleOps;
import org.fomm4j.weights.StateDict;

/**
 * The initial weights of a FOMM before training, as the reference gets them from PyTorch's defaults:
 * convolutions {@code U(-1/sqrt(fan_in), 1/sqrt(fan_in))} for weight and bias ({@code kaiming_uniform_(a=sqrt(5))}),
 * BatchNorm {@code gamma = 1, beta = 0}, running mean 0 and variance 1; the jacobian head zero weights and
 * identity bias ({@code KPDetector.__init__}); the anti-aliasing buffers their Gaussian.
 */
public final class FommInit {
    private FommInit() {
    }

    /** Every tensor of the model the config builds, initialized from {@code seed}. */
    public static StateDict random(FommConfig config, long seed) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        Map<String, int[]> shapes = FommModel.expectedTensors(config);
        for (var e : shapes.entrySet()) {
            String name = e.getKey();
            int[] shape = e.getValue();
            int n = 1;
            for (int d : shape) {
                n *= d;
            }
            float[] v = new float[n];
            String leaf = name.substring(name.lastIndexOf('.') + 1);
            boolean norm = name.matches(".*\\.norm\\d?\\.[a-z_]+$");
            if (name.endsWith("down.weight")) {
                v = antiAliasKernel(name, shape, config);
            } else if (leaf.equals("running_var") || norm && leaf.equals("weight")) {
                java.util.Arrays.fill(v, 1f);
            } else if (norm || leaf.equals("running_mean") || leaf.equals("num_batches_tracked")) {
                // zeros
            } else if (name.equals("kp_detector.jacobian.weight")) {
                // zeros: every jacobian starts as the identity
            } else if (name.equals("kp_detector.jacobian.bias")) {
                for (int i = 0; i < n; i += 4) {
                    v[i] = 1f;
                    v[i + 3] = 1f;
                }
            } else {
                String weight = name.endsWith(".bias") ? name.substring(0, name.length() - 4) + "weight" : name;
                int[] ws = shapes.get(weight);
                int fanIn = 1;
                for (int i = 1; i < ws.length; i++) {
                    fanIn *= ws[i];
                }
                v = uniformFanIn(name, n, fanIn, seed);
            }
            out.put(name, Tensor.of(v, shape));
            if (name.endsWith(".running_var")) {
                // PyTorch's BatchNorm state also has the (unused here) batch counter; strict loading wants it.
                out.put(name.substring(0, name.length() - "running_var".length()) + "num_batches_tracked", Tensor.of(new float[1]));
            }
        }
        return StateDict.of(out);
    }

    /**
     * PyTorch's default initialization of a convolution's or linear layer's weight and bias
     * ({@code kaiming_uniform_(a=sqrt(5))}): {@code n} values {@code U(-1/sqrt(fanIn), 1/sqrt(fanIn))}, drawn from
     * {@code seed} and the tensor's name.
     */
    static float[] uniformFanIn(String name, int n, int fanIn, long seed) {
        double bound = 1 / Math.sqrt(fanIn);
        SplittableRandom r = random(name, seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) ((r.nextDouble() * 2 - 1) * bound);
        }
        return v;
    }

    /** The random stream of one tensor's initial values. */
    static SplittableRandom random(String name, long seed) {
        return new SplittableRandom(seed ^ name.hashCode() * 0x9E3779B97F4A7C15L);
    }

    /**
     * {@code trained} with its anti-aliasing buffers ({@code kp_detector.down.weight},
     * {@code generator.dense_motion_network.down.weight}) replaced by those {@code config} builds: added for a
     * {@code scale_factor} below 1, left out for 1. They are fixed Gaussians, not learned, so a trained model
     * can be fine-tuned at another input scale of its keypoint detector or dense motion network; every
     * learned tensor is kept as it is.
     */
    public static StateDict withAntiAliasOf(StateDict trained, FommConfig config) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (String name : trained.names()) {
            if (!name.endsWith("down.weight")) {
                out.put(name, trained.get(name));
            }
        }
        for (var e : FommModel.expectedTensors(config).entrySet()) {
            if (e.getKey().endsWith("down.weight")) {
                out.put(e.getKey(), Tensor.of(antiAliasKernel(e.getKey(), e.getValue(), config), e.getValue()));
            }
        }
        return StateDict.of(out);
    }

    /** The Gaussian of the network's {@code scale_factor}, once per channel: {@code [C, 1, k, k]} flattened. */
    private static float[] antiAliasKernel(String name, int[] shape, FommConfig config) {
        double scale = name.startsWith("kp_detector") ? config.kpDetector().scaleFactor()
                : config.generator().denseMotion().scaleFactor();
        float[] k = ResampleOps.gaussianKernel(scale);
        float[] v = new float[shape[0] * k.length];
        for (int c = 0; c < shape[0]; c++) {
            System.arraycopy(k, 0, v, c * k.length, k.length);
        }
        return v;
    }
}
