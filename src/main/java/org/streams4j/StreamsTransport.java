package org.streams4j;

import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import org.streams4j.internal.FileStat;
import org.streams4j.internal.Shim;
import org.streams4j.internal.StreamsShim;

/**
 * The STREAMS backend (illumos, Solaris): {@code pipe}, {@code I_PUSH
 * "connld"}, {@code fattach} over a file this server created or left
 * behind, {@code I_RECVFD} per client; a client is {@code open(path)}.
 */
final class StreamsTransport extends Transport {
    private static final System.Logger LOG = System.getLogger("org.streams4j.connld");
    private static final int OWNER_WRITE = 0200;
    /** How long bind waits for a path that another attach or detach holds (domount's lock). */
    private static final Duration BUSY_RETRY = Duration.ofMillis(500);

    // ---- binding ----------------------------------------------------------------

    @Override
    Endpoint bind(String p, ConnldOptions options) throws StreamsException {
        Place place = Place.of(p);
        StreamFd dir = openDir(p, place);
        StreamFd file = null;
        StreamPipe pipe = null;
        BindLock lock = null;
        boolean ok = false;
        try {
            // From the first look to the check after fattach, no other bind or
            // close of this path by a server of ours (BindLock: an unlink
            // there would detach an attachment made in between).
            lock = BindLock.acquire(dir, "bind", p, place.name(), BindLock.WAIT);
            // The attach point: a file created here and now, or the empty one a
            // crashed server of ours left behind (fifo_close -> nm_unmountall
            // detaches, the file stays). Either way it is held open, and its
            // mode is set with fchmod on that descriptor, never by name.
            file = attachPoint(dir, p, place.name(), options);
            int mode = options.mode();
            boolean chmodAfter = false;
            FileStat made = chmod(file, p, mode);
            pipe = StreamPipe.open();
            StreamFd attach = pipe.second();
            attach.push("connld");
            int r = fattach(attach, p);
            if (r == -Errno.EACCES && (mode & OWNER_WRITE) == 0) {
                // nm_mount: an unprivileged owner needs write permission on the
                // mount point (secpolicy_vnode_access2 VWRITE). Attach with it,
                // then give the namefs node the mode asked for (nm_setattr).
                made = chmod(file, p, mode | OWNER_WRITE);
                chmodAfter = true;
                r = fattach(attach, p);
            }
            if (r < 0) {
                throw r == -Errno.EBUSY ? live(p) : new StreamsException("fattach", p, -r);
            }
            // fattach takes a name (mount(2) -> lookupname, following links):
            // check that what got attached is the file we hold. nm_mount copies
            // owner, group, mode and times of the mount point into the namefs
            // node (nm_getattr returns them), with a namefs device and a node
            // id of its own: those must be exactly our file's.
            FileStat node = attachedNode(p, made);
            if (node == null) {
                throw new StreamsException("bind", p, Errno.EAGAIN,
                    p + " was replaced while the server attached to it; nothing was changed");
            }
            if (chmodAfter) {
                // No fchmod reaches a namefs node and illumos chmod cannot refuse
                // links (fchmodat AT_SYMLINK_NOFOLLOW is EOPNOTSUPP): by name,
                // checked before and after by the node's own id. Only for an
                // unprivileged server whose mode lacks owner write.
                int c = Shim.s4j_chmod(p, mode);
                FileStat after = FileStat.ofPath(p);
                if (c < 0 || !after.sameFile(node) || after.perm() != mode) {
                    throw new StreamsException("chmod", p, c < 0 ? -c : Errno.EAGAIN,
                        c < 0 ? null : p + " changed while its mode was set");
                }
            }
            StreamFd receive = pipe.first();
            int nb = receive.descriptor().useQuick("fcntl", n -> Shim.s4j_set_nonblocking(n, 1));
            if (nb < 0) {
                throw new StreamsException("fcntl", p, -nb);
            }
            ok = true;
            return new Bound(p, place.name(), dir, receive, attach, made, options.messages());
        } finally {
            if (file != null) {
                file.close();
            }
            if (!ok && pipe != null) {
                pipe.close();   // detaches whatever our end got attached to (nm_unmountall)
            }
            if (lock != null) {
                lock.close();
            }
            if (!ok) {
                dir.close();
            }
        }
    }

    /**
     * Creates the attach point ({@code O_CREAT|O_EXCL|O_NOFOLLOW}), first
     * replacing the one a dead server of this user left (an empty regular file
     * owned by this user with one link). Anything else is refused: a live
     * server (attached, EBUSY), someone else's file, a file with content, a
     * link. Called with the path's {@link BindLock} held: the look and the
     * unlink are two calls, and an unlink of a name attached in between
     * would detach that attachment ({@code vn_removeat}).
     */
    private static StreamFd attachPoint(StreamFd dir, String p, String name, ConnldOptions options)
        throws StreamsException {
        long deadline = System.nanoTime() + BUSY_RETRY.toNanos();
        while (true) {
            FileStat there = look(dir, p, name);
            if (!there.ok()) {
                int fd = dir.descriptor().useQuick("open", d -> Shim.s4j_openat(d, name,
                    Shim.O_READ | Shim.O_CREAT_EXCL | Shim.O_NOFOLLOW, 0));
                if (fd == -Errno.EEXIST) {
                    continue;       // someone else's, just made: look again
                }
                if (fd < 0) {
                    throw new StreamsException("bind", p, -fd);
                }
                return StreamFd.adopt(fd);
            }
            if (attached(p)) {
                // An attachment is live by construction: the last close of the
                // server's end detaches it (fifo_close -> nm_unmountall).
                throw live(p);
            }
            if (there.type() != Shim.FT_REGULAR || there.uid() != Platform.euid()
                || there.size() != 0 || there.nlink() != 1) {
                throw new StreamsException("bind", p, Errno.EEXIST,
                    "a file that is not this user's empty attach point is there; not attaching over it");
            }
            if (!options.replaceStale()) {
                throw new StreamsException("bind", p, Errno.EEXIST,
                    "a dead server's attach point is there and replacing it is not allowed");
            }
            // A dead server's attach point: replaced, never opened. An open by
            // name could meet a connld pipe attached there meanwhile, and sleep
            // in fifo_connld until an I_RECVFD that never comes (O_NONBLOCK
            // does not help). The unlink does not refuse an attached name: it
            // unmounts it first (vn_removeat: nm_mount marks namefs
            // VFS_UNLINKABLE), which is why the lock keeps our other servers
            // from attaching between the look above and this call. EBUSY is a
            // racing unmount (vn_vfswlock) or another process's attach.
            int r = dir.descriptor().useQuick("unlink", d -> Shim.s4j_unlinkat(d, name, false));
            if (r == -Errno.EBUSY) {
                throw live(p);
            }
            if (r < 0 && r != -Errno.ENOENT) {
                throw new StreamsException("bind", p, -r);
            }
            if (System.nanoTime() > deadline) {
                throw new StreamsException("bind", p, Errno.EAGAIN, p + " keeps changing; nothing was attached");
            }
            LOG.log(Level.INFO, "replacing the attach point a dead server left at {0}", p);
        }
    }

    private static FileStat chmod(StreamFd file, String p, int mode) throws StreamsException {
        int r = file.descriptor().useQuick("fchmod", n -> Shim.s4j_fchmod(n, mode));
        if (r < 0) {
            throw new StreamsException("chmod", p, -r);
        }
        FileStat st = FileStat.of(file.fd());
        if (!st.ok()) {
            throw new StreamsException("fstat", p, st.errno());
        }
        return st;
    }

    /**
     * fattach, retried while EBUSY comes from another attach or detach of the
     * same path holding the mount point's lock (domount) rather than from an
     * attachment.
     */
    private static int fattach(StreamFd attach, String p) throws StreamsException {
        long deadline = System.nanoTime() + BUSY_RETRY.toNanos();
        long pause = 1;
        while (true) {
            int r = attach.descriptor().useQuick("fattach", n -> StreamsShim.s4j_fattach(n, p));
            if (r != -Errno.EBUSY || attached(p) || System.nanoTime() > deadline) {
                return r;
            }
            Threads.sleepQuietly(pause);
            pause = Math.min(50, pause * 2);
        }
    }

    /** The namefs node now at {@code p}, if it covers {@code made}; else null. */
    private static FileStat attachedNode(String p, FileStat made) {
        FileStat n = FileStat.ofPath(p);
        if (!n.ok() || n.dev() == made.dev() || n.uid() != made.uid() || n.gid() != made.gid()
            || n.perm() != made.perm() || n.mtimeNs() != made.mtimeNs() || n.ctimeNs() != made.ctimeNs()) {
            return null;
        }
        return n;
    }

    private static final class Bound extends Endpoint {
        private final String path;
        private final String name;
        private final StreamFd dir;
        private final StreamFd receive;
        private final StreamFd attach;
        private final FileStat file;
        /** ConnldOptions.messages: each accepted pipe leaves fifofs' fast mode at once. */
        private final boolean messages;

        Bound(String path, String name, StreamFd dir, StreamFd receive, StreamFd attach, FileStat file,
            boolean messages) {
            this.messages = messages;
            this.path = path;
            this.name = name;
            this.dir = dir;
            this.receive = receive;
            this.attach = attach;
            this.file = file;
        }

        @Override
        StreamFd acceptFd() {
            return receive;
        }

        @Override
        boolean blockingAccept() {
            return false;
        }

        @Override
        Accepted accept(boolean needPeer) throws StreamsException {
            ReceivedFd got;
            try {
                got = receive.receiveFd();
            } catch (StreamClosedException e) {
                throw e;
            } catch (StreamsException e) {
                if (e.errno() == Errno.EAGAIN || e.errno() == Errno.EINTR) {
                    return null;
                }
                if (e.errno() == Errno.EBADMSG) {
                    drain();
                    return null;
                }
                throw e;
            }
            // The I_RECVFD ids are the client's effective ids. getpeerucred
            // (pid, zone, groups: fifo_connld records them on the new pipe)
            // takes the new pipe out of fifo fast mode (fifo_fastioctl), so it
            // is asked for only when a policy needs it or the application calls
            // peer(); the ids stand in if it fails then.
            PeerCredentials ids = new PeerCredentials(got.uid(), got.gid(), -1, -1);
            if (messages) {
                leaveFastMode(got.fd());
            }
            return new Accepted(got.fd(), needPeer ? peerOr(got.fd(), ids) : null, ids);
        }

        /**
         * Takes a new pipe out of fifofs' fast mode, both ends, so that each
         * write the client makes from now on is one message: in fast mode
         * writes join one chain (fifo_write, b_cont) that becomes a single
         * message when the pipe leaves it (fifo_fastturnoff). I_CKBAND of band
         * 0 only asks whether a message is queued, and leaves fast mode on
         * its way (fifo_fastioctl -> fifo_fastoff). What the client wrote
         * before this call stays one message. A failure loses nothing: the
         * pipe keeps working, and its first message call leaves fast mode
         * then (msgio -> fifo_vfastoff).
         */
        private void leaveFastMode(StreamFd fd) throws StreamClosedException {
            int r = fd.descriptor().useQuick("I_CKBAND", n -> StreamsShim.s4j_ckband(n, 0));
            if (r < 0) {
                LOG.log(Level.DEBUG, "I_CKBAND on a new connection of {0}: {1}", path, Errno.name(-r));
            }
        }

        /** Data written into the server's own pipe: dropped, so that descriptors flow again. */
        private void drain() {
            byte[] junk = new byte[4096];
            try {
                int n = receive.read(junk, 0, junk.length);
                LOG.log(Level.WARNING, "dropped {0} bytes of data found on the connld pipe of {1}", n, path);
            } catch (StreamsException e) {
                LOG.log(Level.DEBUG, "draining {0}: {1}", path, e.getMessage());
            }
        }

        @Override
        void close() {
            // Closing our ends detaches exactly our own attachments
            // (fifo_close -> nm_unmountall matches nm_filevp): never
            // fdetach(path), which could detach another server's.
            receive.close();
            attach.close();
            // Then the file underneath, if it still is ours, under the path's
            // lock: unlinking the name while another server of ours attaches
            // there would detach and delete that server (vn_removeat), so
            // only the name seen to be our plain file is removed, and no bind
            // of ours runs in between. While our node is still there (the
            // detach not done yet) the name is not our file: wait briefly.
            try (BindLock lock = BindLock.acquire(dir, "close", path, name, BindLock.WAIT)) {
                long deadline = System.nanoTime() + BUSY_RETRY.toNanos();
                while (!removeIfSame(dir, name, file)) {
                    if (!attachedHere(FileStat.ofPath(path)) || System.nanoTime() > deadline) {
                        break;      // gone, someone else's, or not removable: leave it
                    }
                    Threads.sleepQuietly(5);
                }
            } catch (StreamsException e) {
                // Left as a dead server's attach point, which the next bind replaces.
                LOG.log(Level.DEBUG, "close of {0} left its attach point: {1}", path, e.getMessage());
            } finally {
                dir.close();
            }
        }

        /** Still our namefs node (the detach not done yet): another device, our file's times. */
        private boolean attachedHere(FileStat now) {
            return now.ok() && now.dev() != file.dev()
                && now.mtimeNs() == file.mtimeNs() && now.ctimeNs() == file.ctimeNs();
        }
    }

    // ---- connecting -------------------------------------------------------------

    @Override
    int connect(String p) throws StreamsException {
        // A named FIFO (or a link to one) passes isastream once opened; it is a
        // server only when a stream is attached over it (namefs). Never open
        // one that is not: a writer's data would go to whoever reads the FIFO.
        if (isFifo(p) && !attached(p)) {
            throw ConnldClient.notAttached(p, Errno.ENOSTR);
        }
        int fd = Shim.s4j_open(p, Shim.O_READ | Shim.O_WRITE, 0);
        if (fd == -Errno.ENXIO || fd == -Errno.EPIPE) {
            // connopen: ENXIO once the server's end is closed, EPIPE while it closes.
            throw new StreamsException("connect", p, -fd, "the server at " + p + " is gone");
        }
        if (fd < 0) {
            throw new StreamsException("connect", p, -fd);
        }
        return fd;
    }

    /** Whether the path, followed through any links as open(2) would, is a FIFO. */
    static boolean isFifo(String p) {
        try {
            int mode = (Integer) java.nio.file.Files.getAttribute(Path.of(p), "unix:mode");
            return (mode & 0170000) == 0010000;     // S_IFIFO
        } catch (java.io.IOException | RuntimeException e) {
            return false;   // nothing there, or unreadable: open(2) reports it
        }
    }

    /**
     * An open of a connld path sleeps in the kernel until the server's
     * I_RECVFD (fifo_stropen's FIFOOPEN, then fifo_connld), and neither
     * O_NONBLOCK nor an interrupt cuts it short. So one thread per path opens,
     * on behalf of every caller waiting for that path ({@link PendingOpens}):
     * a caller that times out leaves no thread of its own behind.
     */
    @Override
    int connect(String p, Duration timeout) throws StreamsException {
        return PendingOpens.open(p, timeout, this::connect);
    }

    @Override
    void verifyConnected(String p, StreamFd fd) throws StreamsException {
        int r = fd.descriptor().useQuick("isastream", StreamsShim::s4j_isastream);
        if (r != 1) {
            throw ConnldClient.notAttached(p, Errno.ENOSTR);
        }
    }

    /**
     * fdetach(3C), by name: umount2 of the namefs mount, which the kernel
     * allows the owner of the attach point or a privileged caller.
     */
    @Override
    void detach(String p) throws StreamsException {
        checkPath("fdetach", p);
        // fdetach(3C) takes a name (umount2 -> lookupname, following links),
        // with no descriptor form. So the directory is walked as the portable
        // detach walks it (only root's and this user's links), the name is
        // given to fdetach through the directory held (/proc/self/fd/N/NAME,
        // pr_lookup_fddir), and only where no other user can rename the entry
        // between this look and that lookup: a directory that only root or
        // this user may write, or a sticky one whose entry is root's or this
        // user's. Else a link swapped in there would have this caller (root,
        // say) detach whatever server it names.
        Place place = Place.of("fdetach", p);
        StreamFd dir = openDirTrustedLinks("fdetach", p, place);
        try {
            FileStat there = FileStat.at(dir.fd(), place.name());
            if (!there.ok()) {
                throw new StreamsException("fdetach", p, there.errno());
            }
            String why = renamableByOthers(FileStat.of(dir.fd()), there);
            if (why != null) {
                throw new StreamsException("fdetach", p, Errno.EPERM, why + "; not detaching by name "
                    + "(fdetach(1M) does, if you trust the directory)");
            }
            if (there.type() == Shim.FT_SYMLINK) {
                throw new StreamsException("fdetach", p, Errno.ELOOP, "a symbolic link; not following it");
            }
            String held = "/proc/self/fd/" + dir.fd() + "/" + place.name();
            int r = dir.descriptor().useQuick("fdetach", d -> StreamsShim.s4j_fdetach(held));
            if (r < 0) {
                throw new StreamsException("fdetach", p, -r);
            }
        } finally {
            dir.close();
        }
    }

    /**
     * Why a user other than root and this one could rename or replace
     * {@code entry} in the directory {@code dir}, or null when none can: the
     * directory is someone else's, or others may write it and it is not
     * sticky, or it is sticky and the entry is someone else's.
     */
    static String renamableByOthers(FileStat dir, FileStat entry) {
        int me = Platform.euid();
        if (dir.uid() != 0 && dir.uid() != me) {
            return "the directory is uid " + dir.uid() + "'s";
        }
        if ((dir.perm() & 0022) == 0) {
            return null;
        }
        if ((dir.perm() & 01000) == 0) {
            return "others may write the directory and it is not sticky";
        }
        if (entry.uid() != 0 && entry.uid() != me) {
            return "the entry is uid " + entry.uid() + "'s, in a directory others may write";
        }
        return null;
    }

    @Override
    Probe probe(String p, Duration timeout) throws StreamsException {
        int type = Shim.s4j_path_type(p);
        if (type == -Errno.ENOENT) {
            return Probe.ABSENT;
        }
        if (type < 0) {
            throw new StreamsException("probe", p, -type);
        }
        return attached(p) ? Probe.LIVE : Probe.NOT_A_SERVER;
    }

    /** namefs is mounted at the path: something is fattach-ed there (the time-out is not needed). */
    @Override
    boolean isAttached(String p, Duration timeout) throws StreamsException {
        return attached(p);
    }

    /** Whether namefs is mounted at the path ({@code statvfs} f_basetype): a stream is fattach-ed there. */
    private static boolean attached(String p) throws StreamsException {
        byte[] name = new byte[32];
        int r = StreamsShim.s4j_fstype(p, name, name.length);
        if (r == -Errno.ENOENT || r == -Errno.ENOTDIR) {
            return false;   // as on the portable backend: nothing can be attached there
        }
        if (r < 0) {
            throw new StreamsException("statvfs", p, -r);
        }
        int n = 0;
        while (n < name.length && name[n] != 0) {
            n++;
        }
        return "namefs".equals(new String(name, 0, n, StandardCharsets.US_ASCII));
    }
}
