package org.streams4j;

/** An operation on a {@link StreamFd} that is closed, or was closed while the operation waited. */
public final class StreamClosedException extends StreamsException {
    private static final long serialVersionUID = 1L;

    public StreamClosedException(String operation, String target) {
        super(operation, target, Errno.EBADF, "closed");
    }
}
