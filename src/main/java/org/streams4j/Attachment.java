package org.streams4j;

import java.io.Closeable;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;

/** A stream attached at a path; {@link #close()} detaches it once. */
public final class Attachment implements Closeable {
    private final Path path;
    private final AtomicBoolean detached = new AtomicBoolean();

    Attachment(Path path) {
        this.path = path;
    }

    /**
     * Where the stream is attached.
     *
     * @return the path
     */
    public Path path() {
        return path;
    }

    /**
     * fdetach now; an error is thrown only for the first call.
     *
     * @throws StreamsException e.g. EPERM when this process does not own the path
     */
    public void detach() throws StreamsException {
        if (detached.compareAndSet(false, true)) {
            Streams.fdetach(path);
        }
    }

    /** Detaches, ignoring a path that is no longer attached (EINVAL). */
    @Override
    public void close() throws StreamsException {
        try {
            detach();
        } catch (StreamsException e) {
            if (e.errno() != Errno.EINVAL) {
                throw e;
            }
        }
    }
}
