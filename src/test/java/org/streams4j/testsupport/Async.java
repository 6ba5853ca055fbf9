package org.streams4j.testsupport;

import java.util.concurrent.Executor;

/**
 * A thread for each task, for CompletableFuture's async methods in tests.
 * Their default, the common ForkJoinPool, has one thread on a 2-CPU machine
 * from JDK 25 on (up to JDK 24, CompletableFuture started a thread per task
 * when the pool's parallelism was below 2): a task blocked in a native read or
 * write there keeps the next task from ever starting, and a test whose
 * writer and reader run as two such tasks deadlocks.
 */
public final class Async {
    /** Starts each task on a new daemon thread. */
    public static final Executor EACH = r -> {
        Thread t = new Thread(r, "test-async");
        t.setDaemon(true);
        t.start();
    };

    private Async() {
    }
}
