package org.streams4j;

import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import org.streams4j.internal.HotCalls;
import org.streams4j.internal.Shim;

/**
 * What an {@link EventLoop} waits with, chosen once per platform by what the
 * shim was built with ({@code s4j_ev_kind}): epoll on Linux, event ports on
 * illumos and Solaris, {@code poll(2)} elsewhere. Registrations carry a
 * 64-bit token that comes back with the events; {@link #WAKE} is the loop's
 * own. One {@link #await} is one native call for a whole batch.
 *
 * <p>Loop thread only, except {@link #wakeup()} and {@link #detach(int)}.
 */
abstract class Poller implements AutoCloseable {
    /** The token of a wake-up; connections use other values. */
    static final long WAKE = -1L;
    private static final System.Logger LOG = System.getLogger("org.streams4j.connld");
    private static final HotCalls CALLS = HotCalls.INSTANCE;

    /** The platform's poller. */
    static Poller open() throws StreamsException {
        switch (Shim.s4j_ev_kind()) {
            case Shim.EV_EPOLL:
                return new Epoll();
            case Shim.EV_PORT:
                return new EventPort();
            default:
                return new Poll();
        }
    }

    /** "epoll", "event ports" or "poll": for logs and tests. */
    abstract String kind();

    /** Whether a registration is spent by its event (event ports): the loop re-arms what it keeps. */
    boolean oneShot() {
        return false;
    }

    abstract void add(int fd, int events, long token) throws StreamsException;

    /**
     * Registers fd for one event (any thread): it stays, disabled, after
     * its event, until {@link #remove}. Epoll and event ports only, for
     * {@link Parking}.
     */
    void addOnce(int fd, int events, long token) throws StreamsException {
        throw new UnsupportedOperationException(kind() + " has no one-shot registrations");
    }

    /** New events for a registered fd (loop thread). */
    abstract void modify(int fd, int events, long token) throws StreamsException;

    /** One-shot pollers: wait on fd again from the next {@link #await}. */
    void arm(int fd, int events, long token) {
    }

    /** Removes fd (loop thread, while the number is still taken); a missing registration is no error. */
    abstract void remove(int fd, long token);

    /**
     * Removes fd from another thread that is closing it, before the number
     * is pointed at the close marker: epoll and event ports key a
     * registration by the file behind the number, so it must go while the
     * number still names that file. Nothing to do for poll.
     */
    void detach(int fd) {
    }

    /**
     * Waits (timeout &lt; 0: forever).
     *
     * @return how many events; read them with {@link #token} and {@link #events}
     *     (0 on time-out, -EINTR when interrupted)
     */
    abstract int await(int timeoutMs) throws StreamsException;

    abstract long token(int i);

    /** S4J POLL* bits of event i. */
    abstract int events(int i);

    /**
     * Wakes the loop's {@link #await} (any thread): an event with {@link #WAKE}.
     *
     * @return false when the wake-up could not be sent (event ports: the
     *     port is at {@code process.max-port-events}), so that the caller can
     *     try again
     */
    abstract boolean wakeup();

    /**
     * One-shot pollers: the tokens whose re-arm at the last {@link #await}
     * failed (a transient EAGAIN or ENOMEM), for the loop to try again;
     * cleared by the next await.
     */
    long[] failedArms() {
        return NONE;
    }

    private static final long[] NONE = new long[0];

    /** The loop saw {@link #WAKE}: take what woke it. */
    void woken() {
    }

    @Override
    public abstract void close();

    // ---- epoll and event ports: one kernel object, events in a native array ----

    abstract static class Kernel extends Poller {
        final StreamFd ep;
        final ByteBuffer out = ByteBuffer.allocateDirect(Shim.EV_BATCH * Shim.EV_SIZE)
            .order(ByteOrder.nativeOrder());
        final long outAddress = Shim.address(out);

        Kernel(String op) throws StreamsException {
            int fd = Shim.s4j_ev_create();
            if (fd < 0) {
                throw new StreamsException(op, "event loop", -fd);
            }
            ep = StreamFd.adopt(fd);
            // Any thread wakes a loop (port_send): its interrupt must not close the port.
            ep.descriptor().uninterruptible();
        }

        void ctl(int op, int fd, int events, long token) throws StreamsException {
            int r = ep.descriptor().use(kind(), e -> CALLS.evCtl(e, op, fd, events, token));
            if (r < 0) {
                throw new StreamsException(kind() + " " + (op == Shim.EV_MOD ? "modify" : "add"),
                    StreamsException.fd(fd), -r);
            }
        }

        @Override
        void add(int fd, int events, long token) throws StreamsException {
            ctl(Shim.EV_ADD, fd, events, token);
        }

        @Override
        void addOnce(int fd, int events, long token) throws StreamsException {
            ctl(Shim.EV_ONESHOT, fd, events, token);
        }

        @Override
        void remove(int fd, long token) {
            detach(fd);
        }

        @Override
        void detach(int fd) {
            try {
                ep.descriptor().use(kind(), e -> CALLS.evCtl(e, Shim.EV_DEL, fd, 0, 0));
            } catch (StreamsException e) {
                // The loop has ended and closed its poller: nothing is registered any more.
            }
        }

        @Override
        long token(int i) {
            return out.getLong(i * Shim.EV_SIZE);
        }

        @Override
        int events(int i) {
            return out.getInt(i * Shim.EV_SIZE + 12);
        }

        @Override
        public void close() {
            ep.close();
        }
    }

    /** Linux: level-triggered epoll; a pipe registered with WAKE wakes it. */
    static final class Epoll extends Kernel {
        private final WakePipe wake;
        private final int waitFd;

        Epoll() throws StreamsException {
            super("epoll_create");
            try {
                wake = new WakePipe();
                waitFd = ep.descriptor().use("epoll", e -> e);
                add(wake.fd(), Shim.POLLIN, WAKE);
            } catch (StreamsException | RuntimeException e) {
                ep.close();
                throw e;
            }
        }

        @Override
        String kind() {
            return "epoll";
        }

        @Override
        void modify(int fd, int events, long token) throws StreamsException {
            ctl(Shim.EV_MOD, fd, events, token);
        }

        @Override
        int await(int timeoutMs) throws StreamsException {
            // waitFd stays valid: only the loop thread closes the poller, after its last wait.
            int r = CALLS.evWait(waitFd, 0, 0, outAddress, Shim.EV_BATCH, timeoutMs);
            if (r < 0 && r != -Errno.EINTR) {
                throw new StreamsException("epoll_wait", "event loop", -r);
            }
            return r;
        }

        @Override
        boolean wakeup() {
            wake.wakeup();
            return true;
        }

        @Override
        void woken() {
            wake.woken();
        }

        @Override
        public void close() {
            super.close();
            wake.close();
        }
    }

    /**
     * illumos and Solaris: event ports. port_associate is one-shot, so what
     * the loop keeps is re-associated by the next wait ({@link #arm});
     * port_send wakes it.
     */
    static final class EventPort extends Kernel {
        private ByteBuffer armed = ByteBuffer.allocateDirect(64 * Shim.EV_SIZE).order(ByteOrder.nativeOrder());
        private long armedAddress = Shim.address(armed);
        private int narm;
        private final int portFd;
        /** The tokens whose association failed at the last await (loop thread). */
        private long[] failed = NONE;

        EventPort() throws StreamsException {
            super("port_create");
            portFd = ep.descriptor().use("port", e -> e);
        }

        @Override
        String kind() {
            return "event ports";
        }

        @Override
        boolean oneShot() {
            return true;
        }

        @Override
        void modify(int fd, int events, long token) {
            arm(fd, events, token);
        }

        @Override
        void arm(int fd, int events, long token) {
            if ((narm + 1) * Shim.EV_SIZE > armed.capacity()) {
                ByteBuffer b = ByteBuffer.allocateDirect(armed.capacity() * 2).order(ByteOrder.nativeOrder());
                b.put(armed.clear());
                armed = b.clear();
                armedAddress = Shim.address(armed);
            }
            int at = narm++ * Shim.EV_SIZE;
            armed.putLong(at, token).putInt(at + 8, fd).putInt(at + 12, events);
        }

        @Override
        void remove(int fd, long token) {
            // Not yet re-associated: drop it from the list, else dissociate.
            for (int i = 0; i < narm; i++) {
                int at = i * Shim.EV_SIZE;
                if (armed.getLong(at) == token) {
                    int last = --narm * Shim.EV_SIZE;
                    armed.putLong(at, armed.getLong(last)).putLong(at + 8, armed.getLong(last + 8));
                    i--;
                }
            }
            detach(fd);
        }

        @Override
        int await(int timeoutMs) throws StreamsException {
            int n = narm;
            narm = 0;
            int r = CALLS.evWait(portFd, armedAddress, n, outAddress, Shim.EV_BATCH, timeoutMs);
            failed = NONE;
            for (int i = 0; i < n; i++) {
                int err = armed.getInt(i * Shim.EV_SIZE + 12);
                if (err < 0) {
                    // The number is pinned, so it is open: the loop tries again after a pause.
                    // EAGAIN: the port holds process.max-port-events events and
                    // associations (port_alloc_event_local counts both).
                    LOG.log(err == -Errno.EAGAIN ? Level.WARNING : Level.DEBUG,
                        "port_associate {0}: {1}{2}; trying again",
                        StreamsException.fd(armed.getInt(i * Shim.EV_SIZE + 8)), Errno.name(-err),
                        err == -Errno.EAGAIN ? " (the port is at process.max-port-events)" : "");
                    failed = java.util.Arrays.copyOf(failed, failed.length + 1);
                    failed[failed.length - 1] = armed.getLong(i * Shim.EV_SIZE);
                }
            }
            if (r < 0 && r != -Errno.EINTR) {
                throw new StreamsException("port_getn", "event loop", -r);
            }
            return r;
        }

        @Override
        long[] failedArms() {
            return failed;
        }

        @Override
        boolean wakeup() {
            try {
                int r = ep.descriptor().use("port_send", e -> Shim.s4j_ev_wake(e, WAKE));
                if (r < 0) {
                    LOG.log(Level.WARNING, "port_send: {0}{1}", Errno.name(-r),
                        r == -Errno.EAGAIN ? " (the port is at process.max-port-events)" : "");
                    return false;
                }
            } catch (StreamsException e) {
                LOG.log(Level.DEBUG, "waking an ended event loop: {0}", e.getMessage());
            }
            return true;
        }
    }

    // ---- poll(2): everything in one pollfd array, O(n) a wait ----------------

    /** macOS, the BSDs: poll(2) over an array of all registrations; a pipe wakes it. */
    static final class Poll extends Poller {
        private static final int ENTRY = Shim.POLLFD_SIZE;
        private final WakePipe wake;
        private ByteBuffer fds;
        private long fdsAddress;
        private long[] tokens = new long[64];
        private int count;
        private long[] outTokens = new long[Shim.EV_BATCH];
        private int[] outEvents = new int[Shim.EV_BATCH];
        private final java.util.HashMap<Long, Integer> where = new java.util.HashMap<>();

        Poll() throws StreamsException {
            wake = new WakePipe();
            grow(64);
            add(wake.fd(), Shim.POLLIN, WAKE);
        }

        private void grow(int entries) {
            ByteBuffer b = ByteBuffer.allocateDirect(entries * ENTRY).order(ByteOrder.nativeOrder());
            if (fds != null) {
                b.put(fds.clear());
                b.clear();
            }
            fds = b;
            fdsAddress = Shim.address(b);
            tokens = Arrays.copyOf(tokens, entries);
        }

        @Override
        String kind() {
            return "poll";
        }

        @Override
        void add(int fd, int events, long token) {
            if (count == tokens.length) {
                grow(count * 2);
            }
            fds.putInt(count * ENTRY, fd).putShort(count * ENTRY + 4, (short) events)
                .putShort(count * ENTRY + 6, (short) 0);
            tokens[count] = token;
            where.put(token, count++);
        }

        @Override
        void modify(int fd, int events, long token) {
            Integer i = where.get(token);
            if (i != null) {
                fds.putShort(i * ENTRY + 4, (short) events);
            }
        }

        @Override
        void remove(int fd, long token) {
            Integer i = where.remove(token);
            if (i == null) {
                return;
            }
            int last = --count;
            if (i != last) {
                fds.putLong(i * ENTRY, fds.getLong(last * ENTRY));
                tokens[i] = tokens[last];
                where.put(tokens[i], i);
            }
        }

        @Override
        int await(int timeoutMs) throws StreamsException {
            int r = CALLS.pollMany(fdsAddress, count, timeoutMs);
            if (r < 0) {
                if (r == -Errno.EINTR) {
                    return r;
                }
                throw new StreamsException("poll", "event loop", -r);
            }
            int n = 0;
            for (int i = 0; i < count && n < r && n < outTokens.length; i++) {
                int rev = fds.getShort(i * ENTRY + 6);
                if (rev != 0) {
                    outTokens[n] = tokens[i];
                    outEvents[n++] = rev;
                }
            }
            return n;
        }

        @Override
        long token(int i) {
            return outTokens[i];
        }

        @Override
        int events(int i) {
            return outEvents[i];
        }

        @Override
        boolean wakeup() {
            wake.wakeup();
            return true;
        }

        @Override
        void woken() {
            wake.woken();
        }

        @Override
        public void close() {
            wake.close();
        }
    }

    /** A pipe the loop waits on (epoll, poll): one byte wakes it, the loop reads it back. */
    private static final class WakePipe implements AutoCloseable {
        private static final byte[] ONE = {1};
        private final StreamPipe pipe;
        private final byte[] drain = new byte[64];

        WakePipe() throws StreamsException {
            pipe = StreamPipe.open();
            // Any thread writes the wake-up: its interrupt must not close the pipe.
            pipe.first().descriptor().uninterruptible();
            pipe.second().descriptor().uninterruptible();
        }

        int fd() {
            return pipe.first().fd();
        }

        void wakeup() {
            try {
                pipe.second().write(ONE, 0, 1);
            } catch (StreamsException e) {
                LOG.log(Level.DEBUG, "waking an ended event loop: {0}", e.getMessage());
            }
        }

        void woken() {
            try {
                pipe.first().read(drain, 0, drain.length);
            } catch (StreamsException e) {
                LOG.log(Level.DEBUG, "event loop wake pipe: {0}", e.getMessage());
            }
        }

        @Override
        public void close() {
            pipe.close();
        }
    }
}
