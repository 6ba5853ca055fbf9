package org.streams4j.internal;

/**
 * The shim's calls on a data path (reads, writes, waits, descriptor
 * passing, close), bound once per JVM: by JNA's direct mapping
 * ({@link Shim}) on every JDK, or on JDK 22 and later by FFM downcall
 * handles ({@code java.lang.foreign.Linker}) to the same functions of the
 * same library, when this module may use native access.
 *
 * <p>Everything else stays on {@link Shim}: it runs once per connection or
 * less, where the binding's price per call does not show. Arguments and
 * results are those of {@link Shim}'s methods of the same name: native
 * addresses as {@code long}, {@code -errno} on failure.
 */
public interface HotCalls {
    /** The binding this JVM uses, chosen when this interface is first used. */
    HotCalls INSTANCE = Bindings.choose();

    /**
     * Which binding this is.
     *
     * @return {@code "jna"} or {@code "ffm"}
     */
    String name();

    /**
     * One line: the binding in use and, for JNA, why not FFM.
     *
     * @return e.g. {@code FFM downcalls (JDK 25)} or {@code JNA 5.19.1 (FFM downcalls need JDK 22 or later; this is 17)}
     */
    static String describe() {
        INSTANCE.name();
        return Bindings.note;
    }

    long write(int fd, long buf, long off, long len);

    long recv(int fd, long buf, long off, long len, long passed);

    /**
     * {@code recv} for this call only non-blocking (MSG_DONTWAIT): what a
     * virtual thread tries before it parks. -ENOTSOCK for a descriptor that
     * is no socket, -ENOTSUP on STREAMS (no such flag there).
     */
    long recvNb(int fd, long buf, long off, long len, long passed);

    /** {@code write} as a non-blocking send (MSG_DONTWAIT); -ENOTSOCK, -ENOTSUP as {@link #recvNb}. */
    long writeNb(int fd, long buf, long off, long len);

    long exchange(int fd, long wbuf, long woff, long wlen, long rbuf, long roff, long rlen, long written,
        long passed);

    long writev(int fd, long iov, int iovcnt);

    long recvv(int fd, long iov, int iovcnt, long passed);

    int poll(int fd, int events, int timeoutMs);

    int sendfd(int fd, int passfd);

    int recvfd(int fd, long cred, long data, long others);

    int pollMany(long fds, int n, int timeoutMs);

    int evWait(int ep, long arm, int narm, long out, int max, int timeoutMs);

    int evCtl(int ep, int op, int fd, int events, long token);

    int close(int fd);
}
