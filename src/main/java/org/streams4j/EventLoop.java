package org.streams4j;

import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.streams4j.internal.Shim;

/**
 * One thread that waits on many connections with a {@link Poller} (epoll,
 * event ports, else poll) and runs {@link ConnldServer.EventHandler} for each
 * that is readable: one native call per batch of events, O(1) per event.
 *
 * <p>Connections come in from the accept thread through a queue and a
 * wake-up. Each one the loop holds sits in a slot; its registration's token
 * is the slot and the slot's generation, so that an event left over from a
 * connection that was closed in the same batch is recognised and dropped.
 * Every connection is pinned and watched ({@link StreamFd#watch}): its number
 * stays valid while registered, and a close() from any thread deregisters it
 * (before the number changes file) and hands it back to the loop, which
 * closes the number.
 *
 * <p>Held connections are non-blocking. A write the kernel cannot take whole
 * is queued ({@link WritePath#hasQueued()}); the loop then waits for room
 * instead of for data on that connection, writes the rest, and only then
 * calls the handler again. So a client that reads slowly holds back itself
 * only, and what it is owed is bounded by what one handler call wrote.
 *
 * <p>A handler that fails in any way (any Throwable) closes its connection
 * only. Not for use outside {@link ConnldServer}.
 */
final class EventLoop implements Runnable {
    private static final System.Logger LOG = System.getLogger("org.streams4j.connld");
    private static final int READY = Shim.POLLIN | Shim.POLLHUP | Shim.POLLERR;

    private final String name;
    private final ConnldServer.EventHandler handler;
    /** Told of every connection the loop is done with (the server's slot and uid share). */
    private final java.util.function.Consumer<Connection> onClosed;
    /** 0: no idle time-out. */
    private final long idleNanos;
    /** 0: no write time-out. */
    private final long writeNanos;
    private final long sweepNanos;
    private final Poller poller;
    private final ConcurrentLinkedQueue<Connection> incoming = new ConcurrentLinkedQueue<>();
    /** Tokens of connections closed or written to by other threads. */
    private final ConcurrentLinkedQueue<Long> notices = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean wakePending = new AtomicBoolean();
    private final AtomicInteger size = new AtomicInteger();
    private volatile boolean stopping;
    private volatile boolean ended;
    private volatile Thread thread;

    /**
     * One registration: the connection a slot holds (null while the slot is
     * free) and what the loop keeps for it. A slot is reused; its generation
     * goes up with each connection it holds, so that a token names one
     * connection only. Loop thread only.
     */
    private static final class Slot {
        Connection conn;
        int gen;
        int fd;
        /**
         * What the poller waits for: POLLIN, or POLLOUT (POLLWRBAND for a
         * band's message at the head) while a queue is written; 0 while a
         * stall holds an epoll or poll(2) wait back (a one-shot poller's
         * slot is simply not re-armed, and keeps what it will wait for).
         */
        int interest;
        /**
         * While set (System.nanoTime() + STALL_NANOS, never 0), the poller
         * does not wait on the slot: a writable event found no room for the
         * head of the queue, and waiting again at once would spin.
         */
        long stalledUntil;
        /** When the client last sent something, or made room for what it is sent. */
        long lastRead;
        /** Listed in rearm (one-shot pollers), once. */
        boolean armPending;
        /**
         * Write time-out: when what the client is owed (queued here, or
         * written and not read yet) last moved, or when it was last owed
         * nothing. Never moved by what the client sends: a client that sends
         * a byte now and then but never reads meets the time-out all the same.
         */
        long lastWrite;
        /**
         * Write time-out: what the client had not read at the last sweep
         * (WritePath.unreadByPeer: the kernel's count; -1 where the platform
         * cannot tell, and then only the queue here counts).
         */
        int lastUnread;
    }

    // Loop thread only. slots[0..used) are allocated; free lists the free ones.
    private Slot[] slots = new Slot[64];
    private int[] free = new int[64];
    private int nfree;
    private int used;
    /** Slots to re-arm before the next wait (one-shot pollers). */
    private int[] rearm = new int[64];
    private int nrearm;
    /** Slots whose poller wait is held back (Slot.stalledUntil), each once. */
    private int[] stalled = new int[64];
    private int nstalled;
    /**
     * How long a slot whose writable event found no room waits before the
     * poller waits on it again. STREAMS: POLLOUT is band 0's room and
     * POLLWRBAND any band's (strpoll), so a client that leaves one band
     * full can make both answer at once while putpmsg answers EAGAIN (on
     * AF_UNIX, poll's writable is stricter than what a send needs, and no
     * stall happens). Without it the loop would spin on the client; with it such a
     * client costs a poll every STALL_NANOS and its idle and write time-outs
     * run, since only what the queue loses counts as the client's progress.
     */
    static final long STALL_NANOS = 10_000_000L;
    private long now;
    private long nextSweep;
    /**
     * An interrupt of the loop's thread: the server's close. Taken as a
     * stop, as an interrupted serveEvents is, and not left to the handlers'
     * reads, which would each close their connection (Interruptor).
     */
    private final Runnable onInterrupt;
    /**
     * Wakes the poller's wait when this loop's thread is interrupted: from
     * any thread, the loop's own included (an interrupt just before the
     * wait begins is run there, and the next wait must still return).
     */
    private final Interruptor waker;

    /**
     * @param idleTimeout {@link ConnldOptions#idleTimeout()}: null for none
     * @param writeTimeout {@link ConnldOptions#writeTimeout()}: null for none
     */
    EventLoop(String name, ConnldServer.EventHandler handler, java.util.function.Consumer<Connection> onClosed,
        Runnable onInterrupt, Duration idleTimeout, Duration writeTimeout)
        throws StreamsException {
        this.name = name;
        this.handler = handler;
        this.onClosed = onClosed;
        this.onInterrupt = onInterrupt;
        this.idleNanos = idleTimeout == null ? 0 : idleTimeout.toNanos();
        this.writeNanos = writeTimeout == null ? 0 : writeTimeout.toNanos();
        long every = Math.min(slice(idleNanos), slice(writeNanos));
        this.sweepNanos = every == Long.MAX_VALUE ? 0 : every;     // 0: nothing to sweep for
        this.poller = Poller.open();
        this.waker = new Interruptor(poller::wakeup);
    }

    /** How often to look for a time-out of {@code nanos}: a quarter of it, 10 ms to 1 s; never for 0. */
    private static long slice(long nanos) {
        return nanos == 0 ? Long.MAX_VALUE : Math.max(10_000_000L, Math.min(1_000_000_000L, nanos / 4));
    }

    /** Connections this loop holds or has been given. */
    int size() {
        return size.get();
    }

    /** Hands a connection to the loop (any thread); a loop that has ended closes it. */
    void submit(Connection c) {
        size.incrementAndGet();
        incoming.add(c);
        if (ended) {
            closeIncoming();
        } else {
            wakeup();
        }
    }

    boolean hasEnded() {
        return ended;
    }

    /** Asks the loop to close its connections and end (any thread). */
    void stop() {
        stopping = true;
        wakeup();
    }

    private void wakeup() {
        if (Thread.currentThread() != thread && wakePending.compareAndSet(false, true) && !poller.wakeup()) {
            wakePending.set(false);     // not sent: the next wakeup() tries again
        }
    }

    /** A connection was closed or written to by another thread (or by a handler of another connection). */
    private void notice(long token) {
        notices.add(token);
        wakeup();
    }

    @Override
    public void run() {
        thread = Thread.currentThread();
        LOG.log(Level.DEBUG, "{0}: event loop on {1}", name, poller.kind());
        try {
            loop();
        } catch (StreamsException | RuntimeException | Error e) {
            LOG.log(Level.ERROR, name + ": event loop failed", e);
        } finally {
            ended = true;
            for (int i = 0; i < used; i++) {
                if (slots[i].conn != null) {
                    remove(i);
                }
            }
            closeIncoming();
            poller.close();
        }
    }

    /** Whether this thread was interrupted: then the server is closed, and the loop ends. */
    private boolean interrupted() {
        if (!Thread.currentThread().isInterrupted()) {
            return false;
        }
        LOG.log(Level.DEBUG, "{0}: event loop thread interrupted: closing the server", name);
        onInterrupt.run();
        return true;
    }

    private void closeIncoming() {
        for (Connection c; (c = incoming.poll()) != null; ) {
            c.abort();
            size.decrementAndGet();
            onClosed.accept(c);
        }
    }

    private void loop() throws StreamsException {
        now = System.nanoTime();
        nextSweep = now + sweepNanos;
        while (true) {
            if (interrupted()) {
                return;
            }
            for (Connection c; (c = incoming.poll()) != null; ) {
                add(c);
            }
            for (Long t; (t = notices.poll()) != null; ) {
                int slot = live(t);
                if (slot >= 0) {
                    update(slot, slots[slot].conn.isOpen());
                }
            }
            if (stopping) {
                return;
            }
            int stallMs = nstalled > 0 ? endStalls() : -1;
            for (int i = 0; i < nrearm; i++) {
                int slot = rearm[i];
                if (slots[slot].armPending) {
                    slots[slot].armPending = false;
                    if (slots[slot].conn != null) {
                        poller.arm(slots[slot].fd, slots[slot].interest, token(slot));
                    }
                }
            }
            nrearm = 0;
            int timeout = -1;
            if (sweepNanos > 0) {
                timeout = (int) Math.max(0, (nextSweep - now + 999_999) / 1_000_000);
            }
            if (stallMs >= 0 && (timeout < 0 || stallMs < timeout)) {
                timeout = stallMs;
            }
            // An interrupt of this thread wakes the wait (which epoll_wait and
            // port_getn would not notice), and the top of the loop then ends it.
            waker.enter();
            int n;
            try {
                n = poller.await(timeout);
            } finally {
                waker.leave();
            }
            now = System.nanoTime();
            for (long t : poller.failedArms()) {
                // Not waited on (EAGAIN, ENOMEM: transient): try again after a pause.
                int slot = live(t);
                if (slot >= 0) {
                    stall(slot);
                }
            }
            if (n == -Errno.EINTR || Thread.currentThread().isInterrupted()) {
                continue;   // an interrupt: the top of the loop ends it, before any handler runs
            }
            for (int i = 0; i < n; i++) {
                long t = poller.token(i);
                if (t == Poller.WAKE) {
                    // Read, then clear: a wakeup() between the two sends nothing,
                    // and what it was for is in a queue, drained next.
                    poller.woken();
                    wakePending.set(false);
                    continue;
                }
                int slot = live(t);
                if (slot >= 0) {
                    dispatch(slot, poller.events(i));
                }
            }
            if (sweepNanos > 0 && now - nextSweep >= 0) {
                if (idleNanos > 0) {
                    sweep();
                }
                sweepWrites();
                nextSweep = now + sweepNanos;
            }
        }
    }

    private static long tokenOf(int slot, int gen) {
        return ((long) gen << 32) | slot;
    }

    private long token(int slot) {
        return tokenOf(slot, slots[slot].gen);
    }

    /** The slot a token names, or -1 when that connection has gone since. */
    private int live(long token) {
        int slot = (int) token;
        if (slot < 0 || slot >= used || slots[slot].conn == null || slots[slot].gen != (int) (token >>> 32)) {
            return -1;
        }
        return slot;
    }

    private void add(Connection c) {
        int slot = nfree > 0 ? free[--nfree] : used++;
        if (slot == slots.length) {
            int n = slot * 2;
            slots = Arrays.copyOf(slots, n);
            free = Arrays.copyOf(free, n);
            rearm = Arrays.copyOf(rearm, n);
        }
        if (slots[slot] == null) {
            slots[slot] = new Slot();
        }
        long token = tokenOf(slot, ++slots[slot].gen);
        int fd;
        try {
            fd = c.fd().watch(new Descriptor.Watch() {
                @Override
                public void register(int fd) throws StreamsException {
                    poller.add(fd, Shim.POLLIN, token);
                }

                @Override
                public void queued() {
                    notice(token);
                }

                @Override
                public void closing(int fd) {
                    poller.detach(fd);
                    notice(token);
                }
            });
        } catch (StreamsException | RuntimeException e) {
            if (!(e instanceof StreamClosedException)) {
                LOG.log(Level.WARNING, "{0}: cannot wait on {1}: {2}", name, c, e.getMessage());
            }
            free[nfree++] = slot;
            c.abort();
            size.decrementAndGet();
            onClosed.accept(c);
            return;
        }
        slots[slot].conn = c;
        slots[slot].fd = fd;
        slots[slot].interest = Shim.POLLIN;
        slots[slot].stalledUntil = 0;
        slots[slot].lastRead = now;
        slots[slot].lastWrite = now;
        slots[slot].lastUnread = 0;
        boolean keep;
        try {
            handler.opened(c);
            keep = c.isOpen();
        } catch (Throwable e) {
            keep = failed("opened", c, e);
            c.abort();
        }
        update(slot, keep, true);
    }

    private void dispatch(int slot, int rev) {
        Connection c = slots[slot].conn;
        StreamFd fd = c.fd();
        if (!fd.isOpen() || (rev & Shim.POLLNVAL) != 0) {
            remove(slot);
            return;
        }
        boolean keep = c.isOpen();
        if (fd.writes().hasQueued()) {
            try {
                int flushed = fd.writes().flush();
                if (flushed != WritePath.FLUSHED_NONE) {
                    slots[slot].lastRead = now;   // the client took some of what it was sent
                    wrote(slot);
                } else if ((rev & (Shim.POLLOUT | Shim.POLLWRBAND)) != 0 && !stall(slot)) {
                    return;     // "writable", no room for the head, and it could not be held back: closed
                }
                if (flushed == WritePath.FLUSHED_ALL && keep) {
                    handler.writable(c);
                    keep = c.isOpen();
                }
            } catch (StreamsException e) {
                // The client went away before taking what it was sent.
                LOG.log(Level.DEBUG, "{0}: {1}", name, e.getMessage());
                remove(slot);
                return;
            } catch (Throwable e) {
                keep = failed("writable", c, e);
                fd.close();
            }
        }
        try {
            if (keep && !fd.writes().hasQueued() && (rev & READY) != 0 && (slots[slot].interest & Shim.POLLIN) != 0) {
                slots[slot].lastRead = now;
                c.readyBits(rev);
                try {
                    while (keep) {
                        keep = handler.readable(c) && c.isOpen();
                        if (!keep || fd.writes().hasQueued() || !fd.hasBuffered()) {
                            break;
                        }
                    }
                } finally {
                    c.readyBits(0);
                }
            }
        } catch (Throwable e) {
            keep = failed("readable", c, e);
            fd.close();     // a handler that fails is closed at once, not after its queue
        }
        update(slot, keep);
    }

    /** Holds the slot's poller wait back for STALL_NANOS (loop thread); false when it closed the slot instead. */
    private boolean stall(int slot) {
        if (slots[slot].stalledUntil == 0) {
            if (nstalled == stalled.length) {
                stalled = java.util.Arrays.copyOf(stalled, nstalled * 2);
            }
            stalled[nstalled++] = slot;
            if (!poller.oneShot()) {
                try {
                    poller.modify(slots[slot].fd, 0, token(slot));  // a hang-up is still reported
                    slots[slot].interest = 0;   // update() waits for what the slot needs again
                } catch (StreamsException e) {
                    LOG.log(Level.WARNING, "{0}: {1}; closing {2}", name, e.getMessage(), slots[slot].conn);
                    remove(slot);
                    return false;
                }
            }
        }
        slots[slot].stalledUntil = (now + STALL_NANOS) | 1;
        return true;
    }

    /**
     * Waits on the slots whose stall has ended again, as they now need; the
     * time until the next ends, in ms for the poller, or -1 when none is held.
     */
    private int endStalls() {
        long next = Long.MAX_VALUE;
        int kept = 0;
        for (int i = 0; i < nstalled; i++) {
            int slot = stalled[i];
            long until = slots[slot].stalledUntil;
            if (until == 0 || slots[slot].conn == null) {
                slots[slot].stalledUntil = 0;
                continue;   // removed meanwhile
            }
            if (until - now > 0) {
                stalled[kept++] = slot;
                next = Math.min(next, until - now);
                continue;
            }
            slots[slot].stalledUntil = 0;
            update(slot, slots[slot].conn.isOpen());
        }
        nstalled = kept;
        return next == Long.MAX_VALUE ? -1 : (int) Math.max(1, (next + 999_999) / 1_000_000);
    }

    /** After a handler or a flush: removes the slot, or waits for data or for room as it now needs. */
    private void update(int slot, boolean keep) {
        update(slot, keep, false);
    }

    /** registered: the poller waits on the slot for POLLIN already (just added). */
    private void update(int slot, boolean keep, boolean registered) {
        Connection c = slots[slot].conn;
        if ((!keep || !c.isOpen()) && !(c.fd().isOpen() && c.fd().writes().closeWhenWritten())) {
            remove(slot);   // closed, or a close with nothing left to write
            return;
        }
        // Open, or closing once what is queued is written (only room is waited for then).
        int want = c.fd().writes().hasQueued() ? c.fd().writes().awaitedByQueue() : Shim.POLLIN;
        if (want != Shim.POLLIN && slots[slot].interest == Shim.POLLIN && slots[slot].lastUnread <= 0) {
            wrote(slot);    // a queue starts: the write time-out counts from here
        }
        if (slots[slot].stalledUntil != 0) {
            if (want != Shim.POLLIN) {
                return;     // endStalls waits on it again
            }
            slots[slot].stalledUntil = 0;   // nothing queued now: waiting for input is no spin
        }
        if (poller.oneShot()) {
            if (!slots[slot].armPending && (!registered || want != slots[slot].interest)) {
                slots[slot].armPending = true;
                rearm[nrearm++] = slot;
            }
            slots[slot].interest = want;
        } else if (want != slots[slot].interest) {
            try {
                poller.modify(slots[slot].fd, want, token(slot));
                slots[slot].interest = want;
            } catch (StreamsException e) {
                LOG.log(Level.WARNING, "{0}: {1}; closing {2}", name, e.getMessage(), c);
                remove(slot);
            }
        }
    }

    /** A handler failed: logged as HandlerLog says; the caller closes the connection. */
    private boolean failed(String what, Connection c, Throwable e) {
        HandlerLog.failed(name, what, c, e);
        return false;
    }

    /** Closes connections that have sent nothing, nor taken any of what they were sent, for idleNanos. */
    private void sweep() {
        for (int i = 0; i < used; i++) {
            if (slots[i].conn != null && now - slots[i].lastRead >= idleNanos) {
                LOG.log(Level.DEBUG, "{0}: closing {1}, idle for {2} ms", name, slots[i].conn,
                    (now - slots[i].lastRead) / 1_000_000);
                remove(i);
            }
        }
    }

    // ---- write time-out (ConnldOptions.writeTimeout) ----------------------------

    /**
     * Closes connections that were owed output for writeNanos without taking
     * any of it: output queued here that could not be written, or written
     * output the client left unread in the kernel (its count did not go down).
     */
    private void sweepWrites() {
        if (writeNanos == 0) {
            return;
        }
        for (int i = 0; i < used; i++) {
            Connection c = slots[i].conn;
            if (c == null) {
                continue;
            }
            StreamFd fd = c.fd();
            int unread = fd.writes().unreadByPeer();
            if (!fd.writes().hasQueued() && unread <= 0) {
                slots[i].lastWrite = now;     // owed nothing: the clock is at rest
                slots[i].lastUnread = unread;
                continue;
            }
            if (unread >= 0 && unread < slots[i].lastUnread) {
                slots[i].lastWrite = now;     // the client read some of it
            }
            slots[i].lastUnread = unread;
            if (now - slots[i].lastWrite >= writeNanos) {
                LOG.log(Level.INFO, "{0}: closing {1}: what it is sent made no progress for {2} ms "
                    + "({3} bytes queued here, {4} unread in the kernel)", name, c,
                    (now - slots[i].lastWrite) / 1_000_000, fd.writes().hasQueued() ? "some" : "no",
                    unread < 0 ? "unknown" : Integer.toString(unread));
                remove(i);
            }
        }
    }

    /** Slot i's queue made progress (or started) now. */
    private void wrote(int slot) {
        if (writeNanos == 0) {
            return;
        }
        slots[slot].lastWrite = now;
    }

    /**
     * Takes slot i out, deregisters, closes, gives its server slot back and
     * then tells the handler: by the time closed() runs, the next client may
     * already take the place (and the uid's share) this one held.
     */
    private void remove(int i) {
        Connection c = slots[i].conn;
        slots[i].conn = null;
        slots[i].stalledUntil = 0;
        free[nfree++] = i;
        poller.remove(slots[i].fd, token(i));
        c.fd().unwatch();
        c.abort();
        size.decrementAndGet();
        onClosed.accept(c);
        try {
            handler.closed(c);
        } catch (Throwable e) {
            LOG.log(Level.WARNING, name + ": closed() failed for " + c, e);
        }
    }
}
