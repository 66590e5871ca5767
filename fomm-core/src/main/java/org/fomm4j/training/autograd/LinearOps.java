package org.fomm4j.training.autograd;

/** {@code nn.Linear}: {@code y = x W^T + b} with its backward pass (ResNet-18's {@code fc}). */
public final class LinearOps {
    private LinearOps() {
    }

    /**
     * @param x {@code [N, in]}
     * @param w {@code [out, in]}
     * @param b {@code [out]} or {@code null}
     * @return {@code [N, out]}
     * @throws IllegalArgumentException if the shapes do not match
     */
    public static Var linear(Tape t, Var x, Var w, Var b) {
        if (x.rank() != 2 || w.rank() != 2 || x.dim(1) != w.dim(1)) {
            throw new IllegalArgumentException("linear: input " + x + " and weight " + w + " do not match");
        }
        int n = x.dim(0), in = x.dim(1), out = w.dim(0);
        if (b != null) {
            b.requireShape("linear bias", out);
        }
        float[] xv = x.value(), wv = w.value(), y = new float[n * out];
        for (int s = 0; s < n; s++) {
            for (int o = 0; o < out; o++) {
                float acc = 0;
                for (int i = 0; i < in; i++) {
                    acc += xv[s * in + i] * wv[o * in + i];
                }
                y[s * out + o] = acc + (b == null ? 0f : b.value()[o]);
            }
        }
        Var r = t.output(y, new int[] {n, out}, x, w, b);
        t.record(r, () -> {
            float[] dy = r.grad();
            if (b != null && b.requiresGrad()) {
                float[] db = b.grad();
                for (int s = 0; s < n; s++) {
                    for (int o = 0; o < out; o++) {
                        db[o] += dy[s * out + o];
                    }
                }
            }
            if (w.requiresGrad()) {
                float[] dw = w.grad();
                for (int o = 0; o < out; o++) {
                    for (int s = 0; s < n; s++) {
                        float g = dy[s * out + o];
                        for (int i = 0; i < in; i++) {
                            dw[o * in + i] += g * xv[s * in + i];
                        }
                    }
                }
            }
            if (x.requiresGrad()) {
                float[] dx = x.grad();
                for (int s = 0; s < n; s++) {
                    for (int o = 0; o < out; o++) {
                        float g = dy[s * out + o];
                        for (int i = 0; i < in; i++) {
                            dx[s * in + i] += g * wv[o * in + i];
                        }
                    }
                }
            }
        });
        return r;
    }
}
