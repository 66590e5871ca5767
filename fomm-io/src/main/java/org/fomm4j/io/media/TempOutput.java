package org.fomm4j.io.media;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/** A temporary file or directory beside a target, renamed over it at the end or deleted on failure. */
final class TempOutput {
    final Path target;
    final Path temp;
    private boolean done;

    private TempOutput(Path target, Path temp) {
        this.target = target;
        this.temp = temp;
    }

    static TempOutput file(Path target) throws IOException {
        try {
            Path t = org.fomm4j.io.Outputs.temporaryFile(target);
            readable(t, false);
            return new TempOutput(target, t);
        } catch (IOException e) {
            throw new MediaException("cannot write " + target + ": " + e.getMessage(), e);
        }
    }

    static TempOutput directory(Path target) throws IOException {
        try {
            Path t = org.fomm4j.io.Outputs.temporaryDirectory(target);
            readable(t, true);
            return new TempOutput(target, t);
        } catch (IOException e) {
            throw new MediaException("cannot write " + target + ": " + e.getMessage(), e);
        }
    }

    /** Temporary files are created private; the output should have the usual permissions (644 / 755). */
    static void readable(Path p, boolean dir) {
        try {
            Files.setPosixFilePermissions(p, java.nio.file.attribute.PosixFilePermissions.fromString(dir ? "rwxr-xr-x" : "rw-r--r--"));
        } catch (UnsupportedOperationException | IOException e) {
            // Not a POSIX file system: keep the defaults.
        }
    }

    void commit() throws IOException {
        try {
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING);
        }
        org.fomm4j.io.Outputs.release(temp);
        done = true;
    }

    void discard() throws IOException {
        if (done) {
            return;
        }
        org.fomm4j.io.Outputs.delete(temp);
    }
}
