package org.streams4j;

/**
 * An operation on a {@link StreamFd} that is closed, or was closed while the
 * operation waited. {@link StreamInterruptedException} is the kind a thread
 * gets whose interrupt closed it.
 */
public class StreamClosedException extends StreamsException {
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

    /**
     * A closed descriptor, with an errno and explanation of its own.
     *
     * @param operation the operation
     * @param target the descriptor, {@code fd 7}
     * @param errno the errno
     * @param detail what it means here
     */
    protected StreamClosedException(String operation, String target, int errno, String detail) {
        super(operation, target, errno, detail);
    }
}
