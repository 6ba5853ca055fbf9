package org.streams4j;

/** An operation on a {@link StreamFd} that is closed, or was closed while the operation waited. */
public final class StreamClosedException extends StreamsException {
    private static final long serialVersionUID = 1L;

    /**
     * The descriptor was or got closed.
     *
     * @param operation the operation
     * @param target the descriptor, {@code fd 7}
     */
    public StreamClosedException(String operation, String target) {
        super(operation, target, Errno.EBADF, "closed");
    }
}
