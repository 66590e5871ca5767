package org.fomm4j.bench;

import java.util.Map;
import java.util.SplittableRandom;
import org.fomm4j.kernels.Activation;
import org.fomm4j.kernels.Conv2d;
import org.fomm4j.kernels.ConvAlgorithms;
import org.fomm4j.kernels.ConvSpec;
import org.fomm4j.tensor.Tensor;

/**
 * Times every convolution algorithm on every layer shape a step ran (best of several runs) and marks
 * the one the adaptive rule picks: the measurement the rule is set from ({@code -Dfomm4j.shapes=true}
 * with {@code -Dfomm4j.profile=true}).
 */
final class ConvShapes {
    private ConvShapes() {
    }

    static void compare(Map<String, Object[]> shapes, double peak) {
        System.out.println("  per shape, ms (best of 7) for each algorithm; * = the adaptive rule's choice:");
        for (var e : shapes.entrySet()) {
            ConvSpec spec = (ConvSpec) e.getValue()[0];
            int h = (int) e.getValue()[1], w = (int) e.getValue()[2];
            SplittableRandom r = new SplittableRandom(7);
            float[] wt = new float[spec.weightCount()];
            for (int i = 0; i < wt.length; i++) {
                wt[i] = (float) (r.nextDouble() - 0.5) * 0.1f;
            }
            Tensor x = Tensor.zeros(1, spec.inChannels(), h, w);
            for (int i = 0; i < x.size(); i++) {
                x.data()[i] = (float) r.nextDouble();
            }
            String chosen = ConvAlgorithms.chosen(spec, spec.outH(h), spec.outW(w));
            StringBuilder sb = new StringBuilder(String.format("  conv %s", e.getKey()));
            for (String a : ConvAlgorithms.names()) {
                if (!ConvAlgorithms.supports(a, spec)) {
                    sb.append(String.format("  %9s %8s", a, "-"));
                    continue;
                }
                Conv2d c = ConvAlgorithms.build(a, spec, wt, null);
                double best = Double.MAX_VALUE;
                for (int i = 0; i < 7; i++) {
                    long t0 = System.nanoTime();
                    c.apply(x, Activation.RELU);
                    best = Math.min(best, (System.nanoTime() - t0) / 1e6);
                }
                sb.append(String.format("  %9s%s%7.2f", a, a.equals(chosen) ? "*" : " ", best));
            }
            System.out.println(sb);
        }
    }
}
