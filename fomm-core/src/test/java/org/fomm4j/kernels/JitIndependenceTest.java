package org.fomm4j.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.fomm4j.tensor.Tensor;
import org.junit.jupiter.api.Test;

/**
 * A kernel gives the same bits before and after the JIT compiled it. Float {@code reduceLanes(ADD)} does
 * not (the interpreter sums the lanes in order, C2 in another order), and once made two training runs of
 * the same seed drift apart from their second step, depending on when C2 compiled the weight gradient.
 * The first call must run in the interpreter, so the check runs in a fresh JVM ({@link ColdAndWarm})
 * with {@code -Xbatch} (compilation finishes before the warm call).
 */
class JitIndependenceTest {

    @Test
    void kernelsGiveTheSameBitsColdAndCompiled() throws IOException, InterruptedException {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> cmd = new ArrayList<>(List.of(java, "--add-modules", "jdk.incubator.vector", "-Xbatch",
                "-cp", System.getProperty("java.class.path")));
        String bits = System.getProperty("fomm4j.vector.bits");
        if (bits != null) {
            cmd.add("-Dfomm4j.vector.bits=" + bits);
        }
        cmd.add(ColdAndWarm.class.getName());
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor(5, TimeUnit.MINUTES);
        assertEquals(0, p.exitValue(), out);
    }

    /** Runs each kernel once cold, then many times, then compares; exits 1 naming what differed. */
    public static final class ColdAndWarm {
        private static final int WARM_CALLS = 20_000;

        public static void main(String[] args) {
            Kernels k = KernelProvider.panama();
            Random r = new Random(7);
            // A weight-gradient run with a vector body and tail (wp = 23, 9 rows), 5 output channels (one
            // block of 4 and one single), 3x3 taps; and the small-plane outer-product sum.
            int n = 2, oCount = 5, kk = 3, wp = 23, rows = 9, len = rows * wp, xPlane = (rows + kk - 1) * wp + kk - 1;
            float[] x = random(r, n * xPlane), dy = random(r, n * oCount * len);
            float[] a = random(r, 40 * 7), b = random(r, 40 * 45);
            Tensor input = Tensor.zeros(1, 6, 13, 17);
            System.arraycopy(random(r, input.data().length), 0, input.data(), 0, input.data().length);
            ConvSpec spec = ConvSpec.of(6, 5, 3, 1);
            Conv2d conv = k.conv2d(spec, random(r, spec.weightCount()), random(r, 5));
            List<String> differ = new ArrayList<>();
            float[] cold = weightGradient(k, x, dy, n, oCount, kk, wp, len, xPlane);
            float[] coldGemm = gemm(k, a, b);
            float[] coldConv = conv.apply(input, Activation.NONE).data().clone();
            for (int i = 0; i < WARM_CALLS; i++) {
                weightGradient(k, x, dy, n, oCount, kk, wp, len, xPlane);
                gemm(k, a, b);
                if (i % 20 == 0) {
                    conv.apply(input, Activation.NONE);
                }
            }
            compare("convWeightGradient", cold, weightGradient(k, x, dy, n, oCount, kk, wp, len, xPlane), differ);
            compare("gemmTN", coldGemm, gemm(k, a, b), differ);
            compare("conv2d", coldConv, conv.apply(input, Activation.NONE).data(), differ);
            if (!differ.isEmpty()) {
                System.out.println("differ cold and compiled: " + differ);
                System.exit(1);
            }
            System.out.println("same bits cold and compiled");
        }

        private static float[] weightGradient(Kernels k, float[] x, float[] dy, int n, int oCount, int kk, int wp,
                                              int len, int xPlane) {
            float[] dw = new float[oCount * kk * kk];
            k.convWeightGradient(x, 0, xPlane, dy, 0, oCount * len, n, oCount, kk, wp, len, dw, 0, kk * kk);
            return dw;
        }

        private static float[] gemm(Kernels k, float[] a, float[] b) {
            float[] c = new float[7 * 45];
            k.gemmTN(a, 7, b, 45, 40, c, 0, 45);
            return c;
        }

        private static void compare(String what, float[] cold, float[] warm, List<String> differ) {
            for (int i = 0; i < cold.length; i++) {
                if (Float.floatToIntBits(cold[i]) != Float.floatToIntBits(warm[i])) {
                    differ.add(what + "[" + i + "] " + cold[i] + " vs " + warm[i]);
                    return;
                }
            }
        }

        private static float[] random(Random r, int n) {
            float[] a = new float[n];
            for (int i = 0; i < n; i++) {
                a[i] = r.nextFloat() * 2 - 1;
            }
            return a;
        }
    }
}
