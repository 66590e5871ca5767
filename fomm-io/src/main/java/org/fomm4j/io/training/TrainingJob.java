package org.fomm4j.io.training;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;
import org.fomm4j.config.ConfigException;
import org.fomm4j.config.FommConfig;
import org.fomm4j.config.YamlConfig;
import org.fomm4j.training.FommInit;
import org.fomm4j.training.ModelWidening;
import org.fomm4j.training.Parameters;
import org.fomm4j.training.TrainParams;
import org.fomm4j.training.Trainer;
import org.fomm4j.training.data.CreatureDataset;
import org.fomm4j.training.data.TrainingData;
import org.fomm4j.weights.StateDict;

/**
 * {@code fomm train}: trains a FOMM from a config in the official YAML layout on the procedural creatures
 * or on a folder of videos, writing into an output folder
 * <ul>
 *   <li>{@code checkpoint.fomm4j}: model, optimizer and step, every {@code checkpointMinutes} and at the end
 *       (atomically, so a kill leaves the previous one); {@code resume} continues from it with the same data order (the
 *       config's {@code train_params} may differ from the checkpoint's, to extend a run; the model may not; a
 *       folder without a checkpoint is a {@link ConfigException}, not a new run);</li>
 *   <li>{@code model.fomm4j}: the model alone, for {@code fomm animate --model};</li>
 *   <li>{@code log.csv}: step, epoch, losses, learning rate and samples per second of every step.</li>
 * </ul>
 * Fine-tuning starts from any FOMM weight file ({@code init}, e.g. a converted official checkpoint), at the
 * config's input scales ({@link FommInit#withAntiAliasOf}: a {@code scale_factor} may differ from the file's); with
 * {@code widen} the config's generator, keypoint detector and dense motion network may be wider than the
 * file's, its generator bottleneck deeper and its num_kp larger (trained keypoints split, {@link org.fomm4j.training.KeypointSplitting}), which is grown to them first
 * ({@link ModelWidening}: the same predictions, new channels to train).
 */
public final class TrainingJob {
    /** Settings; {@code steps} or {@code minutes} bound the run (0: the config's epochs). */
    public record Options(Path config, String data, Path output, boolean resume, Path init, boolean widen, long steps,
                          double minutes, int batch, long seed, double checkpointMinutes) {
    }

    /** How a run ended. */
    /** {@code interrupted}: stopped by SIGINT or SIGTERM (after writing the checkpoint). */
    public record Result(long steps, double seconds, double samplesPerSecond, Trainer.StepResult last, Path checkpoint,
                         Path model, boolean interrupted) {
    }

    private TrainingJob() {
    }

    /** The data a {@code --data} value names: {@code creatures} (procedural), or a folder of videos. */
    public static TrainingData data(String spec, FommConfig config) throws IOException {
        if (spec.equals("creatures") || spec.startsWith("creatures:")) {
            int identities = spec.contains(":") ? Integer.parseInt(spec.substring(spec.indexOf(':') + 1)) : 10_000;
            return new CreatureDataset(config.frameHeight(), config.frameWidth(), identities);
        }
        return VideoFolderData.open(Path.of(spec), "train", config.frameHeight(), config.frameWidth());
    }

    public static Result run(Options o, Consumer<Trainer.StepResult> progress) throws IOException {
        String yaml;
        try {
            yaml = Files.readString(o.config(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new ConfigException("cannot read config " + o.config() + ": " + e.getMessage(), e);
        }
        FommConfig config = FommConfig.fromTree(YamlConfig.parse(yaml));
        TrainParams params = TrainParams.fromTree(YamlConfig.parse(yaml));
        Path checkpoint = o.output().resolve("checkpoint.fomm4j"), modelFile = o.output().resolve("model.fomm4j");
        Path log = o.output().resolve("log.csv");
        if (o.resume() && !Files.isRegularFile(checkpoint)) {
            // A mistyped folder must not quietly become a new run from random weights: hours would go into the
            // wrong model before anyone noticed.
            throw new ConfigException("--resume: no checkpoint.fomm4j in " + o.output()
                    + " (give the folder a run wrote, or leave out --resume to start a new run)");
        }
        Files.createDirectories(o.output());

        StateDict initial;
        TrainingCheckpoint.Contents resumed = null;
        if (o.resume()) {
            resumed = TrainingCheckpoint.read(checkpoint);
            FommConfig trained = trainedConfig(resumed.metadata());
            // Like the reference's run.py --checkpoint: the schedule (train_params: epochs, milestones, rates)
            // may change between runs, so a finished run can be extended; the model may not.
            if (!config.equals(trained)) {
                throw new ConfigException("--resume: " + checkpoint + " was trained with another model_params or frame_shape than "
                        + o.config());
            }
            initial = resumed.model();
        } else if (o.init() != null) {
            var start = TrainingCheckpoint.read(o.init());
            initial = start.model();
            if (o.widen()) {
                FommConfig trained = trainedConfig(start.metadata());
                initial = trained == null ? ModelWidening.widen(initial, config, o.seed())
                        : ModelWidening.widen(initial, trained, config, o.seed());
            } else {
                initial = FommInit.withAntiAliasOf(initial, config);
            }
        } else {
            initial = FommInit.random(config, o.seed());
        }
        Parameters parameters = Parameters.of(initial);
        org.fomm4j.networks.fomm.FommModel.create(config, initial).close(); // names and shapes checked against the config
        TrainingData data = data(o.data(), config);
        int batch = o.batch() > 0 ? o.batch() : params.batchSize();
        long seed = resumed != null ? Long.parseLong(resumed.metadata().getOrDefault("training_seed", "0")) : o.seed();
        Trainer trainer = new Trainer(config, params, parameters, data, seed, batch);
        if (resumed != null) {
            trainer.restore(resumed.optimizer(), resumed.step());
        } else {
            Files.writeString(log, "step,epoch,loss_total,loss_reconstruction,loss_equivariance_value,"
                    + "loss_equivariance_jacobian,learning_rate,seconds,samples_per_second,loss_keypoint_separation\n", StandardCharsets.UTF_8);
        }
        long endStep = o.steps() > 0 ? trainer.step() + o.steps() : params.numEpochs() * trainer.stepsPerEpoch();
        long start = System.nanoTime();
        long deadline = o.minutes() > 0 ? start + (long) (o.minutes() * 60e9) : Long.MAX_VALUE;
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("config", yaml);
        meta.put("config_file", String.valueOf(o.config().getFileName()));
        meta.put("training_seed", Long.toString(seed));
        meta.put("training_data", o.data());
        meta.put("training_batch", Integer.toString(batch));
        // Ctrl-C or a plain kill (SIGINT, SIGTERM) ends the run after the current step with a checkpoint, as
        // the end of the schedule does; a second one ends the process at once.
        try (StopOnSignal stop = new StopOnSignal()) {
            return loop(o, trainer, endStep, deadline, stop.requested, meta, checkpoint, modelFile, log, start, batch, progress);
        }
    }

    /**
     * Catches SIGINT and SIGTERM while it is open (through {@code sun.misc.Signal}, as the JVM's own
     * shutdown would otherwise start at once and race the checkpoint): the first sets {@code requested},
     * a second exits with status 130. The previous handlers come back on close.
     */
    private static final class StopOnSignal implements AutoCloseable {
        final java.util.concurrent.atomic.AtomicBoolean requested = new java.util.concurrent.atomic.AtomicBoolean();
        private final Map<sun.misc.Signal, sun.misc.SignalHandler> previous = new LinkedHashMap<>();

        StopOnSignal() {
            for (String name : new String[] {"INT", "TERM"}) {
                try {
                    sun.misc.Signal signal = new sun.misc.Signal(name);
                    previous.put(signal, sun.misc.Signal.handle(signal, s -> {
                        if (!requested.compareAndSet(false, true)) {
                            System.exit(130);
                        }
                        System.err.println("fomm: stopping after this step and writing a checkpoint (again to quit at once)");
                    }));
                } catch (IllegalArgumentException | UnsupportedOperationException e) {
                    // a signal this platform or JVM does not let us catch: it ends the run as before
                }
            }
        }

        @Override
        public void close() {
            previous.forEach(sun.misc.Signal::handle);
        }
    }

    private static Result loop(Options o, Trainer trainer, long endStep, long deadline,
                               java.util.concurrent.atomic.AtomicBoolean interrupted, Map<String, String> meta,
                               Path checkpoint, Path modelFile, Path log, long start, int batch,
                               Consumer<Trainer.StepResult> progress) throws IOException {
        long lastCheckpoint = start;
        Trainer.StepResult last = null;
        long done = 0;
        StringBuilder pending = new StringBuilder();
        while (trainer.step() < endStep && System.nanoTime() < deadline && !interrupted.get()) {
            last = trainer.trainStep();
            done++;
            pending.append(String.format(Locale.ROOT, "%d,%d,%.6f,%.6f,%.6f,%.6f,%.3g,%.4f,%.2f,%.6f%n", last.step(), last.epoch(),
                    last.total(), last.reconstruction(), last.equivarianceValue(), last.equivarianceJacobian(),
                    last.learningRate(), last.seconds(), last.samplesPerSecond(), last.keypointSeparation()));
            if (progress != null) {
                progress.accept(last);
            }
            if (System.nanoTime() - lastCheckpoint > o.checkpointMinutes() * 60e9) {
                save(trainer, meta, checkpoint, modelFile, log, pending);
                lastCheckpoint = System.nanoTime();
            }
        }
        save(trainer, meta, checkpoint, modelFile, log, pending);
        double seconds = (System.nanoTime() - start) / 1e9;
        return new Result(done, seconds, done * batch / Math.max(seconds, 1e-9), last, checkpoint, modelFile,
                interrupted.get());
    }

    private static void save(Trainer trainer, Map<String, String> meta, Path checkpoint, Path modelFile, Path log,
                             StringBuilder pending) throws IOException {
        Map<String, String> m = new LinkedHashMap<>(meta);
        m.put("training_step", Long.toString(trainer.step()));
        m.put("training_epoch", Integer.toString(trainer.epoch()));
        StateDict model = trainer.parameters().toStateDict();
        // The log first: a checkpoint never claims steps the log does not have.
        Files.writeString(log, pending, StandardCharsets.UTF_8, StandardOpenOption.APPEND);
        pending.setLength(0);
        TrainingCheckpoint.write(modelFile, model, null, m);
        TrainingCheckpoint.write(checkpoint, model, trainer.optimizerState(), m);
    }

    static UncheckedIOException unchecked(IOException e) {
        return new UncheckedIOException(e);
    }

    /** The model config a weight file records in its metadata, or null if it has none or it does not parse. */
    private static FommConfig trainedConfig(Map<String, String> metadata) {
        String yaml = metadata.get("config");
        try {
            return yaml == null ? null : FommConfig.fromTree(YamlConfig.parse(yaml));
        } catch (RuntimeException e) {
            return null;
        }
    }
}
