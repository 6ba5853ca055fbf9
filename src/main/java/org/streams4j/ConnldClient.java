package org.streams4j;

import java.nio.file.Path;
import java.time.Duration;

/**
 * Connects to a {@link ConnldServer}. STREAMS: {@code open(path, O_RDWR)},
 * which connld turns into a private pipe, then {@code isastream} to make sure
 * a server really is attached (a plain file is never written to). Portable:
 * {@code connect} to the socket at the path.
 */
public final class ConnldClient {
    private ConnldClient() {
    }

    /**
     * Connects, waiting as long as the server takes to accept.
     *
     * @param path where the server is bound
     * @return the connection
     * @throws StreamsException e.g. {@code connect /x: no server attached at /x}
     */
    public static Connection connect(Path path) throws StreamsException {
        String p = path.toString();
        Transport.checkPath("connect", p);
        if (Parking.parks()) {
            // A virtual thread must not sleep in the kernel's connect or open
            // (its carrier would be held): the timed path waits by parking.
            return finish(p, Transport.get().connect(p, Parking.FOREVER));
        }
        return finish(p, Transport.get().connect(p));
    }

    /**
     * Connects, giving up after {@code timeout}: {@code ETIMEDOUT}. No thread
     * of the caller's is left behind, and a connection that the server
     * completes after the caller gave up is closed, never leaked. On the
     * portable backend the connect itself does not block. On STREAMS the
     * kernel's open of a connld path cannot be cut short (it waits for the
     * server's I_RECVFD): one thread per path opens on behalf of every caller
     * waiting for that path, and a descriptor it gets for a caller who gave
     * up is closed at once (the server sees a connection that ends).
     *
     * @param path where the server is bound
     * @param timeout how long to wait for the server
     * @return the connection
     * @throws StreamTimeoutException when the server did not accept in time (ETIMEDOUT)
     * @throws StreamsException when the connect fails otherwise
     */
    public static Connection connect(Path path, Duration timeout) throws StreamsException {
        String p = path.toString();
        if (timeout.isNegative()) {
            throw new IllegalArgumentException("negative time-out: " + timeout);
        }
        Transport.checkPath("connect", p);
        return finish(p, Transport.get().connect(p, timeout));
    }

    private static Connection finish(String p, int fd) throws StreamsException {
        StreamFd s = StreamFd.adopt(fd);
        s.descriptor().label("to " + p);     // "write fd 5 to /run/x: EPIPE"
        try {
            Transport.get().verifyConnected(p, s);
            return new Connection(s, null, null, false);     // the server's credentials: read when asked
        } catch (StreamsException | RuntimeException e) {
            s.close();
            throw e;
        }
    }

    /**
     * Something that is not a server is at the path (a plain file, a directory):
     * ENOSTR on STREAMS (isastream is false), ENOTSOCK on the portable backend.
     */
    static StreamsException notAttached(String p, int errno) {
        return new StreamsException("connect", p, errno, "no server attached at " + p);
    }

    static String human(Duration d) {
        long ms = d.toMillis();
        return ms % 1000 == 0 ? (ms / 1000) + "s" : ms + "ms";
    }
}
