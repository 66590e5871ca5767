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
import org.fomm4j.config.TpsmmConfig;
import org.fomm4j.config.YamlConfig;
import org.fomm4j.training.AvdTrainParams;
import org.fomm4j.training.AvdTrainer;
import org.fomm4j.training.FommInit;
import org.fomm4j.training.ModelTrainer;
import org.fomm4j.training.ModelWidening;
import org.fomm4j.training.Parameters;
import org.fomm4j.training.TpsmmInit;
import org.fomm4j.training.TpsmmTrainParams;
import org.fomm4j.training.TpsmmTrainer;
import org.fomm4j.training.TrainParams;
import org.fomm4j.training.Trainer;
import org.fomm4j.training.data.CreatureDataset;
import org.fomm4j.training.data.TrainingData;
import org.fomm4j.weights.StateDict;

/**
 * {@code fomm train}: trains a FOMM ({@link Trainer}) or a TPSMM ({@link TpsmmTrainer}; a config whose
 * {@code common_params} has {@code num_tps}) from a config in the official YAML layout on the procedural creatures
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
 *
 * <p>With {@code avd} it runs TPSMM's second stage instead ({@link AvdTrainer}, the reference's
 * {@code run.py --mode train_avd}): the AVD network of a trained TPSMM ({@code init}) learns from its frozen
 * keypoint detector under {@code train_avd_params}; the checkpoint records the stage ({@code training_stage: avd}),
 * and {@code resume} must name the same stage.
 */
public final class TrainingJob {
    /** Settings; {@code steps} or {@code minutes} bound the run (0: the config's epochs). */
    public record Options(Path config, String data, Path output, boolean resume, Path init, boolean widen, long steps,
                          double minutes, int batch, long seed, double checkpointMinutes, boolean avd) {
        /** The first training stage (FOMM, or TPSMM's networks), not TPSMM's AVD stage. */
        public Options(Path config, String data, Path output, boolean resume, Path init, boolean widen, long steps,
                       double minutes, int batch, long seed, double checkpointMinutes) {
            this(config, data, output, resume, init, widen, steps, minutes, batch, seed, checkpointMinutes, false);
        }
    }

    /** How a run ended. */
    /** {@code interrupted}: stopped by SIGINT or SIGTERM (after writing the checkpoint). */
    public record Result(long steps, double seconds, double samplesPerSecond, ModelTrainer.StepLog last, Path checkpoint,
                         Path model, boolean interrupted) {
    }

    private TrainingJob() {
    }

    /** The data a {@code --data} value names: {@code creatures} (procedural), or a folder of videos. */
    public static TrainingData data(String spec, FommConfig config) throws IOException {
        return data(spec, config.frameHeight(), config.frameWidth());
    }

    /** The data a {@code --data} value names, at {@code height x width}. */
    public static TrainingData data(String spec, int height, int width) throws IOException {
        if (spec.equals("creatures") || spec.startsWith("creatures:")) {
            int identities = spec.contains(":") ? Integer.parseInt(spec.substring(spec.indexOf(':') + 1)) : 10_000;
            return new CreatureDataset(height, width, identities);
        }
        return VideoFolderData.open(Path.of(spec), "train", height, width);
    }

    /** Whether a config describes a TPSMM ({@code model_params.common_params.num_tps}) rather than a FOMM. */
    static boolean isTpsmm(com.fasterxml.jackson.databind.JsonNode root) {
        return root.path("model_params").path("common_params").has("num_tps");
    }

    public static Result run(Options o, Consumer<ModelTrainer.StepLog> progress) throws IOException {
        String yaml;
        try {
            yaml = Files.readString(o.config(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new ConfigException("cannot read config " + o.config() + ": " + e.getMessage(), e);
        }
        boolean tpsmm = isTpsmm(YamlConfig.parse(yaml));
        FommConfig config = tpsmm ? null : FommConfig.fromTree(YamlConfig.parse(yaml));
        TpsmmConfig tpsmmConfig = tpsmm ? TpsmmConfig.fromTree(YamlConfig.parse(yaml)) : null;
        if (o.avd() && !tpsmm) {
            throw new ConfigException("--avd trains the AVD network of a TPSMM; " + o.config() + " is a FOMM config");
        }
        if (o.avd() && !o.resume() && o.init() == null) {
            throw new ConfigException("--avd needs --init MODEL (a trained TPSMM, whose keypoint detector the AVD network learns "
                    + "from) or --resume");
        }
        if (o.avd() && o.widen()) {
            throw new ConfigException("--widen grows FOMM models only");
        }
        TrainParams params = o.avd() ? null : TrainParams.fromTree(YamlConfig.parse(yaml));
        AvdTrainParams avdParams = o.avd() ? AvdTrainParams.fromTree(YamlConfig.parse(yaml)) : null;
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
            // Like the reference's run.py --checkpoint: the schedule (train_params: epochs, milestones, rates)
            // may change between runs, so a finished run can be extended; the model may not.
            Object trained = tpsmm ? trainedTpsmmConfig(resumed.metadata()) : trainedConfig(resumed.metadata());
            if (!(tpsmm ? tpsmmConfig : config).equals(trained)) {
                throw new ConfigException("--resume: " + checkpoint + " was trained with another model_params or frame_shape than "
                        + o.config());
            }
            String stage = resumed.metadata().getOrDefault("training_stage", "networks");
            if (stage.equals("avd") != o.avd()) {
                throw new ConfigException("--resume: " + checkpoint + (o.avd() ? " is not an AVD training run (leave out --avd)"
                        : " is an AVD training run (add --avd)"));
            }
            initial = resumed.model();
        } else if (o.init() != null) {
            var start = TrainingCheckpoint.read(o.init());
            String family = start.metadata().getOrDefault("family", "fomm");
            if (!family.equals(tpsmm ? "tpsmm" : "fomm")) {
                throw new ConfigException("--init: " + o.init() + " holds a " + family.toUpperCase(Locale.ROOT) + " model but "
                        + o.config() + " is a " + (tpsmm ? "TPSMM" : "FOMM") + " config");
            }
            initial = start.model();
            if (tpsmm && o.widen()) {
                throw new ConfigException("--widen grows FOMM models only; " + o.config() + " is a TPSMM config");
            } else if (o.widen()) {
                FommConfig trained = trainedConfig(start.metadata());
                initial = trained == null ? ModelWidening.widen(initial, config, o.seed())
                        : ModelWidening.widen(initial, trained, config, o.seed());
            } else if (!tpsmm) {
                initial = FommInit.withAntiAliasOf(initial, config);
            }
        } else {
            initial = tpsmm ? TpsmmInit.random(tpsmmConfig, o.seed()) : FommInit.random(config, o.seed());
        }
        Parameters parameters = Parameters.of(initial);
        // Names and shapes checked against the config.
        if (tpsmm) {
            org.fomm4j.networks.tpsmm.TpsmmModel.create(tpsmmConfig, initial).close();
        } else {
            org.fomm4j.networks.fomm.FommModel.create(config, initial).close();
        }
        TrainingData data = tpsmm ? data(o.data(), tpsmmConfig.frameHeight(), tpsmmConfig.frameWidth()) : data(o.data(), config);
        int batch = o.batch() > 0 ? o.batch() : o.avd() ? avdParams.batchSize() : params.batchSize();
        long seed = resumed != null ? Long.parseLong(resumed.metadata().getOrDefault("training_seed", "0")) : o.seed();
        ModelTrainer trainer = o.avd() ? new AvdTrainer(tpsmmConfig, avdParams, parameters, data, seed, batch) : tpsmm
                ? new TpsmmTrainer(tpsmmConfig, params, TpsmmTrainParams.fromTree(YamlConfig.parse(yaml)), parameters, data, seed,
                        batch, Trainer.defaultShards(batch))
                : new Trainer(config, params, parameters, data, seed, batch);
        if (resumed != null) {
            trainer.restore(resumed.optimizer(), resumed.step());
        } else {
            Files.writeString(log, trainer.logHeader() + "\n", StandardCharsets.UTF_8);
        }
        long endStep = o.steps() > 0 ? trainer.step() + o.steps()
                : (o.avd() ? avdParams.numEpochs() : params.numEpochs()) * trainer.stepsPerEpoch();
        long start = System.nanoTime();
        long deadline = o.minutes() > 0 ? start + (long) (o.minutes() * 60e9) : Long.MAX_VALUE;
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("config", yaml);
        meta.put("config_file", String.valueOf(o.config().getFileName()));
        meta.put("training_seed", Long.toString(seed));
        meta.put("training_data", o.data());
        meta.put("training_batch", Integer.toString(batch));
        if (o.avd()) {
            meta.put("training_stage", "avd");
        }
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

    private static Result loop(Options o, ModelTrainer trainer, long endStep, long deadline,
                               java.util.concurrent.atomic.AtomicBoolean interrupted, Map<String, String> meta,
                               Path checkpoint, Path modelFile, Path log, long start, int batch,
                               Consumer<ModelTrainer.StepLog> progress) throws IOException {
        long lastCheckpoint = start;
        ModelTrainer.StepLog last = null;
        long done = 0;
        StringBuilder pending = new StringBuilder();
        while (trainer.step() < endStep && System.nanoTime() < deadline && !interrupted.get()) {
            last = trainer.nextStep();
            done++;
            pending.append(last.csv()).append('\n');
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

    private static void save(ModelTrainer trainer, Map<String, String> meta, Path checkpoint, Path modelFile, Path log,
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

    /** The TPSMM config a weight file records in its metadata, or null if it has none or it does not parse. */
    private static TpsmmConfig trainedTpsmmConfig(Map<String, String> metadata) {
        String yaml = metadata.get("config");
        try {
            return yaml == null ? null : TpsmmConfig.fromTree(YamlConfig.parse(yaml));
        } catch (RuntimeException e) {
            return null;
        }
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
