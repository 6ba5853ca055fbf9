package org.streams4j;

import java.lang.System.Logger.Level;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.streams4j.internal.Shim;

/**
 * How a virtual thread waits for a descriptor without holding its carrier,
 * as {@code sun.nio.ch.Poller} does for the JDK's channels: instead of
 * sleeping in the kernel (a native frame pins the carrier), it asks
 * {@code poll(2)} with no time-out whether the call would block, and if it
 * would, registers the descriptor, for one event, with a poller thread of
 * this JVM and parks; the event, a close ({@link Descriptor#close}) or an
 * interrupt unparks it. The blocking call that follows then finds the
 * descriptor ready.
 *
 * <p>Two pollers, one for waits to read (and polls with {@code POLLIN}) and
 * one for waits to write, each one epoll instance (Linux) or event port
 * (illumos) and one platform daemon thread, started when a virtual thread
 * first waits. Registrations are one-shot ({@code EPOLLONESHOT}; every
 * event-port association is), so that an event fires once, and a
 * registration goes (DEL) while the number still names the descriptor's file:
 * by the waiter after it wakes, or by {@link Descriptor#close} before it
 * points the number elsewhere.
 *
 * <p>On the portable backend's sockets a virtual thread first makes the call
 * itself with {@code MSG_DONTWAIT} (this call only; the descriptor's
 * {@code O_NONBLOCK} is not touched), and parks on {@code EAGAIN}, as the
 * JDK's channels read first. A stream has no per-call flag, so there (and for
 * a file or FIFO) the {@code poll} comes first.
 *
 * <p>Platform threads never come here and pay one test of a constant and one
 * of {@code Thread.isVirtual()}; {@code O_NONBLOCK} is never changed, so
 * other holders of the same file see no difference. On JDK 17 (no virtual
 * threads) and where the shim has neither epoll nor event ports,
 * {@link #parks()} is always false.
 *
 * <p>Writes: a virtual thread's write takes all its bytes, as a blocking
 * write(2) does, and never sleeps in the kernel. On a socket, sends with
 * {@code MSG_DONTWAIT} until all is taken, parking on {@code EAGAIN}. On a
 * stream, file or FIFO, after each {@code POLLOUT} at most
 * {@link Shim#PIPE_BUF} bytes, which the kernel takes without waiting
 * (illumos: {@code strwrite_common} hands at most {@code sd_qn_maxpsz},
 * {@code PIPE_BUF} on a pipe, to {@code strput} as one packet, and waits only
 * between packets). Untimed connects go through the timed path, which
 * parks. A second virtual thread waiting in the same direction on the same
 * descriptor at the same time (only {@code poll}, which takes no lock,
 * allows that) blocks in the kernel as a platform thread would: one event
 * port association per descriptor.
 */
final class Parking {
    private static final System.Logger LOG = System.getLogger("org.streams4j");
    private static final MethodHandle IS_VIRTUAL = isVirtualHandle();
    /** This JVM has virtual threads and the shim a poller to park them on. */
    private static final boolean AVAILABLE = IS_VIRTUAL != null && Shim.loadFailure() == null
        && Shim.s4j_ev_kind() != Shim.EV_NONE;
    /**
     * The portable backend's sockets take MSG_DONTWAIT per call: a virtual
     * thread reads and writes first and parks on EAGAIN, as the JDK's
     * channels do, instead of asking poll(2) before each call. STREAMS has
     * no such flag.
     */
    static final boolean PER_CALL_NONBLOCKING = AVAILABLE && Shim.s4j_backend() == Shim.BACKEND_PORTABLE;
    /** An untimed connect on a virtual thread: the timed path, which parks (a century is no deadline). */
    static final Duration FOREVER = Duration.ofDays(36_500);

    private Parking() {
    }

    /** Whether this thread parks instead of blocking in the kernel: a virtual thread where there is a poller. */
    static boolean parks() {
        if (!AVAILABLE) {
            return false;
        }
        try {
            return (boolean) IS_VIRTUAL.invokeExact(Thread.currentThread());
        } catch (Throwable e) {
            throw new AssertionError("Thread.isVirtual", e);
        }
    }

    /** The poller for waits with these events: reading (POLLIN among them) or writing. */
    static Waits waits(int events) {
        return (events & Shim.POLLIN) != 0 ? Readers.WAITS : Writers.WAITS;
    }

    /**
     * Starts both pollers now (tests: they live as long as the JVM, so a test
     * that counts the descriptors it made starts them first).
     */
    static void startPollers() {
        if (AVAILABLE) {
            waits(Shim.POLLIN);
            waits(Shim.POLLOUT);
        }
    }

    /** JDK 21's Thread.isVirtual(), or null on a JDK without it. */
    private static MethodHandle isVirtualHandle() {
        try {
            return MethodHandles.publicLookup().findVirtual(Thread.class, "isVirtual",
                MethodType.methodType(boolean.class));
        } catch (NoSuchMethodException | IllegalAccessException e) {
            return null;
        }
    }

    /** Made when a virtual thread first waits to read. */
    private static final class Readers {
        static final Waits WAITS = new Waits("streams4j-read-poller");
    }

    /** Made when a virtual thread first waits to write. */
    private static final class Writers {
        static final Waits WAITS = new Waits("streams4j-write-poller");
    }

    /** One registration: the parked thread, and the token its event comes back with. */
    static final class Parked {
        final Waits waits;
        final long token;
        final Thread thread = Thread.currentThread();

        Parked(Waits waits, long token) {
            this.waits = waits;
            this.token = token;
        }
    }

    /** One poller and the thread that waits on it and unparks whom its events are for. */
    static final class Waits implements Runnable {
        private final String name;
        private final Poller poller;
        private final ConcurrentHashMap<Long, Thread> waiting = new ConcurrentHashMap<>();
        /** Tokens from 0 up: never Poller.WAKE (-1). */
        private final AtomicLong tokens = new AtomicLong();
        /** The poller failed: nobody can park on it any more. */
        private volatile boolean broken;

        Waits(String name) {
            this.name = name;
            Poller p = null;
            try {
                p = Poller.open();
            } catch (StreamsException | RuntimeException e) {
                LOG.log(Level.ERROR, "streams4j: " + name + " did not start; virtual threads block in the kernel: " + e, e);
                broken = true;
            }
            poller = p;
            if (p != null) {
                Threads.daemon(name, this).start();    // after poller is set: run() reads it
            }
        }

        /**
         * Registers fd for one event and this thread for its wake-up; null
         * when it cannot (the caller blocks in the kernel instead). Called by
         * the descriptor, under its lock, while the number is taken and open.
         */
        Parked register(int fd, int events) {
            if (broken) {
                return null;
            }
            long token = tokens.getAndIncrement();
            waiting.put(token, Thread.currentThread());
            try {
                poller.addOnce(fd, events, token);
            } catch (StreamsException e) {
                waiting.remove(token);
                // EAGAIN on illumos: the port holds process.max-port-events (65,536 by default)
                // events and associations together (port_alloc_event_local), so that many
                // parked threads fill it; the rest hold their carriers in the kernel. Worth a
                // WARNING once a minute; any other failure is the caller's (EBADF, ENOMEM...).
                if (e.errno() == Errno.EAGAIN && Platform.backend() == Backend.STREAMS) {
                    warnFull(e);
                } else {
                    LOG.log(Level.DEBUG, "{0}: {1}; blocking in the kernel instead", name, e.getMessage());
                }
                return null;
            }
            return new Parked(this, token);
        }

        /** When register last warned of a full port (System.nanoTime(), odd), 0 never; guarded by this. */
        private long warnedAt;

        /** register's WARNING for a full event port, at most once a minute. */
        private void warnFull(StreamsException e) {
            long t = System.nanoTime();
            synchronized (this) {
                if (warnedAt != 0 && t - warnedAt < 60_000_000_000L) {
                    return;
                }
                warnedAt = t | 1;
            }
            LOG.log(Level.WARNING, "{0}: {1}: the event port is at process.max-port-events (prctl -n"
                + " process.max-port-events raises it); virtual threads past it block their carriers in"
                + " the kernel", name, e.getMessage());
        }

        /**
         * The waiter is awake: forget it, and remove the registration when
         * the number still names the file it was made for ({@code open});
         * else {@link #detach} has.
         */
        void deregister(Parked p, int fd, boolean open) {
            waiting.remove(p.token);
            if (open) {
                poller.remove(fd, p.token);
            }
        }

        /** A close of fd, by another thread, before the number changes file. */
        void detach(int fd) {
            poller.detach(fd);
        }

        @Override
        public void run() {
            try {
                while (true) {
                    int n = poller.await(-1);
                    for (int i = 0; i < n; i++) {
                        long token = poller.token(i);
                        if (token == Poller.WAKE) {
                            poller.woken();
                            continue;
                        }
                        Thread t = waiting.remove(token);
                        if (t != null) {
                            LockSupport.unpark(t);
                        }
                    }
                }
            } catch (StreamsException | RuntimeException e) {
                broken = true;
                LOG.log(Level.ERROR, "streams4j: " + name + " failed; virtual threads block in the kernel: " + e, e);
                // Nobody is woken by it any more: wake who waits, to see for itself.
                for (Thread t : waiting.values()) {
                    LockSupport.unpark(t);
                }
            }
        }
    }
}
