package org.streams4j;

import org.streams4j.internal.Shim;

/** What this host can do: the live backend and its capabilities. */
public final class Platform {
    private static final Backend BACKEND =
        Shim.s4j_backend() == Shim.BACKEND_STREAMS ? Backend.STREAMS : Backend.PORTABLE;

    private Platform() {
    }

    public static Backend backend() {
        return BACKEND;
    }

    /** Whether push/pop/look/find/list exist (STREAMS only). */
    public static boolean supportsModules() {
        return BACKEND == Backend.STREAMS;
    }

    /** Whether fattach/fdetach exist (STREAMS only; the portable backend binds sockets instead). */
    public static boolean supportsFattach() {
        return BACKEND == Backend.STREAMS;
    }

    /** Whether a connld server reports the client's zone id (illumos and Solaris zones). */
    public static boolean hasZones() {
        return BACKEND == Backend.STREAMS;
    }

    /**
     * Whether closing a listening socket wakes a thread blocked in accept(2):
     * on Linux the shutdown(2) in close() does (accept returns EINVAL).
     * Elsewhere a server waits in poll(2), which close() does wake.
     */
    static boolean closeWakesAccept() {
        return BACKEND == Backend.PORTABLE && "Linux".equals(System.getProperty("os.name"));
    }

    /** The effective uid of this process. */
    public static int euid() {
        return Shim.s4j_geteuid();
    }

    /** The effective gid of this process. */
    public static int egid() {
        return Shim.s4j_getegid();
    }

    /** One line for logs and {@code streamsctl info}: the backend and the OS. */
    public static String describe() {
        return BACKEND.description() + " on " + System.getProperty("os.name") + " "
            + System.getProperty("os.version") + " " + System.getProperty("os.arch");
    }
}
