package org.streams4j.internal;

import com.sun.jna.Native;

/** The AF_UNIX calls of the portable backend; registered only where the shim carries them. */
public final class PortableShim {
    static {
        Native.register(PortableShim.class, NativeLibrary.NAME);
    }

    private PortableShim() {
    }

    public static native int s4j_unix_bind(String path);

    public static native int s4j_unix_listen(int fd, int backlog);

    public static native int s4j_unix_accept(int fd);

    public static native int s4j_unix_connect(String path);
}
