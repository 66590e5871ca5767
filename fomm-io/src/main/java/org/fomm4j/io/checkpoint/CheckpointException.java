package org.fomm4j.io.checkpoint;

import java.io.IOException;

/** A checkpoint that cannot be read: truncated, corrupt, of an unknown format, or refused as unsafe. */
public class CheckpointException extends IOException {
    public CheckpointException(String message) {
        super(message);
    }

    public CheckpointException(String message, Throwable cause) {
        super(message, cause);
    }
}
