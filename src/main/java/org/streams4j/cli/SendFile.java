package org.streams4j.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import org.streams4j.Connection;
import org.streams4j.Errno;
import org.streams4j.StreamFd;
import org.streams4j.StreamsException;
import org.streams4j.internal.FileStat;
import org.streams4j.internal.Shim;

/**
 * The --send-file FILE as it was at start-up: its path, its identity and
 * a descriptor held on it for the server's lifetime.
 */
record SendFile(Path path, long dev, long ino, StreamFd held) {
    private static final int FLAGS = Shim.O_READ | Shim.O_NOFOLLOW | Shim.O_NONBLOCK;
    /** Linux and illumos: /proc/self/fd/N opens the very file N holds, not a path. */
    private static final boolean PROC_FD = Files.isDirectory(Path.of("/proc/self/fd"));

    /**
     * Opens FILE without following a link and without blocking (a FIFO
     * would wait for a writer): it must be a regular file. Fails before
     * "serving" otherwise.
     */
    static SendFile check(Path file) throws StreamsException {
        String p = file.toString();
        int fd = Shim.s4j_open(p, FLAGS, 0);
        if (fd < 0) {
            if (Shim.s4j_path_type(p) == Shim.FT_SYMLINK) {
                throw new Cli.Failure("serve: --send-file " + p
                    + ": a symbolic link; give the file it leads to");
            }
            throw new StreamsException("open", p, -fd);
        }
        StreamFd held = StreamFd.adopt(fd);
        boolean ok = false;
        try {
            FileStat st = FileStat.of(fd);
            if (!st.ok()) {
                throw new StreamsException("fstat", p, st.errno());
            }
            if (st.type() != Shim.FT_REGULAR) {
                throw new Cli.Failure("serve: --send-file " + p + ": a " + Cli.fileType(st.type())
                    + ", not a regular file");
            }
            ok = true;
            return new SendFile(file, st.dev(), st.ino(), held);
        } finally {
            if (!ok) {
                held.close();
            }
        }
    }

    /**
     * A new descriptor of FILE (an offset of its own) if the path still
     * names the regular file seen at start-up; else no descriptor and why
     * (what is there instead).
     *
     * <p>The path is only looked at (lstat), never opened, where
     * /proc/self/fd is: the new descriptor is opened through the one held
     * since start-up (Linux: the magic link leads to that inode; illumos:
     * propen opens the real vnode of a PR_FD node, regular files only).
     * An open by name goes wherever the name leads at that moment: on
     * illumos into a connld stream someone fattach-ed there, where open
     * sleeps until that someone's I_RECVFD (fifo_connld), O_NONBLOCK or
     * not, holding the serving loop.
     */
    Reopened reopen() {
        String p = path.toString();
        FileStat at = FileStat.ofPath(p);
        if (!same(at)) {
            return Reopened.refused(describe(p, at));
        }
        // held is closed only after serveEvents has joined every loop thread.
        int fd = PROC_FD
            ? held.isOpen() ? Shim.s4j_open("/proc/self/fd/" + held.fd(), Shim.O_READ | Shim.O_NONBLOCK, 0)
                : -Errno.EBADF
            : Shim.s4j_open(p, FLAGS, 0);
        if (fd < 0) {
            return Reopened.refused(Shim.s4j_path_type(p) == Shim.FT_SYMLINK ? p + " is a symbolic link now"
                : new StreamsException("open", p, -fd).getMessage());
        }
        StreamFd f = StreamFd.adopt(fd);
        FileStat st = FileStat.of(fd);
        if (same(st) && Shim.s4j_set_nonblocking(fd, 0) == 0) {
            return new Reopened(f, null);
        }
        f.close();
        return Reopened.refused(describe(p, st));
    }

    private boolean same(FileStat st) {
        return st.ok() && st.type() == Shim.FT_REGULAR && st.dev() == dev && st.ino() == ino;
    }

    private String describe(String p, FileStat st) {
        return !st.ok() ? new StreamsException("stat", p, st.errno()).getMessage()
            : st.type() != Shim.FT_REGULAR ? p + " is a " + Cli.fileType(st.type()) + " now"
            : p + " is another file now (device " + st.dev() + " inode " + st.ino() + ", was "
                + dev + " " + ino + ")";
    }

    /** What {@link #reopen} gives: the new descriptor, or none and why. */
    record Reopened(StreamFd fd, String why) {
        static Reopened refused(String why) {
            return new Reopened(null, why);
        }
    }

    /**
     * Passes FILE to connection {@code n} of {@code served} if it is still
     * the file seen at start-up; otherwise refuses this client with a log line.
     */
    void send(Connection c, int n, Path served) {
        Reopened r = reopen();
        if (r.fd() == null) {
            Cli.note(served + ": connection " + n + ": refused: " + r.why()
                + ", not the regular file served at start-up; nothing sent");
            return;
        }
        try (StreamFd f = r.fd()) {
            c.sendFd(f);
        } catch (StreamsException e) {
            if (!Cli.hangUp(e)) {
                Cli.error(e.getMessage());
            }
        }
    }
}
