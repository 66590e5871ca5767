package org.fomm4j.training;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.fomm4j.kernels.Parallel;
import org.fomm4j.tensor.FrameArena;
import org.fomm4j.training.autograd.BatchShards;
import org.fomm4j.training.autograd.ConvOps;
import org.fomm4j.training.autograd.Tape;
import org.fomm4j.training.autograd.Var;

/**
 * One training step's forward and backward passes split over shards of the batch, each on its own thread
 * with a view of the parameters that has its own gradients ({@link Parameters#withOwnGradients}); BatchNorm
 * statistics are reduced over the shards ({@link BatchShards}), so the step is the unsplit one up to float32
 * summation order. Each shard's loss is the mean over its samples, so the batch's loss is the mean of the
 * shards' and its gradient the mean of theirs, left in the parameters' gradients.
 *
 * <p>Per shard, the large buffers of the previous step are handed out again ({@link FrameArena}; none with
 * {@code -Dfomm4j.trainArena=false}): every activation, activation gradient and convolution scratch buffer of a
 * step dies with its tape, and a step asks for the same sizes in the same order as the one before, so after the
 * first step a step allocates (almost) none of its few GB (fresh arrays had to be zeroed by the JVM, and at about
 * 7 GB/s G1 ran a concurrent cycle more than once a second for the humongous ones; JFR of run 20).
 */
final class DataParallelStep {
    /** One shard's forward pass: its loss terms, the first being the total the backward pass starts from. */
    interface Shard {
        Var[] forward(Tape tape, int shard, int from, int count);
    }

    private final int shards;
    private final Parameters[] shardParameters;
    private final FrameArena[] arenas;
    private final ExecutorService threads;

    DataParallelStep(int shards, Parameters parameters) {
        this.shards = shards;
        this.shardParameters = new Parameters[shards];
        for (int i = 0; i < shards; i++) {
            shardParameters[i] = i == 0 ? parameters : parameters.withOwnGradients();
        }
        this.arenas = new FrameArena[shards];
        if (Boolean.parseBoolean(System.getProperty("fomm4j.trainArena", "true"))) {
            for (int i = 0; i < shards; i++) {
                arenas[i] = new FrameArena();
            }
        }
        this.threads = shards == 1 ? null : Executors.newFixedThreadPool(shards - 1, r -> {
            Thread t = new Thread(r, "fomm4j-training-shard");
            t.setDaemon(true);
            return t;
        });
    }

    int shards() {
        return shards;
    }

    /** The parameters shard {@code i} computes with (shard 0: the trained ones themselves). */
    Parameters parameters(int i) {
        return shardParameters[i];
    }

    /**
     * Runs {@code task} on every shard of a batch of {@code batch} (each zeroes its gradients, runs forward
     * and backward), then averages gradients into shard 0's parameters.
     *
     * @return the shards' mean of each loss term's value (a {@code null} term counts as 0)
     */
    double[] run(int batch, Shard task) {
        int per = batch / shards;
        BatchShards group = shards == 1 ? null : new BatchShards(shards);
        double[][] losses = new double[shards][];
        Throwable[] errors = new Throwable[shards];
        Runnable[] tasks = new Runnable[shards];
        for (int i = 0; i < shards; i++) {
            int shard = i;
            Runnable body = () -> {
                try (FrameArena.Frame frame = arenas[shard] == null ? null : arenas[shard].enter()) {
                    Tape tape = group == null ? new Tape() : new Tape(group, shard);
                    Var[] terms = task.forward(tape, shard, shard * per, per);
                    shardParameters[shard].zeroGrad();
                    tape.backward(terms[0]);
                    double[] l = new double[terms.length];
                    for (int j = 0; j < l.length; j++) {
                        l[j] = terms[j] == null ? 0 : terms[j].item();
                    }
                    losses[shard] = l;
                } catch (Throwable e) {
                    errors[shard] = e;
                    if (group != null) {
                        group.abort();
                    }
                }
            };
            tasks[i] = shards == 1 ? body : () -> Parallel.serially(body);
        }
        // Each layer's convolution is built once for all shards and passes of the step (the weights stand still
        // until the optimizer's step, after this).
        try (ConvOps.Scope convs = ConvOps.shareBuiltConvolutions()) {
            List<Future<?>> running = new ArrayList<>();
            for (int i = 1; i < shards; i++) {
                running.add(threads.submit(tasks[i]));
            }
            tasks[0].run();
            for (Future<?> f : running) {
                try {
                    f.get();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("training step interrupted", e);
                } catch (ExecutionException e) {
                    throw new IllegalStateException(e.getCause());
                }
            }
        }
        // The first real failure, not the aborts it caused in the other shards.
        Throwable first = Arrays.stream(errors).filter(e -> e != null && !(e instanceof BatchShards.Aborted)).findFirst()
                .orElse(Arrays.stream(errors).filter(java.util.Objects::nonNull).findFirst().orElse(null));
        if (first != null) {
            rethrow(first);
        }
        if (shards > 1) {
            float scale = 1f / shards;
            for (Map.Entry<String, Var> e : shardParameters[0].parameters().entrySet()) {
                float[] g = e.getValue().grad();
                for (int s = 1; s < shards; s++) {
                    Var other = shardParameters[s].parameter(e.getKey());
                    if (other.hasGrad()) {
                        float[] o = other.grad();
                        for (int j = 0; j < g.length; j++) {
                            g[j] += o[j];
                        }
                    }
                }
                for (int j = 0; j < g.length; j++) {
                    g[j] *= scale;
                }
            }
        }
        double[] mean = new double[losses[0].length];
        for (double[] l : losses) {
            for (int j = 0; j < mean.length; j++) {
                mean[j] += l[j] / shards;
            }
        }
        return mean;
    }

    /** Floats handed out again by the arenas, and freshly allocated by them, over all shards ({0, 0} without arenas). */
    long[] arenaStats() {
        long[] t = new long[2];
        for (FrameArena a : arenas) {
            if (a != null) {
                t[0] += a.stats()[0];
                t[1] += a.stats()[1];
            }
        }
        return t;
    }

    private static void rethrow(Throwable e) {
        if (e instanceof RuntimeException re) {
            throw re;
        }
        if (e instanceof Error err) {
            throw err;
        }
        throw new IllegalStateException(e);
    }
}
