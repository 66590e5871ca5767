package org.fomm4j.cli;

import static org.fomm4j.cli.CliTest.fomm;
import static org.fomm4j.cli.CliTest.ok;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code fomm train}, {@code fomm evaluate}, {@code fomm creatures} and the built-in model, as a user runs them. */
class TrainCliTest {
    @TempDir
    Path tmp;

    static Path smallConfig() {
        return CliTest.testdata().resolve("fixtures/fomm-train-small/config.yaml");
    }

    @Test
    void trainWritesCheckpointModelAndLogThenResumes() throws Exception {
        Path out = tmp.resolve("run");
        CliTest.Run r = ok("train", "--config", smallConfig().toString(), "--output", out.toString(), "--steps", "2", "--batch", "2");
        assertTrue(r.out().contains("trained 2 steps"), r.out());
        List<String> log = Files.readAllLines(out.resolve("log.csv"));
        assertEquals(3, log.size(), "header and two steps: " + log);
        assertTrue(log.get(0).startsWith("step,epoch,loss_total"));
        ok("train", "--config", smallConfig().toString(), "--output", out.toString(), "--steps", "1", "--batch", "2", "--resume");
        log = Files.readAllLines(out.resolve("log.csv"));
        assertEquals(4, log.size());
        assertTrue(log.get(3).startsWith("3,"), "the resumed run continues at step 3: " + log.get(3));
        // A longer schedule extends the run (train_params may change on resume); another model may not.
        String yaml = Files.readString(smallConfig());
        Path longer = tmp.resolve("longer.yaml"), other = tmp.resolve("other.yaml");
        Files.writeString(longer, yaml.replaceFirst("num_epochs: *\\d+", "num_epochs: 1000"));
        Files.writeString(other, yaml.replaceFirst("num_kp: *(\\d+)", "num_kp: 3"));
        assertNotEquals(yaml, Files.readString(longer));
        assertNotEquals(yaml, Files.readString(other));
        ok("train", "--config", longer.toString(), "--output", out.toString(), "--steps", "1", "--batch", "2", "--resume");
        assertTrue(Files.readAllLines(out.resolve("log.csv")).get(4).startsWith("4,"));
        CliTest.Run bad = fomm("train", "--config", other.toString(), "--output", out.toString(), "--steps", "1", "--resume");
        assertEquals(1, bad.status());
        assertTrue(bad.err().contains("another model_params"), bad.err());
        // The model file animates like any converted model.
        ok("creatures", "--source", tmp.resolve("s.png").toString(), "--driving", tmp.resolve("d.gif").toString(), "--frames", "3");
        ok("animate", "--model", out.resolve("model.fomm4j").toString(), "--source", tmp.resolve("s.png").toString(),
                "--driving", tmp.resolve("d.gif").toString(), "--output", tmp.resolve("a.gif").toString());
        assertTrue(Files.size(tmp.resolve("a.gif")) > 0);
        CliTest.Run info = ok("info", out.resolve("checkpoint.fomm4j").toString());
        assertTrue(info.out().contains("trained:    4 steps (epoch 0), batch 2, on creatures"), info.out());
        CliTest.Run e = ok("evaluate", "--model", out.resolve("model.fomm4j").toString(), "--videos", "1", "--frames", "3");
        assertTrue(e.out().contains("reconstruction L1") && e.out().contains("motion keypoint distance"), e.out());
    }

    /**
     * A TPSMM config ({@code num_tps}) trains a TPSMM with the same command: checkpoint, model, its own log columns,
     * resume, a model file that animates (with background motion) and evaluates; a FOMM file as its {@code --init}
     * and {@code --widen} are refused in one line.
     */
    @Test
    void trainsATpsmmConfigThenResumesAnimatesAndEvaluates() throws Exception {
        Path config = CliTest.testdata().resolve("fixtures/tpsmm-train-small/config.yaml");
        Path out = tmp.resolve("tps");
        CliTest.Run r = ok("train", "--config", config.toString(), "--output", out.toString(), "--steps", "1", "--batch", "2");
        assertTrue(r.out().contains("warp") && r.out().contains("trained 1 steps"), r.out());
        List<String> log = Files.readAllLines(out.resolve("log.csv"));
        assertEquals("step,epoch,loss_total,loss_reconstruction,loss_equivariance_value,loss_warp,loss_bg,learning_rate,seconds,"
                + "samples_per_second", log.get(0));
        ok("train", "--config", config.toString(), "--output", out.toString(), "--steps", "1", "--batch", "2", "--resume");
        log = Files.readAllLines(out.resolve("log.csv"));
        assertEquals(3, log.size());
        assertTrue(log.get(2).startsWith("2,"), "the resumed run continues at step 2: " + log.get(2));
        ok("creatures", "--source", tmp.resolve("s.png").toString(), "--driving", tmp.resolve("d.gif").toString(), "--frames", "3");
        ok("animate", "--model", out.resolve("model.fomm4j").toString(), "--source", tmp.resolve("s.png").toString(),
                "--driving", tmp.resolve("d.gif").toString(), "--background-motion", "--output", tmp.resolve("a.gif").toString());
        assertTrue(Files.size(tmp.resolve("a.gif")) > 0);
        CliTest.Run e = ok("evaluate", "--model", out.resolve("model.fomm4j").toString(), "--videos", "1", "--frames", "3");
        assertTrue(e.out().contains("reconstruction L1") && e.out().contains("motion keypoint distance"), e.out());
        // A FOMM's model as a TPSMM's starting point, and the FOMM-only --widen, are refused.
        Path fomm = tmp.resolve("fomm");
        ok("train", "--config", smallConfig().toString(), "--output", fomm.toString(), "--steps", "1", "--batch", "2");
        CliTest.Run bad = fomm("train", "--config", config.toString(), "--output", tmp.resolve("x").toString(), "--steps", "1",
                "--init", fomm.resolve("model.fomm4j").toString());
        assertEquals(1, bad.status());
        assertTrue(bad.err().contains("holds a FOMM model") && bad.err().strip().lines().count() == 1, bad.err());
        bad = fomm("train", "--config", config.toString(), "--output", tmp.resolve("y").toString(), "--steps", "1",
                "--init", out.resolve("model.fomm4j").toString(), "--widen");
        assertEquals(1, bad.status());
        assertTrue(bad.err().contains("--widen grows FOMM models only"), bad.err());
    }

    /**
     * The AVD stage ({@code --avd}) trains the AVD network of a trained TPSMM: its own log, resume (and a resume
     * that names the wrong stage refused), a model that animates and evaluates in mode avd; without {@code --init}
     * it is refused in one line.
     */
    @Test
    void trainsTheAvdNetworkOfATrainedTpsmmThenResumesAnimatesAndEvaluates() throws Exception {
        Path config = tmp.resolve("tpsmm-avd.yaml");
        Files.writeString(config, Files.readString(CliTest.testdata().resolve("fixtures/tpsmm-train-small/config.yaml"))
                + "\ntrain_avd_params:\n  num_epochs: 2\n  batch_size: 4\n  epoch_milestones: [1]\n  lr: 1.0e-3\n  random_scale: 0.25\n");
        Path tps = tmp.resolve("tps"), avd = tmp.resolve("avd");
        ok("train", "--config", config.toString(), "--output", tps.toString(), "--steps", "1", "--batch", "2");
        CliTest.Run refused = fomm("train", "--avd", "--config", config.toString(), "--output", avd.toString(), "--steps", "1");
        assertEquals(1, refused.status());
        assertTrue(refused.err().contains("--avd needs --init") && refused.err().strip().lines().count() == 1, refused.err());
        CliTest.Run r = ok("train", "--avd", "--config", config.toString(), "--init", tps.resolve("model.fomm4j").toString(),
                "--output", avd.toString(), "--steps", "2");
        assertTrue(r.out().contains("keypoint reconstruction") && r.out().contains("trained 2 steps"), r.out());
        List<String> log = Files.readAllLines(avd.resolve("log.csv"));
        assertEquals("step,epoch,loss_rec_kp,learning_rate,seconds,samples_per_second", log.get(0));
        assertEquals(3, log.size());
        CliTest.Run wrong = fomm("train", "--config", config.toString(), "--output", avd.toString(), "--steps", "1", "--resume");
        assertEquals(1, wrong.status());
        assertTrue(wrong.err().contains("is an AVD training run (add --avd)"), wrong.err());
        ok("train", "--avd", "--config", config.toString(), "--output", avd.toString(), "--steps", "1", "--resume");
        log = Files.readAllLines(avd.resolve("log.csv"));
        assertTrue(log.size() == 4 && log.get(3).startsWith("3,"), "the resumed run continues at step 3: " + log);
        ok("creatures", "--source", tmp.resolve("s.png").toString(), "--driving", tmp.resolve("d.gif").toString(), "--frames", "3");
        ok("animate", "--model", avd.resolve("model.fomm4j").toString(), "--mode", "avd", "--source", tmp.resolve("s.png").toString(),
                "--driving", tmp.resolve("d.gif").toString(), "--output", tmp.resolve("avd.gif").toString());
        assertTrue(Files.size(tmp.resolve("avd.gif")) > 0);
        CliTest.Run e = ok("evaluate", "--model", avd.resolve("model.fomm4j").toString(), "--mode", "avd", "--videos", "1", "--frames", "3");
        assertTrue(e.out().contains("reconstruction L1"), e.out());
        CliTest.Run fommAvd = fomm("evaluate", "--mode", "avd", "--videos", "1", "--frames", "3");
        assertEquals(1, fommAvd.status());
        assertTrue(fommAvd.err().contains("--mode avd needs a TPSMM model"), fommAvd.err());
    }

    /** Fine-tuning starts from a converted checkpoint (here the face fixture's, 256x256) on a folder of videos (one, of PNG frames). */
    @Test
    void fineTunesAConvertedCheckpointOnAVideoFolder() throws Exception {
        Path video = Files.createDirectories(tmp.resolve("videos/train/a"));
        Path frames = CliTest.testdata().resolve("fixtures/fomm-vox-small/driving");
        for (String f : new String[] {"0000.png", "0001.png"}) {
            Files.copy(frames.resolve(f), video.resolve(f));
        }
        Path out = tmp.resolve("tuned");
        Path model = CliTest.testdata().getParent().resolve("weights/fomm-vox-small.fomm4j");
        ok("train", "--config", CliTest.testdata().resolve("fixtures/fomm-vox-small/config.yaml").toString(), "--data",
                tmp.resolve("videos").toString(), "--output", out.toString(), "--init", model.toString(), "--steps", "1", "--batch", "1");
        // One Adam step moved the weights away from the checkpoint's.
        try (var a = org.fomm4j.io.weights.WeightFile.open(model); var b = org.fomm4j.io.weights.WeightFile.open(out.resolve("model.fomm4j"))) {
            String name = "generator.final.weight";
            float[] before = a.stateDict().get(name).toArray(), after = b.stateDict().get(name).toArray();
            double moved = 0;
            for (int i = 0; i < before.length; i++) {
                moved = Math.max(moved, Math.abs(after[i] - before[i]));
            }
            assertTrue(moved > 1e-5 && moved < 1e-3, "one step of lr 2e-4 moves a weight by about lr: " + moved);
        }
    }

    /**
     * {@code --init} at another {@code scale_factor}: the keypoint detector's learned weights carry over to a
     * full-resolution detector (its fixed anti-aliasing buffer is dropped) and back (the buffer is the Gaussian).
     */
    @Test
    void fineTunesATrainedModelAtAnotherInputScale() throws Exception {
        Path half = tmp.resolve("half"), full = tmp.resolve("full"), back = tmp.resolve("back");
        ok("train", "--config", smallConfig().toString(), "--output", half.toString(), "--steps", "1", "--batch", "2");
        String yaml = Files.readString(smallConfig());
        String fullYaml = yaml.replaceFirst("(?s)(kp_detector_params:.*?scale_factor:) *0\\.5", "$1 1");
        assertNotEquals(yaml, fullYaml);
        Path fullConfig = tmp.resolve("full.yaml");
        Files.writeString(fullConfig, fullYaml);
        ok("train", "--config", fullConfig.toString(), "--output", full.toString(), "--init", half.resolve("model.fomm4j").toString(),
                "--steps", "1", "--batch", "2");
        try (var a = org.fomm4j.io.weights.WeightFile.open(half.resolve("model.fomm4j"));
             var b = org.fomm4j.io.weights.WeightFile.open(full.resolve("model.fomm4j"))) {
            assertTrue(a.stateDict().contains("kp_detector.down.weight"));
            assertFalse(b.stateDict().contains("kp_detector.down.weight"), "no anti-aliasing at scale_factor 1");
            assertArrayEquals(a.stateDict().get("generator.dense_motion_network.down.weight").toArray(),
                    b.stateDict().get("generator.dense_motion_network.down.weight").toArray());
            float[] before = a.stateDict().get("kp_detector.kp.weight").toArray(), after = b.stateDict().get("kp_detector.kp.weight").toArray();
            double moved = 0;
            for (int i = 0; i < before.length; i++) {
                moved = Math.max(moved, Math.abs(after[i] - before[i]));
            }
            assertTrue(moved > 1e-6 && moved < 1e-3, "the detector's own weights went on from the trained ones, one step away: " + moved);
        }
        ok("train", "--config", smallConfig().toString(), "--output", back.toString(), "--init", full.resolve("model.fomm4j").toString(),
                "--steps", "1", "--batch", "2");
        try (var a = org.fomm4j.io.weights.WeightFile.open(half.resolve("model.fomm4j"));
             var c = org.fomm4j.io.weights.WeightFile.open(back.resolve("model.fomm4j"))) {
            assertArrayEquals(a.stateDict().get("kp_detector.down.weight").toArray(), c.stateDict().get("kp_detector.down.weight").toArray(),
                    "back at 0.5 the buffer is the Gaussian again");
        }
    }

    /** {@code --init --widen}: a trained model goes on training with wider networks; nothing else may change. */
    @Test
    void widensTheNetworksOfATrainedModel() throws Exception {
        Path narrow = tmp.resolve("narrow"), wide = tmp.resolve("wide");
        ok("train", "--config", smallConfig().toString(), "--output", narrow.toString(), "--steps", "1", "--batch", "2");
        String yaml = Files.readString(smallConfig());
        String widerGenerator = yaml.replaceFirst("(?s)(generator_params:\\s*block_expansion:) *8\\s*max_features: *32",
                "$1 16\n    max_features: 64");
        assertNotEquals(yaml, widerGenerator);
        Path widerYaml = tmp.resolve("wider.yaml");
        Files.writeString(widerYaml, widerGenerator);
        CliTest.Run r = ok("train", "--config", widerYaml.toString(), "--output", wide.toString(), "--init",
                narrow.resolve("model.fomm4j").toString(), "--widen", "--steps", "1", "--batch", "2");
        assertTrue(r.out().contains("trained 1 steps"), r.out());
        try (var w = org.fomm4j.io.weights.WeightFile.open(wide.resolve("model.fomm4j"))) {
            assertArrayEquals(new int[] {16, 3, 7, 7}, w.stateDict().get("generator.first.conv.weight").shape());
        }
        // the keypoint detector may grow too; its temperature may not change
        Path widerDetector = tmp.resolve("wider-detector.yaml");
        String widerBoth = widerGenerator.replaceFirst("(?s)(kp_detector_params:.*?block_expansion:) *8", "$1 16");
        Files.writeString(widerDetector, widerBoth);
        ok("train", "--config", widerDetector.toString(), "--output", tmp.resolve("wide2").toString(), "--init",
                narrow.resolve("model.fomm4j").toString(), "--widen", "--steps", "1", "--batch", "2");
        try (var w = org.fomm4j.io.weights.WeightFile.open(tmp.resolve("wide2").resolve("model.fomm4j"))) {
            assertArrayEquals(new int[] {10, 19, 7, 7}, w.stateDict().get("kp_detector.kp.weight").shape());
        }
        Path hotter = tmp.resolve("hotter.yaml");
        String hotterYaml = widerBoth.replaceFirst("temperature: *0\\.1", "temperature: 0.2");
        assertNotEquals(widerBoth, hotterYaml);
        Files.writeString(hotter, hotterYaml);
        CliTest.Run bad = fomm("train", "--config", hotter.toString(), "--output", tmp.resolve("o").toString(), "--init",
                narrow.resolve("model.fomm4j").toString(), "--widen", "--steps", "1");
        assertEquals(1, bad.status());
        assertTrue(bad.err().startsWith("fomm: cannot widen: the configs differ in more than")
                && bad.err().strip().lines().count() == 1, bad.err());
        bad = fomm("train", "--config", widerYaml.toString(), "--output", tmp.resolve("o").toString(), "--widen");
        assertTrue(bad.status() != 0 && bad.err().contains("--widen needs --init"), bad.err());
    }

    @Test
    void badInputsGiveOneLine() throws Exception {
        CliTest.Run r = fomm("train", "--config", tmp.resolve("missing.yaml").toString(), "--output", tmp.resolve("o").toString());
        assertEquals(1, r.status());
        assertTrue(r.err().startsWith("fomm: ") && r.err().strip().lines().count() == 1, r.err());
        Path noTrain = tmp.resolve("no-train.yaml");
        Files.writeString(noTrain, Files.readString(smallConfig()).replaceAll("(?s)train_params:.*", ""));
        r = fomm("train", "--config", noTrain.toString(), "--output", tmp.resolve("o").toString(), "--steps", "1");
        assertEquals(1, r.status());
        assertTrue(r.err().contains("train_params is missing"), r.err());
        r = fomm("train", "--config", smallConfig().toString(), "--output", tmp.resolve("o").toString(), "--data", tmp.resolve("none").toString());
        assertEquals(1, r.status());
        assertTrue(r.err().contains("is not a folder"), r.err());
        r = fomm("train", "--config", smallConfig().toString(), "--output", tmp.resolve("o").toString(), "--resume", "--init", "x.fomm4j");
        assertTrue(r.status() != 0 && r.err().contains("exclude each other"), r.err());
        // --resume on a folder without a checkpoint (a typo) is refused, and creates nothing, rather than
        // starting a new run from random weights.
        Path typo = tmp.resolve("runn");
        r = fomm("train", "--config", smallConfig().toString(), "--output", typo.toString(), "--steps", "1", "--resume");
        assertEquals(1, r.status());
        assertTrue(r.err().contains("--resume: no checkpoint.fomm4j in " + typo), r.err());
        assertFalse(Files.exists(typo), "nothing written");
    }

    /**
     * A run stopped by SIGTERM (a plain {@code kill}; Ctrl-C's SIGINT takes the same path) finishes its step,
     * writes a checkpoint holding exactly the steps its log has, says so and exits with 130.
     */
    @Test
    void aKilledRunWritesItsCheckpointFirst() throws Exception {
        Path out = tmp.resolve("killed");
        String javaBin = ProcessHandle.current().info().command().orElseThrow();
        Path console = tmp.resolve("console.txt");
        Process p = new ProcessBuilder(javaBin, "--add-modules", "jdk.incubator.vector", "-cp", System.getProperty("java.class.path"),
                "org.fomm4j.cli.Main", "train", "--config", smallConfig().toString(), "--output", out.toString(),
                "--steps", "100000", "--batch", "2", "--checkpoint-minutes", "60")
                .redirectErrorStream(true).redirectOutput(console.toFile()).start();
        try {
            long until = System.nanoTime() + 120_000_000_000L;
            while (!Files.readString(console).contains("step 3 ") && p.isAlive() && System.nanoTime() < until) {
                Thread.sleep(100);
            }
            assertTrue(Files.readString(console).contains("step 3 "), "the run reached step 3: " + Files.readString(console));
            p.toHandle().destroy(); // SIGTERM
            assertTrue(p.waitFor(120, java.util.concurrent.TimeUnit.SECONDS), "the run ended after SIGTERM");
            assertTrue(Files.readString(console).contains("interrupted at step"), Files.readString(console));
            assertEquals(130, p.exitValue());
        } finally {
            p.destroyForcibly();
        }
        long logged = Files.readAllLines(out.resolve("log.csv")).size() - 1;
        assertTrue(logged >= 3, logged + " steps logged");
        CliTest.Run info = ok("info", out.resolve("checkpoint.fomm4j").toString());
        assertTrue(info.out().contains("trained:    " + logged + " steps"), "log has " + logged + " steps: " + info.out());
    }

    /**
     * What the built-in model achieves on held-out creatures (identities and motions the training never
     * saw): over 100 videos 0.361 of the source-copy L1 and 0.50 of the no-motion joint distance; on the 4
     * videos of 40 frames this test runs 0.406 and 0.50 (run 24, 2026-12-04), with 1% of the source keypoint
     * pairs closer than a pixel (the model trained without the separation prior: 66%). The guard is the
     * issue's bar, under half of repeating the source, and 0.6 of the no-motion distance: each about 0.1
     * above what the model measures on these videos.
     */
    @Test
    void builtInModelBeatsRepeatingTheSourceOnHeldOutCreatures() {
        CliTest.Run r = ok("evaluate", "--videos", "4", "--frames", "40");
        Matcher m = Pattern.compile("reconstruction L1 ([0-9.]+) .*source frame: ([0-9.]+)").matcher(r.out());
        assertTrue(m.find(), r.out());
        double l1 = Double.parseDouble(m.group(1)), copy = Double.parseDouble(m.group(2));
        assertTrue(l1 < 0.5 * copy, "L1 " + l1 + " not below half of repeating the source (" + copy + ")");
        Matcher k = Pattern.compile("motion keypoint distance ([0-9.]+) px .*no motion: ([0-9.]+) px").matcher(r.out());
        assertTrue(k.find(), r.out());
        assertTrue(Double.parseDouble(k.group(1)) < 0.6 * Double.parseDouble(k.group(2)), r.out());
        Matcher f = Pattern.compile("frame 0 \\(driven by itself\\) L1 ([0-9.]+); source keypoint pairs closer than 1 px: (\\d+)%").matcher(r.out());
        assertTrue(f.find(), r.out());
        // Frame 0 is the easiest frame: the source drives itself.
        assertTrue(Double.parseDouble(f.group(1)) < l1, r.out());
        assertTrue(Integer.parseInt(f.group(2)) < 10, "keypoints collapsed: " + r.out());
    }

    /**
     * {@code --split train} scores training identities (0, 1, ...) in the held-out motions: other frames
     * than the test split (its source-copy L1 differs), the same report; a wrong split is one line.
     */
    @Test
    void evaluateScoresTrainingIdentitiesWithSplitTrain() {
        Pattern copy = Pattern.compile("source frame: ([0-9.]+)");
        CliTest.Run test = ok("evaluate", "--videos", "2", "--frames", "6");
        CliTest.Run train = ok("evaluate", "--videos", "2", "--frames", "6", "--split", "train");
        Matcher a = copy.matcher(test.out()), b = copy.matcher(train.out());
        assertTrue(a.find() && b.find(), test.out() + train.out());
        assertNotEquals(a.group(1), b.group(1), "the train split renders other creatures: " + train.out());
        assertTrue(train.out().contains("motion keypoint distance"), train.out());
        CliTest.Run bad = CliTest.fomm("evaluate", "--split", "validation");
        assertNotEquals(0, bad.status());
        assertTrue(bad.err().contains("--split must be 'test' or 'train'"), bad.err());
        assertEquals(1, bad.err().strip().lines().count(), bad.err());
    }

    @Test
    void animateWithoutModelUsesTheBuiltInAndWritesAContactSheet() throws Exception {
        Path media = CliTest.testdata().resolve("media");
        Path strip = tmp.resolve("strip.png");
        CliTest.Run r = ok("animate", "--source", media.resolve("creature-source.png").toString(), "--driving",
                media.resolve("creature-driving.mp4").toString(), "--output", tmp.resolve("out.mp4").toString(),
                "--visualize", strip.toString());
        assertTrue(r.err().contains("built-in creatures model"), r.err());
        java.awt.image.BufferedImage img = javax.imageio.ImageIO.read(strip.toFile());
        assertEquals(3 * 64, img.getWidth(), "source | driving | result");
        assertEquals(8 * 64 + 7 * 2, img.getHeight(), "8 rows with 2-pixel gaps");
    }
}
