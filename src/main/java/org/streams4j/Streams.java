package org.streams4j;

import java.nio.file.Path;
import org.streams4j.internal.StreamsShim;

/** Names in the file system: fattach, fdetach and whether a path has a stream attached. */
public final class Streams {
    private Streams() {
    }

    /**
     * {@code fattach(3C)}: attaches a STREAMS descriptor to an existing path.
     * STREAMS only.
     *
     * @param fd a STREAMS descriptor
     * @param path an existing path this process owns
     * @throws StreamsException e.g. {@code fattach /run/x: EBUSY (already attached)}
     */
    public static void fattach(StreamFd fd, Path path) throws StreamsException {
        String p = path.toString();
        if (!Platform.supportsFattach()) {
            throw new UnsupportedPlatformException("fattach", p);
        }
        // A quick use: close() waits for it rather than pointing the number
        // at the close marker, which nm_mount would then attach (its peer is
        // closed already, so no fifo_close would ever detach it).
        int r = fd.descriptor().useQuick("fattach", n -> StreamsShim.s4j_fattach(n, p));
        if (r < 0) {
            throw new StreamsException("fattach", p, -r);
        }
    }

    /**
     * {@code fattach} that hands back an {@link Attachment}, which detaches on close.
     *
     * @param fd a STREAMS descriptor
     * @param path an existing path this process owns
     * @return the attachment
     * @throws StreamsException as {@link #fattach}
     */
    public static Attachment attach(StreamFd fd, Path path) throws StreamsException {
        fattach(fd, path);
        return new Attachment(path);
    }

    /**
     * {@code fdetach(3C)}: removes the stream attached at the path. STREAMS only.
     *
     * @param path an attached path
     * @throws StreamsException e.g. EINVAL when nothing is attached there
     */
    public static void fdetach(Path path) throws StreamsException {
        String p = path.toString();
        if (!Platform.supportsFattach()) {
            throw new UnsupportedPlatformException("fdetach", p);
        }
        int r = StreamsShim.s4j_fdetach(p);
        if (r < 0) {
            throw new StreamsException("fdetach", p, -r);
        }
    }

    /**
     * Detaches the server at the path, on either backend: on STREAMS
     * {@link #fdetach}; on the portable backend the server's socket at the
     * path is removed (its server keeps running, unreachable through the
     * path), and only that socket: the directory is reached without following
     * a link anyone but root or this user owns, and the socket is moved into
     * a directory only this process can write and checked (device, inode)
     * before it is unlinked, so a user who may rename things in a directory
     * of the path cannot make the caller remove another file.
     *
     * @param path an attached path (STREAMS) or a server's socket (portable)
     * @throws StreamsException e.g. EINVAL when no socket is there, ELOOP when
     *     another user's symbolic link is in the path
     */
    public static void detach(Path path) throws StreamsException {
        Transport.get().detach(path.toString());
    }

    /**
     * Whether a server is attached at the path. STREAMS: the path is on namefs
     * (a stream is fattach-ed there), which the kernel keeps only while the
     * server's end is open. Portable: a socket is there and someone listens
     * on it: on Linux asked of the kernel (sock_diag), which no server
     * notices; elsewhere, or to confirm that nobody listens, by a connection
     * that closes at once.
     *
     * @param path the path to look at
     * @return whether a server is attached or listening there
     * @throws StreamsException e.g. EACCES when this user may not connect to a
     *     socket nobody is known to listen on, so that nothing can be told
     */
    public static boolean isAttached(Path path) throws StreamsException {
        return isAttached(path, PROBE);
    }

    /**
     * {@link #isAttached(Path)}, waiting at most {@code timeout} where the
     * portable backend must connect to tell (a server whose queue is full
     * never answers, and counts as attached). What is looked at is held: on
     * Linux the socket file is opened without following a link (O_PATH) and
     * any connect goes to that file through /proc/self/fd, so a link swapped
     * in after the look is never followed.
     *
     * @param path the path to look at
     * @param timeout how long a connecting probe may take
     * @return whether a server is attached or listening there
     * @throws StreamsException as {@link #isAttached(Path)}
     */
    public static boolean isAttached(Path path, java.time.Duration timeout) throws StreamsException {
        String p = path.toString();
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("a probe needs a time-out longer than zero: " + timeout);
        }
        return Transport.get().isAttached(p, timeout);
    }

    /** How long a portable probe waits for a server whose queue is full before calling it live. */
    private static final java.time.Duration PROBE = java.time.Duration.ofSeconds(1);
}
