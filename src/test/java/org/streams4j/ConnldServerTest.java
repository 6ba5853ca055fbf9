package org.streams4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.streams4j.testsupport.ConnldEchoServerMain.readLine;
import static org.streams4j.testsupport.ConnldEchoServerMain.serveInBackground;
import static org.streams4j.testsupport.ConnldEchoServerMain.writeLine;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.streams4j.TestSupport.Background;
import org.streams4j.testsupport.Async;
import org.streams4j.testsupport.Child;
import org.streams4j.testsupport.ConnldEchoServerMain.Serving;
import org.streams4j.testsupport.ConnldEchoServerMain;
import org.streams4j.testsupport.RequiresBackend;

/**
 * ConnldServer and ConnldClient on real paths: what the path holds (nothing,
 * a plain file, a symbolic link, a live server), the mode of the attach point
 * or socket, time-outs, and close(); and what they promise beyond a plain
 * exchange: the probe time-out, a connect that completes after its caller
 * gave up, the handler thread cap, failing handlers, running out of
 * descriptors, the shutdown hook, the client's view of its peer, and who
 * owns the path. Runs on both backends; real clients, processes and paths.
 */
@SuppressWarnings("try") // a serving server is a resource its try block need not name
class ConnldServerTest {
    private static final Duration GUARD = TestSupport.guard(Duration.ofSeconds(30));
    /**
     * Where accept() may sleep: in accept(2) itself, or in poll(2) (STREAMS: poll,
     * then I_RECVFD). Either is a thread blocked in the kernel.
     */
    private static final String[] ACCEPT_WAITS_IN = {"s4j_unix_accept", "s4j_poll", "s4j_recvfd"};
    /**
     * How soon a thread blocked in accept must be woken by close(). A server
     * that polls waits in slices of a second: a thread that only notices the
     * close when its slice ends takes close to a second, one that is woken
     * takes milliseconds. (The slice bounds a platform where close does not
     * wake poll; this tests that it does.)
     */
    private static final Duration WAKE = Duration.ofMillis(800);

    @TempDir
    Path dir;

    @RegisterExtension
    final TestSupport.HandlerFailures failures = new TestSupport.HandlerFailures();

    @RegisterExtension
    final TestSupport.LogCapture log = new TestSupport.LogCapture("org.streams4j.connld");

    // ---- what is at the path ---------------------------------------------------------

    @Test
    void clientToAPlainFileIsRefusedAndTheFileIsUntouched() throws Exception {
        Path file = dir.resolve("plain");
        byte[] content = "precious data\n".getBytes(StandardCharsets.UTF_8);
        Files.write(file, content);
        // An mtime far in the past: any write would move it, whatever the file system's granularity.
        FileTime mtime = FileTime.from(Instant.parse("2001-02-03T04:05:06Z"));
        Files.setLastModifiedTime(file, mtime);

        StreamsException e = assertThrows(StreamsException.class, () -> ConnldClient.connect(file));
        assertTrue(e.getMessage().contains("no server attached at " + file), e.getMessage());
        // STREAMS: the open succeeded on the plain file and isastream said no; portable: not a socket.
        assertEquals(Platform.backend() == Backend.STREAMS ? "ENOSTR" : "ENOTSOCK", e.errnoName(), e.getMessage());
        assertOneLineNaming(e, "connect", file);
        StreamsException e2 = assertThrows(StreamsException.class,
            () -> ConnldClient.connect(file, TestSupport.guard(Duration.ofSeconds(5))));
        assertEquals(e.errnoName(), e2.errnoName(), e2.getMessage());

        assertArrayEquals(content, Files.readAllBytes(file));
        assertEquals(mtime, Files.getLastModifiedTime(file, LinkOption.NOFOLLOW_LINKS));
        assertTrue(Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS));
    }

    @Test
    void clientToANamedFifoIsRefusedWithoutOpeningIt() throws Exception {
        Path fifo = dir.resolve("fifo");
        Process mk = new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start();
        assertEquals(0, mk.waitFor());
        // A FIFO passes isastream once opened on illumos; it must be refused before
        // any open (an open of a FIFO with no reader could also block).
        StreamsException e = assertTimeoutPreemptively(TestSupport.guard(Duration.ofSeconds(10)),
            () -> assertThrows(StreamsException.class, () -> ConnldClient.connect(fifo)));
        assertEquals(Platform.backend() == Backend.STREAMS ? "ENOSTR" : "ENOTSOCK", e.errnoName(), e.getMessage());
        assertOneLineNaming(e, "connect", fifo);
    }

    @Test
    void clientToAMissingPathFailsWithENOENT() throws Exception {
        Path missing = dir.resolve("missing");
        StreamsException e = assertThrows(StreamsException.class, () -> ConnldClient.connect(missing));
        assertEquals("ENOENT", e.errnoName(), e.getMessage());
        assertOneLineNaming(e, "connect", missing);
        // With a time-out it is still ENOENT, not a time-out after waiting.
        StreamsException e2 = assertThrows(StreamsException.class,
            () -> ConnldClient.connect(missing, TestSupport.guard(Duration.ofSeconds(30))));
        assertEquals("ENOENT", e2.errnoName(), e2.getMessage());
        assertFalse(Files.exists(missing, LinkOption.NOFOLLOW_LINKS));
    }

    @Test
    void aSymbolicLinkAtThePathIsRefusedAndItsTargetIsUntouched() throws Exception {
        Path target = dir.resolve("target");
        byte[] content = "the link's target\n".getBytes(StandardCharsets.UTF_8);
        Files.write(target, content);
        Set<PosixFilePermission> targetMode = Files.getPosixFilePermissions(target);
        Path link = Files.createSymbolicLink(dir.resolve("link"), target);

        StreamsException e = assertThrows(StreamsException.class, () -> ConnldServer.bind(link));
        assertTrue(e.getMessage().contains("symbolic link"), e.getMessage());
        assertOneLineNaming(e, "bind", link);

        assertTrue(Files.isSymbolicLink(link));
        assertEquals(target, Files.readSymbolicLink(link));
        assertTrue(Files.isRegularFile(target, LinkOption.NOFOLLOW_LINKS), "target is no longer a plain file");
        assertArrayEquals(content, Files.readAllBytes(target));
        assertEquals(targetMode, Files.getPosixFilePermissions(target));
    }

    @Test
    void aDanglingSymbolicLinkIsRefusedAndNothingAppearsAtItsTarget() throws Exception {
        Path target = dir.resolve("nowhere");
        Path link = Files.createSymbolicLink(dir.resolve("dangling"), target);

        StreamsException e = assertThrows(StreamsException.class, () -> ConnldServer.bind(link));
        assertEquals("ELOOP", e.errnoName(), e.getMessage());
        assertEquals(link.toString(), e.target());

        assertTrue(Files.isSymbolicLink(link));
        assertFalse(Files.exists(target, LinkOption.NOFOLLOW_LINKS), "bind created something at the link's target");
    }

    @Test
    void aClientFollowsASymbolicLinkToALiveServer() throws Exception {
        // Only the server refuses links; a client opens a path as any program would.
        Path p = dir.resolve("real");
        Path link = Files.createSymbolicLink(dir.resolve("alias"), p);
        Path toFile = Files.createSymbolicLink(dir.resolve("alias-to-file"),
            Files.write(dir.resolve("file"), new byte[] {'x'}));
        Path toNothing = Files.createSymbolicLink(dir.resolve("alias-to-nothing"), dir.resolve("nothing"));
        try (Serving s = serveInBackground(ConnldServer.bind(p), ConnldEchoServerMain::echo)) {
            assertEquals("via link", echoOnce(link, "via link"));
            StreamsException e = assertThrows(StreamsException.class, () -> ConnldClient.connect(toFile));
            assertEquals(Platform.backend() == Backend.STREAMS ? "ENOSTR" : "ENOTSOCK", e.errnoName(), e.getMessage());
            assertEquals(toFile.toString(), e.target());
            StreamsException e2 = assertThrows(StreamsException.class, () -> ConnldClient.connect(toNothing));
            assertEquals("ENOENT", e2.errnoName(), e2.getMessage());
        }
        assertArrayEquals(new byte[] {'x'}, Files.readAllBytes(dir.resolve("file")));
    }

    @Test
    void aSecondServerOnALivePathFailsAndTheFirstKeepsServing() throws Exception {
        Path p = dir.resolve("live");
        try (Serving first = serveInBackground(ConnldServer.bind(p), ConnldEchoServerMain::echo)) {
            assertEquals("before", echoOnce(p, "before"));

            StreamsException e = assertThrows(StreamsException.class, () -> ConnldServer.bind(p));
            assertTrue(e.getMessage().contains("is served by another process"), e.getMessage());
            assertEquals("EBUSY", e.errnoName());
            assertOneLineNaming(e, "bind", p);

            assertTrue(first.server().isOpen());
            assertEquals("after", echoOnce(p, "after"));
        }
    }

    @Test
    void aPlainFileAtThePathIsNeverReplaced() throws Exception {
        Path p = dir.resolve("existing");
        byte[] content = "keep me\n".getBytes(StandardCharsets.UTF_8);
        Files.write(p, content);
        // Refused on both backends, never unlinked or covered: a socket cannot be
        // bound over a file, and StreamsTransport.attachPoint attaches only over
        // a file it creates or an empty one a dead server of this user left.
        StreamsException e = assertThrows(StreamsException.class, () -> ConnldServer.bind(p));
        assertEquals("EEXIST", e.errnoName(), e.getMessage());
        assertOneLineNaming(e, "bind", p);
        assertTrue(Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS));
        assertArrayEquals(content, Files.readAllBytes(p));
    }

    // ---- mode ------------------------------------------------------------------------

    @Test
    void theDefaultModeIs0600() throws Exception {
        Path p = dir.resolve("default-mode");
        try (ConnldServer s = ConnldServer.bind(p)) {
            assertEquals(0600, s.options().mode());
            assertEquals(permissions(0600), Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS));
        }
    }

    @ParameterizedTest(name = "mode {0}")
    @ValueSource(strings = {"600", "660", "666", "640", "700"})
    void theRequestedModeIsExactlyThePathsMode(String octal) throws Exception {
        int mode = Integer.parseInt(octal, 8);
        // 0660 and 0666 have bits a usual umask (022) takes away: they must be there all the same.
        Path p = dir.resolve("mode-" + Integer.toOctalString(mode));
        try (ConnldServer s = ConnldServer.bind(p, ConnldOptions.builder().mode(mode).build())) {
            assertEquals(permissions(mode), Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS),
                "mode of " + p + ", asked for " + Integer.toOctalString(mode));
            assertTrue(s.isOpen());
        }
    }

    /**
     * The mode of the attach point (STREAMS, namefs nm_access) or socket (connect(2)
     * needs write permission) decides who may connect: mode 0 refuses a user with
     * EACCES, 0666 lets the same user in. That user is this process, or nobody in a
     * child process when this runs as root (root passes any mode).
     */
    @Test
    void onlyUsersThePathsModeAdmitsMayConnect() throws Exception {
        TestSupport.letOthersIn(dir);
        Path closed = dir.resolve("mode-0");
        try (Serving s = serveInBackground(ConnldServer.bind(closed, ConnldOptions.builder().mode(0).build()),
            failures.wrap(ConnldEchoServerMain::echo))) {
            assertEquals("FAILED connect EACCES " + closed, TestSupport.connectUnprivileged(closed, GUARD));
        }
        Path open = dir.resolve("mode-666");
        try (Serving s = serveInBackground(ConnldServer.bind(open, ConnldOptions.builder().mode(0666).build()),
            failures.wrap(ConnldEchoServerMain::echo))) {
            String r = TestSupport.connectUnprivileged(open, GUARD);
            assertTrue(r.startsWith("ECHO unprivileged-"), r);
        }
    }

    // ---- close -----------------------------------------------------------------------

    @Test
    void closeIsIdempotentAndRemovesThePathTheServerCreated() throws Exception {
        Path p = dir.resolve("closing");
        ConnldServer s = ConnldServer.bind(p);
        assertTrue(Files.exists(p, LinkOption.NOFOLLOW_LINKS));
        assertTrue(s.isOpen());
        s.close();
        assertFalse(s.isOpen());
        assertFalse(Files.exists(p, LinkOption.NOFOLLOW_LINKS), p + " left behind by close()");
        s.close();
        s.close();
        assertFalse(s.isOpen());
        assertThrows(StreamClosedException.class, s::accept);
        assertThrows(StreamClosedException.class, () -> s.accept(Duration.ofMillis(10)));
        StreamsException e = assertThrows(StreamsException.class, () -> ConnldClient.connect(p));
        assertEquals("ENOENT", e.errnoName(), e.getMessage());
        // The path is free again.
        try (ConnldServer again = ConnldServer.bind(p)) {
            assertTrue(again.isOpen());
        }
    }

    @Test
    void closeWakesAThreadBlockedInAccept() throws Exception {
        // One slow wake-up may be the machine's load; a server that is not woken is slow every time.
        long woken = Long.MAX_VALUE;
        for (int attempt = 0; attempt < 3 && woken >= WAKE.toMillis(); attempt++) {
            woken = Math.min(woken, closeWhileAccepting(dir.resolve("blocked-accept-" + attempt)));
        }
        assertTrue(woken < WAKE.toMillis(), "accept noticed the close after " + woken + " ms at best: not woken by it");
    }

    /** Closes the server while a thread waits in accept; returns how long that thread took to notice, in ms. */
    private static long closeWhileAccepting(Path p) throws Exception {
        ConnldServer s = ConnldServer.bind(p);
        CompletableFuture<Connection> accepted = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try {
                accepted.complete(s.accept());
            } catch (Throwable e) {
                accepted.completeExceptionally(e);
            }
        }, "accepting");
        t.setDaemon(true);
        t.start();
        TestSupport.awaitInNative(t, GUARD, ACCEPT_WAITS_IN);

        long closedAt = System.nanoTime();
        s.close();
        Throwable e = failureOf(accepted);
        long woken = (System.nanoTime() - closedAt) / 1_000_000;
        assertInstanceOf(StreamClosedException.class, e);
        assertEquals("accept", ((StreamsException) e).operation());
        assertEquals(p.toString(), ((StreamsException) e).target());
        t.join(GUARD.toMillis());
        assertFalse(t.isAlive());
        return woken;
    }

    @Test
    void aTimedAcceptWhileAnotherThreadWaitsInAcceptKeepsItsTimeOut() throws Exception {
        Path p = dir.resolve("two-acceptors");
        try (ConnldServer s = ConnldServer.bind(p)) {
            CompletableFuture<Connection> first = new CompletableFuture<>();
            Thread t = new Thread(() -> {
                try {
                    first.complete(s.accept());
                } catch (Throwable e) {
                    first.completeExceptionally(e);
                }
            }, "waiting");
            t.setDaemon(true);
            t.start();
            TestSupport.awaitInNative(t, GUARD, ACCEPT_WAITS_IN);

            long t0 = System.nanoTime();
            assertTrue(s.accept(Duration.ofMillis(200)).isEmpty());
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(ms >= 190 && ms < GUARD.toMillis(), "a 200 ms accept returned after " + ms + " ms");

            try (Connection c = ConnldClient.connect(p);
                 Connection server = first.get(GUARD.toMillis(), TimeUnit.MILLISECONDS)) {
                writeLine(c, "to the waiting one");
                assertEquals("to the waiting one", readLine(server));
            }
        }
    }

    @Test
    void closeMakesServeReturn() throws Exception {
        Path p = dir.resolve("serving");
        ConnldServer s = ConnldServer.bind(p);
        Serving serving = serveInBackground(s, ConnldEchoServerMain::echo);
        assertEquals("served", echoOnce(p, "served"));
        TestSupport.awaitInNative(serving.thread(), GUARD, ACCEPT_WAITS_IN);
        serving.close();        // fails unless serve returns normally within the guard
        assertFalse(serving.thread().isAlive());
        assertFalse(Files.exists(p, LinkOption.NOFOLLOW_LINKS));
    }

    @Test
    void closingAServerWhosePathWasTakenOverLeavesTheNewServerAlone() throws Exception {
        // Both backends. STREAMS: the unlink detaches the old server and removes
        // its file (vn_removeat), the new bind attaches over a file of its own,
        // and the old close, under the path's BindLock, finds neither its file
        // nor its node at the path and leaves it.
        Path p = dir.resolve("taken-over");
        ConnldServer old = ConnldServer.bind(p);
        Files.delete(p);        // e.g. a clean-up script
        try (Serving fresh = serveInBackground(ConnldServer.bind(p), ConnldEchoServerMain::echo)) {
            old.close();
            assertTrue(Files.exists(p, LinkOption.NOFOLLOW_LINKS), "the old server's close() removed the new socket");
            assertEquals("still here", echoOnce(p, "still here"));
        }
        assertFalse(Files.exists(p, LinkOption.NOFOLLOW_LINKS));
    }

    // ---- time-outs -------------------------------------------------------------------

    @Test
    void acceptWithATimeoutReturnsEmptyWhenNobodyConnects() throws Exception {
        Path p = dir.resolve("lonely");
        try (ConnldServer s = ConnldServer.bind(p)) {
            Duration timeout = Duration.ofMillis(300);
            long t0 = System.nanoTime();
            Optional<Connection> c = s.accept(timeout);
            long waited = System.nanoTime() - t0;
            assertTrue(c.isEmpty(), "accepted " + c);
            assertTrue(waited >= timeout.toNanos(), "returned after " + waited / 1_000_000 + " ms, before the time-out");
            assertTrue(s.isOpen());
            assertTrue(s.accept(Duration.ZERO).isEmpty());
        }
    }

    @Test
    void acceptWithAZeroTimeoutTakesClientsThatAreAlreadyWaiting() throws Exception {
        Path p = dir.resolve("queued");
        try (ConnldServer s = ConnldServer.bind(p)) {
            assertTrue(s.accept(Duration.ZERO).isEmpty(), "nobody has connected yet");
            if (Platform.backend() == Backend.PORTABLE) {
                // connect(2) returns once the client is queued: three wait, each accept(0) takes one.
                List<Connection> clients = new ArrayList<>();
                try {
                    for (int i = 0; i < 3; i++) {
                        clients.add(ConnldClient.connect(p));
                    }
                    for (int i = 0; i < 3; i++) {
                        Optional<Connection> got = s.accept(Duration.ZERO);
                        assertTrue(got.isPresent(), "queued client " + i + " not taken");
                        try (Connection server = got.get()) {
                            talk(clients.get(i), server, "client " + i);
                        }
                    }
                } finally {
                    clients.forEach(Connection::close);
                }
            } else {
                // A STREAMS client's open returns only once the server has taken its pipe, and
                // connld serves one open at a time: each client waits in open on a thread of its
                // own, and accept(0), asked again while the kernel hands the pipe over, takes it.
                for (int i = 0; i < 3; i++) {
                    TestSupport.Background<Connection> client = new TestSupport.Background<>("client " + i,
                        () -> ConnldClient.connect(p));
                    TestSupport.awaitInNative(client.thread(), "s4j_open", GUARD);
                    Optional<Connection> got = Optional.empty();
                    long deadline = System.nanoTime() + GUARD.toNanos();
                    while (got.isEmpty() && System.nanoTime() < deadline) {
                        got = s.accept(Duration.ZERO);
                    }
                    assertTrue(got.isPresent(), "client " + i + " waiting in open was not taken by accept(0)");
                    try (Connection server = got.get(); Connection c = client.get(GUARD)) {
                        talk(c, server, "client " + i);
                    }
                }
            }
            assertTrue(s.accept(Duration.ZERO).isEmpty(), "all three were taken");
        }
    }

    private static void talk(Connection client, Connection server, String line) throws Exception {
        writeLine(client, line);
        assertEquals(line, readLine(server));
        assertEquals(Platform.euid(), server.peer().uid());
    }

    @Test
    void acceptWithATimeoutReturnsAClientThatConnects() throws Exception {
        Path p = dir.resolve("met");
        try (ConnldServer s = ConnldServer.bind(p)) {
            CompletableFuture<Connection> client = CompletableFuture.supplyAsync(() -> {
                try {
                    return ConnldClient.connect(p);
                } catch (StreamsException e) {
                    throw new RuntimeException(e);
                }
            }, Async.EACH);
            Optional<Connection> got = s.accept(GUARD);
            assertTrue(got.isPresent(), "nobody accepted within " + GUARD);
            try (Connection server = got.get(); Connection c = client.get(GUARD.toMillis(), TimeUnit.MILLISECONDS)) {
                assertEquals(Platform.euid(), server.peer().uid());
                writeLine(c, "hi");
                assertEquals("hi", readLine(server));
            }
        }
    }

    @Test
    void connectWithATimeoutGivesUpOnAServerThatNeverAccepts() throws Exception {
        Path p = dir.resolve("deaf");
        // Backlog 1 (the least ConnldOptions takes): an AF_UNIX listener queues a connection or two
        // that nobody accepts, then connect blocks. On STREAMS the first open already blocks until
        // the server takes it.
        List<Connection> queued = new ArrayList<>();
        try (ConnldServer s = ConnldServer.bind(p, ConnldOptions.builder().backlog(1).build())) {
            StreamsException timedOut = TestSupport.fillQueue(p, Duration.ofMillis(300), queued);
            assertOneLineNaming(timedOut, "connect", p);
            assertTrue(timedOut.getMessage().contains("300ms"), timedOut.getMessage());
            assertTrue(s.isOpen());
        } finally {
            queued.forEach(Connection::close);
        }
    }

    @Test
    void connectWithATimeoutToALiveServerSucceeds() throws Exception {
        Path p = dir.resolve("prompt");
        try (Serving s = serveInBackground(ConnldServer.bind(p), ConnldEchoServerMain::echo);
             Connection c = ConnldClient.connect(p, GUARD)) {
            writeLine(c, "quick");
            assertEquals("quick", readLine(c));
        }
    }

    // ---- helpers ---------------------------------------------------------------------

    static String echoOnce(Path p, String token) throws Exception {
        try (Connection c = ConnldClient.connect(p, GUARD)) {
            writeLine(c, token);
            return readLine(c);
        }
    }

    /** The error is one line naming the operation, the path and (when it has one) the errno. */
    static void assertOneLineNaming(StreamsException e, String op, Path p) {
        String m = e.getMessage();
        assertFalse(m.contains("\n"), "more than one line: " + m);
        assertTrue(m.startsWith(op + " " + p + ": "), "does not start with \"" + op + " " + p + ": \": " + m);
        if (e.errno() != 0) {
            assertTrue(m.contains(e.errnoName()), "does not name " + e.errnoName() + ": " + m);
        }
    }

    static Set<PosixFilePermission> permissions(int mode) {
        Set<PosixFilePermission> s = EnumSet.noneOf(PosixFilePermission.class);
        PosixFilePermission[] bits = {
            PosixFilePermission.OTHERS_EXECUTE, PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_READ,
            PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_READ,
            PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.OWNER_WRITE, PosixFilePermission.OWNER_READ,
        };
        for (int i = 0; i < bits.length; i++) {
            if ((mode & (1 << i)) != 0) {
                s.add(bits[i]);
            }
        }
        return s;
    }
    static Throwable failureOf(CompletableFuture<?> f) throws Exception {
        try {
            Object r = f.get(GUARD.toMillis(), TimeUnit.MILLISECONDS);
            throw new AssertionError("returned " + r + " instead of failing");
        } catch (java.util.concurrent.ExecutionException e) {
            return e.getCause();
        } catch (java.util.concurrent.TimeoutException e) {
            throw new AssertionError("still blocked after " + GUARD, e);
        }
    }

    // ---- beyond a plain exchange: the probe time-out, late connects, the handler cap, failing
    // ---- handlers, running out of descriptors, the shutdown hook, the client's peer, the owner

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
