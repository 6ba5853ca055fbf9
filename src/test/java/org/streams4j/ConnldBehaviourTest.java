package org.streams4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.streams4j.testsupport.ConnldEchoServerMain.readLine;
import static org.streams4j.testsupport.ConnldEchoServerMain.serveInBackground;
import static org.streams4j.testsupport.ConnldEchoServerMain.writeLine;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.streams4j.TestSupport.Background;
import org.streams4j.testsupport.ConnldEchoServerMain;
import org.streams4j.testsupport.Child;
import org.streams4j.testsupport.ConnldEchoServerMain.Serving;

/**
 * What ConnldServer and ConnldClient promise beyond a plain exchange: the
 * probe time-out, a connect that completes after its caller gave up, the
 * handler thread cap, failing handlers, running out of descriptors, the
 * shutdown hook, the client's view of its peer, and who owns the path. Both
 * backends; real clients, processes and paths.
 */
@SuppressWarnings("try") // a serving server is a resource its try block need not name
class ConnldBehaviourTest {
    private static final Duration GUARD = TestSupport.guard(Duration.ofSeconds(30));

    @TempDir
    Path dir;

    @RegisterExtension
    final TestSupport.HandlerFailures failures = new TestSupport.HandlerFailures();

    @RegisterExtension
    final TestSupport.LogCapture log = new TestSupport.LogCapture("org.streams4j.connld");

    @Test
    void aBusyPathsServerThatCannotAnswerIsTakenAsLiveWithinTheProbeTimeout() throws Exception {
        Path p = dir.resolve("slow");
        List<Connection> queued = new ArrayList<>();
        try (ConnldServer deaf = ConnldServer.bind(p, ConnldOptions.builder().backlog(1).build())) {
            TestSupport.fillQueue(p, Duration.ofMillis(300), queued);
            // A probe's connect could not complete: bind takes the server as live,
            // at once where the kernel says it listens (Linux sock_diag), else
            // after the probe time-out (not the default second), and leaves it the path.
            Duration probe = Duration.ofMillis(2500);
            long t0 = System.nanoTime();
            StreamsException e = assertThrows(StreamsException.class,
                () -> ConnldServer.bind(p, ConnldOptions.builder().probeTimeout(probe).build()));
            long waited = (System.nanoTime() - t0) / 1_000_000;
            assertEquals("bind", e.operation());
            assertEquals(p.toString(), e.target());
            assertEquals("EBUSY", e.errnoName(), e.getMessage());
            assertTrue(waited < probe.toMillis() + 10_000, "bind took " + waited + " ms for a probe time-out of " + probe);
            assertTrue(deaf.isOpen());
            assertTrue(Files.exists(p, LinkOption.NOFOLLOW_LINKS));
        } finally {
            queued.forEach(Connection::close);
        }
    }

    @Test
    void aConnectThatCompletesAfterItsCallerGaveUpIsClosedNotLeaked() throws Exception {
        Path p = dir.resolve("late");
        List<Connection> queued = new ArrayList<>();
        try (ConnldServer s = ConnldServer.bind(p, ConnldOptions.builder().backlog(1).build())) {
            // Two connects give up: the one that found the queue full, and this one.
            TestSupport.fillQueue(p, Duration.ofMillis(300), queued);
            StreamsException e = assertThrows(StreamsException.class,
                () -> ConnldClient.connect(p, Duration.ofMillis(300)));
            assertEquals("ETIMEDOUT", e.errnoName());
            for (Connection c : queued) {
                writeLine(c, "held");
            }
            // Now the server accepts everybody: the held clients speak. A caller
            // that gave up left nothing that speaks: on the portable backend its
            // non-blocking connect never entered the queue; on STREAMS an open
            // completed for nobody is closed at once (end of stream).
            int held = 0;
            int abandoned = 0;
            while (held < queued.size() || abandoned < 2) {
                java.util.Optional<Connection> next = s.accept(Duration.ofMillis(held < queued.size() ? GUARD.toMillis() : 500));
                if (next.isEmpty()) {
                    break;
                }
                try (Connection server = next.get()) {
                    assertTrue(server.fd().awaitReadable(GUARD), "neither data nor end of stream");
                    String line = readLine(server);
                    if (line == null) {
                        abandoned++;
                    } else {
                        assertEquals("held", line);
                        held++;
                    }
                }
            }
            assertEquals(queued.size(), held);
            assertTrue(abandoned <= 2, abandoned + " connections completed for callers who gave up");
            assertTrue(s.accept(Duration.ZERO).isEmpty());
        } finally {
            queued.forEach(Connection::close);
        }
    }

    @Test
    void serveRunsAtMostThreadsHandlersAtOnce() throws Exception {
        Path p = dir.resolve("two-threads");
        AtomicInteger running = new AtomicInteger();
        AtomicInteger most = new AtomicInteger();
        ConnldServer.Handler h = c -> {
            most.accumulateAndGet(running.incrementAndGet(), Math::max);
            try {
                ConnldEchoServerMain.echo(c);
            } finally {
                running.decrementAndGet();
            }
        };
        ConnldOptions o = ConnldOptions.builder().threads(2).build();
        try (Serving s = serveInBackground(ConnldServer.bind(p, o), failures.wrap(h));
             Connection a = ConnldClient.connect(p, GUARD);
             Connection b = ConnldClient.connect(p, GUARD)) {
            for (Connection c : List.of(a, b)) {
                writeLine(c, "in");
                assertEquals("in", readLine(c));
            }
            Background<Connection> third = new Background<>("third", () -> {
                Connection c = ConnldClient.connect(p);
                writeLine(c, "third");
                return c;
            });
            // The third has connected (portable) or waits in open (STREAMS); the accept
            // loop waits for one of the two handler threads instead of taking it.
            TestSupport.awaitInNative(third.thread(), GUARD, "s4j_open");
            TestSupport.awaitInNative(s.thread(), GUARD, "park");
            assertEquals(2, running.get());
            a.close();
            try (Connection c = third.get(GUARD)) {
                assertEquals("third", readLine(c));
            }
            assertEquals(2, most.get(), "handlers running at once");
        }
    }

    /**
     * A handler that fails in any way, an Error included, closes its own
     * connection, is logged at WARNING naming the client, and leaves the pool
     * (one thread here) and the accept loop serving.
     */
    @Test
    void aFailingHandlerClosesItsConnectionOnlyAndIsLoggedWithTheClient() throws Exception {
        Path p = dir.resolve("failing");
        ConnldServer.Handler h = c -> {
            String line = readLine(c);
            switch (String.valueOf(line)) {
                case "assert":
                    throw new AssertionError("a handler's assertion");
                case "error":
                    throw new StackOverflowError("a handler's error");
                case "runtime":
                    throw new IllegalStateException("a handler's bug");
                case "checked":
                    throw new java.io.IOException("a handler's I/O");
                default:
                    writeLine(c, line);
                    ConnldEchoServerMain.echo(c);
            }
        };
        ConnldOptions o = ConnldOptions.builder().threads(1).build();
        List<String> kinds = List.of("assert", "error", "runtime", "checked");
        try (Serving s = serveInBackground(ConnldServer.bind(p, o), failures.wrap(h))) {
            for (String kind : kinds) {
                try (Connection c = ConnldClient.connect(p, GUARD)) {
                    writeLine(c, kind);
                    TestSupport.assertEndOfStream(c.fd());
                }
            }
            // The one pool thread and the accept loop are still there.
            try (Connection c = ConnldClient.connect(p, GUARD)) {
                writeLine(c, "still served");
                assertEquals("still served", readLine(c));
            }
            List<LogRecord> warnings = log.await(Level.WARNING, kinds.size(), GUARD);
            for (int i = 0; i < kinds.size(); i++) {
                LogRecord r = warnings.get(i);
                String m = TestSupport.LogCapture.text(r);
                assertTrue(m.contains(p.toString()), m);
                assertTrue(m.contains("uid=" + Platform.euid()) && m.contains("pid=" + ProcessHandle.current().pid()),
                    "the client is named: " + m);
                assertTrue(r.getThrown() != null && r.getThrown().getMessage().startsWith("a handler's"),
                    "the failure goes with the record: " + r.getThrown());
            }
        }
        assertEquals(kinds.size(), failures.take().size(), "the failures thrown on purpose");
    }

    /**
     * Out of descriptors (EMFILE in accept or I_RECVFD), the server backs off
     * instead of failing or spinning, logs it, and takes the clients that waited
     * once descriptors are free again: on STREAMS that means the connld message
     * stayed queued. The server is a JVM of its own under {@code ulimit -n 128}.
     */
    @Test
    void outOfDescriptorsTheServerBacksOffAndLaterServesTheClientsThatWaited() throws Exception {
        Path p = dir.resolve("emfile");
        int clients = 150;
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger echoed = new AtomicInteger();
        List<Background<Void>> running = new ArrayList<>();
        try (Child server = Child.startWithDescriptorLimit(128, ConnldEchoServerMain.class, p.toString(),
            "threads=1000")) {
            server.awaitLine("READY ", GUARD);
            try {
                for (int i = 0; i < clients; i++) {
                    String token = "client " + i;
                    running.add(new Background<>(token, () -> {
                        try (Connection c = ConnldClient.connect(p)) {
                            writeLine(c, token);
                            assertEquals(token, readLine(c));
                            echoed.incrementAndGet();
                            release.await();    // hold the server's descriptor until told
                        }
                        return null;
                    }));
                }
                // The back-off is logged (java.util.logging on stderr) naming the errno.
                while (!server.awaitLine("", GUARD).contains("EMFILE")) {
                    // an earlier line: the log record's date, or READY
                }
                assertTrue(echoed.get() < clients, "everybody was served although the server ran out");
                assertTrue(server.process().isAlive(), "the server died of EMFILE: " + server.output());
            } finally {
                release.countDown();
            }
            for (Background<Void> b : running) {
                b.get(GUARD);
            }
            assertEquals(clients, echoed.get());
            assertTrue(server.process().isAlive(), server.output().toString());
        }
    }

    @Test
    void theShutdownHookRemovesThePathWhenTheJvmExitsWithoutClose() throws Exception {
        for (boolean hook : new boolean[] {true, false}) {
            Path p = dir.resolve(hook ? "hooked" : "not-hooked");
            try (Child server = hook ? Child.start(ConnldEchoServerMain.class, p.toString(), "hook")
                : Child.start(ConnldEchoServerMain.class, p.toString())) {
                server.awaitLine("READY ", GUARD);
                assertTrue(Files.exists(p, LinkOption.NOFOLLOW_LINKS));
                server.process().getOutputStream().close();     // the child calls System.exit(0)
                assertEquals(0, server.awaitExit(GUARD), server.output().toString());
            }
            // Without the hook the socket (portable) or the plain file it attached over (STREAMS) stays.
            assertEquals(!hook, Files.exists(p, LinkOption.NOFOLLOW_LINKS), "path after exit, hook " + hook);
        }
    }

    /**
     * The client's peer(): on STREAMS getpeerucred on the client's end of a connld
     * pipe fails with ENOTSUP (fifo_connld tags only the server's end), so it is
     * null; SO_PEERCRED names the server's process.
     */
    @Test
    void theClientSideKnowsItsServerWhereThePlatformSays() throws Exception {
        Path p = dir.resolve("peer");
        try (Serving s = serveInBackground(ConnldServer.bind(p), failures.wrap(ConnldEchoServerMain::echo));
             Connection c = ConnldClient.connect(p, GUARD)) {
            PeerCredentials server = c.peer();
            if (Platform.backend() == Backend.STREAMS) {
                assertNull(server, "the client's end of a connld pipe has no credentials");
            } else {
                assertEquals(Platform.euid(), server.uid());
                assertEquals(Platform.egid(), server.gid());
                if (System.getProperty("os.name").equals("Linux")) {
                    assertEquals(ProcessHandle.current().pid(), server.pid().orElseThrow());
                }
            }
            writeLine(c, "after peer()");
            assertEquals("after peer()", readLine(c));
        }
    }

    @Test
    void thePathTheServerCreatesBelongsToItsEffectiveUserAndGroup() throws Exception {
        Path p = dir.resolve("owned");
        try (ConnldServer s = ConnldServer.bind(p)) {
            assertEquals(Platform.euid(), Files.getAttribute(p, "unix:uid", LinkOption.NOFOLLOW_LINKS));
            assertEquals(Platform.egid(), Files.getAttribute(p, "unix:gid", LinkOption.NOFOLLOW_LINKS));
        }
        assertFalse(Files.exists(p, LinkOption.NOFOLLOW_LINKS));
    }
}
