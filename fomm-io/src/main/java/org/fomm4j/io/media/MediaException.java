package org.fomm4j.io.media;

import java.io.IOException;

/** Media that cannot be read or written: missing, unreadable, unsupported format, empty. */
public class MediaException extends IOException {
    public MediaException(String message) {
        super(message);
    }

    public MediaException(String message, Throwable cause) {
        super(message, cause);
    }
}
