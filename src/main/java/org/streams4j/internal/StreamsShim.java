package org.streams4j.internal;

import com.sun.jna.Native;

/** The STREAMS-only calls; registered only where the shim carries them (illumos, Solaris). */
public final class StreamsShim {
    static {
        Native.register(StreamsShim.class, NativeLibrary.NAME);
    }

    private StreamsShim() {
    }

    public static native int s4j_isastream(int fd);

    public static native int s4j_push(int fd, String module);

    public static native int s4j_pop(int fd);

    public static native int s4j_look(int fd, byte[] name, int len);

    public static native int s4j_find(int fd, String module);

    public static native int s4j_list(int fd, byte[] names, int count);

    public static native int s4j_fattach(int fd, String path);

    public static native int s4j_fdetach(String path);

    public static native int s4j_fstype(String path, byte[] name, int len);
}
