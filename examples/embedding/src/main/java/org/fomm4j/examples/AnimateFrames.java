package org.fomm4j.examples;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.fomm4j.animation.AnimationMode;
import org.fomm4j.animation.Animator;
import org.fomm4j.io.LoadedModel;
import org.fomm4j.io.media.Images;
import org.fomm4j.tensor.Tensor;

/** Animates a source image with a folder of driving frames (PNG), in-process, into a folder of PNGs. */
public final class AnimateFrames {
    public static void main(String[] args) throws IOException {
        Path model = Path.of(args[0]);          // a .fomm4j model file (./fomm convert makes one)
        Path source = Path.of(args[1]);         // the still image to animate
        Path drivingFrames = Path.of(args[2]);  // a folder of driving frames, *.png
        Path outputFrames = Path.of(args[3]);   // where the animated frames go
        Files.createDirectories(outputFrames);

        try (LoadedModel m = LoadedModel.open(model, null)) {
            int h = m.frameHeight(), w = m.frameWidth();
            Tensor sourceImage = Images.toTensor(Images.read(source), h, w);   // [1, 3, h, w] in [0, 1]
            try (Animator animator = m.animator(sourceImage, AnimationMode.RELATIVE, false);
                 Stream<Path> listing = Files.list(drivingFrames)) {
                List<Path> frames = listing.filter(p -> p.toString().endsWith(".png")).sorted().toList();
                for (Path frame : frames) {
                    Tensor driving = Images.toTensor(Images.read(frame), h, w);
                    Tensor prediction = animator.animate(driving);                 // [1, 3, h, w] in (0, 1)
                    ImageIO.write(Images.toImage(prediction), "png",
                            outputFrames.resolve(frame.getFileName()).toFile());
                }
                System.out.println("animated " + frames.size() + " frames into " + outputFrames);
            }
        }
    }
}
