package org.fomm4j.weights;

import org.fomm4j.config.ConfigException;

/**
 * Counts the parameters a model being built from a config declares and stops the build, before the
 * allocation, when they could not fit this JVM: a config (or the config inside a model file) can ask
 * for any size ({@code num_kp: 10000000}), and building it would fail with an out-of-memory error after
 * taking all the heap.
 *
 * <p>The estimate is {@value #BYTES_PER_PARAMETER} bytes per parameter: the float32 weights, the packed
 * copies the convolution kernels make, and Winograd's 6x6 transforms of 3x3 filters (4x their size).
 * The limit is 80% of {@link Runtime#maxMemory()}.
 */
public final class ParameterBudget {
    static final int BYTES_PER_PARAMETER = 24;
    private final String what;
    private final long limitParameters;
    private long total;

    /** @param what the model, for the message ("the FOMM model of this config") */
    public ParameterBudget(String what) {
        this(what, (long) (Runtime.getRuntime().maxMemory() * 0.8) / BYTES_PER_PARAMETER);
    }

    ParameterBudget(String what, long limitParameters) {
        this.what = what;
        this.limitParameters = limitParameters;
    }

    /**
     * Adds a tensor of {@code shape}.
     *
     * @throws ConfigException when the total goes over the limit (says how many parameters and how much memory)
     */
    public void add(String name, int[] shape) {
        long n = 1;
        for (int d : shape) {
            if (d < 0) {
                throw new ConfigException("config: " + what + " declares tensor " + name + " with a negative size");
            }
            n = d == 0 ? 0 : (n > Long.MAX_VALUE / d ? Long.MAX_VALUE : n * d);
        }
        total = total > Long.MAX_VALUE - n ? Long.MAX_VALUE : total + n;
        if (total > limitParameters) {
            throw new ConfigException(String.format(java.util.Locale.ROOT,
                    "config: %s has more than %,d parameters (tensor %s alone has %,d), about %.1f GB once packed for the"
                            + " kernels; this JVM may use %.1f GB (more memory: FOMM_JAVA_OPTS=-Xmx...) - is the config right?",
                    what, limitParameters, name, n, (double) total * BYTES_PER_PARAMETER / (1L << 30),
                    Runtime.getRuntime().maxMemory() / (double) (1L << 30)));
        }
    }

    /** A synthesizer that checks each tensor against the budget before {@code inner} allocates it. */
    public WeightReader.Synthesizer guard(WeightReader.Synthesizer inner) {
        return (name, shape) -> {
            add(name, shape);
            return inner.values(name, shape);
        };
    }
}
