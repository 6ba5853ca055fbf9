package org.streams4j;

import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A {@link ConnldServer}'s life: the serve calls under way (each of
 * {@code serve}, {@code serveEvents}, {@code start}, {@code startEvents}
 * counts from its start to its end), the threads it makes, the slot
 * semaphores its accept loops wait on, and the wait for the end
 * ({@code awaitTermination}). The server's close() sets {@code closed} and
 * then calls {@link #closed()}.
 */
final class Lifecycle {
    private static final System.Logger LOG = System.getLogger("org.streams4j.connld");

    private final String name;
    private final ConnldOptions options;
    private final AtomicBoolean closed;
    /**
     * Guards serving; {@code changed} is signalled when it drops to 0 and
     * when the server closes. A lock, not a monitor: a virtual thread in
     * awaitTermination parks instead of pinning its carrier (JDK 21).
     */
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    /** serve() and serveEvents() calls under way. */
    private int serving;
    /**
     * The slot semaphores accept loops wait on: closed() opens them, so that
     * a server with every slot taken (all of threads() or maxConnections()
     * busy) still stops.
     */
    private final Set<Semaphore> slotWaits = ConcurrentHashMap.newKeySet();

    /** What a start runs: serve or serveEvents without their own begin/end. */
    @FunctionalInterface
    interface Serving {
        void run() throws StreamsException;
    }

    Lifecycle(String name, ConnldOptions options, AtomicBoolean closed) {
        this.name = name;
        this.options = options;
        this.closed = closed;
    }

    /** A serve call begins; refused once the server is closed. */
    void begin() throws StreamsException {
        lock.lock();
        try {
            if (closed.get()) {
                throw new StreamClosedException("serve", name);
            }
            serving++;
        } finally {
            lock.unlock();
        }
    }

    /** A serve call has ended: its handlers returned, its connections closed, its loops stopped. */
    void end() {
        lock.lock();
        try {
            if (--serving == 0) {
                changed.signalAll();
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * Runs {@code body} on a thread of the server's between begin() and
     * end(); a failure for good is logged at ERROR and {@code onFailure}
     * (the server's close) runs.
     */
    void start(String op, Serving body, Runnable onFailure) throws StreamsException {
        begin();
        boolean started = false;
        try {
            Thread t = newThread(() -> {
                try {
                    body.run();
                } catch (StreamClosedException e) {
                    LOG.log(Level.DEBUG, "{0}: {1}", name, e.getMessage());
                } catch (StreamsException | RuntimeException | Error e) {
                    LOG.log(Level.ERROR, name + ": " + op + " ended: " + e, e);
                    onFailure.run();
                } finally {
                    end();
                }
            }, "streams4j-serve " + name);
            t.start();
            started = true;
        } finally {
            if (!started) {
                end();
            }
        }
    }

    /**
     * A thread of the server's: the options' factory, or a daemon named
     * {@code threadName}. It runs as the library's ({@link Closer#asLibrary}):
     * loops and handlers hand the closes a peer can make slow to the closers.
     */
    Thread newThread(Runnable r, String threadName) {
        Optional<ThreadFactory> f = options.threadFactory();
        if (f.isPresent()) {
            Thread t = f.get().newThread(() -> Closer.asLibrary(r));
            if (t == null) {
                throw new RejectedExecutionException(
                    "the thread factory of " + name + " made no thread for " + threadName);
            }
            return t;
        }
        return Threads.daemon(threadName, r);
    }

    /** Runs an accept loop waiting on {@code slots}, which closed() opens. */
    void acceptLoop(Semaphore slots, Acceptor acceptor, Shares shares,
        java.util.function.Consumer<Connection> dispatch) throws StreamsException {
        // Held before the loop first looks at closed: a close() either opens these slots or is seen by the loop.
        slotWaits.add(slots);
        try {
            acceptor.loop(slots, shares, dispatch);
        } finally {
            slotWaits.remove(slots);
        }
    }

    /** The server has closed: accept loops waiting for a slot see it, awaitTermination may return. */
    void closed() {
        for (Semaphore slots : slotWaits) {
            slots.release(1 << 20);
        }
        lock.lock();
        try {
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Until the server is closed and no serve call is under way, or the time is up. */
    boolean awaitTermination(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        lock.lock();
        try {
            while (!closed.get() || serving > 0) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                changed.await(left, TimeUnit.NANOSECONDS);
            }
            return true;
        } finally {
            lock.unlock();
        }
    }
}
