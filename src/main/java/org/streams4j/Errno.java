package org.streams4j;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import org.streams4j.internal.Shim;

/**
 * errno names and numbers of this platform, read from the shim (which was
 * compiled against this platform's {@code <errno.h>}), so that no Java code
 * carries a number that differs between illumos and Linux.
 */
public final class Errno {
    private static final int MAX = 1024;
    private static final String[] NAMES = new String[MAX];
    private static final Map<String, Integer> VALUES = new HashMap<>();

    static {
        for (int i = 1; i < MAX && Platform.isAvailable(); i++) {
            String n = Shim.s4j_errno_name(i);
            if (n != null) {
                NAMES[i] = n;
                VALUES.putIfAbsent(n, i);
            }
        }
    }

    /** EPERM here, or -1 where the platform has none. */
    public static final int EPERM = value("EPERM");
    /** ENOENT here, or -1 where the platform has none. */
    public static final int ENOENT = value("ENOENT");
    /** EINTR here, or -1 where the platform has none. */
    public static final int EINTR = value("EINTR");
    /** ENXIO here, or -1 where the platform has none. */
    public static final int ENXIO = value("ENXIO");
    /** EBADF here, or -1 where the platform has none. */
    public static final int EBADF = value("EBADF");
    /** EAGAIN here, or -1 where the platform has none. */
    public static final int EAGAIN = value("EAGAIN");
    /** ENOMEM here, or -1 where the platform has none. */
    public static final int ENOMEM = value("ENOMEM");
    /** EACCES here, or -1 where the platform has none. */
    public static final int EACCES = value("EACCES");
    /** EBUSY here, or -1 where the platform has none. */
    public static final int EBUSY = value("EBUSY");
    /** EEXIST here, or -1 where the platform has none. */
    public static final int EEXIST = value("EEXIST");
    /** ENOTDIR here, or -1 where the platform has none. */
    public static final int ENOTDIR = value("ENOTDIR");
    /** EINVAL here, or -1 where the platform has none. */
    public static final int EINVAL = value("EINVAL");
    /** ENFILE here, or -1 where the platform has none. */
    public static final int ENFILE = value("ENFILE");
    /** EMFILE here, or -1 where the platform has none. */
    public static final int EMFILE = value("EMFILE");
    /** EPIPE here, or -1 where the platform has none. */
    public static final int EPIPE = value("EPIPE");
    /** ENAMETOOLONG here, or -1 where the platform has none. */
    public static final int ENAMETOOLONG = value("ENAMETOOLONG");
    /** ELOOP here, or -1 where the platform has none. */
    public static final int ELOOP = value("ELOOP");
    /** ENOSTR here, or -1 where the platform has none. */
    public static final int ENOSTR = value("ENOSTR");
    /** EBADMSG here, or -1 where the platform has none. */
    public static final int EBADMSG = value("EBADMSG");
    /** ENOTSOCK here, or -1 where the platform has none. */
    public static final int ENOTSOCK = value("ENOTSOCK");
    /** EOPNOTSUPP here, or -1 where the platform has none. */
    public static final int EOPNOTSUPP = value("EOPNOTSUPP");
    /** EADDRINUSE here, or -1 where the platform has none. */
    public static final int EADDRINUSE = value("EADDRINUSE");
    /** ECONNRESET here, or -1 where the platform has none. */
    public static final int ECONNRESET = value("ECONNRESET");
    /** ENOTCONN here, or -1 where the platform has none. */
    public static final int ENOTCONN = value("ENOTCONN");
    /** ETIMEDOUT here, or -1 where the platform has none. */
    public static final int ETIMEDOUT = value("ETIMEDOUT");
    /** ECONNREFUSED here, or -1 where the platform has none. */
    public static final int ECONNREFUSED = value("ECONNREFUSED");
    /** EMSGSIZE here, or -1 where the platform has none. */
    public static final int EMSGSIZE = value("EMSGSIZE");
    /** EPROTOTYPE here, or -1 where the platform has none. */
    public static final int EPROTOTYPE = value("EPROTOTYPE");
    /** ENODATA here, or -1 where the platform has none. */
    public static final int ENODATA = value("ENODATA");
    /** ETIME (a STREAMS ioctl's time-out) here, or -1 where the platform has none. */
    public static final int ETIME = value("ETIME");
    /** ERANGE here, or -1 where the platform has none. */
    public static final int ERANGE = value("ERANGE");
    /** ECONNABORTED here, or -1 where the platform has none. */
    public static final int ECONNABORTED = value("ECONNABORTED");
    /** ESRCH here (no such process), or -1 where the platform has none. */
    public static final int ESRCH = value("ESRCH");
    /** EIO here (a terminal's hang-up on Linux), or -1 where the platform has none. */
    public static final int EIO = value("EIO");

    private Errno() {
    }

    /**
     * The number of an errno on this platform.
     *
     * @param name e.g. {@code "EBUSY"}
     * @return its number here, or -1 when this platform has none
     */
    public static int value(String name) {
        return VALUES.getOrDefault(name, -1);
    }

    /**
     * The name of an errno number.
     *
     * @param errno a number
     * @return {@code "EBUSY"} for EBUSY's number; {@code "errno 123"} for a number with no name
     */
    public static String name(int errno) {
        if (errno > 0 && errno < MAX && NAMES[errno] != null) {
            return NAMES[errno];
        }
        return "errno " + errno;
    }

    /**
     * The platform's strerror text, starting in lower case.
     *
     * @param errno a number
     * @return e.g. {@code "device busy"}
     */
    public static String message(int errno) {
        byte[] buf = new byte[256];
        if (!Platform.isAvailable() || Shim.s4j_strerror(errno, buf, buf.length) != 0) {
            return "error " + errno;
        }
        int n = 0;
        while (n < buf.length && buf[n] != 0) {
            n++;
        }
        String s = new String(buf, 0, n, StandardCharsets.UTF_8);
        if (s.length() > 1 && Character.isUpperCase(s.charAt(0)) && !Character.isUpperCase(s.charAt(1))) {
            s = s.substring(0, 1).toLowerCase(Locale.ROOT) + s.substring(1);
        }
        return s;
    }

    /**
     * The errnos above as an enum, so that a caller can {@code switch} on a
     * failure ({@link StreamsException#code()}): the numbers differ between
     * platforms and are read from the shim at run time, so the int
     * constants are no constant expressions. {@link #OTHER} stands for any
     * errno not listed here, and for a failure without one.
     */
    public enum Code {
        /** {@code EPERM}. */
        EPERM,
        /** {@code ENOENT}. */
        ENOENT,
        /** {@code EINTR}. */
        EINTR,
        /** {@code ENXIO}. */
        ENXIO,
        /** {@code EBADF}. */
        EBADF,
        /** {@code EAGAIN}. */
        EAGAIN,
        /** {@code ENOMEM}. */
        ENOMEM,
        /** {@code EACCES}. */
        EACCES,
        /** {@code EBUSY}. */
        EBUSY,
        /** {@code EEXIST}. */
        EEXIST,
        /** {@code ENOTDIR}. */
        ENOTDIR,
        /** {@code EINVAL}. */
        EINVAL,
        /** {@code ENFILE}. */
        ENFILE,
        /** {@code EMFILE}. */
        EMFILE,
        /** {@code EPIPE}. */
        EPIPE,
        /** {@code ENAMETOOLONG}. */
        ENAMETOOLONG,
        /** {@code ELOOP}. */
        ELOOP,
        /** {@code ENOSTR}. */
        ENOSTR,
        /** {@code EBADMSG}. */
        EBADMSG,
        /** {@code ENOTSOCK}. */
        ENOTSOCK,
        /** {@code EOPNOTSUPP}. */
        EOPNOTSUPP,
        /** {@code EADDRINUSE}. */
        EADDRINUSE,
        /** {@code ECONNRESET}. */
        ECONNRESET,
        /** {@code ENOTCONN}. */
        ENOTCONN,
        /** {@code ETIMEDOUT}. */
        ETIMEDOUT,
        /** {@code ECONNREFUSED}. */
        ECONNREFUSED,
        /** {@code ECONNABORTED}. */
        ECONNABORTED,
        /** {@code EMSGSIZE}. */
        EMSGSIZE,
        /** {@code EPROTOTYPE}. */
        EPROTOTYPE,
        /** {@code ENODATA}. */
        ENODATA,
        /** {@code ETIME}. */
        ETIME,
        /** {@code ERANGE}. */
        ERANGE,
        /** {@code ESRCH}. */
        ESRCH,
        /** {@code EIO}. */
        EIO,
        /** An errno not listed here, or none. */
        OTHER;

        /**
         * The code of an errno number.
         *
         * @param errno a positive errno, as {@link StreamsException#errno()}
         * @return its code, or {@link #OTHER}
         */
        public static Code of(int errno) {
            if (errno <= 0) {
                return OTHER;
            }
            for (Code c : values()) {
                if (c != OTHER && c.value() == errno) {
                    return c;
                }
            }
            return OTHER;
        }

        /**
         * This platform's number for the errno.
         *
         * @return the number, or -1 for {@link #OTHER} and for an errno the platform does not have
         */
        public int value() {
            return this == OTHER ? -1 : Errno.value(name());
        }
    }
}
