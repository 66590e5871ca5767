package org.fomm4j.cli;

import java.io.PrintWriter;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.fomm4j.io.AnimationJob;

/**
 * A progress bar with frames/s and time left on a terminal (me.tongfei:progressbar); plain lines
 * ("animating: 50/169 frames, 2.1 frames/s, 57 s left") every few seconds otherwise.
 */
final class ConsoleProgress implements AnimationJob.Progress {
    private final PrintWriter err;
    private final boolean terminal;
    private ProgressBar bar;
    private String task;
    private long total;
    private long done;
    private long start;
    private long lastLine;

    ConsoleProgress(PrintWriter err) {
        this.err = err;
        java.io.Console c = System.console();
        this.terminal = c != null && c.isTerminal();
    }

    @Override
    public void start(String task, long total) {
        this.task = task;
        this.total = total;
        this.done = 0;
        this.start = System.nanoTime();
        this.lastLine = start;
        if (terminal) {
            bar = new ProgressBarBuilder().setTaskName(task).setInitialMax(Math.max(total, 0)).setUnit(" frames", 1)
                    .setStyle(ProgressBarStyle.COLORFUL_UNICODE_BLOCK).showSpeed().build();
        } else {
            err.println(task + ": " + (total > 0 ? total + " frames" : "starting"));
        }
    }

    @Override
    public void step() {
        done++;
        if (bar != null) {
            bar.step();
            return;
        }
        long now = System.nanoTime();
        if (now - lastLine > 5_000_000_000L) {
            lastLine = now;
            double fps = done / ((now - start) / 1e9);
            String left = total > 0 ? String.format(", %.0f s left", (total - done) / fps) : "";
            err.printf("%s: %d%s frames, %.2f frames/s%s%n", task, done, total > 0 ? "/" + total : "", fps, left);
        }
    }

    @Override
    public void end() {
        if (bar != null) {
            bar.close();
            bar = null;
        } else {
            double s = (System.nanoTime() - start) / 1e9;
            err.printf("%s: %d frames in %.1f s (%.2f frames/s)%n", task, done, s, done / Math.max(s, 1e-9));
        }
    }
}
