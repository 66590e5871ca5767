package org.fomm4j.io.media;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;
import org.fomm4j.io.weights.AtomicFiles;
import org.fomm4j.tensor.Tensor;

/**
 * A PNG contact sheet instead of a video: up to {@code rows} frames spread over the whole video, stacked
 * top to bottom (each row one frame, e.g. source | driving | result), written atomically at
 * {@link #finish()}. The length need not be known: every other kept frame is dropped and the stride
 * doubled whenever twice the rows are held, so memory stays at {@code 2 rows} frames.
 */
public final class ContactSheetSink implements VideoSink {
    private final Path output;
    private final int rows;
    private final List<Tensor> kept = new ArrayList<>();
    private long stride = 1;
    private long index;

    /** @throws IllegalArgumentException if {@code rows < 1} */
    public ContactSheetSink(Path output, int rows) {
        if (rows < 1) {
            throw new IllegalArgumentException("a contact sheet needs at least one row");
        }
        this.output = output;
        this.rows = rows;
    }

    @Override
    public void write(Tensor frame) {
        if (index++ % stride != 0) {
            return;
        }
        kept.add(frame.copy());
        if (kept.size() >= 2 * rows) {
            for (int i = kept.size() - 1; i >= 0; i--) {
                if (i % 2 == 1) {
                    kept.remove(i);
                }
            }
            stride *= 2;
        }
    }

    @Override
    public void finish() throws IOException {
        if (kept.isEmpty()) {
            throw new MediaException("contact sheet " + output + ": no frames");
        }
        List<Tensor> chosen = new ArrayList<>();
        double step = Math.max(1.0, kept.size() / (double) rows);
        for (double i = 0; i < kept.size() && chosen.size() < rows; i += step) {
            chosen.add(kept.get((int) i));
        }
        int h = chosen.get(0).dim(2), w = chosen.get(0).dim(3), gap = 2;
        BufferedImage sheet = new BufferedImage(w, chosen.size() * (h + gap) - gap, BufferedImage.TYPE_INT_RGB);
        var g = sheet.createGraphics();
        g.setColor(java.awt.Color.WHITE);
        g.fillRect(0, 0, sheet.getWidth(), sheet.getHeight());
        for (int r = 0; r < chosen.size(); r++) {
            g.drawImage(Images.toImage(chosen.get(r)), 0, r * (h + gap), null);
        }
        g.dispose();
        AtomicFiles.write(output, o -> ImageIO.write(sheet, "png", o));
    }

    /** Drops the frames; the sheet exists only if {@link #finish()} completed (atomic write). */
    @Override
    public void close() {
        kept.clear();
    }
}
