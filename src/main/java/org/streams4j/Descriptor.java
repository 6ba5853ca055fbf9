package org.streams4j;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntUnaryOperator;
import org.streams4j.internal.HotCalls;
import org.streams4j.internal.Shim;

/**
 * One descriptor's life, the one place where a number is closed: use counts
 * and a closed bit in one atomic int, and whoever leaves it closed with no
 * users closes the number, exactly once.
 *
 * <p>Users that may block (read, write, poll, I_RECVFD, accept) are counted
 * apart from quick ones (fattach, ioctls that answer at once, the passed
 * descriptor of a sendFd): close() wakes the blocking ones by pointing the
 * number at the dead {@link Marker}, and only when there are any, so a
 * quick call never meets the marker. Every system call on the number goes
 * through {@link #use}, {@link #useQuick} or {@link #call}, or takes and
 * gives back a count around it ({@link #acquire}/{@link #release}) on the
 * data path.
 *
 * <p>It is also the Cleaner's action ({@link #run}), so it must not refer to
 * the {@link StreamFd} that owns it.
 */
final class Descriptor implements Runnable {
    /** The data-path calls: JNA, or FFM downcalls on JDK 22+ (HotCalls). */
    private static final HotCalls CALLS = HotCalls.INSTANCE;
    private static final System.Logger LOG = System.getLogger("org.streams4j");
    static final int NO_FD = -1;
    private static final int CLOSED = 1 << 30;
    private static final int BLOCKING = 1 << 15;
    private static final int BLOCKING_MASK = ((1 << 15) - 1) << 15;

    final int fd;
    /** A peer made or can fill this descriptor: its closes go to {@link Closer}. */
    final boolean fromPeer;
    /**
     * Received from a peer (receiveFd): closed on the closing thread itself
     * unless that is one of the library's ({@link Closer#onLibraryThread}).
     */
    final boolean received;
    private final AtomicInteger state = new AtomicInteger();
    /** A descriptor that came with the data, for receiveFd; closed by {@link Closer} if never taken. */
    final AtomicInteger pendingFd = new AtomicInteger(NO_FD);
    /** The event loop waiting on this number, if any; guarded by this. */
    private volatile Watch watch;
    /**
     * Closes this descriptor when a thread in a blocking use is interrupted;
     * null for the library's own descriptors ({@link #uninterruptible()}).
     */
    private Interruptor interruptor = new Interruptor(this);
    /** See {@link #label}; null for none. */
    private volatile String label;
    /** An interrupt closed it: an interrupted thread that meets the close is told so. */
    private volatile boolean closedByInterrupt;
    /** Shim.SOCK_* of the socket (asked once, when a message call needs it), -1 for none, 0 not asked yet. */
    private volatile int socketType;
    /** The virtual threads parked on this number ({@link Parking}), to read and to write; guarded by this. */
    private Parking.Parked parkedIn;
    private Parking.Parked parkedOut;

    /** An event loop's registration of this descriptor. */
    interface Watch {
        /** Registers the number with the loop's poller (loop thread, once). */
        void register(int fd) throws StreamsException;

        /** A write left bytes queued: the loop must wait for room (any thread). */
        void queued();

        /**
         * Called by whichever thread closes the descriptor while the loop holds
         * it, before the number is pointed at the close marker and while it is
         * still taken: deregister (the kernel keys registrations by file) and
         * tell the loop.
         */
        void closing(int fd);
    }

    /** A call on the number that gives back a value or throws. */
    @FunctionalInterface
    interface FdCall<T, X extends Exception> {
        T apply(int fd) throws X;
    }

    Descriptor(int fd) {
        this(fd, false);
    }

    Descriptor(int fd, boolean fromPeer) {
        this(fd, fromPeer, false);
    }

    Descriptor(int fd, boolean fromPeer, boolean received) {
        this.fd = fd;
        this.fromPeer = fromPeer || received;
        this.received = received;
    }

    /** Whether this thread's close hands the last close to {@link Closer}. */
    private boolean closesByCloser() {
        return fromPeer && (!received || Closer.onLibraryThread());
    }

    boolean isClosed() {
        return (state.get() & CLOSED) != 0;
    }

    /**
     * The socket's type (Shim.SOCK_*), or -1 when this is no socket (a STREAMS
     * pipe, a file, a FIFO); asked of the kernel once: a descriptor's socket
     * type never changes.
     *
     * @param op the operation that asks, named if the descriptor is closed
     */
    int socketType(String op) throws StreamClosedException {
        int t = socketType;
        if (t == 0) {
            int r = useQuick(op, Shim::s4j_socket_type);
            t = r > 0 ? r : -1;
            socketType = t;
        }
        return t;
    }

    /** {@code fd N}, or {@code fd N on PATH} for a connection; made when a message needs it. */
    String target() {
        String l = label;
        return l == null ? StreamsException.fd(fd) : StreamsException.fd(fd) + " " + l;
    }

    /** What messages add to the number: {@code on /run/x} for a server's connection, {@code to /run/x} for a client's. */
    void label(String what) {
        label = what;
    }

    /**
     * A use that may block, and that close() must wake. It is interruptible:
     * an interrupt of this thread until {@link #release()} closes the
     * descriptor (at once, when the thread is interrupted already), as it
     * would a JDK channel.
     */
    void acquire(String op) throws StreamClosedException {
        add(op, BLOCKING);
        Interruptor i = interruptor;
        if (i != null) {
            i.enter();
        }
    }

    void release() {
        Interruptor i = interruptor;
        if (i != null) {
            i.leave();
        }
        unpin();
    }

    /**
     * For a descriptor of the library's own that any thread may use in
     * passing (an event loop's poller and wake-up pipe): an interrupt of
     * that thread must not close it. Called before the descriptor is shared.
     */
    void uninterruptible() {
        interruptor = null;
    }

    /**
     * A blocking use held for long and by a thread that does other work
     * meanwhile (an event loop's registration): not tied to that thread's
     * interrupts. Ends with {@link #unpin()}.
     */
    void pin(String op) throws StreamClosedException {
        add(op, BLOCKING);
    }

    void unpin() {
        if (state.addAndGet(-BLOCKING) == CLOSED) {
            finish();
        }
    }

    /** The interrupt of a thread in a blocking use: close, and say why to whoever meets it. */
    void closeForInterrupt() {
        closedByInterrupt = true;
        close();
    }

    /**
     * What {@code op} meets on this closed descriptor: a {@link StreamInterruptedException}
     * when this thread's interrupt closed it (its status still set), else a
     * {@link StreamClosedException}.
     */
    StreamClosedException closed(String op) {
        if (closedByInterrupt && Thread.currentThread().isInterrupted()) {
            return new StreamInterruptedException(op, target());
        }
        return new StreamClosedException(op, target());
    }

    /** A use that never blocks: close() waits for it instead of waking it. */
    void acquireQuick(String op) throws StreamClosedException {
        add(op, 1);
    }

    void releaseQuick() {
        if (state.decrementAndGet() == CLOSED) {
            finish();
        }
    }

    private void add(String op, int one) throws StreamClosedException {
        while (true) {
            int s = state.get();
            if ((s & CLOSED) != 0) {
                throw closed(op);
            }
            if (state.compareAndSet(s, s + one)) {
                return;
            }
        }
    }

    /**
     * Runs a native call on the number while holding a use count, so that
     * the number cannot be closed (and reused) during the call. Returns the
     * call's raw result (-errno on failure).
     */
    int use(String op, IntUnaryOperator c) throws StreamClosedException {
        acquire(op);
        try {
            return c.applyAsInt(fd);
        } finally {
            release();
        }
    }

    /**
     * {@link #use} for a call that never blocks (fattach, fchmod, an ioctl
     * that answers at once): a close() meanwhile waits for it rather than
     * pointing the number at the dead marker, so such a call can never act on
     * the marker (attach it, pass it, change it).
     */
    int useQuick(String op, IntUnaryOperator c) throws StreamClosedException {
        acquireQuick(op);
        try {
            return c.applyAsInt(fd);
        } finally {
            releaseQuick();
        }
    }

    /** {@link #useQuick} for a call that gives back a value of its own, or throws. */
    <T, X extends Exception> T withQuick(String op, FdCall<T, X> c) throws X, StreamClosedException {
        acquireQuick(op);
        try {
            return c.apply(fd);
        } finally {
            releaseQuick();
        }
    }

    /** {@link #useQuick}, and a negative result thrown as {@code op}'s failure. */
    int call(String op, IntUnaryOperator c) throws StreamsException {
        int r = useQuick(op, c);
        if (r < 0) {
            throw failure(op, -r);
        }
        return r;
    }

    /** {@code op} failed with errno: closed when this is, else the errno named. */
    StreamsException failure(String op, int errno) {
        if (isClosed()) {
            return closed(op);
        }
        return new StreamsException(op, target(), errno);
    }

    /**
     * {@code poll(2)} with the shim's POLL* bits; EINTR is retried with what
     * is left of the time-out (null or negative: for ever). Returns the
     * revents bits, 0 on time-out.
     */
    int poll(int events, Duration timeout) throws StreamsException {
        boolean timed = timeout != null && !timeout.isNegative();
        long deadline = !timed ? -1 : System.nanoTime() + timeout.toNanos();
        if (Parking.parks()) {
            acquire("poll");
            try {
                int r = parkUntil("poll", events, timed, deadline);
                if (r >= 0) {
                    return r;
                }
            } finally {
                release();
            }
            // It could not park: wait in the kernel below, as a platform thread does.
        }
        while (true) {
            int ms = deadline < 0 ? -1 : (int) Math.min(Integer.MAX_VALUE,
                Math.max(0, (deadline - System.nanoTime() + 999_999) / 1_000_000));
            acquire("poll");
            int r;
            try {
                r = CALLS.poll(fd, events, ms);
            } finally {
                release();
            }
            if (isClosed()) {
                throw closed("poll");
            }
            if (r == -Errno.EINTR) {
                continue;
            }
            if (r < 0) {
                throw failure("poll", -r);
            }
            return r;
        }
    }

    /**
     * Called between {@link #acquire} and a blocking call on the number: on
     * a virtual thread, parks until the number is ready for {@code events},
     * so that the call finds it ready and does not hold the carrier
     * ({@link Parking}). Nothing on a platform thread. Throws what {@code op}
     * meets when the descriptor is closed meanwhile.
     */
    void ready(String op, int events) throws StreamsException {
        if (Parking.parks()) {
            parkUntil(op, events, false, 0);
        }
    }

    /**
     * The wait of a virtual thread that holds a blocking use: {@code poll}
     * with no time-out, and while the number is not ready, a one-shot
     * registration with {@link Parking}'s poller and a park, until an event,
     * a close or an interrupt (which closes) unparks it, or the deadline
     * ({@code System.nanoTime()}, when {@code timed}) passes.
     *
     * @return the revents bits; 0 at the deadline; -1 when this thread cannot
     *     park here (another is parked on the number in the same direction, or
     *     the poller failed) and should block in the kernel instead
     */
    int parkUntil(String op, int events, boolean timed, long deadline) throws StreamsException {
        while (true) {
            int r = CALLS.poll(fd, events, 0);
            if (isClosed()) {
                throw closed(op);
            }
            if (r > 0) {
                return r;
            }
            if (r < 0 && r != -Errno.EINTR) {
                throw failure(op, -r);
            }
            long left = timed ? deadline - System.nanoTime() : 0;
            if (timed && left <= 0) {
                return 0;
            }
            if (parkOnce(op, events, timed, left) < 0) {
                return -1;
            }
        }
    }

    /**
     * One park of a virtual thread that holds a blocking use and found the
     * number not ready (by {@code poll}, or by an EAGAIN of a non-blocking
     * call): a one-shot registration with {@link Parking}'s poller, then a
     * park until the event, a close, an interrupt (which closes), the time
     * ({@code left} nanoseconds, when {@code timed}) or a spurious wake-up.
     * The caller looks again.
     *
     * @return 0 when it parked; -1 when it cannot park here (another virtual
     *     thread is parked on the number in the same direction, the poller
     *     failed, or an interrupt that does not close this descriptor is set)
     *     and the caller should block in the kernel instead
     * @throws StreamClosedException what {@code op} meets when the descriptor is closed
     */
    int parkOnce(String op, int events, boolean timed, long left) throws StreamClosedException {
        if (interruptor == null && Thread.currentThread().isInterrupted()) {
            return -1;  // an interrupt does not close this one, and park would return at once
        }
        boolean in = (events & Shim.POLLIN) != 0;
        Parking.Waits w = Parking.waits(events);
        Parking.Parked p;
        synchronized (this) {
            // Under the lock that close() takes after it marks the descriptor
            // closed: either close() sees this registration, or this sees it closed.
            if (isClosed()) {
                throw closed(op);
            }
            if ((in ? parkedIn : parkedOut) != null || (p = w.register(fd, events)) == null) {
                return -1;
            }
            if (in) {
                parkedIn = p;
            } else {
                parkedOut = p;
            }
        }
        try {
            if (timed) {
                LockSupport.parkNanos(this, left);
            } else {
                LockSupport.park(this);
            }
        } finally {
            synchronized (this) {
                if (in) {
                    parkedIn = null;
                } else {
                    parkedOut = null;
                }
                w.deregister(p, fd, !isClosed());
            }
        }
        if (isClosed()) {
            throw closed(op);
        }
        return 0;
    }

    /**
     * For an event loop: a use count held until {@link #unwatch()}, and
     * {@code w} told before the number changes file when a close() comes
     * meanwhile (while the number is still taken).
     */
    void watch(Watch w) throws StreamsException {
        synchronized (this) {
            if (isClosed()) {
                throw closed("poll");
            }
            w.register(fd);
            watch = w;
        }
    }

    /** Ends {@link #watch}: no close hook any more. */
    void unwatch() {
        synchronized (this) {
            watch = null;
        }
    }

    /** A write left something queued: the loop must wait for room (any thread). */
    void tellLoop() {
        Watch w = watch;
        if (w != null) {
            w.queued();
        }
    }

    void setPending(int passed) {
        int old = pendingFd.getAndSet(passed);
        if (old != NO_FD) {
            Closer.close(old);
        }
        if (isClosed()) {
            int p = pendingFd.getAndSet(NO_FD);
            if (p != NO_FD) {
                Closer.close(p);
            }
        }
    }

    /** Marks closed; returns false if it already was. */
    boolean close() {
        int s;
        do {
            s = state.get();
            if ((s & CLOSED) != 0) {
                return false;
            }
        } while (!state.compareAndSet(s, (s + 1) | CLOSED));
        if ((s & BLOCKING_MASK) != 0) {
            Watch w;
            Parking.Parked in;
            Parking.Parked out;
            synchronized (this) {
                w = watch;
                watch = null;
                in = parkedIn;
                out = parkedOut;
            }
            if (w != null) {
                // Before the number changes file: the event loop's
                // registration is keyed by the file (epoll, event ports).
                w.closing(fd);
            }
            // Parked virtual threads: their registrations go for the same
            // reason; they are woken below, once the number is the marker.
            if (in != null) {
                in.waits.detach(fd);
            }
            if (out != null) {
                out.waits.detach(fd);
            }
            // Threads may be blocked on the number (an event loop's pin
            // among them): point it at a dead pipe end so that they return
            // now, and keep it taken until the last leaves. A peer's
            // descriptor closed by the Closer (closesByCloser) keeps a
            // second reference for it, so that this thread never makes the
            // file's last close (which may block); if that dup fails, the
            // number keeps its file and finish() hands it to the Closer.
            boolean byCloser = closesByCloser();
            int kept = Shim.s4j_preclose(fd, Marker.FD, byCloser ? 1 : 0);
            if (byCloser && kept >= 0) {
                Closer.close(kept);
            }
            if (in != null) {
                LockSupport.unpark(in.thread);
            }
            if (out != null) {
                LockSupport.unpark(out.thread);
            }
        }
        releaseQuick();
        return true;
    }

    private void finish() {
        if (closesByCloser()) {
            Closer.close(fd);
        } else {
            CALLS.close(fd);
        }
        int p = pendingFd.getAndSet(NO_FD);
        if (p != NO_FD) {
            Closer.close(p);
        }
    }

    /** The Cleaner's action: runs after close() (nothing to do) or for a forgotten descriptor. */
    @Override
    public void run() {
        if (close()) {
            LOG.log(System.Logger.Level.WARNING,
                "streams4j: fd {0} was not closed by its owner; closed by the cleaner", fd);
        }
    }

    /** One end of a pipe whose other end is closed: reads give EOF, writes EPIPE. */
    static final class Marker {
        static final int FD = create();

        private Marker() {
        }

        private static int create() {
            int[] fds = new int[2];
            int r = Shim.s4j_pipe(fds);
            if (r < 0) {
                throw new IllegalStateException("streams4j: cannot create the close marker: "
                    + Errno.name(-r));
            }
            CALLS.close(fds[1]);
            return fds[0];
        }
    }
}
