package org.streams4j;

import org.streams4j.internal.HotCalls;
import org.streams4j.internal.Shim;

/**
 * What this host can do: whether the native shim loaded, the live backend and
 * its capabilities.
 *
 * <p>As with Netty's native transports, a host the jar carries no shim for
 * (or where JNA cannot load) is reported, not thrown at class loading:
 * {@link #isAvailable()} says whether streams4j works here and
 * {@link #unavailabilityCause()} why not. Every other entry point throws an
 * {@link UnsatisfiedLinkError} naming the cause there.
 */
public final class Platform {
    private static final Throwable CAUSE = Shim.loadFailure();
    private static final Backend BACKEND = CAUSE != null ? null
        : Shim.s4j_backend() == Shim.BACKEND_STREAMS ? Backend.STREAMS : Backend.PORTABLE;

    private Platform() {
    }

    /**
     * Whether the native library loaded, so that streams4j works on this host.
     *
     * @return true when it did
     */
    public static boolean isAvailable() {
        return CAUSE == null;
    }

    /**
     * Why the native library did not load.
     *
     * @return the error JNA reported, or null when {@link #isAvailable()}
     */
    public static Throwable unavailabilityCause() {
        return CAUSE;
    }

    /**
     * Throws unless the native library loaded.
     *
     * @throws UnsatisfiedLinkError naming the host and, as its cause, what JNA reported
     */
    public static void ensureAvailability() {
        if (CAUSE != null) {
            UnsatisfiedLinkError e = new UnsatisfiedLinkError(unavailableMessage());
            e.initCause(CAUSE);
            throw e;
        }
    }

    /** One line: why streams4j cannot work here. */
    static String unavailableMessage() {
        String why = String.valueOf(CAUSE.getMessage()).strip()
            .replaceAll(":?\\s*[\\r\\n]+\\s*", "; ");
        String prefix;
        try {
            prefix = com.sun.jna.Platform.RESOURCE_PREFIX;
        } catch (LinkageError e) {
            prefix = System.getProperty("os.name") + "-" + System.getProperty("os.arch");
        }
        return "streams4j native library unavailable (" + prefix + "): " + why
            + " (the jar has no " + prefix + "/ shim: build one for this host, or name its directory"
            + " with -Djna.library.path)";
    }

    /**
     * The implementation of the contract that is live on this host.
     *
     * @return STREAMS on illumos and Solaris, PORTABLE elsewhere
     * @throws UnsatisfiedLinkError when the native library did not load
     */
    public static Backend backend() {
        ensureAvailability();
        return BACKEND;
    }

    /**
     * Whether push/pop/look/find/list exist (STREAMS only).
     *
     * @return true on the STREAMS backend
     */
    public static boolean supportsModules() {
        return backend() == Backend.STREAMS;
    }

    /**
     * Whether fattach/fdetach exist (STREAMS only; the portable backend binds sockets instead).
     *
     * @return true on the STREAMS backend
     */
    public static boolean supportsFattach() {
        return backend() == Backend.STREAMS;
    }

    /**
     * Whether a connld server reports the client's zone id (illumos and Solaris zones).
     *
     * @return true on the STREAMS backend
     */
    public static boolean hasZones() {
        return backend() == Backend.STREAMS;
    }

    /**
     * How the shim's data-path calls (reads, writes, waits, descriptor
     * passing, close) are bound. On JDK 22 and later, with native access
     * enabled for this library ({@code --enable-native-access=ALL-UNNAMED} on
     * the class path, {@code org.streams4j} on the module path) and a jar
     * built with a JDK 22+, they are FFM downcalls; otherwise JNA's direct
     * mapping, as every other call is. The system property
     * {@code streams4j.binding} ({@code jna}, {@code ffm} or {@code auto})
     * overrides the choice, which is made once per JVM.
     *
     * @return one line, e.g. {@code FFM downcalls (JDK 25)} or {@code JNA 5.19.1 (...why not FFM...)}
     * @throws UnsatisfiedLinkError when the native library did not load
     */
    public static String nativeBinding() {
        ensureAvailability();
        return HotCalls.describe();
    }

    /**
     * The effective uid of this process.
     *
     * @return geteuid()
     */
    public static int euid() {
        ensureAvailability();
        return Shim.s4j_geteuid();
    }

    /**
     * The effective gid of this process.
     *
     * @return getegid()
     */
    public static int egid() {
        ensureAvailability();
        return Shim.s4j_getegid();
    }

    /**
     * One line for logs and {@code streamsctl info}: the backend and the OS.
     *
     * @return e.g. {@code portable (AF_UNIX, ...) on Linux 6.1 amd64}
     */
    public static String describe() {
        return backend().description() + " on " + System.getProperty("os.name") + " "
            + System.getProperty("os.version") + " " + System.getProperty("os.arch");
    }
}
