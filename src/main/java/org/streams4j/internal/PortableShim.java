package org.streams4j.internal;

import com.sun.jna.Native;

/** The AF_UNIX calls of the portable backend; registered only where the shim carries them. */
public final class PortableShim {
    static {
        Native.register(PortableShim.class, NativeLibrary.NAME);
    }

    private PortableShim() {
    }

    /** Paths go through Shim.Scratch.cString: a JNA String argument costs about 1 us a call. */
    /** Flags: {@link Shim#SOCK_MESSAGES} for SOCK_SEQPACKET, else 0. */
    public static int s4j_unix_bind(String path, int flags) {
        return s4j_unix_bind(Shim.Scratch.cString(path), flags);
    }

    private static native int s4j_unix_bind(long path, int flags);

    public static native int s4j_unix_listen(int fd, int backlog);

    public static native int s4j_unix_accept(int fd);

    public static int s4j_unix_connect(String path, int flags) {
        return s4j_unix_connect(Shim.Scratch.cString(path), flags);
    }

    private static native int s4j_unix_connect(long path, int flags);

    /** Non-blocking connect; {@code pending} is the address of an int (Scratch.PENDING). */
    public static int s4j_unix_connect_nb(String path, int flags, long pending) {
        return s4j_unix_connect_nb(Shim.Scratch.cString(path), flags, pending);
    }

    private static native int s4j_unix_connect_nb(long path, int flags, long pending);

    public static native int s4j_socket_error(int fd);

    /** 1 when a socket listens at the path, 0 when none, -EOPNOTSUPP where the kernel cannot tell. */
    public static int s4j_unix_listening(String path) {
        return s4j_unix_listening(Shim.Scratch.cString(path));
    }

    private static native int s4j_unix_listening(long path);
}
