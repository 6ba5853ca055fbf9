package org.streams4j;

import java.time.Duration;
import org.streams4j.internal.FileStat;
import org.streams4j.internal.Shim;

/**
 * One bind, or one close's removal, of a path at a time among the servers
 * that may remove each other's attach points (one user's, and root's): an
 * exclusive lock on {@code .NAME.lock} beside the path, held from the first
 * look at the path to the check after the attach, or around close's removal,
 * and removed when released, so that nothing stays behind.
 *
 * <p>Why STREAMS needs it: unlinking an attached name does not fail, it
 * detaches it. {@code nm_mount} marks a namefs mount {@code VFS_UNLINKABLE};
 * {@code vn_removeat} (uts/common/fs/vnode.c) meets that VROOT node, unmounts
 * it ({@code dounmount}, allowed to the node's owner or root) and removes the
 * file underneath. So "not attached" followed by {@code unlinkat} detaches and
 * deletes a live server of the same user that attached in between, and that
 * server runs on with no name. Under this lock no other server of ours can
 * attach between the two. On the portable backend it orders the same steps,
 * which the rename into a private directory already keeps safe by itself.
 *
 * <p>The lock is an open-file-description lock ({@code s4j_lock}:
 * {@code F_OFD_SETLK}, {@code ofdlock} on illumos), so two binds in one
 * process exclude each other as two processes do, and it goes with the
 * descriptor's close, also when the process dies. The file is created with
 * {@code O_CREAT|O_EXCL|O_NOFOLLOW}, or opened when it was seen to be a
 * regular file of this user's with one link: a link or someone else's file
 * there is refused, never followed or written. After the lock is taken, the name must still be the file
 * locked: a holder removes the file before it lets go, so a waiter that
 * opened it before that holds a lock on a file nobody else can reach, and
 * tries again. Waiting never blocks in the kernel: it tries again for at most
 * {@link #WAIT}, then fails with EAGAIN.
 */
final class BindLock implements AutoCloseable {
    /** How long a bind waits for another bind or close of the same path. */
    static final Duration WAIT = Duration.ofSeconds(10);

    private final StreamFd dir;
    private final String name;
    private final StreamFd file;
    private final FileStat id;

    private BindLock(StreamFd dir, String name, StreamFd file, FileStat id) {
        this.dir = dir;
        this.name = name;
        this.file = file;
        this.id = id;
    }

    /** The lock file's name for the attach point {@code target} in the same directory. */
    static String nameFor(String target) {
        return "." + target + ".lock";
    }

    /**
     * Takes the lock for {@code target} in {@code dir}.
     *
     * @param op the operation errors name ({@code bind})
     * @param p the path errors name
     * @throws StreamsException EAGAIN when another bind or close held it for {@code wait}; EEXIST
     *     when the lock's name is not this user's file; the errno of a failed open or lock
     */
    static BindLock acquire(StreamFd dir, String op, String p, String target, Duration wait)
        throws StreamsException {
        String name = nameFor(target);
        long deadline = System.nanoTime() + wait.toNanos();
        long pause = 1;
        while (true) {
            StreamFd file = open(dir, op, p, name);
            if (file != null) {
                boolean keep = false;
                try {
                    FileStat st = FileStat.of(file.fd());
                    int r = file.descriptor().useQuick("fcntl", Shim::s4j_lock);
                    if (r == 0 && at(dir, name).sameFile(st)) {
                        keep = true;
                        return new BindLock(dir, name, file, st);
                    }
                    // r == 0: the holder removed it before letting go; a new file, a new try.
                    if (r < 0 && r != -Errno.EAGAIN && r != -Errno.EACCES && r != -Errno.value("EWOULDBLOCK")) {
                        throw new StreamsException(op, p, -r, "cannot lock its lock file " + name);
                    }
                } finally {
                    if (!keep) {
                        file.close();
                    }
                }
            }
            if (System.nanoTime() > deadline) {
                throw new StreamsException(op, p, Errno.EAGAIN, "another server has been binding or closing "
                    + p + " for " + wait.toSeconds() + "s (its lock file " + name + " is held); nothing was changed");
            }
            Threads.sleepQuietly(pause);
            pause = Math.min(20, pause * 2);
        }
    }

    /**
     * The lock file, created ({@code O_EXCL}) or, when another bind made it,
     * opened only once it was seen to be a regular file of this user's with
     * one link, and checked to be that file once open; null when it changed
     * meanwhile (try again). Never an open of whatever happens to be there: on
     * STREAMS an open of a name with connld attached sleeps in
     * {@code fifo_connld} until its server passes a pipe, O_NONBLOCK or not.
     */
    private static StreamFd open(StreamFd dir, String op, String p, String name) throws StreamsException {
        int fd = dir.descriptor().useQuick("open", d -> Shim.s4j_openat(d, name,
            Shim.O_READ | Shim.O_WRITE | Shim.O_CREAT_EXCL | Shim.O_NOFOLLOW, 0600));
        if (fd >= 0) {
            return StreamFd.adopt(fd);
        }
        if (fd != -Errno.EEXIST) {
            throw new StreamsException(op, p, -fd, "cannot create its lock file " + name);
        }
        FileStat seen = at(dir, name);
        if (!seen.ok()) {
            if (seen.errno() == Errno.ENOENT) {
                return null;
            }
            throw new StreamsException(op, p, seen.errno(), "cannot look at its lock file " + name);
        }
        if (seen.nlink() == 0) {
            // Looked up just before its holder removed it (a stat by name is a lookup, then a
            // read of the inode, and an unlink can come between them): gone, try again.
            return null;
        }
        if (seen.type() != Shim.FT_REGULAR || seen.uid() != Platform.euid() || seen.nlink() != 1) {
            throw new StreamsException(op, p, Errno.EEXIST, "its lock file " + name
                + " is not a file of this user's with one link; not using it");
        }
        fd = dir.descriptor().useQuick("open", d -> Shim.s4j_openat(d, name,
            Shim.O_READ | Shim.O_WRITE | Shim.O_NOFOLLOW | Shim.O_NONBLOCK, 0));
        if (fd == -Errno.ENOENT) {
            return null;
        }
        if (fd < 0) {
            throw new StreamsException(op, p, -fd, "cannot open its lock file " + name);
        }
        StreamFd file = StreamFd.adopt(fd);
        if (!FileStat.of(fd).sameFile(seen)) {
            file.close();
            return null;
        }
        return file;
    }

    /** What is at {@code name} in {@code dir} (held by the caller while the lock lives), not following a link. */
    private static FileStat at(StreamFd dir, String name) {
        return FileStat.at(dir.fd(), name);
    }

    /** Removes the lock file, still this lock's own (only a holder removes it), and lets go. */
    @Override
    public void close() {
        Transport.removeIfSame(dir, name, id);
        file.close();
    }
}
