package org.fomm4j.io;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * Rules for every file fomm4j writes.
 * <ul>
 *   <li>An output is never one of the inputs, nor another output (compared by real path, so
 *       {@code ./a.mp4}, {@code a.mp4} and a symbolic link to it are the same file), and its folder
 *       exists; checked before any work starts ({@link #check}).</li>
 *   <li>Outputs are written into a temporary file or folder beside the target, named
 *       {@code .NAME.fomm4j-PID-N.tmp}, and renamed over it at the end. A JVM shutdown hook deletes the
 *       temporaries still open (SIGINT, SIGTERM, {@code System.exit}); ones left by a run that was
 *       killed outright (SIGKILL) are deleted by the next run writing the same target, once their
 *       process is gone ({@link #temporaryFile}, {@link #temporaryDirectory}).</li>
 * </ul>
 */
public final class Outputs {
    private static final Set<Path> LIVE = ConcurrentHashMap.newKeySet();
    private static final long PID = ProcessHandle.current().pid();
    private static volatile boolean hooked;

    private Outputs() {
    }

    /**
     * Checks that no output is an input or another output, and that every output's folder exists.
     *
     * @param inputs  what is read, by option name (null paths are skipped)
     * @param outputs what is written, by option name (null paths are skipped)
     * @throws IllegalArgumentException naming both options and the path
     */
    public static void check(Map<String, Path> inputs, Map<String, Path> outputs) {
        Map<Path, String> seen = new LinkedHashMap<>();
        for (var e : inputs.entrySet()) {
            if (e.getValue() != null) {
                seen.putIfAbsent(real(e.getValue()), e.getKey());
            }
        }
        for (var e : outputs.entrySet()) {
            Path p = e.getValue();
            if (p == null) {
                continue;
            }
            Path abs = p.toAbsolutePath().normalize();
            if (abs.getParent() == null || !Files.isDirectory(abs.getParent())) {
                throw new IllegalArgumentException(e.getKey() + " " + p + ": folder " + abs.getParent() + " does not exist");
            }
            String other = seen.putIfAbsent(real(p), e.getKey());
            if (other != null) {
                throw new IllegalArgumentException(e.getKey() + " " + p + " is the same file as " + other
                        + "; writing it would destroy it (choose another path)");
            }
        }
    }

    /** The path with symbolic links and {@code ..} resolved, as far as it exists. */
    static Path real(Path p) {
        Path abs = p.toAbsolutePath().normalize();
        try {
            return abs.toRealPath();
        } catch (IOException e) {
            Path parent = abs.getParent();
            return parent == null ? abs : real(parent).resolve(abs.getFileName());
        }
    }

    /** A new temporary file beside {@code target} (deleted at JVM exit unless {@link #release}d). */
    public static Path temporaryFile(Path target) throws IOException {
        Path abs = target.toAbsolutePath();
        removeStale(abs);
        Path t = Files.createTempFile(abs.getParent(), prefix(abs), ".tmp");
        register(t);
        return t;
    }

    /** A new temporary folder beside {@code target} (deleted at JVM exit unless {@link #release}d). */
    public static Path temporaryDirectory(Path target) throws IOException {
        Path abs = target.toAbsolutePath();
        removeStale(abs);
        Path t = Files.createTempDirectory(abs.getParent(), prefix(abs));
        register(t);
        return t;
    }

    /** The temporary was renamed over its target or deleted: the shutdown hook forgets it. */
    public static void release(Path temp) {
        LIVE.remove(temp);
    }

    /** Deletes a temporary file or folder (and forgets it). */
    public static void delete(Path temp) throws IOException {
        try {
            if (Files.exists(temp, LinkOption.NOFOLLOW_LINKS)) {
                try (Stream<Path> s = Files.walk(temp)) {
                    for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                        Files.deleteIfExists(p);
                    }
                }
            }
        } finally {
            release(temp);
        }
    }

    private static String prefix(Path abs) {
        return "." + abs.getFileName() + ".fomm4j-" + PID + "-";
    }

    private static void register(Path t) {
        if (!hooked) {
            synchronized (Outputs.class) {
                if (!hooked) {
                    Runtime.getRuntime().addShutdownHook(new Thread(Outputs::deleteLive, "fomm4j-temporaries"));
                    hooked = true;
                }
            }
        }
        LIVE.add(t);
    }

    private static void deleteLive() {
        for (Path t : List.copyOf(LIVE)) {
            try {
                delete(t);
            } catch (IOException | RuntimeException e) {
                // Exiting: nothing better to do than leave it for the next run's stale-file sweep.
            }
        }
    }

    /** Temporaries of {@code abs} left by runs whose process no longer exists. */
    private static void removeStale(Path abs) {
        String head = "." + abs.getFileName() + ".fomm4j-";
        List<Path> stale = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(abs.getParent(), ".*.tmp")) {
            for (Path p : ds) {
                String name = p.getFileName().toString();
                if (!name.startsWith(head)) {
                    continue;
                }
                String rest = name.substring(head.length());
                int dash = rest.indexOf('-');
                long pid;
                try {
                    pid = Long.parseLong(dash < 0 ? rest : rest.substring(0, dash));
                } catch (NumberFormatException e) {
                    continue;
                }
                if (pid != PID && ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false) == false) {
                    stale.add(p);
                }
            }
        } catch (IOException | RuntimeException e) {
            return;
        }
        for (Path p : stale) {
            try {
                delete(p);
            } catch (IOException e) {
                // Not ours to insist on: the new run still writes its own temporary.
            }
        }
    }
}
