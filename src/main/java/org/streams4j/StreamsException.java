package org.streams4j;

import java.io.IOException;

/**
 * A failed STREAMS (or portable backend) operation. The message names the
 * operation, its target (a path or {@code fd N}), the errno name and what it
 * means here, e.g. {@code fattach /run/x: EBUSY (already attached)}.
 */
public class StreamsException extends IOException {
    private static final long serialVersionUID = 1L;

    /** The operation that failed. */
    private final String operation;
    /** What it was applied to. */
    private final String target;
    /** The errno, 0 for none. */
    private final int errno;

    /**
     * An error with an errno; {@code detail} null means the standard explanation.
     *
     * @param operation the operation, e.g. {@code fattach}
     * @param target what it was applied to: a path, or {@code fd 7}
     * @param errno the errno
     * @param detail what it means here, or null
     */
    public StreamsException(String operation, String target, int errno, String detail) {
        super(format(operation, target, errno, detail != null ? detail : explain(operation, errno)));
        this.operation = operation;
        this.target = target;
        this.errno = errno;
    }

    /**
     * An error with an errno and its standard explanation.
     *
     * @param operation the operation, e.g. {@code fattach}
     * @param target what it was applied to: a path, or {@code fd 7}
     * @param errno the errno
     */
    public StreamsException(String operation, String target, int errno) {
        this(operation, target, errno, null);
    }

    /**
     * An error that no errno names ({@link #errno()} is 0): {@code connect /x: no server attached at /x}.
     *
     * @param operation the operation
     * @param target what it was applied to
     * @param message what went wrong
     */
    public StreamsException(String operation, String target, String message) {
        super(prefix(operation, target) + message);
        this.operation = operation;
        this.target = target;
        this.errno = 0;
    }

    /**
     * The operation that failed.
     *
     * @return {@code fattach}, {@code read}, {@code push}...
     */
    public String operation() {
        return operation;
    }

    /**
     * What it was applied to.
     *
     * @return a path, or {@code fd 7}
     */
    public String target() {
        return target;
    }

    /**
     * The errno, compared with the constants of {@link Errno}.
     *
     * @return the errno, or 0 when the failure is not an errno
     */
    public int errno() {
        return errno;
    }

    /**
     * The errno as an enum constant, to {@code switch} on:
     * {@code switch (e.code()) { case ENOENT -> ...; case EACCES -> ...; default -> ... }}.
     *
     * @return the errno's code; {@link Errno.Code#OTHER} for one not listed there, or none
     */
    public Errno.Code code() {
        return Errno.Code.of(errno);
    }

    /**
     * The errno's name.
     *
     * @return {@code "EBUSY"}, or null when there is no errno
     */
    public String errnoName() {
        return errno == 0 ? null : Errno.name(errno);
    }

    /**
     * Whether nothing serves the path a {@code connect} named: nothing there
     * (ENOENT), a socket nobody listens on (ECONNREFUSED), or a file that is
     * not a server (ENOTSOCK on the portable backend, ENOSTR on STREAMS), so
     * that a caller need not list the errnos of both backends. A server that
     * was there and is going away answers {@link #isPeerGone()} instead.
     *
     * <p>The errno's name also works in a {@code switch}:
     * {@code switch (e.errnoName()) { case "ENOENT": ... }}; the numbers of
     * {@link Errno} differ between platforms and are read at run time, so
     * they are not constant expressions.
     *
     * @return true for a {@code connect} that found no server
     */
    public boolean isNoServer() {
        return "connect".equals(operation) && errno != 0 && (errno == Errno.ENOENT
            || errno == Errno.ECONNREFUSED || errno == Errno.ENOTSOCK || errno == Errno.ENOSTR);
    }

    /**
     * Whether the other end has gone: it closed or reset the connection while
     * this end wrote (EPIPE, ECONNRESET), or hung up (ENXIO, STREAMS), or the
     * server closed while a client connected to it. This is how a connection
     * routinely ends, not an error of this process; the library logs it at
     * DEBUG, never as a warning.
     *
     * @return true when the peer has gone
     */
    public boolean isPeerGone() {
        if (errno == 0) {
            return false;
        }
        if (errno == Errno.EPIPE || errno == Errno.ECONNRESET || errno == Errno.ECONNABORTED) {
            return true;
        }
        // ENXIO: a STREAMS hang-up (strwrite, strread on a hung-up stream; connopen once the
        // server's end is closed). Not a connect's "no such device" elsewhere.
        return errno == Errno.ENXIO && !"push".equals(operation);
    }

    /**
     * How descriptors are named in messages.
     *
     * @param fd a descriptor number
     * @return {@code fd 7}
     */
    public static String fd(int fd) {
        return "fd " + fd;
    }

    private static String prefix(String op, String target) {
        return target == null || target.isEmpty() ? op + ": " : op + " " + target + ": ";
    }

    private static String format(String op, String target, int errno, String detail) {
        return prefix(op, target) + Errno.name(errno) + " (" + detail + ")";
    }

    /** What an errno means for this operation, in words a person understands. */
    static String explain(String op, int errno) {
        if (errno == Errno.EBUSY && "fattach".equals(op)) {
            return "already attached";
        }
        if (errno == Errno.EPIPE) {
            return "the other end is closed";
        }
        if (errno == Errno.ENXIO && ("push".equals(op) || "receiveFd".equals(op))) {
            return "hang-up, or connld already pushed";
        }
        if (errno == Errno.EBADMSG && "receiveFd".equals(op)) {
            return "data is next on the stream, not a descriptor";
        }
        if (errno == Errno.EBADMSG && "read".equals(op)) {
            // STREAMS read(2): EBADMSG for a passed descriptor (M_PASSFP) or a
            // control part (M_PROTO, M_PCPROTO: any peer's putmsg) at the head.
            return Platform.backend() == Backend.STREAMS
                ? "a descriptor or a control message (putmsg) is next on the stream, not data"
                : "a descriptor is next on the stream, not data";
        }
        if (errno == Errno.EBADF) {
            return "not an open descriptor";
        }
        if (errno == Errno.EPERM && ("fattach".equals(op) || "fdetach".equals(op))) {
            return "not the owner of the path";
        }
        if (errno == Errno.EINVAL && "fdetach".equals(op)) {
            return "nothing is attached there";
        }
        if (errno == Errno.EINVAL && "pop".equals(op)) {
            return "no module to pop";
        }
        if (errno == Errno.EINVAL && "push".equals(op)) {
            return "no such module, or not a stream that takes it";
        }
        return Errno.message(errno);
    }
}
