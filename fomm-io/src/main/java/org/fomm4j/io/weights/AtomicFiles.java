package org.fomm4j.io.weights;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * Writes a file atomically: into a temporary file beside the target, flushed to disk, then renamed
 * over the target. On any failure the temporary file is deleted and the target is untouched.
 */
public final class AtomicFiles {
    /** Writes the content of a file. */
    @FunctionalInterface
    public interface Writer {
        void write(OutputStream out) throws IOException;
    }

    private AtomicFiles() {
    }

    /** @throws IOException with a message naming {@code target} if it cannot be written */
    public static void write(Path target, Writer writer) throws IOException {
        Path abs = target.toAbsolutePath();
        Path dir = abs.getParent();
        if (dir == null || !Files.isDirectory(dir)) {
            throw new WeightFileException("cannot write " + target + ": directory " + dir + " does not exist");
        }
        if (Files.isDirectory(abs)) {
            throw new WeightFileException("cannot write " + target + ": it is a directory");
        }
        Path tmp;
        try {
            tmp = org.fomm4j.io.Outputs.temporaryFile(abs);
            try {
                Files.setPosixFilePermissions(tmp, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
            } catch (UnsupportedOperationException e) {
                // Not a POSIX file system: keep the defaults.
            }
        } catch (AccessDeniedException | NoSuchFileException e) {
            throw new WeightFileException("cannot write " + target + ": directory " + dir + " is not writable", e);
        } catch (IOException e) {
            throw new WeightFileException("cannot write " + target + ": " + e.getMessage(), e);
        }
        boolean done = false;
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
                 OutputStream out = new java.io.BufferedOutputStream(Channels.newOutputStream(ch), 1 << 20)) {
                writer.write(out);
                out.flush();
                ch.force(true);
            }
            try {
                Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING);
            }
            org.fomm4j.io.Outputs.release(tmp);
            done = true;
        } catch (WeightFileException e) {
            throw e;
        } catch (IOException e) {
            throw new WeightFileException("cannot write " + target + ": " + e.getMessage(), e);
        } finally {
            if (!done) {
                org.fomm4j.io.Outputs.delete(tmp);
            }
        }
    }
}
