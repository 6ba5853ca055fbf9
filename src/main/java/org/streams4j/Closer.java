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
 * {@link StreamFd} gives their closes here; a received descriptor's only
 * from the library's threads ({@link #onLibraryThread}): the caller's own
 * thread closes it itself, as the JDK's channels and junixsocket do, which
 * spares a hand-off and two wake-ups per descriptor.
 *
 * <p>Bounded: at most {@link #MAX_THREADS} closes run at once, each on a
 * daemon thread that ends after {@link #IDLE} without work, and at most
 * {@link #MAX_WAITING} more wait in line. A close that finds the line full
 * waits for room while the closers make progress (a burst of closes on a busy
 * machine: they are behind, not stuck); only when none of them has finished a
 * close for {@link #STUCK} is the descriptor left open (counted in
 * {@link #abandoned()}, logged at WARNING once a minute), which costs one
 * descriptor and never a thread. Reaching that takes {@code MAX_THREADS}
 * closes the kernel keeps waiting on at once, each a lingering socket the
 * peer keeps unread. Beyond that wait for room, nothing waits for this class:
 * not close(), not a server stopping; its threads are
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
    /**
     * How long the closers may finish nothing, with every thread busy and the
     * line full, before a close is given up (left open): they are stuck in
     * the kernel, not merely behind.
     */
    static final Duration STUCK = Duration.ofSeconds(1);
    private static final long STUCK_NANOS = STUCK.toNanos();
    private static final java.util.concurrent.locks.ReentrantLock LOCK = new java.util.concurrent.locks.ReentrantLock();
    /** A closer waits here for a number. */
    private static final java.util.concurrent.locks.Condition WORK_TO_DO = LOCK.newCondition();
    /** A caller waits here for room in the line; awaitIdle for nothing in flight. */
    private static final java.util.concurrent.locks.Condition ROOM = LOCK.newCondition();

    // Guarded by LOCK. A ring of waiting numbers.
    private static final int[] WAITING = new int[MAX_WAITING];
    private static int head;
    private static int waiting;
    private static int threads;
    private static int idle;
    /** Waiting plus being closed. */
    private static int inFlight;
    /** When a close last finished (or the line last had room). */
    private static long progressAt = System.nanoTime();
    private static long abandoned;
    private static long warnedAt;
    private static boolean warned;

    /** Set on the library's threads and while it runs a handler (see {@link #onLibraryThread}). */
    private static final ThreadLocal<Boolean> LIBRARY = new ThreadLocal<>();

    /**
     * Whether the current thread is doing the library's work: an event loop,
     * a handler {@code serve} runs, one of the library's own threads (closers,
     * watchdogs, connect openers, pollers, the Cleaner's). A received
     * descriptor closed there goes to a closer thread; closed on any other
     * thread (the caller's own, as with the JDK's channels) it is closed
     * there, and a last close its sender made slow blocks that caller only.
     */
    static boolean onLibraryThread() {
        return LIBRARY.get() != null;
    }

    /** Runs {@code r} with the current thread counted as the library's, then as it was. */
    static void asLibrary(Runnable r) {
        Boolean was = LIBRARY.get();
        LIBRARY.set(Boolean.TRUE);
        try {
            r.run();
        } finally {
            if (was == null) {
                LIBRARY.remove();
            }
        }
    }

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
        boolean interrupted = false;
        long lost = 0;
        LOCK.lock();
        try {
            // The line is full: wait while the closers make progress (they are
            // behind, a burst of closes), give the number up only when they have
            // finished nothing for STUCK (every one of them blocked in the kernel).
            while (waiting == MAX_WAITING) {
                if (threads < MAX_THREADS) {
                    start();
                }
                long now = System.nanoTime();
                if (now - progressAt >= STUCK_NANOS) {
                    break;
                }
                try {
                    ROOM.awaitNanos(Math.min(STUCK_NANOS, 10_000_000L));
                } catch (InterruptedException e) {
                    interrupted = true;     // kept for the caller; the number is not lost to it
                }
            }
            if (waiting == MAX_WAITING) {
                lost = ++abandoned;
                long now = System.nanoTime();
                if (!warned || now - warnedAt >= QUIET_NANOS) {
                    warned = true;
                    warnedAt = now;
                    warn = true;
                }
            } else {
                if (inFlight == 0) {
                    progressAt = System.nanoTime();     // nothing was owed: nothing was late
                }
                WAITING[(head + waiting) % MAX_WAITING] = fd;
                waiting++;
                inFlight++;
                if (idle > 0) {
                    WORK_TO_DO.signal();
                }
                if (idle < waiting && threads < MAX_THREADS) {
                    start();    // the idle ones are fewer than what waits
                }
            }
        } finally {
            LOCK.unlock();
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        if (warn) {
            LOG.log(Level.WARNING, "streams4j: " + MAX_THREADS + " closes are blocked in the kernel and "
                + MAX_WAITING + " wait behind them, none finished for " + STUCK.toMillis() + " ms; fd " + fd
                + " is left open (" + lost + " so far): a peer passes descriptors whose close does not end"
                + " (a lingering socket)");
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
            LOCK.lock();
            try {
                long deadline = System.nanoTime() + IDLE.toNanos();
                while (waiting == 0) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        threads--;
                        return;
                    }
                    idle++;
                    try {
                        WORK_TO_DO.awaitNanos(left);
                    } catch (InterruptedException e) {
                        // a closer is not stopped: it has numbers to close
                    } finally {
                        idle--;
                    }
                }
                fd = WAITING[head];
                head = (head + 1) % MAX_WAITING;
                if (waiting-- == MAX_WAITING) {
                    ROOM.signalAll();   // room in the line for those waiting
                }
            } finally {
                LOCK.unlock();
            }
            try {
                CALLS.close(fd);
            } finally {
                LOCK.lock();
                try {
                    inFlight--;
                    progressAt = System.nanoTime();
                    if (inFlight == 0) {
                        ROOM.signalAll();   // awaitIdle
                    }
                } finally {
                    LOCK.unlock();
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
        LOCK.lock();
        try {
            while (inFlight > 0) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                ROOM.awaitNanos(left);
            }
            return true;
        } finally {
            LOCK.unlock();
        }
    }

    /** Closes handed over and not done yet (waiting or blocked). */
    static int inFlight() {
        LOCK.lock();
        try {
            return inFlight;
        } finally {
            LOCK.unlock();
        }
    }

    /** Descriptors left open because the line was full and the closers stuck. */
    static long abandoned() {
        LOCK.lock();
        try {
            return abandoned;
        } finally {
            LOCK.unlock();
        }
    }
}
