package org.streams4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.streams4j.TestSupport.ascii;
import static org.streams4j.TestSupport.assertEndOfStream;
import static org.streams4j.TestSupport.readExactly;
import static org.streams4j.TestSupport.readString;
import static org.streams4j.testsupport.ConnldEchoServerMain.serveEventsInBackground;

import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;
import org.streams4j.internal.Shim;
import org.streams4j.testsupport.Child;
import org.streams4j.testsupport.ConnldEchoServerMain.Serving;
import org.streams4j.testsupport.ManyClientsMain;

/**
 * The event loop under {@link ConnldServer#serveEvents}: the platform's
 * poller (epoll, event ports), closes from other threads while the loop
 * waits, a client that reads slowly, handlers that fail, the idle time-out,
 * and 10,000 connections. Real descriptors and processes throughout. A loop
 * that stalls shows as a test that never ends: the class time-out fails it.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class ConnldEventLoopTest {
    private static final Duration GUARD = TestSupport.guard(Duration.ofSeconds(30));

    @TempDir
    Path dir;

    /** Echoes what is readable; "big" is answered with BIG bytes of a known pattern. */
    static final class Echo implements ConnldServer.EventHandler {
        static final int BIG = 4 << 20;
        final Map<Connection, Boolean> open = new ConcurrentHashMap<>();
        final AtomicInteger closed = new AtomicInteger();

        @Override
        public void opened(Connection c) {
            open.put(c, true);
        }

        @Override
        public boolean readable(Connection c) throws StreamsException {
            byte[] b = new byte[256];
            int n = c.read(b, 0, b.length);
            if (n < 0) {
                return false;
            }
            if (n == 3 && "big".equals(new String(b, 0, 3, java.nio.charset.StandardCharsets.US_ASCII))) {
                c.writeFully(pattern(BIG));
            } else if (n > 0) {
                c.writeFully(b, 0, n);
            }
            return true;
        }

        @Override
        public void closed(Connection c) {
            open.remove(c);
            closed.incrementAndGet();
        }
    }

    static byte[] pattern(int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (i * 31 + (i >>> 10));
        }
        return b;
    }

    private static void await(String what, java.util.function.BooleanSupplier done) throws InterruptedException {
        long deadline = System.nanoTime() + GUARD.toNanos();
        while (!done.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within " + GUARD + ": " + what);
            }
            Thread.sleep(5);
        }
    }

    // ---- the poller -------------------------------------------------------------

    @Test
    @EnabledOnOs(OS.LINUX)
    void onLinuxTheLoopWaitsWithLevelTriggeredEpoll() throws Exception {
        try (Poller p = Poller.open(); StreamPipe pipe = StreamPipe.open()) {
            assertEquals("epoll", p.kind());
            assertFalse(p.oneShot());
            p.add(pipe.first().fd(), Shim.POLLIN, 42);
            assertEquals(0, p.await(50), "nothing to read yet");
            pipe.second().writeFully(ascii("x"));
            assertEquals(1, p.await(5000));
            assertEquals(42, p.token(0));
            assertEquals(Shim.POLLIN, p.events(0) & Shim.POLLIN);
            // Level-triggered: still readable, reported again with no re-arming.
            assertEquals(1, p.await(5000));
            assertEquals(42, p.token(0));
            p.remove(pipe.first().fd(), 42);
            assertEquals(0, p.await(50), "removed");
        }
    }

    /**
     * illumos: port_associate is one-shot (port_fd_callback / the event leaves
     * the port with port_getn and the association is spent until the next
     * port_associate), and a close or dup2 over the number drops the
     * association (closeandsetf calls port_close_fd). See ILLUMOS-NOTES.md,
     * "Event ports".
     */
    @Test
    @EnabledOnOs(OS.SOLARIS)
    void onIllumosEventPortsAreOneShotAndADup2OverTheNumberDropsTheAssociation() throws Exception {
        try (Poller p = Poller.open(); StreamPipe pipe = StreamPipe.open(); StreamPipe dead = StreamPipe.open()) {
            assertEquals("event ports", p.kind());
            assertTrue(p.oneShot());
            int fd = pipe.first().fd();
            p.add(fd, Shim.POLLIN, 42);
            pipe.second().writeFully(ascii("x"));
            assertEquals(1, p.await(5000));
            assertEquals(42, p.token(0));
            // Still readable, but the association was spent by that event.
            assertEquals(0, p.await(200), "one-shot: no second event before re-association");
            p.arm(fd, Shim.POLLIN, 43);
            assertEquals(1, p.await(5000), "re-associated by the next wait");
            assertEquals(43, p.token(0));
            // Associate again: the data is still there, so the event is queued
            // at once. Then point the number at another file, as StreamFd.close
            // does (s4j_preclose: dup2): association and queued event both go.
            dead.second().close();
            int port = ((Poller.EventPort) p).ep.fd();
            assertEquals(0, Shim.s4j_ev_ctl(port, Shim.EV_ADD, fd, Shim.POLLIN, 44));
            assertTrue(Shim.s4j_preclose(fd, dead.first().fd()) >= 0);
            assertEquals(0, p.await(300), "no event after dup2 over the number");
            assertEquals(-Errno.ENOENT, Shim.s4j_ev_ctl(port, Shim.EV_DEL, fd, 0, 0),
                "dup2 over the number dropped its association");
        }
    }

    // ---- closes from other threads ---------------------------------------------

    /**
     * The registration must go before close() points the number at the dead
     * marker: epoll keys it by the file, and a file with another reference
     * (here a copy passed over a pipe) would otherwise keep reporting events
     * for a number the loop no longer holds. (With the detach left out of
     * closing(), this test sees the event.)
     */
    @Test
    void closingAWatchedDescriptorDeregistersItEvenWhileItsFileLivesOn() throws Exception {
        try (Poller p = Poller.open(); StreamPipe pipe = StreamPipe.open(); StreamPipe carrier = StreamPipe.open()) {
            StreamFd a = pipe.first();
            carrier.first().sendFd(a);
            try (ReceivedFd copy = carrier.second().receiveFd()) {
                AtomicInteger closings = new AtomicInteger();
                a.watch(new StreamFd.Watch() {
                    @Override
                    public void register(int fd) throws StreamsException {
                        p.add(fd, Shim.POLLIN, 7);
                    }

                    @Override
                    public void queued() {
                    }

                    @Override
                    public void closing(int fd) {
                        closings.incrementAndGet();
                        p.detach(fd);
                    }
                });
                Thread closer = new Thread(a::close);
                closer.start();
                closer.join();
                assertEquals(1, closings.get(), "closing() ran once, in the closing thread");
                // The file lives on through the copy; on the portable backend close()
                // also shut the socket down, which a registration would report
                // (level-triggered: for ever) if it were still there.
                assertEquals(0, p.await(300), "no event for the closed number");
                assertTrue(copy.fd().isOpen());
                a.unwatch();
            }
        }
    }

    @Test
    void connectionsClosedByOtherThreadsWhileTheLoopWaitsLeaveNoDescriptorAndNoCrossTalk() throws Exception {
        Path p = dir.resolve("race");
        Echo echo = new Echo();
        ConnldOptions o = ConnldOptions.builder().loops(1).build();
        // A warm-up cycle: the close marker and the loop's own descriptors are not leaks.
        try (Serving r = serveEventsInBackground(ConnldServer.bind(dir.resolve("warm"), o), echo);
             Connection c = ConnldClient.connect(dir.resolve("warm"))) {
            c.writeFully(ascii("w"));
            assertEquals("w", readString(c.fd(), 1));
        }
        TestSupport.Descriptors before = TestSupport.Descriptors.now();
        Random rnd = new Random(10);
        try (Serving r = serveEventsInBackground(ConnldServer.bind(p, o), echo)) {
            for (int round = 0; round < 10; round++) {
                int closedBefore = echo.closed.get();
                List<Connection> clients = new ArrayList<>();
                for (int i = 0; i < 40; i++) {
                    clients.add(ConnldClient.connect(p));
                }
                await("40 held", () -> echo.open.size() == 40);
                List<Connection> server = new ArrayList<>(echo.open.keySet());
                // Half of the server ends closed by other threads at once, while
                // every client talks: the loop sits in its wait or is busy.
                CountDownLatch go = new CountDownLatch(1);
                List<Thread> closers = new ArrayList<>();
                for (int i = 0; i < 20; i++) {
                    Connection victim = server.get(i);
                    Thread t = new Thread(() -> {
                        try {
                            go.await();
                        } catch (InterruptedException e) {
                            return;
                        }
                        victim.close();
                    });
                    t.start();
                    closers.add(t);
                }
                go.countDown();
                for (int i = 0; i < clients.size(); i++) {
                    String id = String.format("%02d%02d", round, rnd.nextInt(100));
                    try {
                        clients.get(i).writeFully(ascii(id));
                    } catch (StreamsException e) {
                        continue;   // its server end is gone already
                    }
                    byte[] back = new byte[4];
                    int got = 0;
                    int n = 0;
                    while (got < 4 && (n = clients.get(i).read(back, got, 4 - got)) > 0) {
                        got += n;
                    }
                    // Either its own id back, or the end of a connection closed by a closer.
                    if (got == 4) {
                        assertEquals(id, new String(back, java.nio.charset.StandardCharsets.US_ASCII));
                    } else {
                        assertTrue(n < 0, "end of stream, not a short answer");
                    }
                }
                for (Thread t : closers) {
                    t.join();
                }
                await("closed() for the 20 closed elsewhere", () -> echo.closed.get() - closedBefore >= 20);
                clients.forEach(Connection::close);
                await("every connection closed", () -> echo.closed.get() - closedBefore == 40);
                assertTrue(echo.open.isEmpty());
            }
        }
        TestSupport.assertClosedSince(before, GUARD, dir);
    }

    @Test
    void aHandlerMayCloseAnotherConnectionOfItsOwnLoop() throws Exception {
        Path p = dir.resolve("kill");
        List<Connection> held = new java.util.concurrent.CopyOnWriteArrayList<>();
        AtomicInteger closed = new AtomicInteger();
        ConnldServer.EventHandler h = new ConnldServer.EventHandler() {
            @Override
            public void opened(Connection c) {
                held.add(c);
            }

            @Override
            public boolean readable(Connection c) throws StreamsException {
                byte[] b = new byte[8];
                int n = c.read(b, 0, b.length);
                if (n < 0) {
                    return false;
                }
                if (b[0] == 'k') {
                    held.get(0).close();  // the first client's connection, on this loop thread
                }
                c.writeFully(b, 0, n);
                return true;
            }

            @Override
            public void closed(Connection c) {
                closed.incrementAndGet();
            }
        };
        try (Serving r = serveEventsInBackground(ConnldServer.bind(p, ConnldOptions.builder().loops(1).build()), h);
             Connection first = ConnldClient.connect(p);
             Connection second = ConnldClient.connect(p)) {
            first.writeFully(ascii("a"));
            assertEquals("a", readString(first.fd(), 1));
            second.writeFully(ascii("k"));
            assertEquals("k", readString(second.fd(), 1));
            assertEndOfStream(first.fd());
            await("closed() for the first", () -> closed.get() == 1);
            second.writeFully(ascii("b"));
            assertEquals("b", readString(second.fd(), 1));
        }
    }

    // ---- writes that do not fit ---------------------------------------------------

    @Test
    void aClientThatReadsSlowlyHoldsUpOnlyItselfAndGetsEveryByte() throws Exception {
        Path p = dir.resolve("slow");
        Echo echo = new Echo();
        try (Serving r = serveEventsInBackground(ConnldServer.bind(p, ConnldOptions.builder().loops(1).build()), echo);
             Connection slow = ConnldClient.connect(p);
             Connection quick = ConnldClient.connect(p)) {
            slow.writeFully(ascii("big"));   // 4 MiB back, far more than the connection holds
            Thread.sleep(100);
            // The one loop thread still serves the other client while slow reads nothing.
            for (int i = 0; i < 50; i++) {
                String s = String.format("q%03d", i);
                quick.writeFully(ascii(s));
                assertEquals(s, readString(quick.fd(), 4));
            }
            // What slow asked for meanwhile is not read until its answer is written.
            slow.writeFully(ascii("after"));
            byte[] want = pattern(Echo.BIG);
            byte[] got = new byte[Echo.BIG];
            int off = 0;
            while (off < got.length) {
                int n = slow.read(got, off, Math.min(64 * 1024, got.length - off));
                assertTrue(n > 0, "end of stream after " + off + " bytes");
                off += n;
                if (off < 512 * 1024) {
                    Thread.sleep(2);   // slowly, at first
                }
            }
            assertArrayEquals(want, got, "every byte, in order");
            assertEquals("after", readString(slow.fd(), 5));
        }
    }

    @Test
    void aWriteFromAnotherThreadThatDoesNotFitIsWrittenByTheLoop() throws Exception {
        Path p = dir.resolve("push");
        AtomicReference<Connection> held = new AtomicReference<>();
        ConnldServer.EventHandler h = new ConnldServer.EventHandler() {
            @Override
            public void opened(Connection c) {
                held.set(c);
            }

            @Override
            public boolean readable(Connection c) throws StreamsException {
                return c.read(new byte[64], 0, 64) >= 0;
            }
        };
        int size = 2 << 20;
        try (Serving r = serveEventsInBackground(ConnldServer.bind(p), h);
             Connection c = ConnldClient.connect(p)) {
            await("opened", () -> held.get() != null);
            held.get().writeFully(pattern(size));    // returns at once: the rest is queued
            assertArrayEquals(pattern(size), readExactly(c.fd(), size));
        }
    }

    // ---- failing handlers --------------------------------------------------------

    @Test
    void anyThrowableFromAHandlerClosesOnlyThatConnectionAndIsLoggedWithThePeer() throws Exception {
        Path p = dir.resolve("errors");
        AtomicInteger closed = new AtomicInteger();
        ConnldServer.EventHandler h = new ConnldServer.EventHandler() {
            @Override
            public boolean readable(Connection c) throws Exception {
                byte[] b = new byte[16];
                int n = c.read(b, 0, b.length);
                if (n < 0) {
                    return false;
                }
                switch (b[0]) {
                    case 'a':
                        throw new AssertionError("assertion in a handler");
                    case 'o':
                        throw new OutOfMemoryError("pretend");
                    case 'x':
                        throw new Exception("checked");
                    default:
                        c.writeFully(b, 0, n);
                        return true;
                }
            }

            @Override
            public void closed(Connection c) {
                closed.incrementAndGet();
                throw new IllegalStateException("closed() failing is logged too");
            }
        };
        List<LogRecord> warnings = new java.util.concurrent.CopyOnWriteArrayList<>();
        Logger log = Logger.getLogger("org.streams4j.connld");
        Handler capture = new Handler() {
            @Override
            public void publish(LogRecord rec) {
                if (rec.getLevel().intValue() >= java.util.logging.Level.WARNING.intValue()) {
                    warnings.add(rec);
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        log.addHandler(capture);
        try (Serving r = serveEventsInBackground(ConnldServer.bind(p, ConnldOptions.builder().loops(1).build()), h);
             Connection bystander = ConnldClient.connect(p)) {
            for (String what : List.of("a", "o", "x")) {
                try (Connection c = ConnldClient.connect(p)) {
                    c.writeFully(ascii(what));
                    assertEndOfStream(c.fd());
                }
                bystander.writeFully(ascii("still " + what));
                assertEquals("still " + what, readString(bystander.fd(), 7));
            }
            await("closed() three times", () -> closed.get() == 3);
        } finally {
            log.removeHandler(capture);
        }
        long handlerWarnings = warnings.stream()
            .filter(w -> w.getMessage().contains("readable() failed") && w.getMessage().contains("peer uid="))
            .count();
        assertEquals(3, handlerWarnings, "one WARNING with the peer per failure: " + warnings.size());
        assertTrue(warnings.stream().anyMatch(w -> w.getThrown() instanceof AssertionError));
    }

    // ---- idle time-out ----------------------------------------------------------------

    @Test
    void idleTimeoutClosesASilentConnectionAndKeepsATalkingOne() throws Exception {
        Path p = dir.resolve("idle");
        Echo echo = new Echo();
        ConnldOptions o = ConnldOptions.builder().loops(1).idleTimeout(Duration.ofMillis(400)).build();
        try (Serving r = serveEventsInBackground(ConnldServer.bind(p, o), echo);
             Connection silent = ConnldClient.connect(p);
             Connection talker = ConnldClient.connect(p)) {
            long start = System.nanoTime();
            // The talker speaks every 100 ms for 1.5 s: never idle for 400 ms.
            for (int i = 0; i < 15; i++) {
                talker.writeFully(ascii("t"));
                assertEquals("t", readString(talker.fd(), 1));
                Thread.sleep(100);
            }
            assertEndOfStream(silent.fd());
            long silentFor = (System.nanoTime() - start) / 1_000_000;
            assertTrue(silentFor >= 400, "closed after " + silentFor + " ms, not before 400");
            talker.writeFully(ascii("u"));
            assertEquals("u", readString(talker.fd(), 1));
            await("closed() for the silent one", () -> echo.closed.get() == 1);
        }
    }

    @Test
    void idleTimeoutClosesAClientThatTakesNothingOfWhatItWasSent() throws Exception {
        Path p = dir.resolve("stuck");
        Echo echo = new Echo();
        ConnldOptions o = ConnldOptions.builder().loops(1).idleTimeout(Duration.ofMillis(300)).build();
        try (Serving r = serveEventsInBackground(ConnldServer.bind(p, o), echo);
             Connection stuck = ConnldClient.connect(p)) {
            stuck.writeFully(ascii("big"));     // 4 MiB back, and it reads none of it
            await("the stuck client closed", () -> echo.closed.get() == 1);
            // What the kernel held is still there to read, then the end: the rest was dropped.
            long got = 0;
            byte[] b = new byte[64 * 1024];
            for (int n; (n = stuck.read(b, 0, b.length)) > 0; ) {
                got += n;
            }
            assertTrue(got < Echo.BIG, "got " + got + " of " + Echo.BIG);
        }
    }

    @Test
    void idleTimeoutMustBePositiveOrNone() {
        assertThrows(IllegalArgumentException.class, () -> ConnldOptions.builder().idleTimeout(Duration.ZERO));
        assertThrows(IllegalArgumentException.class, () -> ConnldOptions.builder().idleTimeout(Duration.ofSeconds(-1)));
        assertNull(ConnldOptions.builder().idleTimeout(null).build().idleTimeout());
        assertNull(ConnldOptions.defaults().idleTimeout());
        assertEquals(Duration.ofMinutes(5), ConnldOptions.builder().idleTimeout(Duration.ofMinutes(5)).build().idleTimeout());
    }

    // ---- scale -------------------------------------------------------------------------

    @Test
    void tenThousandConnectionsFromAnotherProcessAreHeldAndServedByTwoLoops() throws Exception {
        long limit = ((com.sun.management.UnixOperatingSystemMXBean)
            ManagementFactory.getOperatingSystemMXBean()).getMaxFileDescriptorCount();
        // The server holds one end of each (the client process the other), plus the JVM's own.
        int n = (int) Math.min(10_000, limit - 512);
        System.out.println("ConnldEventLoopTest: " + n + " connections (descriptor limit " + limit + ")");
        Path p = dir.resolve("ten-thousand");
        Echo echo = new Echo();
        ConnldOptions o = ConnldOptions.builder().loops(2).maxConnections(n).backlog(1024).build();
        long threadsBefore = Thread.activeCount();
        try (Serving r = serveEventsInBackground(ConnldServer.bind(p, o), echo);
             Child clients = Child.start(ManyClientsMain.class, p.toString(), Integer.toString(n))) {
            clients.awaitLine("HELD", TestSupport.guard(Duration.ofMinutes(3)));
            clients.awaitLine("OK " + n, TestSupport.guard(Duration.ofMinutes(3)));
            assertEquals(n, echo.open.size(), "held at once");
            assertTrue(Thread.activeCount() - threadsBefore <= 5,
                "threads for " + n + " connections: " + (Thread.activeCount() - threadsBefore));
            clients.process().getOutputStream().close();
            assertEquals(0, clients.awaitExit(TestSupport.guard(Duration.ofMinutes(2))));
            await("every connection closed", () -> echo.closed.get() == n);
        }
    }
}
