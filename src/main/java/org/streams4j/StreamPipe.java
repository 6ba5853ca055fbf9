package org.streams4j;

import java.io.Closeable;
import org.streams4j.internal.Shim;

/**
 * Two connected full-duplex ends: a STREAMS pipe ({@code pipe(2)} on illumos),
 * an AF_UNIX socketpair elsewhere. Each end has its own owner; closing the
 * pipe closes both.
 */
public final class StreamPipe implements Closeable {
    private final StreamFd first;
    private final StreamFd second;

    private StreamPipe(StreamFd first, StreamFd second) {
        this.first = first;
        this.second = second;
    }

    /**
     * A new pipe.
     *
     * @return both ends, each owned by its StreamFd
     * @throws StreamsException e.g. EMFILE when descriptors have run out
     */
    public static StreamPipe open() throws StreamsException {
        return open(0);
    }

    /**
     * A new pipe whose ends keep message boundaries: a STREAMS pipe (which
     * always does; this one leaves fifofs' fast mode at once, where writes
     * would join into one message until the first message call), an AF_UNIX
     * {@code SOCK_SEQPACKET} socketpair on the
     * portable backend, where each write is one message and each read takes
     * at most one ({@link StreamMessages}).
     *
     * @return both ends, each owned by its StreamFd
     * @throws StreamsException e.g. EMFILE when descriptors have run out
     */
    public static StreamPipe openMessages() throws StreamsException {
        return open(Shim.SOCK_MESSAGES);
    }

    private static StreamPipe open(int flags) throws StreamsException {
        Platform.ensureAvailability();
        int[] fds = new int[2];
        int r = Shim.s4j_pipe(fds, flags);
        if (r < 0) {
            throw new StreamsException("pipe", "", -r);
        }
        return new StreamPipe(StreamFd.adopt(fds[0]), StreamFd.adopt(fds[1]));
    }

    /**
     * One end: fds[0] of pipe(2) or socketpair(2).
     *
     * @return the first end
     */
    public StreamFd first() {
        return first;
    }

    /**
     * The other end: fds[1].
     *
     * @return the second end
     */
    public StreamFd second() {
        return second;
    }

    @Override
    public void close() {
        first.close();
        second.close();
    }
}
