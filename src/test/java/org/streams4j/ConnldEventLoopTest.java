package org.streams4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.streams4j.TestSupport.ascii;
import static org.streams4j.TestSupport.assertEndOfStream;
import static org.streams4j.TestSupport.readExactly;
import static org.streams4j.TestSupport.readString;
import static org.streams4j.testsupport.ConnldEchoServerMain.serveEventsInBackground;

import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
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
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.streams4j.TestSupport.Background;
import org.streams4j.internal.Shim;
import org.streams4j.testsupport.Child;
import org.streams4j.testsupport.ConnldEchoServerMain.Serving;
import org.streams4j.testsupport.ManyClientsMain;

/**
 * {@link ConnldServer#serveEvents}: many connections on a few event-loop
 * threads, each waiting on all of its connections at once, on both backends.
 * The platform's poller (epoll, event ports), closes from other threads
 * while the loop waits, a client that reads slowly, handlers that greet,
 * quit or fail, the idle time-out, the connection limit, and 10,000
 * connections. Real clients, descriptors and processes throughout. A loop
 * that stalls shows as a test that never ends: the class time-out fails it.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
@SuppressWarnings("try") // a serving server is a resource its try block need not name
class ConnldEventLoopTest {
    private static final Duration GUARD = TestSupport.guard(Duration.ofSeconds(30));

    @TempDir
    Path dir;

    @RegisterExtension
    final TestSupport.HandlerFailures failures = new TestSupport.HandlerFailures();

    /**
     * Echoes whatever is readable (through a direct buffer); "big" is
     * answered with BIG bytes of a known pattern; closes at end of stream.
     * Records the open connections and the threads it ran on, and checks that
     * closed() comes once, after opened().
     */
    static final class Echo implements ConnldServer.EventHandler {
        static final int BIG = 4 << 20;
        final Set<Connection> open = ConcurrentHashMap.newKeySet();
        final AtomicInteger closed = new AtomicInteger();
        final Set<String> loopThreads = ConcurrentHashMap.newKeySet();

        @Override
        public void opened(Connection c) {
            open.add(c);
        }

        @Override
        public boolean readable(Connection c) throws StreamsException {
            loopThreads.add(Thread.currentThread().getName());
            ByteBuffer b = ByteBuffer.allocateDirect(256);
            int n = c.read(b);
            if (n < 0) {
                return false;
            }
            b.flip();
            if (n == 3 && b.get(0) == 'b' && b.get(1) == 'i' && b.get(2) == 'g') {
                c.writeFully(pattern(BIG));
                return true;
            }
            while (b.hasRemaining()) {
                c.write(b);
            }
            return true;
        }

        @Override
        public void closed(Connection c) {
            assertTrue(open.remove(c), "closed() once, after opened(): " + c);
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
            assertTrue(Shim.s4j_preclose(fd, dead.first().fd(), 0) >= 0);
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
                a.watch(new Descriptor.Watch() {
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
                List<Connection> server = new ArrayList<>(echo.open);
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

    // ---- serving: many clients, greetings, handlers that quit or fail, closes, the connection limit

    private static int connectionsThisMachineAllows(int wanted) {
        long limit = ((com.sun.management.UnixOperatingSystemMXBean)
            ManagementFactory.getOperatingSystemMXBean()).getMaxFileDescriptorCount();
        // Both ends live in this process, plus the JVM's own descriptors.
        return (int) Math.max(16, Math.min(wanted, (limit - 256) / 2));
    }

    private static long threadsNamed(String prefix) {
        return Thread.getAllStackTraces().keySet().stream()
            .filter(t -> t.getName().startsWith(prefix)).count();
    }

    @Test
    void fiveHundredConcurrentClientsAreServedByTwoLoopThreadsWithoutCrossTalk() throws Exception {
        int n = connectionsThisMachineAllows(500);
        Path p = dir.resolve("many");
        Echo echo = new Echo();
        ConnldOptions o = ConnldOptions.builder().loops(2).build();
        long threadsBefore = threadsNamed("streams4j-");
        try (Serving r = serveEventsInBackground(ConnldServer.bind(p, o), failures.wrapEvents(echo))) {
            List<Connection> clients = new ArrayList<>();
            try {
                for (int i = 0; i < n; i++) {
                    clients.add(ConnldClient.connect(p));
                }
                // Everybody speaks first, then everybody reads: all n are held at once.
                for (int i = 0; i < n; i++) {
                    clients.get(i).writeFully(ascii(String.format("client %05d", i)));
                }
                for (int i = 0; i < n; i++) {
                    assertEquals(String.format("client %05d", i), readString(clients.get(i).fd(), 12));
                }
                assertEquals(n, echo.open.size(), "connections held");
                assertEquals(2, echo.loopThreads.size(), "loop threads that ran the handler: " + echo.loopThreads);
                assertTrue(echo.loopThreads.stream().allMatch(t -> t.startsWith("streams4j-loop-")), echo.loopThreads.toString());
                assertEquals(2, threadsNamed("streams4j-loop-") , "event-loop threads alive");
                assertTrue(threadsNamed("streams4j-") - threadsBefore <= 3,
                    "threads for " + n + " connections: " + (threadsNamed("streams4j-") - threadsBefore));
            } finally {
                clients.forEach(Connection::close);
            }
            // Each client's end of stream reaches the server, which closes its end.
            long deadline = System.nanoTime() + GUARD.toNanos();
            while (echo.closed.get() < n && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertEquals(n, echo.closed.get(), "closed() calls");
            assertTrue(echo.open.isEmpty());
        }
        assertFalse(Files.exists(p));
        assertEquals(0, threadsNamed("streams4j-loop-"), "loop threads after close");
    }

    @Test
    void openedKnowsThePeerAndCanGreetAndKeepStateInTheAttachment() throws Exception {
        Path p = dir.resolve("greet");
        AtomicInteger pieces = new AtomicInteger();
        ConnldServer.EventHandler h = new ConnldServer.EventHandler() {
            @Override
            public void opened(Connection c) throws StreamsException {
                PeerCredentials peer = c.peer();
                c.attach(new StringBuilder());
                c.writeFully(ascii("hello uid " + peer.uid() + "\n"));
            }

            @Override
            public boolean readable(Connection c) throws StreamsException {
                byte[] b = new byte[64];
                int n = c.read(b, 0, b.length);
                if (n < 0) {
                    return false;
                }
                // A line may come in pieces: the attachment keeps what came so far.
                StringBuilder line = (StringBuilder) c.attachment();
                line.append(new String(b, 0, n, StandardCharsets.US_ASCII));
                pieces.incrementAndGet();
                int nl = line.indexOf("\n");
                if (nl >= 0) {
                    c.writeFully(ascii("got " + line.substring(0, nl) + "\n"));
                    line.delete(0, nl + 1);
                }
                return true;
            }
        };
        try (Serving r = serveEventsInBackground(ConnldServer.bind(p), failures.wrapEvents(h));
             Connection c = ConnldClient.connect(p)) {
            String hello = "hello uid " + euid() + "\n";
            assertEquals(hello, readString(c.fd(), hello.length()));
            c.writeFully(ascii("par"));
            awaitCount(pieces, 1);      // a separate readable() for each piece
            c.writeFully(ascii("ts\n"));
            assertEquals("got parts\n", readString(c.fd(), 10));
        }
    }

    private static void awaitCount(AtomicInteger n, int atLeast) throws InterruptedException {
        long deadline = System.nanoTime() + GUARD.toNanos();
        while (n.get() < atLeast) {
            assertTrue(System.nanoTime() < deadline, "still " + n.get() + " after " + GUARD);
            Thread.sleep(5);
        }
    }

    private static int euid() {
        return org.streams4j.internal.Shim.s4j_geteuid();
    }

    @Test
    void aHandlerThatReturnsFalseOrThrowsClosesOnlyItsOwnConnection() throws Exception {
        Path p = dir.resolve("picky");
        AtomicInteger closed = new AtomicInteger();
        ConnldServer.EventHandler h = new ConnldServer.EventHandler() {
            @Override
            public boolean readable(Connection c) throws Exception {
                byte[] b = new byte[16];
                int n = c.read(b, 0, b.length);
                String s = n < 0 ? "" : new String(b, 0, n, StandardCharsets.US_ASCII);
                if (s.equals("quit")) {
                    return false;
                }
                if (s.equals("boom")) {
                    throw new IllegalStateException("handler bug");
                }
                c.writeFully(b, 0, Math.max(0, n));
                return n >= 0;
            }

            @Override
            public void closed(Connection c) {
                closed.incrementAndGet();
            }
        };
        ConnldOptions o = ConnldOptions.builder().loops(1).build();
        try (Serving r = serveEventsInBackground(ConnldServer.bind(p, o), failures.wrapEvents(h));
             Connection quitter = ConnldClient.connect(p);
             Connection crasher = ConnldClient.connect(p);
             Connection bystander = ConnldClient.connect(p)) {
            bystander.writeFully(ascii("one"));
            assertEquals("one", readString(bystander.fd(), 3));
            quitter.writeFully(ascii("quit"));
            crasher.writeFully(ascii("boom"));
            assertEndOfStream(quitter.fd());
            assertEndOfStream(crasher.fd());
            // Same loop thread, still serving the other connection.
            bystander.writeFully(ascii("two"));
            assertEquals("two", readString(bystander.fd(), 3));
            assertEquals(2, closed.get());
        }
        // The one failure thrown on purpose, and nothing else.
        List<Throwable> thrown = failures.take();
        assertEquals(1, thrown.size(), thrown.toString());
        assertEquals("handler bug", thrown.get(0).getMessage());
    }

    @Test
    void aConnectionClosedByAnotherThreadLeavesTheLoopAndTheClientSeesEndOfStream() throws Exception {
        Path p = dir.resolve("closed-elsewhere");
        Map<Integer, Connection> held = new ConcurrentHashMap<>();
        java.util.concurrent.atomic.AtomicReference<Thread> loopThread = new java.util.concurrent.atomic.AtomicReference<>();
        AtomicInteger closedCalls = new AtomicInteger();
        ConnldServer.EventHandler h = new ConnldServer.EventHandler() {
            @Override
            public void opened(Connection c) {
                held.put(held.size(), c);
                loopThread.set(Thread.currentThread());
            }

            @Override
            public boolean readable(Connection c) throws StreamsException {
                byte[] b = new byte[16];
                int n = c.read(b, 0, b.length);
                if (n > 0) {
                    c.writeFully(b, 0, n);
                }
                return n >= 0;
            }

            @Override
            public void closed(Connection c) {
                closedCalls.incrementAndGet();
            }
        };
        ConnldOptions o = ConnldOptions.builder().loops(1).build();
        // One whole cycle first: what the library creates once (its close marker) is not a leak.
        try (Serving r = serveEventsInBackground(ConnldServer.bind(dir.resolve("warm-up"), o), failures.wrapEvents(h));
             Connection c = ConnldClient.connect(dir.resolve("warm-up"))) {
            c.writeFully(ascii("w"));
            assertEquals("w", readString(c.fd(), 1));
        }
        held.clear();
        closedCalls.set(0);
        TestSupport.Descriptors before = TestSupport.Descriptors.now();
        try (Serving r = serveEventsInBackground(ConnldServer.bind(p, o), failures.wrapEvents(h));
             Connection victim = ConnldClient.connect(p);
             Connection other = ConnldClient.connect(p)) {
            other.writeFully(ascii("x"));
            assertEquals("x", readString(other.fd(), 1));
            assertEquals(2, held.size());
            // The loop is blocked in its wait (epoll, event ports) with the server's end of victim registered.
            TestSupport.awaitInShim(loopThread.get(), GUARD);
            held.get(0).close();
            long until = System.nanoTime() + GUARD.toNanos();
            while (closedCalls.get() == 0 && System.nanoTime() < until) {
                Thread.sleep(5);
            }
            assertEquals(1, closedCalls.get(), "closed() after an outside close");
            assertEndOfStream(victim.fd());
            other.writeFully(ascii("y"));
            assertEquals("y", readString(other.fd(), 1));
        }
        TestSupport.assertClosedSince(before, GUARD, dir);
    }

    @Test
    void closingTheServerClosesEveryConnectionAndServeEventsReturns() throws Exception {
        Path p = dir.resolve("shutdown");
        Echo echo = new Echo();
        List<Connection> clients = new ArrayList<>();
        Serving r = serveEventsInBackground(ConnldServer.bind(p), failures.wrapEvents(echo));
        try {
            for (int i = 0; i < 20; i++) {
                Connection c = ConnldClient.connect(p);
                clients.add(c);
                c.writeFully(ascii("hi"));
                assertEquals("hi", readString(c.fd(), 2));
            }
            r.close();      // returns only once serveEvents has
            assertEquals(20, echo.closed.get(), "closed() for every held connection");
            for (Connection c : clients) {
                assertEndOfStream(c.fd());
            }
            assertFalse(Files.exists(p));
        } finally {
            clients.forEach(Connection::close);
            r.server().close();
        }
    }

    @Test
    void maxConnectionsHoldsTheNextClientUntilOneCloses() throws Exception {
        Path p = dir.resolve("two-at-once");
        Echo echo = new Echo();
        ConnldOptions o = ConnldOptions.builder().maxConnections(2).build();
        try (Serving r = serveEventsInBackground(ConnldServer.bind(p, o), failures.wrapEvents(echo));
             Connection a = ConnldClient.connect(p);
             Connection b = ConnldClient.connect(p)) {
            for (Connection c : List.of(a, b)) {
                c.writeFully(ascii("in"));
                assertEquals("in", readString(c.fd(), 2));
            }
            // The third is not served while two are held: STREAMS' open or the
            // portable connect waits in the queue; either way no echo comes.
            Background<Connection> third = new Background<>("third", () -> {
                Connection c = ConnldClient.connect(p);
                c.writeFully(ascii("3rd"));
                return c;
            });
            // The third has connected (portable) or waits in open (STREAMS), and the accept
            // loop waits for a free slot instead of taking it.
            TestSupport.awaitInNative(third.thread(), GUARD, "s4j_open");
            TestSupport.awaitInNative(r.thread(), GUARD, "park");
            assertEquals(2, echo.open.size());
            a.close();
            try (Connection c = third.get(GUARD)) {
                assertEquals("3rd", readString(c.fd(), 3));
            }
        }
    }

    @Test
    void dataAndADescriptorOnOneConnectionAreBothHandled() throws Exception {
        Path p = dir.resolve("fd");
        Path file = dir.resolve("passed.txt");
        Files.writeString(file, "contents of the passed file");
        ConnldServer.EventHandler h = c -> {
            byte[] b = new byte[64];
            try {
                int n = c.read(b, 0, b.length);
                if (n < 0) {
                    return false;
                }
                c.writeFully(ascii("data " + new String(b, 0, n, StandardCharsets.US_ASCII) + ";"));
            } catch (StreamsException e) {
                if (e.errno() != Errno.EBADMSG) {
                    throw e;
                }
                try (ReceivedFd got = c.receiveFd()) {
                    byte[] content = got.inputStream().readAllBytes();
                    c.writeFully(ascii("fd " + content.length + ";"));
                }
            }
            return true;
        };
        try (Serving r = serveEventsInBackground(ConnldServer.bind(p), failures.wrapEvents(h));
             Connection c = ConnldClient.connect(p);
             StreamFd f = StreamFd.open(file, StreamFd.Mode.READ)) {
            c.writeFully(ascii("abc"));
            c.sendFd(f);
            String want = "data abc;fd 27;";
            assertEquals(want, readString(c.fd(), want.length()));
        }
    }
}
