package org.fomm4j.io;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Outputs never overwrite inputs, and temporaries of killed runs are swept by the next run. */
class OutputsTest {
    @TempDir
    Path tmp;

    private static Map<String, Path> map(String k1, Path v1, String k2, Path v2) {
        Map<String, Path> m = new LinkedHashMap<>();
        m.put(k1, v1);
        m.put(k2, v2);
        return m;
    }

    @Test
    void anOutputThatIsAnInputUnderAnotherSpellingIsRefused() throws IOException {
        Path driving = Files.writeString(tmp.resolve("driving.mp4"), "video");
        Path link = Files.createSymbolicLink(tmp.resolve("link.mp4"), driving);
        Path sub = Files.createDirectory(tmp.resolve("sub"));
        for (Path output : new Path[] {driving, link, sub.resolve("../driving.mp4"), tmp.resolve("./driving.mp4")}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Outputs.check(map("--driving", driving, "--source", null), map("--output", output, "--raw-output", null)));
            assertTrue(e.getMessage().contains("--output") && e.getMessage().contains("--driving"), e.getMessage());
        }
        IllegalArgumentException two = assertThrows(IllegalArgumentException.class, () -> Outputs.check(Map.of(),
                map("--output", tmp.resolve("a.npy"), "--raw-output", tmp.resolve("sub/../a.npy"))));
        assertTrue(two.getMessage().contains("--raw-output") && two.getMessage().contains("--output"), two.getMessage());
        IllegalArgumentException folder = assertThrows(IllegalArgumentException.class, () -> Outputs.check(Map.of(),
                map("--output", tmp.resolve("missing/out.mp4"), "--raw-output", null)));
        assertTrue(folder.getMessage().contains("does not exist"), folder.getMessage());
        Outputs.check(map("--driving", driving, "--source", null), map("--output", tmp.resolve("out.mp4"), "--raw-output", null));
    }

    @Test
    void temporariesOfDeadRunsAreSweptOthersKept() throws IOException, InterruptedException {
        Process p = new ProcessBuilder("true").start();
        long dead = p.pid();
        p.waitFor();
        Path target = tmp.resolve("out.mp4");
        Path stale = Files.writeString(tmp.resolve(".out.mp4.fomm4j-" + dead + "-42.tmp"), "partial");
        Path alive = Files.writeString(tmp.resolve(".out.mp4.fomm4j-" + ProcessHandle.current().parent().orElseThrow().pid() + "-7.tmp"), "running");
        Path otherTarget = Files.writeString(tmp.resolve(".other.mp4.fomm4j-" + dead + "-1.tmp"), "not ours");
        Path mine = Outputs.temporaryFile(target);
        assertFalse(Files.exists(stale), "the dead run's temporary is removed");
        assertTrue(Files.exists(alive), "a running process's temporary is kept");
        assertTrue(Files.exists(otherTarget), "another target's temporary is kept");
        assertTrue(mine.getFileName().toString().startsWith(".out.mp4.fomm4j-" + ProcessHandle.current().pid() + "-"));
        Outputs.delete(mine);
        assertFalse(Files.exists(mine));
    }
}
