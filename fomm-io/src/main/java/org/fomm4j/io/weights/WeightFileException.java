package org.fomm4j.io.weights;

import java.io.IOException;

/** A weight file that cannot be written or read: not ours, truncated, corrupt, or unwritable output. */
public class WeightFileException extends IOException {
    public WeightFileException(String message) {
        super(message);
    }

    public WeightFileException(String message, Throwable cause) {
        super(message, cause);
    }
}
