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

    /**
     * Whether a server is attached (STREAMS: namefs is mounted there) or
     * listening (portable: a probe that connects, waiting at most
     * {@code timeout}) at the path; false where nothing can be (ENOENT,
     * ENOTDIR). What {@link Streams#isAttached(java.nio.file.Path, Duration)} answers.
     */
    abstract boolean isAttached(String path, Duration timeout) throws StreamsException;

    /**
     * fdetach on STREAMS; on the portable backend, removes the socket at the
     * path (its server keeps running, unreachable through it), and only the
     * socket looked at: see {@link Streams#detach}.
     */
    abstract void detach(String path) throws StreamsException;

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
            return of("bind", p);
        }

        static Place of(String op, String p) throws StreamsException {
            checkPath(op, p);
            Path path = Path.of(p);
            Path file = path.getFileName();
            String name = file == null ? "" : file.toString();
            if (name.isEmpty() || name.equals(".") || name.equals("..")) {
                throw new StreamsException(op, p, Errno.EINVAL, "not a file name: " + p);
            }
            Path parent = path.getParent();
            return new Place(parent == null ? "." : parent.toString(), name);
        }
    }

    /**
     * Opens the directory that will hold the path: every later step is
     * relative to it. Links in the directory part are followed, on purpose
     * ({@code /var/run -> /run}): bind only creates in the directory it
     * opened, and replaces there only a dead server's socket (or, on STREAMS,
     * its own user's empty attach point), checked on that descriptor, so a
     * link swapped into the directory part moves where the server binds but
     * makes it change nothing it would not change at the path itself. What
     * removes by name ({@link #detach}) uses {@link #openDirTrustedLinks}.
     */
    static StreamFd openDir(String p, Place place) throws StreamsException {
        int dfd = Shim.s4j_open(place.dir(), Shim.O_READ | Shim.O_DIRECTORY, 0);
        if (dfd < 0) {
            throw new StreamsException("bind", p, -dfd);
        }
        return StreamFd.adopt(dfd);
    }

    /** At most this many links are followed on the way to a directory (Linux's and illumos's MAXSYMLINKS is 40, 20). */
    private static final int MAX_LINKS = 20;
    /** /proc/self/fd/N/NAME names NAME in the directory held on N (Linux, illumos). */
    static final boolean PROC_SELF_FD = java.nio.file.Files.isDirectory(Path.of("/proc/self/fd"));

    /**
     * Opens the directory part of the path one name at a time, each
     * {@code openat(O_DIRECTORY|O_NOFOLLOW)} relative to the last, so that
     * the directory held is the one the names lead to at that moment. A
     * symbolic link met on the way is followed only when root or this
     * process's user owns it ({@code /var/run -> /run} is root's): anyone
     * else's link is refused (ELOOP). So a user who may rename things in a
     * directory of the path (exchanging their own directory for a link of
     * theirs, say) cannot make a root caller act in a directory the link
     * names. A link is read ({@code readlink} of {@code /proc/self/fd/N/NAME}
     * where there is one) and then looked at again: the same file (device,
     * inode) or the walk is refused (EAGAIN).
     */
    static StreamFd openDirTrustedLinks(String op, String p, Place place) throws StreamsException {
        java.util.ArrayDeque<String> names = new java.util.ArrayDeque<>();
        String dir = place.dir();
        int cur = Shim.s4j_open(dir.startsWith("/") ? "/" : ".", Shim.O_READ | Shim.O_DIRECTORY, 0);
        if (cur < 0) {
            throw new StreamsException(op, p, -cur);
        }
        push(names, dir);
        // Without /proc/self/fd a link is read by the names walked so far:
        // the look after the read still checks that it is the link seen.
        String walked = dir.startsWith("/") ? "" : ".";
        int links = 0;
        try {
            while (!names.isEmpty()) {
                String name = names.pollFirst();
                final int at = cur;
                int next = Shim.s4j_openat(at, name, Shim.O_READ | Shim.O_DIRECTORY | Shim.O_NOFOLLOW, 0);
                if (next >= 0) {
                    Shim.s4j_close(cur);
                    cur = next;
                    walked = walked + "/" + name;
                    continue;
                }
                FileStat st = FileStat.at(at, name);
                if (!st.ok() || st.type() != Shim.FT_SYMLINK) {
                    throw new StreamsException(op, p, st.ok() ? -next : st.errno());
                }
                if (st.uid() != 0 && st.uid() != Platform.euid()) {
                    throw new StreamsException(op, p, Errno.ELOOP, "a symbolic link of uid " + st.uid()
                        + " is in the path (" + name + "); only root's and this user's links are followed");
                }
                if (++links > MAX_LINKS) {
                    throw new StreamsException(op, p, Errno.ELOOP, null);
                }
                String target;
                try {
                    target = java.nio.file.Files.readSymbolicLink(Path.of(PROC_SELF_FD
                        ? "/proc/self/fd/" + at + "/" + name : walked + "/" + name)).toString();
                } catch (java.io.IOException e) {
                    throw new StreamsException(op, p, Errno.EAGAIN, "the path changed while it was looked at");
                }
                if (!FileStat.at(at, name).sameFile(st) || target.isEmpty()) {
                    throw new StreamsException(op, p, Errno.EAGAIN, "the path changed while it was looked at");
                }
                push(names, target);
                if (target.startsWith("/")) {
                    int root = Shim.s4j_open("/", Shim.O_READ | Shim.O_DIRECTORY, 0);
                    if (root < 0) {
                        throw new StreamsException(op, p, -root);
                    }
                    Shim.s4j_close(cur);
                    cur = root;
                    walked = "";
                }
            }
            StreamFd held = StreamFd.adopt(cur);
            cur = -1;
            return held;
        } finally {
            if (cur >= 0) {
                Shim.s4j_close(cur);
            }
        }
    }

    /** The names of {@code path}, in order, put before what is still to walk ("." and empty names dropped). */
    private static void push(java.util.ArrayDeque<String> names, String path) {
        String[] parts = path.split("/");
        for (int i = parts.length - 1; i >= 0; i--) {
            if (!parts[i].isEmpty() && !parts[i].equals(".")) {
                names.addFirst(parts[i]);
            }
        }
    }

    /** What is at {@code name} in the directory, not following a link; fails on anything but ENOENT. */
    static FileStat look(StreamFd dir, String p, String name) throws StreamsException {
        FileStat st = dir.descriptor().withQuick("lstat", d -> FileStat.at(d, name));
        if (!st.ok() && st.errno() != Errno.ENOENT) {
            throw new StreamsException("bind", p, st.errno());
        }
        if (st.ok() && st.type() == Shim.FT_SYMLINK) {
            throw new StreamsException("bind", p, Errno.ELOOP, "a symbolic link is there; refusing to follow it");
        }
        return st;
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
            return dir.descriptor().useQuick("unlink", d -> {
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
