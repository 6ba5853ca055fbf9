package org.streams4j;

/**
 * A blocking operation whose thread was interrupted, as
 * {@link java.nio.channels.ClosedByInterruptException} is for the JDK's
 * channels: the interrupt closed the descriptor (or the server), which woke
 * the operation, and the thread's interrupt status is still set. A thread
 * that is interrupted already when it starts a blocking operation gets this
 * at once, and the descriptor is closed. {@code Thread.interrupt()},
 * {@code Future.cancel(true)} and {@code ExecutorService.shutdownNow()} so end
 * a read, a write, a poll, {@code receiveFd}, {@code sendFd}, {@code accept},
 * {@code serve} or {@code serveEvents} (the server is closed, its path
 * removed), and a timed {@code connect} (which closes nothing: a connection
 * that completes later is closed for nobody). An untimed {@code connect} is
 * not interruptible (the open of a connld path waits in the kernel); give it
 * a time-out.
 */
public final class StreamInterruptedException extends StreamClosedException {
    private static final long serialVersionUID = 1L;

    /**
     * The operation's thread was interrupted, which closed the descriptor.
     *
     * @param operation the operation
     * @param target the descriptor, {@code fd 7}, or a server's path
     */
    public StreamInterruptedException(String operation, String target) {
        super(operation, target, Errno.EINTR, "interrupted");
    }
}
