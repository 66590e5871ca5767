package org.fomm4j.training.autograd;

import java.util.ArrayList;
import java.util.List;

/**
 * Reverse-mode automatic differentiation, as a list of backward steps recorded while the forward pass
 * runs. Each operation of this package computes its output at once and, when an input needs a gradient,
 * records a step that reads the output's gradient and adds to its inputs' gradients. {@link #backward}
 * runs the steps newest first, which visits every node after all of its consumers.
 *
 * <p>One tape per training step; it holds every activation it recorded until it is dropped. Not
 * thread-safe: the operations themselves run in parallel, the recording does not.
 */
public final class Tape {
    private final List<Runnable> steps = new ArrayList<>();
    private final BatchShards shards;
    private final int shard;

    /** The tape of a whole batch. */
    public Tape() {
        this(null, 0);
    }

    /**
     * The tape of shard {@code shard} of a data-parallel step: operations that mix samples reduce over the
     * shards of {@code shards}.
     *
     * @throws IllegalArgumentException if {@code shard} is not one of the group's
     */
    public Tape(BatchShards shards, int shard) {
        if (shards != null && (shard < 0 || shard >= shards.count())) {
            throw new IllegalArgumentException("shard " + shard + " of " + shards.count());
        }
        this.shards = shards;
        this.shard = shard;
    }

    /** The shard group this tape's batch is part of, or {@code null} for a whole batch. */
    BatchShards shards() {
        return shards;
    }

    /** This tape's index in its {@link #shards()} (0 for a whole batch). */
    int shard() {
        return shard;
    }

    /**
     * An output of an operation: it requires a gradient when any input does.
     */
    public Var output(float[] value, int[] shape, Var... inputs) {
        boolean any = false;
        for (Var v : inputs) {
            any |= v != null && v.requiresGrad();
        }
        return new Var(value, any, true, shape);
    }

    /** Records the backward step of {@code out}; it runs only if {@code out} received a gradient. */
    public void record(Var out, Runnable step) {
        if (out.requiresGrad()) {
            steps.add(() -> {
                if (out.gradOrNull() != null) {
                    step.run();
                }
            });
        }
    }

    /** Number of recorded steps. */
    public int size() {
        return steps.size();
    }

    /**
     * Adds {@code d loss / d loss = 1} and runs every recorded step, newest first.
     *
     * @throws IllegalArgumentException if {@code loss} is not a one-element tensor that requires a gradient
     */
    public void backward(Var loss) {
        if (loss.size() != 1 || !loss.requiresGrad()) {
            throw new IllegalArgumentException("backward needs a scalar that depends on a parameter, got " + loss);
        }
        loss.grad()[0] += 1f;
        for (int i = steps.size() - 1; i >= 0; i--) {
            steps.get(i).run();
        }
        steps.clear();
    }
}
