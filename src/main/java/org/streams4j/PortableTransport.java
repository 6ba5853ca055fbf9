package org.streams4j;

import java.lang.System.Logger.Level;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.streams4j.internal.FileStat;
import org.streams4j.internal.PortableShim;
import org.streams4j.internal.Shim;

/**
 * The portable backend (Linux, macOS, the BSDs): an AF_UNIX socket listening
 * at the path stands for an attached connld pipe, {@code accept} for
 * {@code I_RECVFD}, {@code connect} for the client's {@code open}.
 */
final class PortableTransport extends Transport {
    static final System.Logger LOG = System.getLogger("org.streams4j.connld");
    private static final boolean LINUX = "Linux".equals(System.getProperty("os.name"));
    /** sun_path: 108 bytes on Linux, 104 elsewhere, its terminating NUL included. */
    private static final int SUN_PATH_MAX = LINUX ? 108 : 104;
    /** What an ENAMETOOLONG of bind or connect means here. */
    static final String SUN_PATH_LIMIT =
        "an AF_UNIX socket path must be shorter than " + SUN_PATH_MAX + " bytes";
    /** Linux: closing a listening socket wakes a thread blocked in accept(2) (shutdown, EINVAL). */
    static final boolean CLOSE_WAKES_ACCEPT = LINUX;
    /** Where the private directory holds a stale socket taken from the path. */
    static final String OLD = "old";
    private static final long BACKLOG_FULL_PAUSE_MS = 20;

    // ---- binding ----------------------------------------------------------------

    /**
     * The socket is bound, given its mode and made to listen inside a
     * directory that this process has just created with mode 0700, so that
     * nobody else can reach it by any name; then it is hard-linked into place
     * ({@code linkat}, which never replaces what is there) and the private
     * name removed. Every step after the directory is made is relative to
     * descriptors held on it and on the target's directory: a user who may
     * write that directory can rename things in it, but can neither make this
     * server change the mode of a file of its choosing nor take over a name
     * that a live server holds.
     */
    @Override
    Endpoint bind(String p, ConnldOptions options) throws StreamsException {
        Place place = Place.of(p);
        if (p.getBytes(java.nio.charset.StandardCharsets.UTF_8).length >= SUN_PATH_MAX) {
            // bind itself would succeed (it goes through /proc/self/fd), but no client could connect(2).
            throw new StreamsException("bind", p, Errno.ENAMETOOLONG, SUN_PATH_LIMIT);
        }
        StreamFd dir = openDir(p, place);
        StreamFd listen = null;
        BindLock lock = null;
        boolean ok = false;
        try {
            // The same critical section as on STREAMS (BindLock); here the
            // rename into the private directory keeps it safe by itself.
            lock = BindLock.acquire(dir, "bind", p, place.name(), BindLock.WAIT);
            FileStat stale = null;
            FileStat there = look(dir, p, place.name());
            if (there.ok()) {
                if (there.type() != Shim.FT_SOCKET) {
                    throw new StreamsException("bind", p, Errno.EEXIST,
                        "a file that is not a socket is there; not replacing it");
                }
                stale = deadSocket(p, options);
            }
            PrivateDir priv = PrivateDir.create(dir, p, place);
            try {
                listen = PrivateDir.bind(priv, p, options);
                FileStat mine = priv.bound;
                if (stale != null) {
                    replace(dir, priv, p, place.name(), stale);
                }
                int r = PrivateDir.linkInto(priv, dir, place.name());
                if (r == -Errno.EEXIST) {
                    throw live(p);      // someone bound it between our look and our link
                }
                if (r < 0) {
                    throw new StreamsException("bind", p, -r);
                }
                if (stale != null) {
                    LOG.log(Level.INFO, "replaced the stale socket at {0}", p);
                }
                ok = true;
                return new PortableEndpoint(p, place.name(), dir, listen, mine);
            } finally {
                priv.remove();
            }
        } finally {
            if (!ok && listen != null) {
                listen.close();
            }
            if (lock != null) {
                lock.close();
            }
            if (!ok) {
                dir.close();
            }
        }
    }

    /** The socket at the path is dead and may be replaced: its identity; else throws. */
    private FileStat deadSocket(String p, ConnldOptions options) throws StreamsException {
        FileStat[] seen = new FileStat[1];
        Probe probe = probe(p, options.probeTimeout(), seen);
        if (probe == Probe.LIVE) {
            throw live(p);
        }
        if (probe == Probe.ABSENT) {
            return null;
        }
        if (probe == Probe.NOT_A_SERVER) {
            // swapped since the look: what is there now is no socket
            throw new StreamsException("bind", p, Errno.EEXIST, "a file that is not a socket is there; not replacing it");
        }
        if (!options.replaceStale()) {
            throw new StreamsException("bind", p, Errno.ECONNREFUSED,
                "a dead server's socket is there and replacing it is not allowed");
        }
        return seen[0];
    }

    /**
     * Removes the dead socket {@code stale} if it still is what is at the
     * name. Looking and then unlinking by name would be two steps, and
     * between them a second server replacing the same dead socket could
     * remove it and link its live one in, which the unlink would then take
     * (both servers bound, the first one unreachable). So whatever is at the
     * name is first moved into the private directory (rename: one server
     * gets it, the other ENOENT) and checked there: the dead socket is
     * removed, anything else put back where it was (EBUSY: served).
     */
    private static void replace(StreamFd dir, PrivateDir priv, String p, String name, FileStat stale)
        throws StreamsException {
        int r = takeIfSame(dir, priv, p, name, stale, "bind",
            "a dead server's socket is there and this user may not remove it");
        if (r < 0) {
            throw live(p);
        }
    }

    /**
     * Moves what is at {@code name} into the private directory (rename: one
     * caller gets it, another ENOENT) and keeps it there, for
     * {@link PrivateDir#remove} to unlink, if it is the file {@code expected}
     * (device, inode and mtime); anything else is put back where it was.
     * Linux has no "unlink if this inode"; this is check and act on one file
     * no one else can reach. 1: taken; 0: nothing there any more; -1: put back.
     */
    private static int takeIfSame(StreamFd dir, PrivateDir priv, String p, String name, FileStat expected,
                                  String op, String denied) throws StreamsException {
        int to = priv.dir.fd();     // held: priv lives until the caller removes it
        if (FileStat.at(to, OLD).errno() != Errno.ENOENT) {
            // rename would replace it: not a directory this process made (only its user can write it)
            throw PrivateDir.replaced(p);
        }
        int r = dir.descriptor().useQuick("rename", d -> Shim.s4j_renameat(d, name, to, OLD));
        if (r == -Errno.ENOENT) {
            return 0;     // gone already
        }
        if (r < 0) {
            throw new StreamsException(op, p, -r, r == -Errno.EPERM || r == -Errno.EACCES ? denied : null);
        }
        FileStat moved = FileStat.at(to, OLD);
        priv.moved = moved;
        // rename changes the ctime, not the mtime; an inode number can be a
        // new file's once the old one is freed (ext4), which needs it moved
        // and removed by another process first: that one's socket was bound
        // before, so it is not the new file.
        if (moved.sameFile(expected) && moved.mtimeNs() == expected.mtimeNs()) {
            return 1;     // the file looked at: PrivateDir.remove unlinks it
        }
        // Not the file looked at: another server's, say. Back it goes.
        int back = dir.descriptor().useQuick("link", d -> Shim.s4j_linkat(to, OLD, d, name));
        if (back < 0 && back != -Errno.EEXIST) {
            LOG.log(Level.WARNING, "could not put back what was at {0}: {1}", p, Errno.name(-back));
        }
        return -1;
    }

    // ---- detaching ----------------------------------------------------------------

    /**
     * Removes the socket at the path, and only the socket looked at. The
     * directory is opened name by name without following anyone else's link
     * ({@link #openDirTrustedLinks}), the name looked at in it, and the
     * socket moved into a private directory beside it and checked there
     * before it is unlinked ({@link #takeIfSame}, as bind does for a stale
     * socket): a user who may write a directory of the path cannot make a
     * root caller remove anything but the socket at that name.
     */
    @Override
    void detach(String p) throws StreamsException {
        Place place = Place.of("detach", p);
        StreamFd dir = openDirTrustedLinks("detach", p, place);
        try {
            FileStat there = FileStat.at(dir.fd(), place.name());
            if (!there.ok()) {
                throw new StreamsException("detach", p, there.errno());
            }
            if (there.type() != Shim.FT_SOCKET) {
                throw new StreamsException("detach", p, Errno.EINVAL, "nothing is attached there: a "
                    + FileType.of(there.type()).description() + ", not a server's socket");
            }
            PrivateDir priv = PrivateDir.create(dir, p, place, "detach");
            try {
                int r = takeIfSame(dir, priv, p, place.name(), there, "detach",
                    "this user may not remove the socket");
                if (r == 0) {
                    throw new StreamsException("detach", p, Errno.ENOENT, "removed by someone else meanwhile");
                }
                if (r < 0) {
                    throw new StreamsException("detach", p, Errno.EAGAIN,
                        "another file took the socket's place meanwhile; nothing was removed");
                }
            } finally {
                priv.remove();
            }
        } finally {
            dir.close();
        }
    }

    // ---- connecting -------------------------------------------------------------

    @Override
    int connect(String p) throws StreamsException {
        // connect(2) first: on the usual path that is all. Only a refusal asks
        // what is at the path; connect never writes to a file that is not a socket.
        int fd = PortableShim.s4j_unix_connect(p, 0);
        if (fd == -Errno.EPROTOTYPE) {
            // A message server (ConnldOptions.messages): its socket is
            // SOCK_SEQPACKET, and a connect must be of the same type.
            fd = PortableShim.s4j_unix_connect(p, Shim.SOCK_MESSAGES);
        }
        return fd >= 0 ? fd : refused(p, fd);
    }

    /**
     * A non-blocking connect: a full backlog (EAGAIN on Linux) is tried again
     * until the deadline, a connect under way is polled. No thread is left
     * behind when the time is up.
     */
    @Override
    int connect(String p, Duration timeout) throws StreamsException {
        long deadline = System.nanoTime() + timeout.toNanos();
        int type = 0;
        while (true) {
            Shim.Scratch s = Shim.Scratch.get(0);
            int fd = PortableShim.s4j_unix_connect_nb(p, type, s.address + Shim.Scratch.PENDING);
            if (fd == -Errno.EPROTOTYPE && type == 0) {
                type = Shim.SOCK_MESSAGES;     // a message server: connect as its type
                continue;
            }
            boolean pending = fd >= 0 && s.buf.getInt(Shim.Scratch.PENDING) != 0;
            if (fd >= 0 && !pending) {
                return fd;
            }
            if (pending) {
                return finishPending(p, fd, deadline, timeout);
            }
            if (fd != -Errno.EAGAIN) {
                return refused(p, fd);
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw timedOut(p, timeout);
            }
            if (Thread.currentThread().isInterrupted()) {
                throw new StreamInterruptedException("connect", p);
            }
            Threads.sleepQuietly(Math.max(1, Math.min(BACKLOG_FULL_PAUSE_MS, left / 1_000_000)));
        }
    }

    private static int finishPending(String p, int fd, long deadline, Duration timeout) throws StreamsException {
        boolean ok = false;
        try {
            while (true) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw timedOut(p, timeout);
                }
                if (Thread.currentThread().isInterrupted()) {
                    throw new StreamInterruptedException("connect", p);
                }
                // In slices, so that an interrupt is seen (this descriptor has no owner yet).
                int r = Shim.s4j_poll(fd, Shim.POLLOUT, (int) Math.max(1, Math.min(BACKLOG_FULL_PAUSE_MS, left / 1_000_000)));
                if (r > 0) {
                    break;
                }
                if (r < 0 && r != -Errno.EINTR) {
                    throw new StreamsException("connect", p, -r);
                }
            }
            int err = PortableShim.s4j_socket_error(fd);
            if (err < 0) {
                return refused(p, err);
            }
            int r = Shim.s4j_set_nonblocking(fd, 0);
            if (r < 0) {
                throw new StreamsException("connect", p, -r);
            }
            ok = true;
            return fd;
        } finally {
            if (!ok) {
                Shim.s4j_close(fd);
            }
        }
    }

    private static StreamsException timedOut(String p, Duration timeout) {
        return new StreamTimeoutException("connect", p, timeout, "no answer within " + ConnldClient.human(timeout));
    }

    /** Turns a failed connect(2) into what it means for a client. */
    private static int refused(String p, int fd) throws StreamsException {
        if (fd == -Errno.ECONNREFUSED || fd == -Errno.ENOTSOCK) {
            int type = Shim.s4j_path_type(p);
            if (type == Shim.FT_SYMLINK) {
                type = followedType(p);     // connect(2) follows a link, as open(2) does on STREAMS
            }
            if (type >= 0 && type != Shim.FT_SOCKET) {
                throw ConnldClient.notAttached(p, Errno.ENOTSOCK);
            }
            throw new StreamsException("connect", p, Errno.ECONNREFUSED, "the server at " + p + " is gone");
        }
        if (fd == -Errno.ENAMETOOLONG) {
            throw new StreamsException("connect", p, Errno.ENAMETOOLONG, SUN_PATH_LIMIT);
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
            java.nio.file.attribute.BasicFileAttributes a = Files.readAttributes(
                Path.of(p), java.nio.file.attribute.BasicFileAttributes.class);
            return a.isRegularFile() ? Shim.FT_REGULAR : a.isDirectory() ? Shim.FT_DIRECTORY : Shim.FT_SOCKET;
        } catch (java.io.IOException | RuntimeException e) {
            return -1;
        }
    }

    /**
     * A socket file says nothing of whether anyone listens on it. On Linux
     * the kernel is asked (sock_diag) and a live server never notices the
     * probe; elsewhere, or to confirm that nobody listens, the probe connects
     * (and closes at once: a live server sees a connection that ends before a
     * byte). ECONNREFUSED is a dead server's; EACCES and the like say nothing
     * about life and are thrown.
     */
    /** A server answers (or does not answer in time) at the path. */
    @Override
    boolean isAttached(String p, Duration timeout) throws StreamsException {
        try {
            return probe(p, timeout) == Probe.LIVE;
        } catch (StreamsException e) {
            if (e.errno() == Errno.ENOTDIR) {
                return false;
            }
            throw e;
        }
    }

    @Override
    Probe probe(String p, Duration timeout) throws StreamsException {
        return probe(p, timeout, null);
    }

    /**
     * {@link #probe(String, Duration)}; {@code seen[0]} gets the identity of
     * the socket file the answer is about (bind replaces only that one).
     *
     * <p>On Linux the confirming connect goes to that very file: it is held
     * by an O_PATH descriptor opened without following a link, and connect(2)
     * is given /proc/self/fd/N, which leads to that inode and nowhere else.
     * By name, connect(2) follows a link: a user who may write the directory
     * could swap one in after the look and have this process (root, say)
     * connect to any socket the link names.
     */
    private Probe probe(String p, Duration timeout, FileStat[] seen) throws StreamsException {
        StreamFd held = null;
        String target = p;
        FileStat st = null;
        int fd = PROC_SELF_FD ? Shim.s4j_open(p, Shim.O_READ | Shim.O_PATH | Shim.O_NOFOLLOW, 0) : -Errno.EOPNOTSUPP;
        if (fd != -Errno.EOPNOTSUPP) {
            if (fd == -Errno.ENOENT) {
                return Probe.ABSENT;
            }
            if (fd == -Errno.ELOOP) {
                return Probe.NOT_A_SERVER;  // a link where O_PATH|O_NOFOLLOW says so (not on Linux)
            }
            if (fd < 0) {
                throw new StreamsException("probe", p, -fd);
            }
            held = StreamFd.adopt(fd);
            st = FileStat.of(fd);
            target = "/proc/self/fd/" + fd;
        } else {
            st = FileStat.ofPath(p);
        }
        try {
            if (!st.ok()) {
                if (st.errno() == Errno.ENOENT) {
                    return Probe.ABSENT;
                }
                throw new StreamsException("probe", p, st.errno());
            }
            if (seen != null) {
                seen[0] = st;
            }
            if (st.type() != Shim.FT_SOCKET) {
                return Probe.NOT_A_SERVER;
            }
            return probeSocket(p, target, timeout);
        } finally {
            if (held != null) {
                held.close();
            }
        }
    }

    /** Whether anyone listens on the socket file at p, connecting (within timeout) to target, the same file. */
    private Probe probeSocket(String p, String target, Duration timeout) throws StreamsException {
        // Linux: the kernel says whether anyone listens there (sock_diag),
        // and a live server sees nothing. When it says no one does, a
        // connect confirms it (a server in another network namespace is
        // not listed), which a dead socket does not notice.
        if (PortableShim.s4j_unix_listening(p) == 1) {
            return Probe.LIVE;
        }
        try {
            Shim.s4j_close(connect(target, timeout));
            return Probe.LIVE;
        } catch (StreamsException e) {
            if (e.errno() == Errno.ETIMEDOUT) {
                return Probe.LIVE;      // its backlog is full: it is there, and busy
            }
            if (e.errno() == Errno.ECONNREFUSED) {
                return Probe.DEAD;
            }
            if (e.errno() == Errno.ENOENT) {
                return Probe.ABSENT;
            }
            throw new StreamsException("probe", p, e.errno(), e.errno() == Errno.EACCES
                ? "this user may not connect to " + p + ", so cannot tell whether a server is there" : null);
        }
    }
}
