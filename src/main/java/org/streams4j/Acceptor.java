package org.streams4j;

import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import org.streams4j.internal.Shim;

/**
 * How a {@link ConnldServer} takes its clients: one accept (waiting, or
 * within a time-out) and the accept loop that {@code serve} and
 * {@code serveEvents} run. Whether a thread may wait in accept itself is
 * the backend's answer ({@link Transport.Endpoint#blockingAccept()}); the
 * accept is the endpoint's ({@link Transport.Endpoint#accept}); what is
 * decided here is the waiting, the allow list, the per-uid shares and the
 * backing off when descriptors run out.
 */
final class Acceptor {
    private static final System.Logger LOG = System.getLogger("org.streams4j.connld");
    private static final Duration POLL_SLICE = Duration.ofSeconds(1);
    private static final long OUT_OF_FDS_QUIET = TimeUnit.MINUTES.toNanos(1);

    private final String name;
    private final ConnldOptions options;
    private final Transport.Endpoint endpoint;
    private final StreamFd acceptFd;
    /** The server's: set once by its close(). */
    private final AtomicBoolean closed;
    /** The server's close(), for an interrupt of the accepting thread. */
    private final Runnable closeServer;
    /** Linux: accept(2) blocks on the listening socket (see accept). */
    private final boolean blockingAccept;
    private final ReentrantLock acceptLock = new ReentrantLock();
    /** A hint for the accepting thread: the last accept found a client without waiting. */
    private volatile boolean clientsWaiting = true;
    /** Counts accept calls made while clientsWaiting is false (a hint too; races do no harm). */
    private int acceptCalls;
    /** When accepting last met EMFILE/ENFILE (System.nanoTime(); 0: never); accept loop only. */
    private long outOfFdsAt;

    Acceptor(String name, ConnldOptions options, Transport.Endpoint endpoint, AtomicBoolean closed,
        Runnable closeServer) {
        this.name = name;
        this.closeServer = closeServer;
        this.options = options;
        this.endpoint = endpoint;
        this.acceptFd = endpoint.acceptFd();
        this.closed = closed;
        this.blockingAccept = endpoint.blockingAccept();
    }

    /**
     * One allowed client, waiting at most {@code timeout} (null: for ever);
     * empty when none came in time. An interrupt of this thread closes the
     * server, as it would a ServerSocketChannel, and ends with
     * {@link StreamInterruptedException}.
     */
    Optional<Connection> accept(Duration timeout) throws StreamsException {
        try {
            return acceptOnce(timeout);
        } catch (StreamClosedException e) {
            throw interruptedOr(e);
        }
    }

    /**
     * A close this thread's interrupt made (of the accepting descriptor, or
     * of a wait) closes the whole server and says so; any other close is
     * the server's own.
     */
    private StreamClosedException interruptedOr(StreamClosedException e) {
        if (e instanceof StreamInterruptedException || (Thread.currentThread().isInterrupted() && !closed.get())) {
            closeServer.run();
            return new StreamInterruptedException("accept", name);
        }
        return e;
    }

    private Optional<Connection> acceptOnce(Duration timeout) throws StreamsException {
        if (!blockingAccept) {
            // While clients queue up, take the next one straight away (the end
            // is non-blocking); when the last try found none, poll first and
            // spare the accept that would say EAGAIN, trying straight away
            // again now and then to notice a queue.
            return acceptPolling(timeout, clientsWaiting || (++acceptCalls & 7) == 0);
        }
        // Linux: the listening socket is blocking. accept() without a time-out
        // sleeps in accept(2) itself (a wake-up straight into accept is cheaper
        // than poll and then accept: about 15 % more connections per second);
        // close() wakes it through shutdown(2). With a time-out, poll first,
        // then accept. One thread accepts at a time, so that a client poll
        // announced is still there for the accept that follows.
        if (timeout == null && Parking.parks()) {
            // A virtual thread must not sleep in accept(2), which holds its
            // carrier: it parks in poll (Parking), then accepts what is there.
            acceptLock.lock();
            try {
                return acceptPolling(null, false);
            } finally {
                acceptLock.unlock();
            }
        }
        if (timeout == null) {
            acceptLock.lock();
            try {
                while (true) {
                    if (closed.get()) {
                        throw new StreamClosedException("accept", name);
                    }
                    Connection c = acceptOne();
                    if (c != null) {
                        return Optional.of(c);
                    }
                }
            } finally {
                acceptLock.unlock();
            }
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        try {
            if (!acceptLock.tryLock(Math.max(0, timeout.toNanos()), TimeUnit.NANOSECONDS)) {
                return Optional.empty();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StreamInterruptedException("accept", name);
        }
        try {
            return acceptPolling(Duration.ofNanos(deadline - System.nanoTime()), false);
        } finally {
            acceptLock.unlock();
        }
    }

    /**
     * Polls the accepting end, and accepts once it is readable (or straight
     * away first when {@code tryFirst}, which only a non-blocking end allows).
     * Waits in slices of at most a second: close() wakes a poller by itself,
     * and the slice is a bound should a platform not do so. When the time is
     * up a client that is there already is still taken.
     */
    private Optional<Connection> acceptPolling(Duration timeout, boolean tryFirst) throws StreamsException {
        long deadline = timeout == null ? 0 : System.nanoTime() + timeout.toNanos();
        boolean polled = false;
        boolean waited = false;
        while (true) {
            if (closed.get()) {
                throw new StreamClosedException("accept", name);
            }
            if (polled || tryFirst) {
                Connection ready = acceptOne();
                if (ready != null) {
                    clientsWaiting = !polled;
                    return Optional.of(ready);
                }
                clientsWaiting = false;
            }
            tryFirst = false;
            Duration left = POLL_SLICE;
            if (timeout != null) {
                long ns = deadline - System.nanoTime();
                if (ns <= 0 && waited) {
                    return Optional.empty();
                }
                left = Duration.ofNanos(Math.max(0, Math.min(ns, POLL_SLICE.toNanos())));
            }
            waited = true;
            try {
                polled = acceptFd.poll(Shim.POLLIN, left) != 0;
            } catch (StreamClosedException e) {
                throw new StreamClosedException("accept", name);
            }
        }
    }

    /** One I_RECVFD / accept; null when nothing was there after all or the client was refused. */
    private Connection acceptOne() throws StreamsException {
        Transport.Accepted got;
        try {
            got = endpoint.accept(options.restrictsPeers() || LOG.isLoggable(Level.DEBUG));
        } catch (StreamClosedException e) {
            throw new StreamClosedException("accept", name);
        } catch (StreamsException e) {
            if (!acceptFd.isOpen()) {
                throw new StreamClosedException("accept", name);
            }
            throw new StreamsException("accept", name, e.errno());
        }
        if (got == null) {
            return null;
        }
        PeerCredentials peer = got.peer();
        if (options.restrictsPeers() && !options.allows(peer)) {
            got.fd().close();
            LOG.log(Level.WARNING, "refused a client of {0}: {1} is not allowed", name, peer);
            return null;
        }
        LOG.log(Level.DEBUG, "connection on {0} from {1}", name, peer);
        got.fd().descriptor().label("on " + name);     // "read fd 9 on /run/x: EPIPE"
        return new Connection(got.fd(), peer, got.known(), true);
    }

    /**
     * Accepts until the server is closed: takes a slot, accepts, hands the
     * connection on (which must release the slot and give back the share when
     * the connection ends). Survives EMFILE/ENFILE (backs off, logs once per
     * shortage), EINTR and clients that vanish.
     */
    void loop(Semaphore slots, Shares shares, Consumer<Connection> dispatch) throws StreamsException {
        long backoffMs = 0;
        while (!closed.get()) {
            try {
                slots.acquire();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                if (closed.get()) {
                    return;
                }
                closeServer.run();
                throw new StreamInterruptedException("serve", name);
            }
            Connection c;
            try {
                c = accept(null).orElseThrow();
                backoffMs = 0;
            } catch (StreamClosedException e) {
                slots.release();
                if (e instanceof StreamInterruptedException) {
                    throw e;    // the server is closed: serve() ends with the interrupt
                }
                return;
            } catch (StreamsException e) {
                slots.release();
                if (closed.get()) {
                    return;
                }
                if (e.errno() == Errno.EMFILE || e.errno() == Errno.ENFILE) {
                    long t = System.nanoTime();
                    if (backoffMs == 0) {
                        // Said once per shortage: clients served between EMFILEs do not
                        // make it a new one until a minute has passed without any.
                        boolean again = outOfFdsAt != 0 && t - outOfFdsAt < OUT_OF_FDS_QUIET;
                        LOG.log(again ? Level.DEBUG : Level.WARNING, "{0}: out of descriptors ({1}); backing off",
                            name, e.errnoName());
                    }
                    outOfFdsAt = t;
                    backoffMs = Math.min(1000, Math.max(10, backoffMs * 2));
                    Threads.sleepQuietly(backoffMs);
                    continue;
                }
                throw e;
            }
            if (!shares.take(c)) {
                LOG.log(Level.INFO, "refused a client of {0}: {1} holds {2} connections already "
                    + "(the most one uid may hold)", name, c.peer(), shares.max);
                c.close();
                slots.release();
                continue;
            }
            try {
                dispatch.accept(c);
            } catch (RuntimeException e) {
                c.close();
                shares.give(c);
                slots.release();
                throw e;
            }
        }
    }
}
