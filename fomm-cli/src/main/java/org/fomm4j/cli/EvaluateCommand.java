package org.fomm4j.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.fomm4j.io.training.VideoFolderData;
import org.fomm4j.io.weights.DefaultModel;
import org.fomm4j.io.weights.ModelFiles;
import org.fomm4j.networks.fomm.FommModel;
import org.fomm4j.networks.tpsmm.TpsmmModel;
import org.fomm4j.training.Evaluation;
import org.fomm4j.training.data.CreatureDataset;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code fomm evaluate}: the reference reconstruction protocol on held-out videos ({@link Evaluation}). */
@Command(name = "evaluate", mixinStandardHelpOptions = true,
        description = "Reconstruction score of a FOMM or TPSMM on held-out videos: the first frame animated by its own video, mean L1 to the real frames.")
final class EvaluateCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--model", description = "FOMM or TPSMM weight file (default: the built-in creatures model)")
    Path model;

    @Option(names = "--data", defaultValue = "creatures",
            description = "'creatures' (held-out procedural identities, with joint distances) or a folder with test/ videos (default: ${DEFAULT-VALUE})")
    String data;

    @Option(names = "--videos", defaultValue = "20", description = "videos to evaluate (default: ${DEFAULT-VALUE}; a folder: at most its count)")
    int videos;

    @Option(names = "--split", defaultValue = "test",
            description = "creatures only: 'test' (held-out identities) or 'train' (training identities 0, 1, ... in the held-out motions: "
                    + "the gap between the two is how much the model memorized its identities) (default: ${DEFAULT-VALUE})")
    String split;

    @Option(names = "--frames", defaultValue = "50", description = "frames per procedural video (default: ${DEFAULT-VALUE})")
    int frames;

    @Option(names = "--mode", defaultValue = "standard",
            description = "standard (keypoints as detected, the reference protocol) or avd (TPSMM: keypoints from the AVD network) (default: ${DEFAULT-VALUE})")
    String mode;

    @Override
    public Integer call() throws Exception {
        if (!mode.equals("standard") && !mode.equals("avd")) {
            throw new IllegalArgumentException("--mode must be 'standard' or 'avd', not '" + mode + "'");
        }
        if (videos < 1 || frames < 2 || videos > 100_000 || frames > 100_000) {
            throw new IllegalArgumentException("--videos must be 1 to 100000 and --frames 2 to 100000");
        }
        if (!split.equals("test") && !split.equals("train")) {
            throw new IllegalArgumentException("--split must be 'test' or 'train', not '" + split + "'");
        }
        if (split.equals("train") && !data.equals("creatures")) {
            throw new IllegalArgumentException("--split train needs --data creatures (a folder is evaluated on its test/ videos)");
        }
        PrintWriter out = spec.commandLine().getOut();
        Path file = model != null ? model : DefaultModel.path();
        long t0 = System.nanoTime();
        Evaluation.Report r = Evaluation.empty();
        boolean tpsmm = ModelFiles.family(file) == org.fomm4j.io.weights.ModelFamily.TPSMM;
        if (mode.equals("avd") && !tpsmm) {
            throw new IllegalArgumentException("--mode avd needs a TPSMM model; " + file + " is a FOMM model");
        }
        org.fomm4j.animation.AnimationMode animationMode = org.fomm4j.animation.AnimationMode.parse(mode);
        try (AutoCloseable m = tpsmm ? ModelFiles.loadTpsmm(file) : ModelFiles.loadFomm(file)) {
            int h = tpsmm ? ((TpsmmModel) m).config().frameHeight() : ((FommModel) m).config().frameHeight();
            int w = tpsmm ? ((TpsmmModel) m).config().frameWidth() : ((FommModel) m).config().frameWidth();
            java.util.function.BiFunction<Evaluation.Video, Evaluation.Report, Evaluation.Report> evaluate = tpsmm
                    ? (video, sum) -> Evaluation.video((TpsmmModel) m, animationMode, video, sum)
                    : (video, sum) -> Evaluation.video((FommModel) m, video, sum);
            if (data.equals("creatures")) {
                CreatureDataset d = new CreatureDataset(h, w, 1);
                boolean train = split.equals("train");
                for (int v = 0; v < videos; v++) {
                    int video = v;
                    r = evaluate.apply(new Evaluation.Video() {
                        public int frames() {
                            return frames;
                        }

                        public float[] frame(int i) {
                            return train ? d.frame(video, CreatureDataset.TEST_IDENTITY + video, i) : d.testFrame(video, i);
                        }

                        public float[] points(int i) {
                            return train ? d.joints(video, CreatureDataset.TEST_IDENTITY + video, i) : d.testJoints(video, i);
                        }
                    }, r);
                }
            } else {
                VideoFolderData d = VideoFolderData.open(Path.of(data), "test", h, w);
                for (int v = 0; v < Math.min(videos, d.videos()); v++) {
                    float[][] f = d.frames(v);
                    r = evaluate.apply(new Evaluation.Video() {
                        public int frames() {
                            return f.length;
                        }

                        public float[] frame(int i) {
                            return f[i];
                        }

                        public float[] points(int i) {
                            return null;
                        }
                    }, r);
                }
            }
        }
        out.printf(Locale.ROOT, "%d videos, %d frames, %.1f s%n", r.videos(), r.frames(), (System.nanoTime() - t0) / 1e9);
        out.printf(Locale.ROOT, "reconstruction L1 %.5f   (repeating the source frame: %.5f; ratio %.3f)%n", r.l1(),
                r.copySourceL1(), r.l1() / r.copySourceL1());
        if (!Double.isNaN(r.akd())) {
            out.printf(Locale.ROOT, "motion keypoint distance %.2f px   (no motion: %.2f px), over %d joints%n", r.akd(),
                    r.identityAkd(), r.pointCount());
        }
        out.printf(Locale.ROOT, "frame 0 (driven by itself) L1 %.5f; source keypoint pairs closer than 1 px: %.0f%%%n",
                r.firstFrameL1(), 100 * r.collapsedKeypointShare());
        return 0;
    }
}
