package org.streams4j;

import java.nio.file.Path;
import java.time.Duration;
import org.streams4j.internal.FileStat;
import org.streams4j.internal.Shim;

/**
 * How one backend binds a path, accepts, connects and probes: chosen once,
 * as a transport class is, so that {@link ConnldServer} and
 * {@link ConnldClient} hold the policy (paths, modes, access, lifecycle) and
 * never ask which backend is live. {@link StreamsTransport}: pipe, connld,
 * fattach, I_RECVFD, open. {@link PortableTransport}: an AF_UNIX socket.
 */
abstract class Transport {
    private static final Transport INSTANCE = Platform.backend() == Backend.STREAMS
        ? new StreamsTransport() : new PortableTransport();

    static Transport get() {
        return INSTANCE;
    }

    /** What a probe of a path found. */
    enum Probe {
        /** Nothing there. */
        ABSENT,
        /** A server answers (or holds the path: on STREAMS an attachment is live by construction). */
        LIVE,
        /** A dead server's socket (the portable backend only). */
        DEAD,
        /** Something that is no server. */
        NOT_A_SERVER
    }

    /**
     * Binds {@code path} with the options' mode, race-free: the mode is set on
     * a descriptor or inside a directory only this process can write, never by
     * a name someone else could swap. Throws EBUSY ("served by another
     * process") when a server holds the path.
     */
    abstract Endpoint bind(String path, ConnldOptions options) throws StreamsException;

    /** Connects, waiting as long as the server takes; the raw descriptor. */
    abstract int connect(String path) throws StreamsException;

    /**
     * Connects within {@code timeout} (ETIMEDOUT otherwise), leaving no thread
     * behind: a connection completed after the caller gave up is closed.
     */
    abstract int connect(String path, Duration timeout) throws StreamsException;

    /** Checks a freshly connected descriptor (STREAMS: isastream); closes nothing. */
    void verifyConnected(String path, StreamFd fd) throws StreamsException {
    }

    /**
     * What is at the path, found without connecting wherever the kernel can
     * tell; where it cannot (the portable backend), a connection that closes
     * at once, bounded by {@code timeout}.
     */
    abstract Probe probe(String path, Duration timeout) throws StreamsException;

    /** The server side of a bound path. */
    abstract static class Endpoint {
        /** The descriptor clients arrive on: the connld pipe's other end, or the listening socket. */
        abstract StreamFd acceptFd();

        /** Whether a thread may wait in accept itself, close() waking it (else poll, then accept). */
        abstract boolean blockingAccept();

        /**
         * One accept on the accepting descriptor; null when nobody was there
         * after all (EAGAIN, EINTR, a client that vanished).
         *
         * @param needPeer whether the client's credentials must be read now (an allow list)
         */
        abstract Accepted accept(boolean needPeer) throws StreamsException;

        /**
         * Stops serving and removes what this server put at the path, checking
         * by (device, inode) that it still is its own.
         */
        abstract void close();
    }

    /**
     * A client taken by {@link Endpoint#accept}: its descriptor; its
     * credentials when they were read (null: read them when asked); and what
     * the accept itself told of them (STREAMS: the I_RECVFD ids), for when
     * they cannot be read later, else null.
     */
    record Accepted(StreamFd fd, PeerCredentials peer, PeerCredentials known) {
    }

    // ---- shared by both backends ------------------------------------------------

    /** The directory part and the last name of a path, as bind needs them. */
    record Place(String dir, String name) {
        static Place of(String p) throws StreamsException {
            checkPath("bind", p);
            Path path = Path.of(p);
            Path file = path.getFileName();
            String name = file == null ? "" : file.toString();
            if (name.isEmpty() || name.equals(".") || name.equals("..")) {
                throw new StreamsException("bind", p, Errno.EINVAL, "not a file name: " + p);
            }
            Path parent = path.getParent();
            return new Place(parent == null ? "." : parent.toString(), name);
        }
    }

    /** Opens the directory that will hold the path: every later step is relative to it. */
    static StreamFd openDir(String p, Place place) throws StreamsException {
        int dfd = Shim.s4j_open(place.dir(), Shim.O_READ | Shim.O_DIRECTORY, 0);
        if (dfd < 0) {
            throw new StreamsException("bind", p, -dfd);
        }
        return StreamFd.adopt(dfd);
    }

    /** What is at {@code name} in the directory, not following a link; fails on anything but ENOENT. */
    static FileStat look(StreamFd dir, String p, String name) throws StreamsException {
        FileStat[] st = new FileStat[1];
        dir.withFdQuick("lstat", d -> {
            st[0] = FileStat.at(d, name);
            return 0;
        });
        if (!st[0].ok() && st[0].errno() != Errno.ENOENT) {
            throw new StreamsException("bind", p, st[0].errno());
        }
        if (st[0].ok() && st[0].type() == Shim.FT_SYMLINK) {
            throw new StreamsException("bind", p, Errno.ELOOP, "a symbolic link is there; refusing to follow it");
        }
        return st[0];
    }

    /**
     * Removes {@code name} from the directory if it still is the file
     * {@code mine}. The look and the unlink are two calls: what can come
     * between them is a rename by someone who may write the directory, who
     * could have removed the name anyway, so nothing is removed that such a
     * user could not remove.
     */
    static boolean removeIfSame(StreamFd dir, String name, FileStat mine) {
        try {
            return dir.withFdQuick("unlink", d -> {
                FileStat now = FileStat.at(d, name);
                if (!now.sameFile(mine)) {
                    return 0;
                }
                return Shim.s4j_unlinkat(d, name, false) == 0 ? 1 : 0;
            }) == 1;
        } catch (StreamsException e) {
            return false;
        }
    }

    /**
     * Refuses a path no system call should see: an empty one (on the portable
     * backend an empty sun_path would name Linux's abstract namespace) and
     * one with a NUL, which C would cut short there, so that another file
     * than the one named would be used.
     */
    static void checkPath(String op, String p) throws StreamsException {
        if (p.isEmpty()) {
            throw new StreamsException(op, p, Errno.EINVAL, "an empty path");
        }
        if (p.indexOf('\0') >= 0) {
            throw new StreamsException(op, p.replace("\0", "\\0"), Errno.EINVAL, "a NUL in the path");
        }
    }

    /** The peer's credentials from the kernel, or {@code fallback} when it will not say. */
    static PeerCredentials peerOr(StreamFd s, PeerCredentials fallback) {
        try {
            return s.peerCredentials();
        } catch (StreamsException e) {
            return fallback;
        }
    }

    static StreamsException live(String p) {
        return new StreamsException("bind", p, Errno.EBUSY, p + " is served by another process");
    }
}
