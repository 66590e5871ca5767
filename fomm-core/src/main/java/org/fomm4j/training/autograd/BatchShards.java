package org.fomm4j.training.autograd;

/**
 * The shards of one data-parallel training step: the batch is split into {@link #count()} equal parts,
 * each run forward and backward on its own thread with its own {@link Tape}, and the operations that mix
 * samples (BatchNorm's batch statistics, forward and backward) sum their per-channel partial sums over all
 * shards with {@link #allReduce}. This is the reference's {@code SynchronizedBatchNorm2d} under
 * {@code DataParallelWithCallback}: the step computes what one unsplit batch computes, up to float32
 * summation order.
 *
 * <p>Every shard must run the same graph, so that the reductions meet in the same order. A shard that
 * fails {@link #abort}s the group: the others leave their next reduction with an exception instead of
 * waiting forever.
 */
public final class BatchShards {
    private final int count;
    private final Object lock = new Object();
    /** How long a shard spins before it sleeps in {@link #allReduce}: longer than a typical gap between the
     * shards' arrivals, short enough not to matter when there are more shards than cores. */
    private static final long SPIN_NANOS = 50_000;
    private int arrived;
    private volatile long generation;
    private volatile boolean failed;
    /** Two slot sets used alternately, so a fast shard writing reduction r+1 cannot overwrite reduction r
     * before a slow one has read it (it cannot reach r+2 before everyone has passed r+1's barrier). */
    private final double[][][] slots;
    private final int[] round;

    /**
     * @throws IllegalArgumentException if {@code count < 1}
     */
    public BatchShards(int count) {
        if (count < 1) {
            throw new IllegalArgumentException("shards: at least one, got " + count);
        }
        this.count = count;
        this.slots = new double[2][count][];
        this.round = new int[count];
    }

    /** Thrown in the shards that were released because another one failed. */
    public static final class Aborted extends IllegalStateException {
        Aborted() {
            super("another training shard failed");
        }
    }

    public int count() {
        return count;
    }

    /**
     * The element-wise sum of {@code local} over all shards, added in shard order (so every shard gets the
     * same bits). Blocks until every shard has contributed.
     *
     * @throws Aborted if another shard failed
     */
    public double[] allReduce(int shard, double[] local) {
        if (count == 1) {
            return local;
        }
        double[][] set = slots[round[shard]++ & 1];
        set[shard] = local;
        await();
        double[] sum = set[0].clone();
        for (int s = 1; s < count; s++) {
            double[] o = set[s];
            for (int i = 0; i < sum.length; i++) {
                sum[i] += o[i];
            }
        }
        return sum;
    }

    /**
     * Waits until all shards arrived; the lock's monitor (and the volatile {@code generation}) order the slot
     * writes before the reads. A step meets here about 150 times (three reductions per BatchNorm layer), and
     * the shards usually arrive microseconds apart, so a waiter first spins for up to {@link #SPIN_NANOS}
     * before it sleeps on the monitor: a wake-up through {@code notifyAll} costs tens of microseconds, and the
     * profile of a two-shard step showed 5.7% of its time in this wait.
     */
    private void await() {
        long gen;
        synchronized (lock) {
            if (failed) {
                throw new Aborted();
            }
            gen = generation;
            if (++arrived == count) {
                arrived = 0;
                generation = gen + 1;
                lock.notifyAll();
                return;
            }
        }
        long deadline = System.nanoTime() + SPIN_NANOS;
        while (generation == gen && !failed && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        synchronized (lock) {
            while (gen == generation && !failed) {
                try {
                    lock.wait();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    failed = true;
                    lock.notifyAll();
                    throw new IllegalStateException("training shard interrupted", e);
                }
            }
            if (gen == generation) {
                throw new Aborted();
            }
        }
    }

    /** Marks the group failed after a shard threw, releasing the shards that wait in {@link #allReduce} (and
     * any that reach one later). */
    public void abort() {
        synchronized (lock) {
            failed = true;
            lock.notifyAll();
        }
    }
}
