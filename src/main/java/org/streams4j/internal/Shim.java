package org.streams4j.internal;

import com.sun.jna.Native;
import java.nio.Buffer;

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

    public static final int POLLIN = 0x01;
    public static final int POLLOUT = 0x02;
    public static final int POLLERR = 0x04;
    public static final int POLLHUP = 0x08;
    public static final int POLLNVAL = 0x10;

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

    static {
        Native.register(Shim.class, NativeLibrary.NAME);
    }

    private Shim() {
    }

    /** Loads the library; cheap after the first call. */
    public static void load() {
        // class initialisation did the work
    }

    public static native int s4j_backend();

    public static native String s4j_errno_name(int err);

    public static native int s4j_strerror(int err, byte[] buf, int len);

    public static native int s4j_geteuid();

    public static native int s4j_getegid();

    public static native int s4j_open(String path, int flags, int mode);

    public static native int s4j_close(int fd);

    public static native int s4j_preclose(int fd, int marker);

    public static native long s4j_read(int fd, byte[] buf, long off, long len);

    public static native long s4j_read(int fd, Buffer buf, long off, long len);

    public static native long s4j_write(int fd, byte[] buf, long off, long len);

    public static native long s4j_write(int fd, Buffer buf, long off, long len);

    public static native int s4j_poll(int fd, int events, int timeoutMs);

    public static native int s4j_set_nonblocking(int fd, int on);

    public static native int s4j_file_type(int fd);

    public static native int s4j_path_type(String path);

    public static native int s4j_chmod(String path, int mode);

    public static native int s4j_nread(int fd);

    public static native int s4j_pipe(int[] fds);

    public static native int s4j_sendfd(int fd, int passfd);

    public static native int s4j_recvfd(int fd, int[] cred, int[] data);

    public static native long s4j_recv(int fd, byte[] buf, long off, long len, int[] passed);

    public static native long s4j_recv(int fd, Buffer buf, long off, long len, int[] passed);

    public static native int s4j_peer_cred(int fd, int[] cred);

    // Hot paths with primitive arguments only: a native address as a long
    // (the ABI is LP64 already: C long is Java long). JNA passes these with no
    // conversion; an array argument costs a malloc and a copy of the whole
    // array in and out on every call, and JNA offsets a Buffer argument by
    // its position() (so the Buffer overloads above want off = 0).

    public static native long s4j_write(int fd, long buf, long off, long len);

    /** {@code passed}: address of an int. */
    public static native long s4j_recv(int fd, long buf, long off, long len, long passed);

    /** {@code cred}: address of int[4]; {@code data}: address of an int. */
    public static native int s4j_recvfd(int fd, long cred, long data);

    /** {@code cred}: address of int[4]. */
    public static native int s4j_peer_cred(int fd, long cred);
}
