package org.streams4j.internal;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import com.sun.jna.Pointer;

/**
 * {@link HotCalls} through FFM downcall handles (JDK 22+): the same
 * functions of the same loaded library JNA registered {@link Shim} against,
 * by the addresses JNA's {@code NativeLibrary} looks up (nothing is loaded a
 * second time). {@link Bindings} loads this class only
 * when the module may use native access, so the restricted methods here
 * never print a warning.
 *
 * <p>Pointer parameters are passed as {@code JAVA_LONG}, as {@link Shim}'s
 * direct mapping passes them: on every LP64 ABI the shim builds for
 * (x86-64 System V, AArch64, SPARC V9) a pointer and a long travel in the
 * same integer register or stack slot, and no {@code MemorySegment} is made
 * per call. The handles are static finals, so the JIT inlines them. No call
 * is marked {@code critical}: reads, writes and waits may block.
 */
final class FfmCalls implements HotCalls {
    static final FfmCalls INSTANCE = new FfmCalls();

    private static final com.sun.jna.NativeLibrary LIB;
    private static final MethodHandle WRITE;
    private static final MethodHandle RECV;
    private static final MethodHandle RECV_NB;
    private static final MethodHandle WRITE_NB;
    private static final MethodHandle EXCHANGE;
    private static final MethodHandle WRITEV;
    private static final MethodHandle RECVV;
    private static final MethodHandle POLL;
    private static final MethodHandle SENDFD;
    private static final MethodHandle RECVFD;
    private static final MethodHandle POLL_MANY;
    private static final MethodHandle EV_WAIT;
    private static final MethodHandle EV_CTL;
    private static final MethodHandle CLOSE;

    static {
        Shim.load();
        if (Shim.loadFailure() != null) {
            throw new IllegalStateException("the shim did not load", Shim.loadFailure());
        }
        // The library JNA loaded (Native.register caches it under this name and class loader):
        // its functions' addresses, not its file, which JNA may have extracted to a temporary
        // file and deleted once loaded.
        LIB = com.sun.jna.NativeLibrary.getInstance(NativeLibrary.NAME, Shim.class.getClassLoader());
        WRITE = handle("s4j_write", JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG);
        RECV = handle("s4j_recv", JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG);
        RECV_NB = handle("s4j_recv_nb", JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG);
        WRITE_NB = handle("s4j_write_nb", JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG);
        EXCHANGE = handle("s4j_exchange", JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG,
            JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG);
        WRITEV = handle("s4j_writev", JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_INT);
        RECVV = handle("s4j_recvv", JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_LONG);
        POLL = handle("s4j_poll", JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT);
        SENDFD = handle("s4j_sendfd", JAVA_INT, JAVA_INT, JAVA_INT);
        RECVFD = handle("s4j_recvfd", JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG);
        POLL_MANY = handle("s4j_poll_many", JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_INT);
        EV_WAIT = handle("s4j_ev_wait", JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_INT);
        EV_CTL = handle("s4j_ev_ctl", JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG);
        CLOSE = handle("s4j_close", JAVA_INT, JAVA_INT);
    }

    private FfmCalls() {
    }

    @SuppressWarnings("restricted")     // Bindings loads this class only with native access granted
    private static MethodHandle handle(String name, MemoryLayout result, MemoryLayout... args) {
        MemorySegment fn = MemorySegment.ofAddress(Pointer.nativeValue(LIB.getFunction(name)));
        return Linker.nativeLinker().downcallHandle(fn, FunctionDescriptor.of(result, args));
    }

    /** invokeExact declares Throwable; a downcall throws only what the JVM throws anywhere. */
    private static RuntimeException fail(Throwable t) {
        if (t instanceof RuntimeException r) {
            throw r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        throw new IllegalStateException(t);
    }

    @Override
    public String name() {
        return "ffm";
    }

    @Override
    public long write(int fd, long buf, long off, long len) {
        try {
            return (long) WRITE.invokeExact(fd, buf, off, len);
        } catch (Throwable t) {
            throw fail(t);
        }
    }

    @Override
    public long recv(int fd, long buf, long off, long len, long passed) {
        try {
            return (long) RECV.invokeExact(fd, buf, off, len, passed);
        } catch (Throwable t) {
            throw fail(t);
        }
    }

    @Override
    public long recvNb(int fd, long buf, long off, long len, long passed) {
        try {
            return (long) RECV_NB.invokeExact(fd, buf, off, len, passed);
        } catch (Throwable t) {
            throw fail(t);
        }
    }

    @Override
    public long writeNb(int fd, long buf, long off, long len) {
        try {
            return (long) WRITE_NB.invokeExact(fd, buf, off, len);
        } catch (Throwable t) {
            throw fail(t);
        }
    }

    @Override
    public long exchange(int fd, long wbuf, long woff, long wlen, long rbuf, long roff, long rlen,
        long written, long passed) {
        try {
            return (long) EXCHANGE.invokeExact(fd, wbuf, woff, wlen, rbuf, roff, rlen, written, passed);
        } catch (Throwable t) {
            throw fail(t);
        }
    }

    @Override
    public long writev(int fd, long iov, int iovcnt) {
        try {
            return (long) WRITEV.invokeExact(fd, iov, iovcnt);
        } catch (Throwable t) {
            throw fail(t);
        }
    }

    @Override
    public long recvv(int fd, long iov, int iovcnt, long passed) {
        try {
            return (long) RECVV.invokeExact(fd, iov, iovcnt, passed);
        } catch (Throwable t) {
            throw fail(t);
        }
    }

    @Override
    public int poll(int fd, int events, int timeoutMs) {
        try {
            return (int) POLL.invokeExact(fd, events, timeoutMs);
        } catch (Throwable t) {
            throw fail(t);
        }
    }

    @Override
    public int sendfd(int fd, int passfd) {
        try {
            return (int) SENDFD.invokeExact(fd, passfd);
        } catch (Throwable t) {
            throw fail(t);
        }
    }

    @Override
    public int recvfd(int fd, long cred, long data, long others) {
        try {
            return (int) RECVFD.invokeExact(fd, cred, data, others);
        } catch (Throwable t) {
            throw fail(t);
        }
    }

    @Override
    public int pollMany(long fds, int n, int timeoutMs) {
        try {
            return (int) POLL_MANY.invokeExact(fds, n, timeoutMs);
        } catch (Throwable t) {
            throw fail(t);
        }
    }

    @Override
    public int evWait(int ep, long arm, int narm, long out, int max, int timeoutMs) {
        try {
            return (int) EV_WAIT.invokeExact(ep, arm, narm, out, max, timeoutMs);
        } catch (Throwable t) {
            throw fail(t);
        }
    }

    @Override
    public int evCtl(int ep, int op, int fd, int events, long token) {
        try {
            return (int) EV_CTL.invokeExact(ep, op, fd, events, token);
        } catch (Throwable t) {
            throw fail(t);
        }
    }

    @Override
    public int close(int fd) {
        try {
            return (int) CLOSE.invokeExact(fd);
        } catch (Throwable t) {
            throw fail(t);
        }
    }
}
