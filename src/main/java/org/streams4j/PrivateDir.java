package org.streams4j;

import java.security.SecureRandom;
import org.streams4j.internal.FileStat;
import org.streams4j.internal.PortableShim;
import org.streams4j.internal.Shim;

/**
 * A directory only this process can write, beside the target, and a
 * descriptor on it. Only what this process made is removed from it: a
 * user who may write the target's directory can trade the directory for
 * another of this user's (mode 0700, so it passes the checks) between
 * mkdir and open, and a file of that directory must not be unlinked.
 */
final class PrivateDir {
    private static final SecureRandom RANDOM = new SecureRandom();
    /** The socket's name inside the directory. */
    static final String SOCKET = "s";
    /** Names tried before mkdir's EEXIST is believed. */
    private static final int BIND_TRIES = 8;

    final StreamFd parent;
    final String name;
    final StreamFd dir;
    final String socketPath;
    /** The socket bind made in it, once bound. */
    FileStat bound;
    /** What replace() moved into it from the path. */
    FileStat moved;

    PrivateDir(StreamFd parent, String name, StreamFd dir, String socketPath) {
        this.parent = parent;
        this.name = name;
        this.dir = dir;
        this.socketPath = socketPath;
    }

    FileStat socket() {
        return FileStat.at(dir.fd(), SOCKET);
    }

    void remove() {
        try {
            if (bound != null) {
                Transport.removeIfSame(dir, SOCKET, bound);
            }
            if (moved != null) {
                Transport.removeIfSame(dir, PortableTransport.OLD, moved);
            }
            FileStat self = FileStat.of(dir.fd());
            // By name in the parent, if it still is ours: if someone swaps the
            // name after the look, the directory removed is theirs and empty,
            // which they could remove.
            parent.descriptor().useQuick("rmdir", d -> FileStat.at(d, name).sameFile(self)
                ? Shim.s4j_unlinkat(d, name, true) : 0);
        } catch (StreamsException e) {
            // the parent or ours is closed: nothing to clean through it
        } finally {
            dir.close();
        }
    }


    static PrivateDir create(StreamFd parent, String p, Transport.Place place) throws StreamsException {
        return create(parent, p, place, "bind");
    }

    static PrivateDir create(StreamFd parent, String p, Transport.Place place, String op) throws StreamsException {
        for (int i = 0; ; i++) {
            String name = ".s4j" + Long.toString(RANDOM.nextLong() & Long.MAX_VALUE, 36);
            int r = parent.descriptor().useQuick("mkdir", d -> Shim.s4j_mkdirat(d, name, 0700));
            if (r == -Errno.EEXIST && i < BIND_TRIES) {
                continue;
            }
            if (r < 0) {
                throw new StreamsException(op, p, -r, r == -Errno.EACCES
                    ? "cannot create a file in " + place.dir() : null);
            }
            int fd = parent.descriptor().useQuick("open", d -> Shim.s4j_openat(d, name,
                Shim.O_READ | Shim.O_DIRECTORY | Shim.O_NOFOLLOW, 0));
            if (fd < 0) {
                throw new StreamsException(op, p, -fd);
            }
            StreamFd dir = StreamFd.adopt(fd);
            FileStat st = FileStat.of(fd);
            if (!st.ok() || st.type() != Shim.FT_DIRECTORY || st.uid() != Platform.euid()
                || (st.perm() & 077) != 0) {
                dir.close();
                throw new StreamsException(op, p, Errno.EAGAIN,
                    "the directory this process made in " + place.dir() + " was replaced; nothing was changed");
            }
            String socketPath = Transport.PROC_SELF_FD ? "/proc/self/fd/" + fd + "/" + SOCKET
                : place.dir() + "/" + name + "/" + SOCKET;
            return new PrivateDir(parent, name, dir, socketPath);
        }
    }

    /** bind, then the mode and listen, all inside the private directory. */
    static StreamFd bind(PrivateDir priv, String p, ConnldOptions options) throws StreamsException {
        int fd = priv.dir.descriptor().useQuick("bind", d -> PortableShim.s4j_unix_bind(priv.socketPath,
            options.messages() ? Shim.SOCK_MESSAGES : 0));
        if (fd == -Errno.ENAMETOOLONG) {
            throw new StreamsException("bind", p, Errno.ENAMETOOLONG, PortableTransport.SUN_PATH_LIMIT);
        }
        if (fd == -Errno.EADDRINUSE) {
            // Something is in the directory this server just made: not its own.
            throw replaced(p);
        }
        if (fd < 0) {
            throw new StreamsException("bind", p, -fd);
        }
        StreamFd listen = StreamFd.adopt(fd);
        try {
            // Only this process can write the private directory, so what is
            // there now is the socket just bound, whatever the path resolved to.
            FileStat st = priv.socket();
            if (st.ok() && st.type() == Shim.FT_SOCKET) {
                priv.bound = st;
            }
            if (!st.ok() || st.type() != Shim.FT_SOCKET || st.nlink() != 1) {
                throw replaced(p);
            }
            int r = priv.dir.descriptor().useQuick("chmod", d -> Shim.s4j_fchmodat(d, SOCKET, options.mode()));
            if (r < 0) {
                throw new StreamsException("chmod", p, -r);
            }
            r = listen.descriptor().useQuick("listen", n -> PortableShim.s4j_unix_listen(n, options.backlog()));
            if (r < 0) {
                throw new StreamsException("listen", p, -r);
            }
            if (!PortableTransport.CLOSE_WAKES_ACCEPT) {
                r = listen.descriptor().useQuick("fcntl", n -> Shim.s4j_set_nonblocking(n, 1));
                if (r < 0) {
                    throw new StreamsException("fcntl", p, -r);
                }
            }
            return listen;
        } catch (StreamsException | RuntimeException e) {
            listen.close();
            throw e;
        }
    }

    /** The private directory is not what this server made: someone traded it. */
    static StreamsException replaced(String p) {
        return new StreamsException("bind", p, Errno.EAGAIN,
            "the directory this server made was replaced while binding; nothing was changed");
    }

    static int linkInto(PrivateDir priv, StreamFd dir, String name) throws StreamsException {
        // Both directories are held for the call; dir outlives priv.
        int to = dir.fd();
        return priv.dir.descriptor().useQuick("link", from -> Shim.s4j_linkat(from, SOCKET, to, name));
    }
}
