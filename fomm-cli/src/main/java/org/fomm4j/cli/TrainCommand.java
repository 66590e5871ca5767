package org.fomm4j.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.fomm4j.io.training.TrainingJob;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code fomm train}: FOMM's or TPSMM's self-supervised training (see {@link TrainingJob}). */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = "Train a FOMM or a TPSMM (the papers' self-supervised method; TPSMM when the config's common_params has num_tps) on the procedural creatures or your own videos.")
final class TrainCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--config", required = true, description = "model and train_params in the official YAML layout (e.g. configs/creatures-64-separation.yaml)")
    Path config;

    @Option(names = "--data", defaultValue = "creatures",
            description = "'creatures' (procedural, 'creatures:N' for N identities) or a folder with train/ of .mp4/.gif/PNG-folder videos (default: ${DEFAULT-VALUE})")
    String data;

    @Option(names = "--output", required = true, description = "folder for checkpoint.fomm4j, model.fomm4j and log.csv")
    Path output;

    @Option(names = "--resume", description = "continue from OUTPUT/checkpoint.fomm4j (exactly where it stopped; the config's train_params may differ, to extend the schedule; refused if OUTPUT has no checkpoint)")
    boolean resume;

    @Option(names = "--init", description = "start from this weight file of the config's family (fine-tuning, e.g. a converted official checkpoint); the config's "
            + "scale_factor of the keypoint detector or dense motion network may differ from the file's")
    Path init;

    @Option(names = "--widen", description = "FOMM only, with --init: grow the init model's generator, keypoint detector and "
            + "dense motion network to the config's wider block_expansion/max_features, and the generator to its num_bottleneck_blocks, predicting exactly what it did; a larger num_kp (up to twice) splits trained keypoints into jittered copies, predicting almost what it did; then train (freeze_batch_norm: true advised)")
    boolean widen;

    @Option(names = "--avd", description = "TPSMM's second stage (reference run.py --mode train_avd): train the AVD network of the "
            + "--init model (for animate --mode avd) under the config's train_avd_params, every other network frozen")
    boolean avd;

    @Option(names = "--steps", defaultValue = "0", description = "stop after this many steps (default: the config's epochs)")
    long steps;

    @Option(names = "--minutes", defaultValue = "0", description = "stop after this many minutes")
    double minutes;

    @Option(names = "--batch", defaultValue = "0", description = "pairs per step (default: train_params.batch_size)")
    int batch;

    @Option(names = "--seed", defaultValue = "1", description = "seed of the initial weights and the data order (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--checkpoint-minutes", defaultValue = "5", description = "minutes between checkpoints (default: ${DEFAULT-VALUE})")
    double checkpointMinutes;

    @Override
    public Integer call() throws Exception {
        if (steps < 0 || minutes < 0 || batch < 0 || batch > 4096 || !(checkpointMinutes > 0)) {
            throw new IllegalArgumentException("--steps, --minutes and --batch must not be negative, --batch at most 4096, "
                    + "--checkpoint-minutes positive");
        }
        if (init != null && resume) {
            throw new IllegalArgumentException("--init and --resume exclude each other");
        }
        if (widen && init == null) {
            throw new IllegalArgumentException("--widen needs --init (the trained model to grow)");
        }
        PrintWriter out = spec.commandLine().getOut();
        long[] lastPrint = {0};
        TrainingJob.Result r = TrainingJob.run(new TrainingJob.Options(config, data, output, resume, init, widen, steps, minutes,
                batch, seed, checkpointMinutes, avd), s -> {
            long now = System.nanoTime();
            if (now - lastPrint[0] > 10e9 || s.step() <= 3) {
                lastPrint[0] = now;
                out.printf(Locale.ROOT, "step %d epoch %d  loss %.4f  %s  lr %.2g  %s%.1f samples/s%n",
                        s.step(), s.epoch(), s.total(), s.summary(), s.learningRate(), s.maxFrameGap() == org.fomm4j.training.TrainParams.UNLIMITED_GAP ? ""
                                : "gap <= " + s.maxFrameGap() + " frames  ", s.samplesPerSecond());
                out.flush();
            }
        });
        out.printf(Locale.ROOT, "trained %d steps in %.1f min (%.1f samples/s); wrote %s and %s%n", r.steps(), r.seconds() / 60,
                r.samplesPerSecond(), r.checkpoint(), r.model());
        if (r.interrupted()) {
            out.printf(Locale.ROOT, "interrupted at step %d: --resume continues from %s%n", r.last() == null ? 0 : r.last().step(),
                    r.checkpoint());
            out.flush();
            return 130;
        }
        return 0;
    }
}
