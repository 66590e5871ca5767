package org.fomm4j.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.fomm4j.animation.AnimationMode;
import org.fomm4j.animation.FommAnimator;
import org.fomm4j.animation.TpsmmAnimator;
import org.fomm4j.config.FommConfig;
import org.fomm4j.config.TpsmmConfig;
import org.fomm4j.kernels.KernelProvider;
import org.fomm4j.kernels.Parallel;
import org.fomm4j.networks.fomm.FommModel;
import org.fomm4j.networks.tpsmm.TpsmmModel;
import org.fomm4j.tensor.Tensor;

/**
 * fomm4j against the peers a user would pick instead, interleaved on this machine: each round times
 * fomm4j's FOMM and TPSMM animation step (full-size vox-256 configs, random weights, source side once),
 * then runs the peers' script ({@code peers.sh THREADS REPS}: PyTorch running the reference code and ONNX
 * Runtime Java running its ONNX export, same step, same thread count), and at the end prints seconds per
 * frame (median per round, then the median over rounds), the ratio to the faster peer, the CPU model
 * and ISA.
 *
 * <p>fomm4j's steps are timed after {@code --warmup} frames (default 20; the JIT compiles the code that runs
 * once per frame only after tens of frames), whose times are printed too: first frame, then the rest.
 *
 * <p>Usage: {@code PeerComparison [--peers DIR] [--rounds N] [--reps N] [--warmup N]}; threads from
 * {@code -Dfomm4j.threads} (default: all cores). Without a peers directory only fomm4j is timed.
 */
public final class PeerComparison {
    private static final Pattern PEER_LINE = Pattern.compile("^(torch|ort) (fomm|tpsmm) step s ([0-9.]+).*");

    private PeerComparison() {
    }

    public static void main(String[] args) throws IOException, InterruptedException {
        Path peers = Path.of("../shared/peers");
        int rounds = 2, reps = 5, warmup = 20;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--peers" -> peers = Path.of(args[++i]);
                case "--rounds" -> rounds = Integer.parseInt(args[++i]);
                case "--reps" -> reps = Integer.parseInt(args[++i]);
                case "--warmup" -> warmup = Integer.parseInt(args[++i]);
                default -> throw new IllegalArgumentException("unknown argument " + args[i]
                        + " (usage: PeerComparison [--peers DIR] [--rounds N] [--reps N] [--warmup N])");
            }
        }
        int threads = Parallel.threads();
        boolean havePeers = Files.isExecutable(peers.resolve("peers.sh"));
        System.out.println(Machine.describe());
        System.out.printf("threads: %d; kernels: %s; FMA peak (12 chains/thread): %.0f GFLOP/s%n", threads,
                KernelProvider.get().name(), FmaPeak.measure(threads));
        if (!havePeers) {
            System.out.println("no peers at " + peers.toAbsolutePath() + " (see README, 'Comparing with the peers'):"
                    + " timing fomm4j only");
        }

        FommConfig fc = BenchModels.fommConfig("vox-256");
        TpsmmConfig tc = BenchModels.tpsmmConfig("vox-256");
        FommModel fomm = FommModel.createRandom(fc, 42, KernelProvider.get());
        TpsmmModel tpsmm = TpsmmModel.createRandom(tc, 42, KernelProvider.get());
        Tensor source = BenchModels.image(1, 256, 256), driving = BenchModels.image(2, 256, 256);
        Map<String, List<Double>> results = new LinkedHashMap<>();
        try (FommAnimator fa = new FommAnimator(fomm, source, AnimationMode.RELATIVE);
             TpsmmAnimator ta = new TpsmmAnimator(tpsmm, source, AnimationMode.RELATIVE, false)) {
            // The JIT needs about 20 frames to compile the once-per-frame code paths; a video has hundreds.
            System.out.printf("fomm4j warm-up (%d frames each; the peers run 1): FOMM %s s, TPSMM %s s%n", warmup,
                    warm(() -> fa.animate(driving), warmup), warm(() -> ta.animate(driving), warmup));
            for (int r = 1; r <= rounds; r++) {
                System.out.printf("round %d/%d%n", r, rounds);
                record(results, "fomm4j fomm", time(() -> fa.animate(driving), reps));
                record(results, "fomm4j tpsmm", time(() -> ta.animate(driving), reps));
                if (havePeers) {
                    runPeers(peers, threads, reps, results);
                }
            }
        }
        System.out.println();
        System.out.printf("seconds per frame (median of %d steps per round; rounds: %d, interleaved), %d threads%n", reps,
                rounds, threads);
        System.out.println("| model | fomm4j | PyTorch (reference code) | ONNX Runtime Java (reference graph) | fomm4j speed-up over the faster peer |");
        System.out.println("| --- | --- | --- | --- | --- |");
        for (String fam : List.of("fomm", "tpsmm")) {
            double ours = median(results.get("fomm4j " + fam));
            double torch = median(results.get("torch " + fam)), ort = median(results.get("ort " + fam));
            double best = Math.min(Double.isNaN(torch) ? Double.MAX_VALUE : torch, Double.isNaN(ort) ? Double.MAX_VALUE : ort);
            System.out.printf("| %s | %.3f %s | %s | %s | %s |%n", fam.toUpperCase(), ours, rounds(results.get("fomm4j " + fam)),
                    fmt(torch, results.get("torch " + fam)), fmt(ort, results.get("ort " + fam)),
                    best == Double.MAX_VALUE ? "n/a" : String.format("%.2fx", best / ours));
        }
    }

    private static String fmt(double v, List<Double> all) {
        return Double.isNaN(v) ? "n/a" : String.format("%.3f %s", v, rounds(all));
    }

    private static String rounds(List<Double> all) {
        StringBuilder sb = new StringBuilder("(");
        for (double d : all) {
            sb.append(sb.length() > 1 ? ", " : "").append(String.format("%.3f", d));
        }
        return sb.append(")").toString();
    }

    private static void record(Map<String, List<Double>> results, String key, double seconds) {
        results.computeIfAbsent(key, k -> new ArrayList<>()).add(seconds);
        System.out.printf("  %s step s %.3f%n", key, seconds);
    }

    /** Runs {@code n} warm-up frames; "first + rest" seconds. */
    private static String warm(Runnable step, int n) {
        long t0 = System.nanoTime();
        step.run();
        long t1 = System.nanoTime();
        for (int i = 1; i < n; i++) {
            step.run();
        }
        long t2 = System.nanoTime();
        return String.format("%.2f + %.2f", (t1 - t0) / 1e9, (t2 - t1) / 1e9);
    }

    private static double time(Runnable step, int reps) {
        double[] t = new double[reps];
        for (int i = 0; i < reps; i++) {
            long t0 = System.nanoTime();
            step.run();
            t[i] = (System.nanoTime() - t0) / 1e9;
        }
        Arrays.sort(t);
        return t[reps / 2];
    }

    private static void runPeers(Path peers, int threads, int reps, Map<String, List<Double>> results)
            throws IOException, InterruptedException {
        Process p = new ProcessBuilder(peers.resolve("peers.sh").toString(), Integer.toString(threads),
                Integer.toString(reps)).redirectErrorStream(true).start();
        try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = in.readLine()) != null) {
                Matcher m = PEER_LINE.matcher(line.trim());
                if (m.matches()) {
                    record(results, m.group(1) + " " + m.group(2), Double.parseDouble(m.group(3)));
                } else if (!line.isBlank()) {
                    System.out.println("  peers: " + line);
                }
            }
        }
        if (p.waitFor() != 0) {
            System.out.println("  peers.sh exited with status " + p.exitValue());
        }
    }

    /** Median of the per-round medians (mean of the middle two for an even count); NaN when absent. */
    private static double median(List<Double> v) {
        if (v == null || v.isEmpty()) {
            return Double.NaN;
        }
        double[] a = v.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return a.length % 2 == 1 ? a[a.length / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2;
    }
}
