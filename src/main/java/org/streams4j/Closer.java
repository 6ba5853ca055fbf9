package org.streams4j;

import java.lang.System.Logger.Level;
import java.time.Duration;
import org.streams4j.internal.HotCalls;

/**
 * Closes descriptors whose last close may block in the kernel, on threads of
 * its own, so that no event loop, accept thread or handler pool waits on one.
 *
 * <p>A peer decides how long the last close of a descriptor it made takes:
 * a TCP socket with a full send buffer towards a reader that never reads and
 * {@code SO_LINGER} set sleeps in close for the linger time (Linux
 * {@code tcp_close}, {@code sk_stream_wait_close}; illumos
 * {@code tcp_close_output}), and so does the close of a socket or STREAMS
 * pipe that holds such a descriptor in flight in its queue (Linux
 * {@code unix_release_sock} purging the queue; illumos {@code strclose}
 * freeing the M_PASSFP message). Such descriptors are: those received
 * ({@link StreamFd#receiveFd()}, the others that came with the same message),
 * a server's connections, and what the shim hands back from a receive.
 * {@link StreamFd} gives their closes here.
 *
 * <p>Bounded: at most {@link #MAX_THREADS} closes run at once, each on a
 * daemon thread that ends after {@link #IDLE} without work, and at most
 * {@link #MAX_WAITING} more wait in line. A close that finds the line full is
 * not done at all: the descriptor stays open (counted in {@link #abandoned()},
 * logged at WARNING once a minute), which costs one descriptor and never a
 * thread. Reaching that takes {@code MAX_THREADS} closes the kernel keeps
 * waiting on at once, each a lingering socket the peer keeps unread. Nothing
 * waits for this class: not close(), not a server stopping; its threads are
 * daemons, and a process that exits does not linger (Linux
 * {@code inet_release} skips the wait for an exiting task).
 *
 * <p>What this cannot prevent: a process started while such a close is
 * under way (ProcessBuilder, {@code serve --exec}) copies the descriptor
 * table in its fork; when the copy outlives this class's close, the child's
 * exec makes the last close (close-on-exec) and lingers there, and the
 * thread that started it waits for that exec. That thread is the starter's
 * alone, never a loop or the accept thread.
 *
 * <p>The descriptor's single owner hands it over here and forgets it: the
 * number stays taken until this class has closed it, so nothing can reach
 * a reused number.
 */
final class Closer {
    /** The most closes under way at once (threads). */
    static final int MAX_THREADS = 16;
    /** The most closes waiting for a thread. */
    static final int MAX_WAITING = 1024;
    /** How long a thread with nothing to close lives on. */
    static final Duration IDLE = Duration.ofSeconds(5);

    private static final HotCalls CALLS = HotCalls.INSTANCE;
    private static final System.Logger LOG = System.getLogger("org.streams4j");
    private static final long QUIET_NANOS = Duration.ofMinutes(1).toNanos();
    private static final Object LOCK = new Object();

    // Guarded by LOCK. A ring of waiting numbers.
    private static final int[] WAITING = new int[MAX_WAITING];
    private static int head;
    private static int waiting;
    private static int threads;
    private static int idle;
    /** Waiting plus being closed. */
    private static int inFlight;
    private static long abandoned;
    private static long warnedAt;
    private static boolean warned;

    /** What a closer thread runs: made once, not at a close that may find no descriptor free. */
    private static final Runnable WORK = Closer::work;
    /** Made with the class, for the same reason (its classes come from a jar, which may need a descriptor). */
    private static final java.util.concurrent.ThreadFactory THREADS = Threads.daemons("streams4j-closer");

    private Closer() {
    }

    /**
     * Does nothing; calling it loads and initialises this class, which
     * {@link StreamFd} does up front: the first close may come when the
     * process is out of descriptors, and loading a class may need one.
     */
    static void load() {
    }

    /**
     * Closes {@code fd} on a closer thread; returns at once. The caller no
     * longer owns the number.
     */
    static void close(int fd) {
        boolean warn = false;
        long lost;
        synchronized (LOCK) {
            if (waiting == MAX_WAITING) {
                lost = ++abandoned;
                long now = System.nanoTime();
                if (!warned || now - warnedAt >= QUIET_NANOS) {
                    warned = true;
                    warnedAt = now;
                    warn = true;
                }
            } else {
                lost = 0;
                WAITING[(head + waiting) % MAX_WAITING] = fd;
                waiting++;
                inFlight++;
                if (idle > 0) {
                    LOCK.notify();
                }
                if (idle < waiting && threads < MAX_THREADS) {
                    start();    // the idle ones are fewer than what waits
                }
            }
        }
        if (warn) {
            LOG.log(Level.WARNING, "streams4j: " + MAX_THREADS + " closes are blocked in the kernel and "
                + MAX_WAITING + " wait behind them; fd " + fd + " is left open (" + lost
                + " so far): a peer passes descriptors whose close does not end (a lingering socket)");
        }
    }

    /** Starts one more closer thread (LOCK held). */
    private static void start() {
        Thread t = THREADS.newThread(WORK);
        threads++;
        try {
            t.start();
        } catch (OutOfMemoryError e) {
            // No thread to be had now: the number waits for the next one.
            threads--;
        }
    }

    private static void work() {
        while (true) {
            int fd;
            synchronized (LOCK) {
                long deadline = System.nanoTime() + IDLE.toNanos();
                while (waiting == 0) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        threads--;
                        return;
                    }
                    idle++;
                    try {
                        LOCK.wait(Math.max(1, left / 1_000_000));
                    } catch (InterruptedException e) {
                        // a closer is not stopped: it has numbers to close
                    } finally {
                        idle--;
                    }
                }
                fd = WAITING[head];
                head = (head + 1) % MAX_WAITING;
                waiting--;
            }
            try {
                CALLS.close(fd);
            } finally {
                synchronized (LOCK) {
                    inFlight--;
                    if (inFlight == 0) {
                        LOCK.notifyAll();
                    }
                }
            }
        }
    }

    /**
     * Waits until every close handed over so far is done, for at most
     * {@code timeout} (for tests that count descriptors).
     *
     * @return true when none is left
     */
    static boolean awaitIdle(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (LOCK) {
            while (inFlight > 0) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                LOCK.wait(Math.max(1, left / 1_000_000));
            }
            return true;
        }
    }

    /** Closes handed over and not done yet (waiting or blocked). */
    static int inFlight() {
        synchronized (LOCK) {
            return inFlight;
        }
    }

    /** Descriptors left open because the line was full. */
    static long abandoned() {
        synchronized (LOCK) {
            return abandoned;
        }
    }
}
