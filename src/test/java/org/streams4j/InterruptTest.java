package org.streams4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.streams4j.testsupport.TimeScale;

/**
 * Issue 23, item 2: an interrupt ends a blocking call as it ends one on a
 * JDK channel (InterruptibleChannel): the descriptor is closed, the call
 * throws StreamInterruptedException (a StreamClosedException), and the
 * thread's interrupt status stays set. For a server, accept, serve and
 * serveEvents close the server (its path goes), so that
 * ExecutorService.shutdownNow() stops one. Each test waits until its thread
 * sits in the native call before it interrupts it (or, for a thread
 * interrupted beforehand, does not wait at all).
 */
class InterruptTest {
    private static final Duration GUARD = TimeScale.guard(Duration.ofSeconds(20));

    @TempDir
    Path dir;

    /** What a blocking call on its own thread ended with, and whether the thread was still interrupted. */
    private record Outcome(Throwable thrown, boolean interrupted) {
    }

    @FunctionalInterface
    private interface Call {
        void run() throws Exception;
    }

    /** Runs {@code call} on a thread of its own; interrupts it once it waits in one of {@code natives}. */
    private static Outcome interruptWhileIn(Call call, String... natives) throws Exception {
        CompletableFuture<Outcome> out = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try {
                call.run();
                out.complete(new Outcome(null, Thread.currentThread().isInterrupted()));
            } catch (Throwable e) {
                out.complete(new Outcome(e, Thread.currentThread().isInterrupted()));
            }
        }, "interrupted");
        t.setDaemon(true);
        t.start();
        TestSupport.awaitInNative(t, GUARD, natives);
        t.interrupt();
        return out.get(GUARD.toMillis(), TimeUnit.MILLISECONDS);
    }

    private static void assertInterrupted(Outcome o, String op) {
        StreamInterruptedException e = assertInstanceOf(StreamInterruptedException.class, o.thrown(),
            () -> String.valueOf(o.thrown()));
        assertEquals(op, e.operation());
        assertEquals(Errno.EINTR, e.errno());
        assertTrue(o.interrupted(), "the interrupt status was cleared");
    }

    @Test
    void anInterruptEndsABlockedReadAndClosesTheDescriptor() throws Exception {
        try (StreamPipe p = StreamPipe.open()) {
            Outcome o = interruptWhileIn(() -> p.first().read(new byte[16]), "s4j_recv");
            assertInterrupted(o, "read");
            assertFalse(p.first().isOpen(), "the interrupted read's descriptor is still open");
            // The other end sees the close, as after any close.
            assertTrue(p.second().awaitReadable(GUARD));
            assertEquals(-1, p.second().read(new byte[1]));
        }
    }

    @Test
    void anInterruptEndsATimedReadAndAReceiveFd() throws Exception {
        try (StreamPipe p = StreamPipe.open()) {
            Outcome o = interruptWhileIn(() -> p.first().read(new byte[16], 0, 16, Duration.ofHours(1)),
                "s4j_poll");
            assertInterrupted(o, "poll");
            assertFalse(p.first().isOpen());
        }
        try (StreamPipe p = StreamPipe.open()) {
            Outcome o = interruptWhileIn(() -> p.first().receiveFd(), "s4j_recvfd");
            assertInterrupted(o, "receiveFd");
            assertFalse(p.first().isOpen());
        }
    }

    @Test
    void anInterruptEndsAWriteThatWaitsForRoom() throws Exception {
        try (StreamPipe p = StreamPipe.open()) {
            TestSupport.fillUntilFull(p.first());     // which leaves it non-blocking: block again
            assertEquals(0, p.first().descriptor().useQuick("fcntl",
                n -> org.streams4j.internal.Shim.s4j_set_nonblocking(n, 0)));
            Outcome o = interruptWhileIn(() -> p.first().writeFully(new byte[64 * 1024]), "s4j_write");
            assertInterrupted(o, "write");
            assertFalse(p.first().isOpen());
        }
    }

    @Test
    void aThreadInterruptedBeforeItReadsClosesTheDescriptorAtOnce() throws Exception {
        try (StreamPipe p = StreamPipe.open()) {
            Thread.currentThread().interrupt();
            Throwable thrown;
            boolean still;
            try {
                p.first().read(new byte[4]);
                thrown = null;
            } catch (StreamsException e) {
                thrown = e;
            } finally {
                still = Thread.interrupted();   // cleared here, so that JUnit's thread goes on clean
            }
            assertInterrupted(new Outcome(thrown, still), "read");
            assertFalse(p.first().isOpen());
            // Only that descriptor: the other end is open and sees the close.
            assertTrue(p.second().isOpen());
            assertTrue(p.second().awaitReadable(GUARD));
            assertEquals(-1, p.second().read(new byte[1]));
        }
    }

    @Test
    void anInterruptedAcceptClosesTheServerAndRemovesItsPath() throws Exception {
        Path path = dir.resolve("accept");
        ConnldServer s = ConnldServer.bind(path, ConnldOptions.builder().shutdownHook(false).build());
        try {
            Outcome o = interruptWhileIn(s::accept, "s4j_unix_accept", "s4j_poll", "s4j_recvfd");
            assertInterrupted(o, "accept");
            assertFalse(s.isOpen(), "the server is still open");
            assertFalse(Files.exists(path, java.nio.file.LinkOption.NOFOLLOW_LINKS), "the path is still there");
        } finally {
            s.close();
        }
    }

    @Test
    void shutdownNowStopsServeAndServeEvents() throws Exception {
        for (boolean events : new boolean[] {false, true}) {
            Path path = dir.resolve(events ? "events" : "serve");
            ConnldServer s = ConnldServer.bind(path, ConnldOptions.builder().shutdownHook(false).build());
            ExecutorService pool = Executors.newSingleThreadExecutor();
            try {
                CompletableFuture<Thread> server = new CompletableFuture<>();
                Future<?> f = pool.submit(() -> {
                    server.complete(Thread.currentThread());
                    if (events) {
                        s.serveEvents(c -> false);
                    } else {
                        s.serve(c -> { });
                    }
                    return null;
                });
                TestSupport.awaitInNative(server.get(GUARD.toMillis(), TimeUnit.MILLISECONDS), GUARD,
                    "s4j_unix_accept", "s4j_poll", "s4j_recvfd");
                pool.shutdownNow();
                assertTrue(pool.awaitTermination(GUARD.toMillis(), TimeUnit.MILLISECONDS),
                    (events ? "serveEvents" : "serve") + " did not end on shutdownNow()");
                Throwable cause = assertInstanceOf(java.util.concurrent.ExecutionException.class,
                    org.junit.jupiter.api.Assertions.assertThrows(Exception.class, f::get)).getCause();
                assertInstanceOf(StreamInterruptedException.class, cause);
                assertFalse(s.isOpen());
                assertFalse(Files.exists(path, java.nio.file.LinkOption.NOFOLLOW_LINKS));
            } finally {
                pool.shutdownNow();
                s.close();
            }
        }
    }

    @Test
    void anInterruptedTimedConnectGivesUpWithTheInterrupt() throws Exception {
        Path path = dir.resolve("full");
        // A server that never accepts: a timed connect waits for it.
        ConnldServer s = ConnldServer.bind(path, ConnldOptions.builder().backlog(1).shutdownHook(false).build());
        java.util.List<Connection> queued = new java.util.ArrayList<>();
        try {
            TestSupport.fillQueue(path, TimeScale.guard(Duration.ofMillis(200)), queued);
            CompletableFuture<Outcome> out = new CompletableFuture<>();
            Thread t = new Thread(() -> {
                try {
                    ConnldClient.connect(path, Duration.ofHours(1)).close();
                    out.complete(new Outcome(null, Thread.currentThread().isInterrupted()));
                } catch (Throwable e) {
                    out.complete(new Outcome(e, Thread.currentThread().isInterrupted()));
                }
            }, "connecting");
            t.setDaemon(true);
            t.start();
            // The caller waits on PendingOpens' lock or in a poll of its own connect.
            long deadline = System.nanoTime() + GUARD.toNanos();
            while (t.getState() != Thread.State.TIMED_WAITING && t.getState() != Thread.State.RUNNABLE
                && System.nanoTime() < deadline) {
                Thread.onSpinWait();
            }
            t.interrupt();
            Outcome o = out.get(GUARD.toMillis(), TimeUnit.MILLISECONDS);
            StreamInterruptedException e = assertInstanceOf(StreamInterruptedException.class, o.thrown(),
            () -> String.valueOf(o.thrown()));
            assertEquals("connect", e.operation());
            assertTrue(o.interrupted());
        } finally {
            for (Connection c : queued) {
                c.close();
            }
            s.close();
        }
    }

    /**
     * An interrupt of an event loop's thread (a ThreadFactory whose owner
     * interrupts it, an executor's shutdownNow) stops the server, as an
     * interrupted serveEvents does, instead of closing one connection after
     * another as their handlers' reads meet the interrupt: the path goes,
     * every client reads the end, and serveEvents returns.
     */
    @Test
    void anInterruptedEventLoopThreadStopsTheServer() throws Exception {
        Path path = dir.resolve("loop");
        java.util.List<Thread> loops = new java.util.concurrent.CopyOnWriteArrayList<>();
        ConnldOptions o = ConnldOptions.builder().loops(1).shutdownHook(false).threadFactory(r -> {
            Thread t = new Thread(r, "test-loop");
            t.setDaemon(true);
            loops.add(t);
            return t;
        }).build();
        ConnldServer s = ConnldServer.bind(path, o);
        java.util.List<Connection> clients = new java.util.ArrayList<>();
        CompletableFuture<Throwable> served = new CompletableFuture<>();
        Thread serving = new Thread(() -> {
            try {
                s.serveEvents(c -> {
                    byte[] b = new byte[16];
                    int n = c.read(b, 0, b.length);
                    if (n > 0) {
                        c.write(b, 0, n);
                    }
                    return n >= 0;
                });
                served.complete(null);
            } catch (Throwable e) {
                served.complete(e);
            }
        }, "serving");
        serving.setDaemon(true);
        serving.start();
        try {
            for (int i = 0; i < 3; i++) {
                Connection c = ConnldClient.connect(path);
                clients.add(c);
                TestSupport.echoRound(c, "x" + i, GUARD);     // each is on the loop now
            }
            assertEquals(1, loops.size(), "one loop thread: " + loops);
            loops.get(0).interrupt();
            Throwable e = served.get(GUARD.toMillis(), TimeUnit.MILLISECONDS);
            assertTrue(e == null || e instanceof StreamClosedException, String.valueOf(e));
            assertFalse(s.isOpen(), "the server is still open");
            assertFalse(Files.exists(path, java.nio.file.LinkOption.NOFOLLOW_LINKS), "the path is still there");
            for (Connection c : clients) {
                assertEquals(-1, c.read(new byte[1], 0, 1, GUARD), "a client did not read the end");
            }
        } finally {
            clients.forEach(Connection::close);
            s.close();
        }
    }

    /**
     * The library's own descriptors are not the interrupted thread's to close:
     * any thread wakes an event loop (a handler writing to another connection,
     * the accept thread handing one over), and an interrupt of that thread
     * must leave the loop's poller and wake-up working.
     */
    @Test
    void anInterruptedThreadThatWakesAnEventLoopLeavesItsPollerWorking() throws Exception {
        try (Poller p = Poller.open()) {
            Thread.currentThread().interrupt();
            try {
                p.wakeup();
            } finally {
                assertTrue(Thread.interrupted(), "the interrupt status was cleared");
            }
            int n = p.await((int) GUARD.toMillis());
            assertEquals(1, n, "the wake-up did not arrive");
            assertEquals(Poller.WAKE, p.token(0));
            p.woken();
            // Nothing more: a wake-up pipe whose writing end the interrupt closed
            // would read as end of file, and wake the loop for ever.
            assertEquals(0, p.await(0), "the poller wakes with nothing to wake it for");
            p.wakeup();     // and it works on
            assertEquals(1, p.await((int) GUARD.toMillis()));
            assertEquals(Poller.WAKE, p.token(0));
        }
    }
}
