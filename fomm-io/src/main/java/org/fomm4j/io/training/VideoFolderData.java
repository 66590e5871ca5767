package org.fomm4j.io.training;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.fomm4j.io.media.Images;
import org.fomm4j.io.media.MediaException;
import org.fomm4j.io.media.VideoSource;
import org.fomm4j.training.data.TrainingData;

/**
 * Users' own videos in the reference layout: {@code ROOT/train/} and {@code ROOT/test/} holding videos
 * ({@code .mp4}, {@code .gif}) or folders of PNG frames, one per video (a root without {@code train/} is
 * used as the training split itself). Frames are resized to the model's frame size. A video's frames are
 * decoded once and kept (float32, {@code 3 H W} each) up to {@value #BUDGET_MB} MB in all; videos beyond that
 * are decoded again when drawn.
 */
public final class VideoFolderData implements TrainingData {
    static final long BUDGET_MB = 4096;

    private final List<Path> videos;
    private final int height;
    private final int width;
    private final ConcurrentHashMap<Path, float[][]> cache = new ConcurrentHashMap<>();
    private final AtomicLong cached = new AtomicLong();

    private VideoFolderData(List<Path> videos, int height, int width) {
        this.videos = videos;
        this.height = height;
        this.width = width;
    }

    /**
     * @param split {@code train} or {@code test}
     * @throws MediaException if the folder does not exist or holds no video
     */
    public static VideoFolderData open(Path root, String split, int height, int width) throws IOException {
        if (!Files.isDirectory(root)) {
            throw new MediaException("training data " + root + " is not a folder (use 'creatures' for the procedural data)");
        }
        Path dir = Files.isDirectory(root.resolve(split)) ? root.resolve(split) : root;
        List<Path> videos = new ArrayList<>();
        try (Stream<Path> s = Files.list(dir)) {
            s.sorted().forEach(p -> {
                String n = p.getFileName().toString().toLowerCase(Locale.ROOT);
                if (Files.isDirectory(p) || n.endsWith(".mp4") || n.endsWith(".mov") || n.endsWith(".m4v") || n.endsWith(".gif")) {
                    videos.add(p);
                }
            });
        }
        if (videos.isEmpty()) {
            throw new MediaException("no videos in " + dir + " (expected .mp4/.gif files or folders of .png frames)");
        }
        return new VideoFolderData(videos, height, width);
    }

    @Override
    public int frameHeight() {
        return height;
    }

    @Override
    public int frameWidth() {
        return width;
    }

    @Override
    public int videos() {
        return videos.size();
    }

    public Path video(int i) {
        return videos.get(i);
    }

    /** Every frame of video {@code i}, resized: {@code [frames][3 H W]}. */
    public float[][] frames(int i) {
        Path p = videos.get(i);
        float[][] f = cache.get(p);
        if (f != null) {
            return f;
        }
        f = decode(p);
        long bytes = (long) f.length * 3 * height * width * 4;
        if (cached.addAndGet(bytes) <= BUDGET_MB << 20) {
            cache.putIfAbsent(p, f);
        } else {
            cached.addAndGet(-bytes);
        }
        return f;
    }

    private float[][] decode(Path p) {
        List<float[]> frames = new ArrayList<>();
        try (VideoSource src = VideoSource.open(p)) {
            for (BufferedImage img; (img = src.next()) != null; ) {
                frames.add(Images.toTensor(img, height, width).toArray());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (frames.size() < 2) {
            throw new UncheckedIOException(new MediaException("video " + p + " has fewer than 2 frames"));
        }
        return frames.toArray(float[][]::new);
    }

    @Override
    public void pair(SplittableRandom rng, int maxFrameGap, float[] source, float[] driving, int offset) {
        float[][] f = frames(rng.nextInt(videos.size()));
        int a = rng.nextInt(f.length), b;
        if (maxFrameGap >= f.length - 1) {
            b = rng.nextInt(f.length);
        } else {
            int lo = Math.max(0, a - maxFrameGap), hi = Math.min(f.length - 1, a + maxFrameGap);
            b = lo + rng.nextInt(hi - lo + 1);
        }
        System.arraycopy(f[a], 0, source, offset, f[a].length);
        System.arraycopy(f[b], 0, driving, offset, f[b].length);
    }
}
