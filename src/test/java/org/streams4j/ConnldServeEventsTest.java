package org.streams4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.streams4j.TestSupport.ascii;
import static org.streams4j.TestSupport.assertEndOfStream;
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
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.streams4j.TestSupport.Background;
import org.streams4j.testsupport.ConnldEchoServerMain.Serving;

/**
 * {@link ConnldServer#serveEvents}: many connections on a few event-loop
 * threads, each waiting on all of its connections at once. Real clients,
 * real descriptors; runs on both backends.
 */
@SuppressWarnings("try") // a serving server is a resource its try block need not name
class ConnldServeEventsTest {
    private static final Duration GUARD = TestSupport.guard(Duration.ofSeconds(20));

    @TempDir
    Path dir;

    @RegisterExtension
    final TestSupport.HandlerFailures failures = new TestSupport.HandlerFailures();

    /** Echoes whatever is readable; closes at end of stream. */
    static final class Echo implements ConnldServer.EventHandler {
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

    @Test
    void optionsRefuseZeroLoopsAndZeroConnections() {
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(
            IllegalArgumentException.class, () -> ConnldOptions.builder().loops(0));
        assertNotNull(e.getMessage());
        org.junit.jupiter.api.Assertions.assertThrows(
            IllegalArgumentException.class, () -> ConnldOptions.builder().maxConnections(0));
    }
}
