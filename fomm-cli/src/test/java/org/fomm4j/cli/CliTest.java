package org.fomm4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.fomm4j.tensor.Npy;
import org.fomm4j.tensor.Tensor;
import org.jcodec.api.FrameGrab;
import org.jcodec.common.io.NIOUtils;
import org.jcodec.common.io.SeekableByteChannel;
import org.jcodec.containers.mp4.demuxer.AbstractMP4DemuxerTrack;
import org.jcodec.containers.mp4.demuxer.MP4Demuxer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The command line as a user runs it (in-process: {@code Main.run} is what {@code ./fomm} calls). */
class CliTest {
    @TempDir
    Path tmp;

    /** The repository's testdata/ ({@code -Dfomm4j.testdata=DIR} overrides it). */
    static Path testdata() {
        String p = System.getProperty("fomm4j.testdata");
        Path dir = p != null && !p.isBlank() ? Path.of(p) : null;
        for (Path d = Path.of("").toAbsolutePath(); dir == null && d != null; d = d.getParent()) {
            if (Files.isDirectory(d.resolve("testdata/fixtures"))) {
                dir = d.resolve("testdata");
            }
        }
        if (dir == null || !Files.isDirectory(dir.resolve("fixtures"))) {
            fail("testdata/ not found (set -Dfomm4j.testdata=DIR)");
        }
        return dir;
    }

    /** A parity fixture: bundled FOMM, or TPSMM from -Dfomm4j.tpsmmFixture (skips without it). */
    static Path fixture(String name) {
        if (name.startsWith("tpsmm")) {
            String p = System.getProperty("fomm4j.tpsmmFixture");
            Assumptions.assumeTrue(p != null && !p.isBlank(),
                    "the TPSMM fixture is not bundled (testdata/README.md): set -Dfomm4j.tpsmmFixture=DIR to run this case");
            return Path.of(p);
        }
        String p = System.getProperty("fomm4j.fommFixture");
        return p != null && !p.isBlank() ? Path.of(p) : testdata().resolve("fixtures").resolve(name);
    }

    record Run(int status, String out, String err) {
    }

    static Run fomm(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int status = Main.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
        return new Run(status, out.toString(), err.toString());
    }

    static Run ok(String... args) {
        Run r = fomm(args);
        assertEquals(0, r.status(), () -> "fomm " + String.join(" ", args) + " failed: " + r.err());
        return r;
    }

    /**
     * {@code --raw-output} of a run on the fixture checkpoint (given as .pth.tar with --config) and the
     * fixture's PNG frames equals the reference {@code {mode}_prediction}. Tolerances as the parity
     * tests: FOMM 2e-5; TPSMM 5e-4 per element and 1e-5 in mean (see TpsmmParityTest).
     */
    @ParameterizedTest
    @CsvSource({
        "fomm-vox-small, standard, standard, 2e-5",
        "fomm-vox-small, relative, relative, 2e-5",
        "fomm-vox-small, relative-adapt, relative_adapt, 2e-5",
        "tpsmm-vox-small, standard, standard, 5e-4",
        "tpsmm-vox-small, relative, relative, 5e-4",
        "tpsmm-vox-small, avd, avd, 5e-4",
    })
    void rawOutputMatchesTheReference(String fixture, String mode, String key, double tol) throws IOException {
        Path dir = fixture(fixture);
        Path raw = tmp.resolve("raw.npy");
        ok("animate", "--model", dir.resolve("checkpoint.pth.tar").toString(), "--config", dir.resolve("config.yaml").toString(),
                "--source", dir.resolve("source.png").toString(), "--driving", dir.resolve("driving").toString(),
                "--output", tmp.resolve("frames").toString(), "--mode", mode, "--raw-output", raw.toString());
        Tensor actual = Npy.read(raw);
        Tensor expected = Npy.readNpz(dir.resolve("expected.npz")).get(key + "_prediction");
        assertEquals(List.of(5, 3, 256, 256), List.of(actual.dim(0), actual.dim(1), actual.dim(2), actual.dim(3)));
        double max = 0, sum = 0;
        for (int i = 0; i < expected.size(); i++) {
            double d = Math.abs(expected.get(i) - actual.get(i));
            max = Math.max(max, d);
            sum += d;
        }
        assertTrue(max <= tol, fixture + " " + mode + ": max abs diff " + max + " > " + tol);
        assertTrue(sum / expected.size() <= 1e-5, fixture + " " + mode + ": mean abs diff " + sum / expected.size());
        try (Stream<Path> pngs = Files.list(tmp.resolve("frames"))) {
            assertEquals(5, pngs.count(), "PNG frames written");
        }
    }

    @Test
    void convertInfoAndAnimateFromTheModelFile() throws IOException {
        Path dir = fixture("fomm-vox-small");
        Path model = tmp.resolve("small.fomm4j");
        Run c = ok("convert", "--checkpoint", dir.resolve("checkpoint-gpu-saved.pth.tar").toString(),
                "--config", dir.resolve("config.yaml").toString(), "--output", model.toString());
        assertTrue(c.out().contains("FOMM model"), c.out());
        Run info = ok("info", model.toString());
        assertTrue(info.out().contains("family:     FOMM"), info.out());
        assertTrue(info.out().contains("num_kp: 10"), info.out());
        assertTrue(info.out().contains("kp_detector"), info.out());
        Path gif = tmp.resolve("out.gif");
        ok("animate", "--model", model.toString(), "--source", dir.resolve("source.png").toString(),
                "--driving", dir.resolve("driving").toString(), "--output", gif.toString(), "--find-best-frame");
        // The GIF we wrote reads back as a driving video of the same length.
        Path again = tmp.resolve("again");
        Run r = ok("animate", "--model", model.toString(), "--source", dir.resolve("source.png").toString(),
                "--driving", gif.toString(), "--output", again.toString(), "--mode", "standard");
        assertTrue(r.out().contains("5 frames"), r.out());
    }

    /**
     * {@code fomm compact} halves the file; {@code info} says how it is stored; the compacted model animates
     * within 5e-4 of the float32 one (pixels in [0, 1]; measured 3.8e-5; float16 weights round at 2^-11 relative) and not
     * identically (it is another model).
     */
    @Test
    void compactHalvesAModelThatAnimatesNearlyAsBefore() throws IOException {
        Path dir = fixture("fomm-vox-small");
        Path model = tmp.resolve("small.fomm4j"), half = tmp.resolve("half.fomm4j");
        ok("convert", "--checkpoint", dir.resolve("checkpoint.pth.tar").toString(), "--config", dir.resolve("config.yaml").toString(),
                "--output", model.toString());
        Run c = ok("compact", "--model", model.toString(), "--output", half.toString());
        assertTrue(c.out().contains("tensors in float16"), c.out());
        assertTrue(Files.size(half) < 0.55 * Files.size(model), Files.size(model) + " -> " + Files.size(half));
        assertTrue(ok("info", half.toString()).out().contains("storage:    float16 weights in"));
        assertTrue(ok("info", model.toString()).out().contains("storage:    float32"));
        Tensor[] raw = new Tensor[2];
        for (int i = 0; i < 2; i++) {
            Path npy = tmp.resolve("raw" + i + ".npy");
            ok("animate", "--model", (i == 0 ? model : half).toString(), "--source", dir.resolve("source.png").toString(),
                    "--driving", dir.resolve("driving").toString(), "--output", tmp.resolve("frames" + i).toString(),
                    "--raw-output", npy.toString());
            raw[i] = Npy.read(npy);
        }
        double max = 0;
        for (int i = 0; i < raw[0].size(); i++) {
            max = Math.max(max, Math.abs(raw[0].get(i) - raw[1].get(i)));
        }
        assertTrue(max > 0 && max < 5e-4, "max abs difference " + max);
        Run bad = fomm("compact", "--model", dir.resolve("config.yaml").toString(), "--output", tmp.resolve("x.fomm4j").toString());
        assertEquals(1, bad.err().strip().lines().count(), bad.err());
        assertTrue(bad.status() != 0 && !Files.exists(tmp.resolve("x.fomm4j")), bad.err());
    }

    /** The real media: 169-frame, 25 fps H.264 High-profile video with AAC audio, 680x676 photo. */
    @Test
    void realMediaGivesAPlayableMp4WithAllFramesTheFrameRateAndTheAudio() throws Exception {
        Path dir = fixture("fomm-vox-small");
        Path out = tmp.resolve("animated.mp4");
        ok("animate", "--model", dir.resolve("checkpoint.pth.tar").toString(), "--config", dir.resolve("config.yaml").toString(),
                "--source", testdata().resolve("media/source.png").toString(), "--driving", testdata().resolve("media/driving.mp4").toString(),
                "--output", out.toString(), "--audio", "--mode", "relative-adapt");
        try (SeekableByteChannel ch = NIOUtils.readableChannel(out.toFile())) {
            MP4Demuxer d = MP4Demuxer.createMP4Demuxer(ch);
            AbstractMP4DemuxerTrack v = (AbstractMP4DemuxerTrack) d.getVideoTrack();
            assertEquals(169, v.getFrameCount());
            assertEquals(25.0, v.getFrameCount() / v.getDuration().scalar(), 1e-9, "frame rate");
            assertEquals(1, d.getAudioTracks().size(), "audio track");
            AbstractMP4DemuxerTrack a = (AbstractMP4DemuxerTrack) d.getAudioTracks().get(0);
            assertEquals("mp4a", a.getFourcc());
            assertTrue(a.getFrameCount() > 250, "audio frames: " + a.getFrameCount());
        }
        // Playable: every frame decodes.
        try (SeekableByteChannel ch = NIOUtils.readableChannel(out.toFile())) {
            FrameGrab g = FrameGrab.createFrameGrab(ch);
            int n = 0;
            while (g.getNativeFrame() != null) {
                n++;
            }
            assertEquals(169, n);
        }
    }

    @Test
    void badInputGetsAOneLineErrorAndNoOutput() throws IOException {
        Path dir = fixture("fomm-vox-small");
        String ckpt = dir.resolve("checkpoint.pth.tar").toString(), cfg = dir.resolve("config.yaml").toString();
        String src = dir.resolve("source.png").toString(), drv = dir.resolve("driving").toString();
        Path notImage = tmp.resolve("photo.png");
        Files.writeString(notImage, "not an image");
        Path avi = tmp.resolve("video.avi");
        Files.writeString(avi, "x");
        Path empty = tmp.resolve("empty");
        Files.createDirectory(empty);
        Path foreign = tmp.resolve("model.bin");
        Files.write(foreign, new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9});
        Path out = tmp.resolve("out.mp4");
        Map<String, String[]> cases = Map.of(
                "does not exist", new String[] {"--model", ckpt, "--config", cfg, "--source", tmp.resolve("none.png").toString(), "--driving", drv},
                "not a PNG, JPEG or GIF image", new String[] {"--model", ckpt, "--config", cfg, "--source", notImage.toString(), "--driving", drv},
                "unsupported driving video format", new String[] {"--model", ckpt, "--config", cfg, "--source", src, "--driving", avi.toString()},
                "contains no .png frames", new String[] {"--model", ckpt, "--config", cfg, "--source", src, "--driving", empty.toString()},
                "neither a fomm4j weight file nor a PyTorch checkpoint", new String[] {"--model", foreign.toString(), "--source", src, "--driving", drv},
                "avd needs a TPSMM model", new String[] {"--model", ckpt, "--config", cfg, "--source", src, "--driving", drv, "--mode", "avd"},
                "needs its YAML config", new String[] {"--model", ckpt, "--source", src, "--driving", drv},
                "copies the audio of an MP4 driving video", new String[] {"--model", ckpt, "--config", cfg, "--source", src, "--driving", drv, "--audio"});
        for (var c : cases.entrySet()) {
            String[] args = Stream.concat(Stream.of("animate", "--output", out.toString()), Stream.of(c.getValue())).toArray(String[]::new);
            Run r = fomm(args);
            assertNotEquals(0, r.status(), c.getKey());
            String[] lines = r.err().strip().split("\n");
            String last = lines[lines.length - 1];
            assertTrue(last.startsWith("fomm: ") && last.contains(c.getKey()), c.getKey() + " -> " + r.err());
            assertFalse(Files.exists(out), c.getKey() + ": no output left behind");
        }
        try (Stream<Path> left = Files.list(tmp)) {
            assertEquals(List.of("empty", "model.bin", "photo.png", "video.avi"),
                    left.map(p -> p.getFileName().toString()).sorted().toList(), "no temporary files left behind");
        }
        Run bad = fomm("convert", "--checkpoint", foreign.toString(), "--config", cfg, "--output", tmp.resolve("m.fomm4j").toString());
        assertNotEquals(0, bad.status());
        assertTrue(bad.err().contains("not a PyTorch checkpoint"), bad.err());
        Run info = fomm("info", ckpt);
        assertNotEquals(0, info.status());
        assertTrue(info.err().contains("not a fomm4j weight file"), info.err());
    }

    @Test
    void usageErrorsAreOneFommLineWithStatus2() {
        Run r = fomm("animate", "--model", "m.fomm4j");
        assertEquals(2, r.status());
        assertTrue(r.err().startsWith("fomm: Missing required options"), r.err());
        assertTrue(r.err().strip().lines().count() == 1 && r.err().contains("'fomm animate --help'"), r.err());
        Run unknown = fomm("--frobnicate");
        assertEquals(2, unknown.status());
        assertTrue(unknown.err().startsWith("fomm: Unknown option") && unknown.err().strip().lines().count() == 1, unknown.err());
    }

    @Test
    void anOutputNamingAnInputIsRefusedBeforeAnyWorkAndTheInputIsUntouched() throws IOException {
        Path dir = fixture("fomm-vox-small");
        Path driving = Files.copy(testdata().resolve("media/driving.mp4"), tmp.resolve("driving.mp4"));
        byte[] before = Files.readAllBytes(driving);
        Run r = fomm("animate", "--model", dir.resolve("checkpoint.pth.tar").toString(), "--config", dir.resolve("config.yaml").toString(),
                "--source", dir.resolve("source.png").toString(), "--driving", driving.toString(), "--output", tmp.resolve("./driving.mp4").toString());
        assertEquals(1, r.status());
        assertTrue(r.err().startsWith("fomm: --output") && r.err().contains("same file as --driving"), r.err());
        assertArrayEquals(before, Files.readAllBytes(driving));
        Run raw = fomm("animate", "--model", dir.resolve("checkpoint.pth.tar").toString(), "--config", dir.resolve("config.yaml").toString(),
                "--source", dir.resolve("source.png").toString(), "--driving", driving.toString(), "--output", tmp.resolve("o.mp4").toString(),
                "--raw-output", tmp.resolve("o.mp4").toString());
        assertEquals(1, raw.status());
        assertTrue(raw.err().contains("--raw-output") && raw.err().contains("same file as --output"), raw.err());
        Run convert = fomm("convert", "--checkpoint", dir.resolve("checkpoint.pth.tar").toString(), "--config", dir.resolve("config.yaml").toString(),
                "--output", dir.resolve("config.yaml").toString());
        assertEquals(1, convert.status());
        assertTrue(convert.err().contains("same file as --config"), convert.err());
        Files.createDirectory(tmp.resolve("taken.mp4"));
        Run folder = fomm("animate", "--model", dir.resolve("checkpoint.pth.tar").toString(), "--config", dir.resolve("config.yaml").toString(),
                "--source", dir.resolve("source.png").toString(), "--driving", driving.toString(), "--output", tmp.resolve("taken.mp4").toString());
        assertEquals(1, folder.status());
        assertTrue(folder.err().contains("is an existing folder"), folder.err());
    }

    @Test
    void jvmErrorsBecomeOneLineMessages() {
        assertTrue(Main.message(new OutOfMemoryError("Java heap space")).startsWith("out of memory (give the JVM more with FOMM_JAVA_OPTS"));
        assertEquals("an input is nested too deeply to read (stack overflow)", Main.message(new StackOverflowError()));
        assertTrue(Main.message(new InternalError("a fault occurred in an unsafe memory access operation"))
                .startsWith("a file was truncated or changed while it was being read"));
        assertEquals("null pointer exception", Main.message(new NullPointerException()));
        assertEquals("a; b", Main.message(new IllegalStateException("a\n  b")));
    }

    /** A zoomed-out, off-centre driving video (PNG frames, 640x480) with a second, smaller face. */
    private Path harderDrivingVideo() throws IOException {
        Path frames = Files.createDirectory(tmp.resolve("harder"));
        java.awt.image.BufferedImage photo = org.fomm4j.io.media.Images.read(testdata().resolve("media/source.png"));
        try (org.fomm4j.io.media.VideoSource v = org.fomm4j.io.media.VideoSource.open(testdata().resolve("media/driving.mp4"))) {
            for (int i = 0; i < 12; i++) {
                java.awt.image.BufferedImage f = v.next();
                java.awt.image.BufferedImage canvas = new java.awt.image.BufferedImage(640, 480, java.awt.image.BufferedImage.TYPE_INT_RGB);
                java.awt.Graphics2D g = canvas.createGraphics();
                g.setColor(new java.awt.Color(120, 140, 160));
                g.fillRect(0, 0, 640, 480);
                g.drawImage(f, 380 + i, 200, 205, 206, null);     // the driving face, small and right of centre
                g.drawImage(photo, 20, 20, 110, 110, null);        // a second, smaller face
                g.dispose();
                javax.imageio.ImageIO.write(canvas, "png", frames.resolve(String.format("%04d.png", i)).toFile());
            }
        }
        return frames;
    }

    @Test
    void cropCutsPhotosAndVideosToTheirFaces() throws IOException {
        Run photo = ok("crop", "--input", testdata().resolve("media/source.png").toString(), "--output", tmp.resolve("face.png").toString());
        java.awt.image.BufferedImage face = javax.imageio.ImageIO.read(tmp.resolve("face.png").toFile());
        assertEquals(256, face.getWidth());
        assertEquals(256, face.getHeight());
        assertTrue(photo.out().startsWith("wrote "), photo.out());

        Path harder = harderDrivingVideo();
        Run video = ok("crop", "--input", harder.toString(), "--output", tmp.resolve("cropped").toString());
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("cut to x (\\d+), y (\\d+), (\\d+)x(\\d+)").matcher(video.out());
        assertTrue(m.find(), video.out());
        int x = Integer.parseInt(m.group(1)), y = Integer.parseInt(m.group(2)), w = Integer.parseInt(m.group(3)), h = Integer.parseInt(m.group(4));
        // One stable, square-ish crop around the larger face (pasted at 380..596 x 200..406), not the small one.
        double cx = x + w / 2.0, cy = y + h / 2.0;
        assertTrue(cx > 430 && cx < 560 && cy > 240 && cy < 370, video.out());
        assertTrue(w > 150 && w < 330 && Math.abs(w - h) < 0.15 * w, video.out());
        assertTrue(video.out().contains("in 1 shot,"), video.out());
        try (Stream<Path> s = Files.list(tmp.resolve("cropped"))) {
            assertEquals(12, s.count());
        }
    }

    /** A video of two shots: the face left on a grey wall for 8 frames, then a cut to a blue wall, face right. */
    @Test
    void cropSplitsAVideoIntoShots() throws IOException {
        Path frames = Files.createDirectory(tmp.resolve("shots"));
        try (org.fomm4j.io.media.VideoSource v = org.fomm4j.io.media.VideoSource.open(testdata().resolve("media/driving.mp4"))) {
            for (int i = 0; i < 16; i++) {
                java.awt.image.BufferedImage f = v.next();
                java.awt.image.BufferedImage canvas = new java.awt.image.BufferedImage(640, 480, java.awt.image.BufferedImage.TYPE_INT_RGB);
                java.awt.Graphics2D g = canvas.createGraphics();
                g.setColor(i < 8 ? new java.awt.Color(200, 200, 200) : new java.awt.Color(20, 40, 120));
                g.fillRect(0, 0, 640, 480);
                g.drawImage(f, i < 8 ? 40 : 400, 150, 210, 210, null);
                g.dispose();
                javax.imageio.ImageIO.write(canvas, "png", frames.resolve(String.format("%04d.png", i)).toFile());
            }
        }
        Run video = ok("crop", "--input", frames.toString(), "--output", tmp.resolve("cut").toString());
        assertTrue(video.out().contains("in 2 shots,"), video.out());
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("shot (\\d) from frame (\\d+): cut to x (\\d+), y (\\d+), (\\d+)x(\\d+)")
                .matcher(video.out());
        double[] centres = new double[2];
        int[] startFrames = new int[2];
        for (int k = 0; k < 2; k++) {
            assertTrue(m.find(), video.out());
            startFrames[k] = Integer.parseInt(m.group(2));
            centres[k] = Integer.parseInt(m.group(3)) + Integer.parseInt(m.group(5)) / 2.0;
        }
        assertEquals(8, startFrames[1], "the second shot starts at the cut");
        assertTrue(Math.abs(centres[0] - 145) < 40 && Math.abs(centres[1] - 505) < 40, video.out());
    }

    @Test
    void animateCropsSourceAndDriving() throws IOException {
        Path dir = fixture("fomm-vox-small");
        Path harder = harderDrivingVideo();
        Run r = ok("animate", "--model", dir.resolve("checkpoint.pth.tar").toString(), "--config", dir.resolve("config.yaml").toString(),
                "--source", testdata().resolve("media/source.png").toString(), "--driving", harder.toString(), "--crop",
                "--output", tmp.resolve("out.mp4").toString());
        assertTrue(r.out().contains("12 frames, 256x256"), r.out());
        Path noise = tmp.resolve("noise.png");
        java.awt.image.BufferedImage n = new java.awt.image.BufferedImage(300, 300, java.awt.image.BufferedImage.TYPE_INT_RGB);
        java.util.Random rnd = new java.util.Random(2);
        for (int i = 0; i < 300 * 300; i++) {
            n.setRGB(i % 300, i / 300, rnd.nextInt(0x1000000));
        }
        javax.imageio.ImageIO.write(n, "png", noise.toFile());
        Run bad = fomm("animate", "--model", dir.resolve("checkpoint.pth.tar").toString(), "--config", dir.resolve("config.yaml").toString(),
                "--source", noise.toString(), "--driving", harder.toString(), "--crop", "--output", tmp.resolve("out2.mp4").toString());
        assertEquals(1, bad.status());
        assertTrue(bad.err().startsWith("fomm: no face found in source image " + noise), bad.err());
    }

    @Test
    void pasteBackKeepsThePhotoOutsideTheCropAndVisualizeShowsTheKeypoints() throws IOException {
        Path dir = fixture("fomm-vox-small");
        Path photo = testdata().resolve("media/source.png");
        Path harder = harderDrivingVideo();
        Path out = tmp.resolve("whole"), vis = tmp.resolve("vis");
        ok("animate", "--model", dir.resolve("checkpoint.pth.tar").toString(), "--config", dir.resolve("config.yaml").toString(),
                "--source", photo.toString(), "--driving", harder.toString(), "--crop", "--paste-back",
                "--output", out.toString(), "--visualize", vis.toString());
        java.awt.image.BufferedImage src = javax.imageio.ImageIO.read(photo.toFile());
        java.awt.Rectangle box = org.fomm4j.io.faces.FaceCrop.forImage(src, "photo", new org.fomm4j.io.faces.FaceDetector());
        java.awt.image.BufferedImage frame = javax.imageio.ImageIO.read(out.resolve("00005.png").toFile());
        assertEquals(src.getWidth() & ~1, frame.getWidth(), "the photo's size");
        assertEquals(src.getHeight() & ~1, frame.getHeight());
        int changedInside = 0;
        for (int y = 0; y < frame.getHeight(); y++) {
            for (int x = 0; x < frame.getWidth(); x++) {
                int a = frame.getRGB(x, y) & 0xffffff, b = src.getRGB(x, y) & 0xffffff;
                if (!box.contains(x, y)) {
                    assertEquals(b, a, "pixel " + x + "," + y + " outside the crop is the photo's");
                } else if (a != b) {
                    changedInside++;
                }
            }
        }
        assertTrue(changedInside > box.width * box.height / 4, "the face inside the crop is animated: " + changedInside);
        // Visualization: 3 panels of 256; the right one is the prediction; keypoint 0's disc is gist_rainbow(0).
        java.awt.image.BufferedImage v = javax.imageio.ImageIO.read(vis.resolve("00005.png").toFile());
        assertEquals(768, v.getWidth());
        assertEquals(256, v.getHeight());
        int kp0 = 0;
        for (int y = 0; y < 256; y++) {
            for (int x = 0; x < 512; x++) {
                if ((v.getRGB(x, y) & 0xffffff) == (255 << 16 | 41)) {
                    kp0++;
                }
            }
        }
        assertTrue(kp0 >= 2 * 60, "keypoint 0 drawn on the source and the driving panels: " + kp0 + " pixels");
    }

    @Test
    void tpsmmVisualizationAddsItsFourOcclusionMasks() throws IOException {
        Path dir = fixture("tpsmm-vox-small");
        Path vis = tmp.resolve("vis");
        ok("animate", "--model", dir.resolve("checkpoint.pth.tar").toString(), "--config", dir.resolve("config.yaml").toString(),
                "--source", dir.resolve("source.png").toString(), "--driving", dir.resolve("driving").toString(),
                "--output", tmp.resolve("out").toString(), "--visualize", vis.toString());
        java.awt.image.BufferedImage v = javax.imageio.ImageIO.read(vis.resolve("00001.png").toFile());
        assertEquals(7 * 256, v.getWidth(), "source, driving, result and 4 occlusion masks");
        java.awt.image.BufferedImage out = javax.imageio.ImageIO.read(tmp.resolve("out/00001.png").toFile());
        for (int y = 0; y < 256; y += 3) {
            for (int x = 0; x < 256; x += 3) {
                assertEquals(out.getRGB(x, y), v.getRGB(512 + x, y), "the third panel is the output frame");
                int g = v.getRGB(3 * 256 + x, y);
                assertTrue((g >> 16 & 255) == (g & 255) && (g >> 8 & 255) == (g & 255), "masks are grey");
            }
        }
    }
}
