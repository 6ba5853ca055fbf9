package org.streams4j.internal;

import com.sun.jna.Native;
import com.sun.jna.Pointer;
import java.lang.ref.WeakReference;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.Charset;

/**
 * JNA direct mapping of the calls every build of the shim carries
 * ({@code native/include/streams4j.h}). Every int or long result is
 * {@code >= 0} on success and {@code -errno} on failure.
 */
public final class Shim {
    public static final int BACKEND_PORTABLE = 1;
    public static final int BACKEND_STREAMS = 2;

    public static final int O_READ = 0x01;
    public static final int O_WRITE = 0x02;
    public static final int O_CREAT_EXCL = 0x04;
    public static final int O_NOFOLLOW = 0x08;
    public static final int O_NONBLOCK = 0x10;
    public static final int O_DIRECTORY = 0x20;
    /** O_PATH (Linux): the file itself, not opened for reading; EOPNOTSUPP elsewhere. */
    public static final int O_PATH = 0x40;
    /** The dirfd of the *at calls meaning the current directory. */
    public static final int AT_FDCWD = -100;

    public static final int POLLIN = 0x01;
    public static final int POLLOUT = 0x02;
    public static final int POLLERR = 0x04;
    public static final int POLLHUP = 0x08;
    public static final int POLLNVAL = 0x10;
    /** A high-priority message at the head (STREAMS; reported beside POLLIN). */
    public static final int POLLPRI = 0x20;
    /** A message of a band above 0 (reported beside POLLIN). */
    public static final int POLLRDBAND = 0x40;
    /** Room to write in a band above 0. */
    public static final int POLLWRBAND = 0x80;

    public static final int FT_OTHER = 0;
    public static final int FT_REGULAR = 1;
    public static final int FT_DIRECTORY = 2;
    public static final int FT_FIFO = 3;
    public static final int FT_SOCKET = 4;
    public static final int FT_CHAR = 5;
    public static final int FT_BLOCK = 6;
    public static final int FT_SYMLINK = 7;

    public static final int MODNAME_SIZE = 9;

    public static final int CRED_UID = 0;
    public static final int CRED_GID = 1;
    public static final int CRED_PID = 2;
    public static final int CRED_ZONE = 3;

    /** Why the shim could not be registered, or null when it was. */
    private static final Throwable LOAD_FAILURE;

    static {
        Throwable failure = null;
        try {
            Native.register(Shim.class, NativeLibrary.NAME);
        } catch (LinkageError | RuntimeException e) {
            // No shim for this platform, or JNA itself cannot load: every
            // native method stays unbound; Platform reports the cause.
            failure = e;
        }
        LOAD_FAILURE = failure;
    }

    // Below the registration: these are asked of the shim as the class initialises.

    private static final int ABI_EV_BATCH = 1;
    private static final int ABI_EV_SIZE = 2;
    private static final int ABI_RECV_FDS = 3;
    private static final int ABI_MAX_IOV = 4;
    private static final int ABI_PIPE_BUF = 5;
    private static final int ABI_TTY_SAVE_MAX = 6;

    /** S4J_RECV_FDS: the ints of a passed/others array (descriptors one receive brings, and a -1). */
    public static final int RECV_FDS = abi(ABI_RECV_FDS, 254);

    private Shim() {
    }

    /** Loads the library; cheap after the first call. */
    public static void load() {
        // class initialisation did the work
    }

    /** Why the shim did not load (this class's natives are unbound then), or null when it did. */
    public static Throwable loadFailure() {
        return LOAD_FAILURE;
    }

    // ---- the ABI's numbers (s4j_abi): read from the shim, not copied ------------

    public static native int s4j_abi(int what);

    /**
     * The shim's value of an ABI number; {@code fallback} only where the
     * shim did not load (every native call fails then anyway).
     */
    private static int abi(int what, int fallback) {
        if (LOAD_FAILURE != null) {
            return fallback;
        }
        int v = s4j_abi(what);
        if (v <= 0) {
            throw new IllegalStateException("the shim does not know ABI number " + what + ": " + v);
        }
        return v;
    }

    public static native int s4j_backend();

    public static native String s4j_errno_name(int err);

    public static native int s4j_strerror(int err, byte[] buf, int len);

    public static native int s4j_geteuid();

    public static native int s4j_getegid();

    /**
     * Whether {@code s} goes to the native calls as itself: the encoding
     * their C strings are made with ({@link Scratch#cString}) maps it to bytes
     * and back unchanged (an unmappable character would become '?', another
     * name).
     */
    public static boolean encodable(String s) {
        java.nio.charset.CharsetEncoder e = Scratch.ENCODING.newEncoder()
            .onMalformedInput(java.nio.charset.CodingErrorAction.REPORT)
            .onUnmappableCharacter(java.nio.charset.CodingErrorAction.REPORT);
        return e.canEncode(s);
    }

    /** fcntl(F_DUPFD_CLOEXEC): a new number for fd's file, or -errno. */
    public static native int s4j_dup(int fd);

    public static int s4j_open(String path, int flags, int mode) {
        return s4j_open(Scratch.cString(path), flags, mode);
    }

    private static native int s4j_open(long path, int flags, int mode);

    public static native int s4j_close(int fd);

    /**
     * Points fd at marker after waking its users; with {@code keep != 0} first
     * takes a second reference to the file and returns it (the file's last
     * close is then the caller's close of that one, see streams4j.h).
     */
    public static native int s4j_preclose(int fd, int marker, int keep);

    public static native int s4j_poll(int fd, int events, int timeoutMs);

    /** The native address of a direct buffer's first byte (a JNI call: keep it, do not ask per operation). */
    public static long address(ByteBuffer direct) {
        return Pointer.nativeValue(Native.getDirectBufferPointer(direct));
    }

    /** Size of one {@code struct pollfd} in the array of {@link #s4j_poll_many}: int fd, short events, short revents. */
    public static final int POLLFD_SIZE = 8;

    /** poll(2) {@code n} entries of a native struct pollfd array at {@code fds}, events in POLL* bits. */
    public static native int s4j_poll_many(long fds, int n, int timeoutMs);

    public static native int s4j_set_nonblocking(int fd, int on);

    public static native int s4j_file_type(int fd);

    public static int s4j_path_type(String path) {
        return s4j_path_type(Scratch.cString(path));
    }

    private static native int s4j_path_type(long path);

    public static int s4j_chmod(String path, int mode) {
        return s4j_chmod(Scratch.cString(path), mode);
    }

    private static native int s4j_chmod(long path, int mode);

    public static native int s4j_nread(int fd);

    // ---- file identity and directory-relative calls (see FileStat) ----

    /** {@code st}: address of long[10] (Scratch.STAT). */
    static native int s4j_fstat(int fd, long st);

    static native int s4j_fstatat(int dirfd, long name, long st);

    public static native int s4j_fchmod(int fd, int mode);

    public static int s4j_openat(int dirfd, String name, int flags, int mode) {
        return s4j_openat(dirfd, Scratch.cString(name), flags, mode);
    }

    private static native int s4j_openat(int dirfd, long name, int flags, int mode);

    public static int s4j_mkdirat(int dirfd, String name, int mode) {
        return s4j_mkdirat(dirfd, Scratch.cString(name), mode);
    }

    private static native int s4j_mkdirat(int dirfd, long name, int mode);

    public static int s4j_fchmodat(int dirfd, String name, int mode) {
        return s4j_fchmodat(dirfd, Scratch.cString(name), mode);
    }

    private static native int s4j_fchmodat(int dirfd, long name, int mode);

    public static int s4j_linkat(int olddirfd, String oldname, int newdirfd, String newname) {
        long[] a = Scratch.cStrings(oldname, newname);
        return s4j_linkat(olddirfd, a[0], newdirfd, a[1]);
    }

    private static native int s4j_linkat(int olddirfd, long oldname, int newdirfd, long newname);

    public static int s4j_unlinkat(int dirfd, String name, boolean rmdir) {
        return s4j_unlinkat(dirfd, Scratch.cString(name), rmdir ? 1 : 0);
    }

    private static native int s4j_unlinkat(int dirfd, long name, int rmdir);

    /** An exclusive open-file-description lock on the whole file; never waits (EAGAIN, EACCES). */
    public static native int s4j_lock(int fd);

    public static int s4j_renameat(int olddirfd, String oldname, int newdirfd, String newname) {
        long[] a = Scratch.cStrings(oldname, newname);
        return s4j_renameat(olddirfd, a[0], newdirfd, a[1]);
    }

    private static native int s4j_renameat(int olddirfd, long oldname, int newdirfd, long newname);

    /** s4j_pipe and its flag: a SOCK_SEQPACKET pair on the portable backend (a STREAMS pipe ignores it). */
    public static final int SOCK_MESSAGES = 0x01;

    public static int s4j_pipe(int[] fds) {
        return s4j_pipe(fds, 0);
    }

    public static int s4j_pipe(int[] fds, int flags) {
        Scratch s = Scratch.get(0);
        int r = s4j_pipe(s.address + Scratch.PIPE, flags);
        if (r == 0) {
            fds[0] = s.buf.getInt(Scratch.PIPE);
            fds[1] = s.buf.getInt(Scratch.PIPE + 4);
        }
        return r;
    }

    private static native int s4j_pipe(long fds, int flags);

    /** s4j_socket_type results. */
    public static final int SOCK_STREAM = 1;
    public static final int SOCK_SEQPACKET = 2;
    public static final int SOCK_DGRAM = 3;
    public static final int SOCK_OTHER = 4;

    /** SO_TYPE as SOCK_* above; -ENOTSOCK for a pipe, a file or a STREAMS pipe end. */
    public static native int s4j_socket_type(int fd);

    /** s4j_msg_peek's flag: this call only non-blocking. */
    public static final int MSG_PEEK_NB = 0x01;

    /**
     * The length of the message at the head of a SOCK_SEQPACKET socket,
     * left queued, with at most {@code len} of its bytes copied to
     * {@code buf}; the int at {@code fds} 1 when descriptors travel with it.
     * -ENOTSUP on STREAMS.
     */
    public static native long s4j_msg_peek(int fd, long buf, long len, int flags, long fds);

    public static native int s4j_sendfd(int fd, int passfd);

    // Hot paths with primitive arguments only: a native address as a long
    // (the ABI is LP64 already: C long is Java long). JNA passes these with no
    // conversion; an array argument costs a malloc and a copy of the whole
    // array in and out on every call, a String about a microsecond of JNI
    // up-calls (a charset looked up by name, two byte[]). So there are no
    // array or Buffer overloads; paths above go through Scratch.cString.

    public static native long s4j_write(int fd, long buf, long off, long len);

    /** {@code passed}: address of {@link #RECV_FDS} ints (Scratch.PASSED). */
    public static native long s4j_recv(int fd, long buf, long off, long len, long passed);

    /** s4j_recv with MSG_DONTWAIT (sockets; -ENOTSOCK otherwise, -ENOTSUP on STREAMS). */
    public static native long s4j_recv_nb(int fd, long buf, long off, long len, long passed);

    /** s4j_write as send(MSG_DONTWAIT) (sockets; -ENOTSOCK otherwise, -ENOTSUP on STREAMS). */
    public static native long s4j_write_nb(int fd, long buf, long off, long len);

    /**
     * {@code cred}: address of int[4]; {@code data}: address of an int;
     * {@code others}: address of {@link #RECV_FDS} ints (Scratch.PASSED).
     */
    public static native int s4j_recvfd(int fd, long cred, long data, long others);

    /** {@code cred}: address of int[4]. */
    public static native int s4j_peer_cred(int fd, long cred);

    // ---- event-loop waits (events.c) --------------------------------------------

    public static final int EV_NONE = 0;
    public static final int EV_EPOLL = 1;
    public static final int EV_PORT = 2;
    public static final int EV_ADD = 1;
    public static final int EV_MOD = 2;
    public static final int EV_DEL = 3;
    /** ADD for one event: EPOLLONESHOT (DEL still ends it); event ports are one-shot anyway. */
    public static final int EV_ONESHOT = 4;
    /** Size of one s4j_ev_t: long token, int fd, int events (the shim's S4J_EV_SIZE). */
    public static final int EV_SIZE = abi(ABI_EV_SIZE, 16);
    /** The most events one s4j_ev_wait hands over (the shim's S4J_EV_BATCH). */
    public static final int EV_BATCH = abi(ABI_EV_BATCH, 256);
    /**
     * The most buffers one gathering or scattering call hands the shim: the
     * shim's S4J_MAX_IOV, or fewer where sysconf(_SC_IOV_MAX) says so.
     */
    public static final int MAX_IOV = abi(ABI_MAX_IOV, 16);
    /**
     * The platform's PIPE_BUF (the shim's): the most a virtual thread writes
     * in one call after POLLOUT, which the kernel takes without waiting
     * (see {@code Parking}).
     */
    public static final int PIPE_BUF = abi(ABI_PIPE_BUF, 512);
    /** S4J_TTY_SAVE_MAX: room for a whole termios (s4j_tty_save). */
    public static final int TTY_SAVE_MAX = abi(ABI_TTY_SAVE_MAX, 256);

    public static native int s4j_ev_kind();

    public static native int s4j_ev_create();

    public static native int s4j_ev_ctl(int ep, int op, int fd, int events, long token);

    /** {@code arm}, {@code out}: addresses of s4j_ev_t arrays. */
    public static native int s4j_ev_wait(int ep, long arm, int narm, long out, int max, int timeoutMs);

    public static native int s4j_ev_wake(int ep, long token);

    // ---- request and answer (exchange.c) ------------------------------------------

    /**
     * s4j_write then, when it wrote everything, s4j_recv: one call for both.
     * {@code written}: address of a long (the write's result); {@code passed}:
     * address of an int.
     */
    public static native long s4j_exchange(int fd, long wbuf, long woff, long wlen, long rbuf, long roff,
        long rlen, long written, long passed);
    // ---- gathering and scattering I/O, peer groups, names (issue 11) ---------

    /** Size of one {@code struct iovec} (void *base, size_t len) on LP64. */
    public static final int IOVEC_SIZE = 16;

    /** writev(2) of {@code iovcnt} iovecs at the native address {@code iov}. */
    public static native long s4j_writev(int fd, long iov, int iovcnt);

    /** readv(2) / recvmsg(2) into {@code iovcnt} iovecs at {@code iov}; {@code passed}: address of an int. */
    public static native long s4j_recvv(int fd, long iov, int iovcnt, long passed);

    /**
     * s4j_peer_cred into int[4] at {@code cred}, and up to {@code max}
     * supplementary gids at {@code groups}; returns how many groups the peer has.
     */
    public static native int s4j_peer_cred_groups(int fd, long cred, long groups, int max);

    /** getpwnam_r: the uid into this thread's Scratch at ID; -ENOENT for no such user. */
    public static int s4j_uid_of(String name) {
        long n = Scratch.cString(name);
        return s4j_uid_of(n, Scratch.get(0).address + Scratch.ID);
    }

    private static native int s4j_uid_of(long name, long id);

    /** getgrnam_r: the gid into this thread's Scratch at ID; -ENOENT for no such group. */
    public static int s4j_gid_of(String name) {
        long n = Scratch.cString(name);
        return s4j_gid_of(n, Scratch.get(0).address + Scratch.ID);
    }

    private static native int s4j_gid_of(long name, long id);

    /** getpwuid_r: the name into buf; -ENOENT for none, -ERANGE when buf is too small. */
    public static native int s4j_user_name(int uid, byte[] buf, int len);

    /** getgrgid_r: the name into buf; -ENOENT for none, -ERANGE when buf is too small. */
    public static native int s4j_group_name(int gid, byte[] buf, int len);
    // ---- end of output (streams.c or portable.c) ----

    /**
     * shutdown(SHUT_WR) on the portable backend; on STREAMS a zero-length
     * message (I_SWROPT SNDZERO, then a write of 0 bytes). See StreamFd.shutdownOutput.
     */
    public static native int s4j_shutdown_write(int fd);

    /** What the other end has not read yet of what fd wrote (SIOCOUTQ); -ENOTSUP where unknown. */
    public static native int s4j_unread(int fd);

    /**
     * This thread's native memory for out-parameters, C strings and byte[]
     * data, so that hot calls pass addresses (primitives) only. A thread uses
     * it for one call at a time; an address taken from it is good until the
     * next {@link #get} on the same thread.
     */
    public static final class Scratch {
        /**
         * int[RECV_FDS]: the descriptors that came with the data (s4j_recv:
         * the first one, else -1, then any others; s4j_recvfd: those it does
         * not return), ending at -1.
         */
        public static final int PASSED = 112;
        /** int: whether s4j_unix_connect_nb's connect is still in progress (EINPROGRESS). */
        public static final int PENDING = 0;
        /** int: the data byte s4j_recvfd met instead of a descriptor, else -1. */
        public static final int DATA = 4;
        /** int: the id s4j_uid_of or s4j_gid_of found (the DATA slot: never used by both calls at once). */
        public static final int ID = DATA;
        /** int[4]: credentials (CRED_*). */
        public static final int CRED = 8;
        /** int[2]: the two ends s4j_pipe made (the CRED slot). */
        static final int PIPE = CRED;
        /** long: what the write of s4j_exchange returned. */
        public static final int WRITTEN = 24;
        /** long[10]: what s4j_fstat fills (FileStat). */
        static final int STAT = 32;
        /** int[4]: a message's parts in and out (s4j_getmsg, s4j_peekmsg: MSG_*), the STAT slot. */
        public static final int MSG = STAT;
        /** int: a second out-parameter of the message calls (s4j_nread_msgs, s4j_str_ioctl), after MSG. */
        public static final int MSG_OUT = STAT + 16;
        /** Where byte[] data and C strings start. */
        public static final int BYTES = PASSED + 4 * RECV_FDS;
        /** The most data kept per thread: a longer read is a short read, a longer write has its own block. */
        public static final int MAX_CACHED = 256 * 1024;
        /** What JNA itself would encode a String argument with. */
        private static final Charset ENCODING = Charset.forName(Native.getDefaultStringEncoding());
        private static final ThreadLocal<Scratch> LOCAL = ThreadLocal.withInitial(Scratch::new);
        private static final WeakReference<ByteBuffer> NONE = new WeakReference<>(null);

        /** Native byte order, direct. */
        public ByteBuffer buf;
        public long address;
        /**
         * The last two direct buffers this thread read into (entries 0, 1)
         * and wrote from (2, 3), and their addresses: a caller that
         * alternates two buffers (an echo that swaps request and answer)
         * finds both here.
         */
        @SuppressWarnings("unchecked")
        private final WeakReference<ByteBuffer>[] recent = new WeakReference[] {
            NONE, NONE, NONE, NONE};
        private final long[] recentAddress = new long[4];
        /** Per direction, which of its two entries was used longer ago (0 or 1): the next to replace. */
        private final int[] older = new int[2];

        private Scratch() {
            allocate(2048);
        }

        private void allocate(int size) {
            buf = ByteBuffer.allocateDirect(size).order(ByteOrder.nativeOrder());
            address = Shim.address(buf);
        }

        /** This thread's scratch, with room for {@code bytes} (at most MAX_CACHED) at BYTES. */
        public static Scratch get(int bytes) {
            Scratch s = LOCAL.get();
            if (s.buf.capacity() < BYTES + bytes) {
                s.allocate(Integer.highestOneBit(BYTES + bytes - 1) << 1);
            }
            return s;
        }

        /** {@code s} NUL-terminated at BYTES of this thread's scratch (0 for null), as JNA would pass it. */
        static long cString(String s) {
            if (s == null) {
                return 0;
            }
            byte[] b = s.getBytes(ENCODING);
            Scratch t = get(b.length + 1);
            t.buf.put(BYTES, b).put(BYTES + b.length, (byte) 0);
            return t.address + BYTES;
        }

        /** Two strings, NUL-terminated one after the other at BYTES; their addresses. */
        static long[] cStrings(String a, String b) {
            byte[] x = a.getBytes(ENCODING);
            byte[] y = b.getBytes(ENCODING);
            Scratch t = get(x.length + y.length + 2);
            t.buf.put(BYTES, x).put(BYTES + x.length, (byte) 0);
            t.buf.put(BYTES + x.length + 1, y).put(BYTES + x.length + 1 + y.length, (byte) 0);
            return new long[] {t.address + BYTES, t.address + BYTES + x.length + 1};
        }

        /**
         * The address of a direct buffer's first byte (not counting its
         * position). The last two buffers of each {@code slot} (0: read
         * into, 1: written from) are remembered (weakly): a buffer used again
         * costs no JNI call and no allocation.
         */
        public long address(ByteBuffer direct, int slot) {
            int a = 2 * slot;
            if (recent[a].get() == direct) {
                older[slot] = 1;
                return recentAddress[a];
            }
            if (recent[a + 1].get() == direct) {
                older[slot] = 0;
                return recentAddress[a + 1];
            }
            int e = a + older[slot];
            recentAddress[e] = Shim.address(direct);
            recent[e] = new WeakReference<>(direct);
            older[slot] ^= 1;
            return recentAddress[e];
        }

        public int passed() {
            return buf.getInt(PASSED);
        }

        /**
         * The descriptors stored at PASSED from index {@code from} up to the
         * -1 after the last (the others a receive brought), or an empty array.
         */
        public int[] passedFrom(int from) {
            int n = 0;
            while (from + n < RECV_FDS && buf.getInt(PASSED + 4 * (from + n)) >= 0) {
                n++;
            }
            int[] fds = new int[n];
            for (int i = 0; i < n; i++) {
                fds[i] = buf.getInt(PASSED + 4 * (from + i));
            }
            return fds;
        }

        public int cred(int i) {
            return buf.getInt(CRED + 4 * i);
        }
    }
}
