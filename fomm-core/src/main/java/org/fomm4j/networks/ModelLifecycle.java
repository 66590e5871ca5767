package org.fomm4j.networks;

/**
 * What both model families share about their lifetime: an optional resource (the memory-mapped
 * weight file the model was built from) closed with the model, and {@link IllegalStateException}
 * for any use after {@link #close()}.
 */
public abstract class ModelLifecycle implements AutoCloseable {
    private AutoCloseable resource;
    private volatile boolean closed;

    /** Ties {@code r} to this model; it is closed with it. */
    protected final void attach(AutoCloseable r) {
        this.resource = r;
    }

    /** @throws IllegalStateException if the model is closed */
    public final void checkOpen() {
        if (closed) {
            throw new IllegalStateException("model is closed");
        }
    }

    /** Releases the attached resource; animators of this model fail afterwards. */
    @Override
    public final void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (resource != null) {
            try {
                resource.close();
            } catch (Exception e) {
                throw new IllegalStateException("cannot close model resource: " + e.getMessage(), e);
            }
        }
    }
}
