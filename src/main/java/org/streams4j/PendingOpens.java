package org.streams4j;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.streams4j.internal.Shim;

/**
 * Connects with a time-out where the kernel's connect cannot be cut short
 * (a STREAMS open of a connld path). One opener thread per path opens on
 * behalf of the callers waiting for that path, first come first served; a
 * caller that gives up leaves its place, and a descriptor nobody waits for
 * any more is closed. The kernel serves opens on one attach point one at a
 * time anyway (fifo_stropen), so this loses no parallelism, and the threads
 * left in the kernel are bounded by the number of paths, not of time-outs.
 */
final class PendingOpens {
    /** Raw connect: a descriptor or an exception. */
    @FunctionalInterface
    interface Opener {
        int open(String path) throws StreamsException;
    }

    /** Guarded by LOCK, a lock and not a monitor so that a virtual thread waiting on it parks (JDK 21). */
    private static final Map<String, ArrayDeque<Waiter>> QUEUES = new HashMap<>();
    private static final ReentrantLock LOCK = new ReentrantLock();
    private static final Condition DONE = LOCK.newCondition();

    private PendingOpens() {
    }

    private static final class Waiter {
        int fd = -1;
        StreamsException failure;
        boolean done;
        boolean abandoned;
    }

    static int open(String path, Duration timeout, Opener opener) throws StreamsException {
        Waiter me = new Waiter();
        LOCK.lock();
        try {
            ArrayDeque<Waiter> q = QUEUES.get(path);
            if (q == null) {
                q = new ArrayDeque<>();
                QUEUES.put(path, q);
                ArrayDeque<Waiter> queue = q;
                Threads.daemon("streams4j-connect " + path, () -> run(path, queue, opener)).start();
            }
            q.add(me);
            long deadline = System.nanoTime() + timeout.toNanos();
            boolean interrupted = false;
            while (!me.done) {
                long left = deadline - System.nanoTime();
                if (left <= 0 || interrupted) {
                    break;
                }
                try {
                    DONE.await(left, TimeUnit.NANOSECONDS);
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
            if (!me.done) {
                me.abandoned = true;
                q.remove(me);
                if (interrupted) {
                    throw new StreamInterruptedException("connect", path);
                }
                throw new StreamTimeoutException("connect", path, timeout,
                    "no answer within " + ConnldClient.human(timeout));
            }
        } finally {
            LOCK.unlock();
        }
        if (me.failure != null) {
            throw me.failure;
        }
        return me.fd;
    }

    /** The opener thread of one path: opens while callers wait, then leaves. */
    private static void run(String path, ArrayDeque<Waiter> q, Opener opener) {
        while (true) {
            LOCK.lock();
            try {
                if (q.isEmpty()) {
                    QUEUES.remove(path);
                    return;
                }
            } finally {
                LOCK.unlock();
            }
            int fd;
            StreamsException failure = null;
            try {
                fd = opener.open(path);
            } catch (StreamsException e) {
                fd = -1;
                failure = e;
            }
            LOCK.lock();
            try {
                Waiter w = q.poll();
                if (w == null) {
                    if (fd >= 0) {
                        Shim.s4j_close(fd);     // everybody gave up: never leak it
                    }
                    continue;
                }
                w.fd = fd;
                w.failure = failure;
                w.done = true;
                DONE.signalAll();
            } finally {
                LOCK.unlock();
            }
        }
    }

    /** Threads opening now (for tests): one per path with callers waiting. */
    static int openers() {
        LOCK.lock();
        try {
            return QUEUES.size();
        } finally {
            LOCK.unlock();
        }
    }
}
