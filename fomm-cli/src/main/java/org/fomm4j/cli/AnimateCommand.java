package org.fomm4j.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.fomm4j.animation.AnimationMode;
import org.fomm4j.io.AnimationJob;
import org.fomm4j.io.media.Fps;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code fomm animate}: runs {@link org.fomm4j.io.AnimationJob} with a progress display; prints what it
 * wrote. Errors propagate to {@link Main}, which prints them as one line and exits non-zero.
 */
@Command(name = "animate", mixinStandardHelpOptions = true,
        description = {"Animate a source image with the motion of a driving video.",
                "Output: .mp4 (H.264, the driving video's frame rate), .gif, or any other name for a directory of PNG frames."})
final class AnimateCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--model", description = "model file from 'fomm convert' or 'fomm train', or a .pth.tar checkpoint (with --config); "
            + "default: the built-in creatures model (weights/fomm-creatures-64.fomm4j)")
    Path model;

    @Option(names = "--config", description = "official YAML config, needed when --model is a .pth.tar checkpoint")
    Path config;

    @Option(names = "--source", required = true, description = "source image (PNG or JPEG)")
    Path source;

    @Option(names = "--driving", required = true, description = "driving video: .mp4 (H.264), .gif, or a directory of PNG frames")
    Path driving;

    @Option(names = "--output", required = true, description = "output .mp4, .gif, or directory of PNG frames")
    Path output;

    @Option(names = "--mode", defaultValue = "relative", description = "standard | relative | relative-adapt | avd (TPSMM) (default: ${DEFAULT-VALUE})")
    String mode;

    @Option(names = "--find-best-frame", description = "start the relative motion from the driving frame whose keypoints best match the source's")
    boolean findBestFrame;

    @Option(names = "--best-frame", paramLabel = "N", description = "start the relative motion from driving frame N (0-based)")
    Integer bestFrame;

    @Option(names = "--audio", description = "copy the driving video's audio track into the output .mp4")
    boolean audio;

    @Option(names = "--fps", paramLabel = "F", description = "output frame rate (default: the driving video's)")
    String fps;

    @Option(names = "--raw-output", paramLabel = "FRAMES.npy", description = "also write the predictions as float32 .npy [T,3,H,W] in [0,1]")
    Path rawOutput;

    @Option(names = "--background-motion", description = "TPSMM: move the background with the background predictor")
    boolean backgroundMotion;

    @Option(names = "--crop", description = "cut the source and the driving video to their faces first (one stable crop for the video, as the reference crop-video.py)")
    boolean crop;

    @Option(names = "--paste-back", description = "with --crop: the output is the whole source photo with the animated face blended back in")
    boolean pasteBack;

    @Option(names = "--visualize", paramLabel = "FILE", description = "also write source | driving | result with the keypoints drawn (.mp4, .gif or a folder; "
            + ".png: a contact sheet of 8 frames spread over the video)")
    Path visualize;

    @Override
    public Integer call() throws Exception {
        if (findBestFrame && bestFrame != null) {
            throw new IllegalArgumentException("use either --find-best-frame or --best-frame N, not both");
        }
        AnimationMode m = AnimationMode.parse(mode);
        PrintWriter err = spec.commandLine().getErr();
        if (model == null) {
            if (config != null) {
                throw new IllegalArgumentException("--config needs --model (the built-in model carries its own config)");
            }
            model = org.fomm4j.io.weights.DefaultModel.path();
            err.println("fomm: no --model: using the built-in creatures model (trained on procedural creatures, 64x64)");
        }
        AnimationJob.Options o = new AnimationJob.Options(model, config, source, driving, output, m, findBestFrame, bestFrame,
                audio, fps == null ? null : Fps.parse(fps), rawOutput, backgroundMotion, crop, pasteBack, visualize);
        AnimationJob.Result r = AnimationJob.run(o, new ConsoleProgress(err));
        PrintWriter out = spec.commandLine().getOut();
        out.printf("wrote %s: %d frames, %dx%d, %s fps%s%n", output, r.frames(), r.width(), r.height(), r.fps(),
                r.bestFrame() >= 0 ? ", initial driving frame " + r.bestFrame() : "");
        if (rawOutput != null) {
            out.printf(pasteBack ? "wrote %s: float32 [%d, 3, H, W] at the model's frame size%n" : "wrote %s: float32 [%d, 3, %d, %d]%n",
                    rawOutput, r.frames(), r.height(), r.width());
        }
        if (visualize != null) {
            out.printf("wrote %s: source | driving | result with keypoints%n", visualize);
        }
        for (String w : r.warnings()) {
            err.println("fomm: warning: " + w);
        }
        return 0;
    }
}
