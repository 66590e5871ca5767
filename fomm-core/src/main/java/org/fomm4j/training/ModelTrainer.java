package org.fomm4j.training;

import java.util.Map;

/**
 * A training loop's model side, as {@code fomm train} drives it: FOMM's {@link Trainer} and TPSMM's
 * {@link TpsmmTrainer}. Steps are numbered from 0; an epoch is {@link #stepsPerEpoch()} steps.
 */
public interface ModelTrainer {
    /** Runs one training step. */
    StepLog nextStep();

    long step();

    /** The epoch the next step belongs to: {@code step() / stepsPerEpoch()}. */
    default int epoch() {
        return (int) (step() / stepsPerEpoch());
    }

    long stepsPerEpoch();

    /** The parameters and buffers being trained (saved as the model). */
    Parameters parameters();

    /** Optimizer state for a checkpoint. */
    Map<String, float[]> optimizerState();

    /** Restores {@link #optimizerState()} and the step count of a checkpoint. */
    void restore(Map<String, float[]> optimizer, long step);

    /** The header of {@code log.csv}; every {@link StepLog#csv()} is a row under it. */
    String logHeader();

    /**
     * One step as the log and the progress line show it: {@code summary} the loss terms in words,
     * {@code csv} the log row (no newline), {@code maxFrameGap} the largest source-driving gap of its pairs.
     */
    record StepLog(long step, int epoch, double total, String summary, String csv, double seconds, double learningRate,
                   int batch, int maxFrameGap) {
        public double samplesPerSecond() {
            return batch / seconds;
        }
    }
}
