package org.streams4j;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.streams4j.internal.PortableShim;
import org.streams4j.internal.Shim;
import org.streams4j.internal.StreamsShim;

/**
 * Connects to a {@link ConnldServer}. STREAMS: {@code open(path, O_RDWR)},
 * which connld turns into a private pipe, then {@code isastream} to make sure
 * a server really is attached (a plain file is never written to). Portable:
 * {@code connect} to the socket at the path.
 */
public final class ConnldClient {
    private static final ExecutorService OPENERS = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "streams4j-connect");
        t.setDaemon(true);
        return t;
    });

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
        int fd = open(p);
        return finish(p, fd);
    }

    /**
     * Connects, giving up after {@code timeout}: {@code ETIMEDOUT}. A
     * connection that the server completes after the caller gave up is closed,
     * never leaked.
     *
     * @param path where the server is bound
     * @param timeout how long to wait for the server
     * @return the connection
     * @throws StreamsException ETIMEDOUT when the server did not accept in time
     */
    public static Connection connect(Path path, Duration timeout) throws StreamsException {
        String p = path.toString();
        int fd = openWithin(p, timeout, "connect");
        return finish(p, fd);
    }

    private static Connection finish(String p, int fd) throws StreamsException {
        StreamFd s = StreamFd.adopt(fd);
        try {
            if (Platform.backend() == Backend.STREAMS) {
                int r = StreamsShim.s4j_isastream(fd);
                if (r != 1) {
                    throw notAttached(p, Errno.ENOSTR);
                }
            }
            return new Connection(s, null, false);     // the server's credentials: read when asked
        } catch (StreamsException | RuntimeException e) {
            s.close();
            throw e;
        }
    }

    /** The raw connect: returns a descriptor or throws. */
    static int open(String p) throws StreamsException {
        if (Platform.backend() == Backend.STREAMS) {
            // A named FIFO passes isastream once opened; it is a server only
            // when a stream is attached over it (namefs). Never open one that
            // is not: a writer's data would go to whoever reads the FIFO.
            if (Shim.s4j_path_type(p) == Shim.FT_FIFO && !Streams.isAttached(Path.of(p))) {
                throw notAttached(p, Errno.ENOSTR);
            }
            int fd = Shim.s4j_open(p, Shim.O_READ | Shim.O_WRITE, 0);
            if (fd == -Errno.ENXIO) {
                throw new StreamsException("connect", p, Errno.ENXIO, "the server at " + p + " is gone");
            }
            if (fd < 0) {
                throw new StreamsException("connect", p, -fd);
            }
            return fd;
        }
        // connect(2) first: on the usual path that is all. Only a refusal asks
        // what is at the path; connect never writes to a file that is not a socket.
        int fd = PortableShim.s4j_unix_connect(p);
        if (fd >= 0) {
            return fd;
        }
        if (fd == -Errno.ECONNREFUSED || fd == -Errno.ENOTSOCK) {
            int type = Shim.s4j_path_type(p);
            if (type == Shim.FT_SYMLINK) {
                type = followedType(p);     // connect(2) follows a link, as open(2) does on STREAMS
            }
            if (type >= 0 && type != Shim.FT_SOCKET) {
                throw notAttached(p, Errno.ENOTSOCK);
            }
            throw new StreamsException("connect", p, Errno.ECONNREFUSED, "the server at " + p + " is gone");
        }
        throw new StreamsException("connect", p, -fd);
    }

    /**
     * What a symbolic link leads to: FT_SOCKET for a socket or any other
     * special file (connect decides), FT_REGULAR or FT_DIRECTORY for what is
     * never a server, -1 when the link leads nowhere (connect reports why).
     */
    private static int followedType(String p) {
        try {
            java.nio.file.attribute.BasicFileAttributes a = java.nio.file.Files.readAttributes(
                Path.of(p), java.nio.file.attribute.BasicFileAttributes.class);
            return a.isRegularFile() ? Shim.FT_REGULAR : a.isDirectory() ? Shim.FT_DIRECTORY : Shim.FT_SOCKET;
        } catch (java.io.IOException | RuntimeException e) {
            return -1;
        }
    }

    /**
     * Something that is not a server is at the path (a plain file, a directory):
     * ENOSTR on STREAMS (isastream is false), ENOTSOCK on the portable backend.
     */
    private static StreamsException notAttached(String p, int errno) {
        return new StreamsException("connect", p, errno, "no server attached at " + p);
    }

    /**
     * {@link #open} on another thread, waited for at most {@code timeout}.
     * Whichever side loses the race closes the descriptor: the caller never
     * sees a late one, and a late one is never leaked.
     */
    static int openWithin(String p, Duration timeout, String op) throws StreamsException {
        final int waiting = -1;
        final int abandoned = -2;
        AtomicInteger slot = new AtomicInteger(waiting);
        StreamsException[] failure = new StreamsException[1];
        Object done = new Object();
        OPENERS.execute(() -> {
            int fd;
            try {
                fd = open(p);
            } catch (StreamsException e) {
                failure[0] = e;
                fd = -3;
            }
            if (!slot.compareAndSet(waiting, fd) && fd >= 0) {
                Shim.s4j_close(fd);     // the caller gave up: never leak it
            }
            synchronized (done) {
                done.notifyAll();
            }
        });
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (done) {
            while (slot.get() == waiting) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    break;
                }
                try {
                    TimeUnit.NANOSECONDS.timedWait(done, left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
        }
        if (slot.compareAndSet(waiting, abandoned)) {
            throw new StreamsException(op, p, Errno.ETIMEDOUT, "no answer within " + human(timeout));
        }
        int fd = slot.get();
        if (fd < 0) {
            throw failure[0];
        }
        return fd;
    }

    static String human(Duration d) {
        long ms = d.toMillis();
        return ms % 1000 == 0 ? (ms / 1000) + "s" : ms + "ms";
    }
}
