package org.streams4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.streams4j.testsupport.ConnldEchoServerMain.readLine;
import static org.streams4j.testsupport.ConnldEchoServerMain.serveInBackground;
import static org.streams4j.testsupport.ConnldEchoServerMain.writeLine;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.streams4j.testsupport.Async;
import org.streams4j.testsupport.Child;
import org.streams4j.testsupport.ConnldClientMain;
import org.streams4j.testsupport.ConnldEchoServerMain.Serving;
import org.streams4j.testsupport.ConnldEchoServerMain;
import org.streams4j.testsupport.RequiresBackend;

/**
 * The STREAMS backend on a live illumos or Solaris kernel, the tests that only
 * a STREAMS kernel can answer: modules (I_PUSH, I_POP, I_LOOK, I_FIND, I_LIST
 * on a pipe with connld), isastream, I_SENDFD's credentials, fattach and
 * fdetach; and connld: pipe + connld + fattach, getpeerucred with pid and
 * zone, ENXIO for a client whose server died, the attach point's mode as the
 * door lock, and a file with content never attached over. Expectations are those of the
 * illumos sources named at each test (streamio.c, fifovnops.c, connld.c) and
 * docs/ILLUMOS-NOTES.md, so that the first illumos host proves them; the
 * portable twins of the connld checks are in ConnldServerTest,
 * ConnldConcurrentClientsTest and ConnldCrashTest.
 */
@SuppressWarnings("try") // a serving server is a resource its try block need not name
@RequiresBackend(Backend.STREAMS)
class ConnldStreamsTest {
    private static final Duration GUARD = TestSupport.guard(Duration.ofSeconds(30));
    /** Hang guard for a client noticing that its server died. */
    private static final Duration NOTICE = TestSupport.guard(Duration.ofSeconds(5));

    @TempDir
    Path dir;

    @RegisterExtension
    final TestSupport.HandlerFailures failures = new TestSupport.HandlerFailures();

    @BeforeAll
    static void streamsBackendIsLive() {
        assertEquals(Backend.STREAMS, Platform.backend(), "illumos without the STREAMS backend: " + Platform.describe());
        assertTrue(Platform.hasZones());
        assertTrue(Platform.supportsModules());
        assertTrue(Platform.supportsFattach());
    }

    private static ConnldServer.Handler recordingEcho(Map<String, PeerCredentials> seen) {
        return c -> {
            String token = readLine(c);
            if (token == null) {
                return;
            }
            if (seen.putIfAbsent(token, c.peer()) != null) {
                throw new AssertionError("token " + token + " arrived twice");
            }
            writeLine(c, token);
            ConnldEchoServerMain.echo(c);
        };
    }

    @Test
    void concurrentClientsGetTheirOwnPipeAndAreKnownByUidPidAndZone() throws Exception {
        int clients = 50;
        Path p = dir.resolve("echo");
        Map<String, PeerCredentials> seen = new ConcurrentHashMap<>();
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        try (Serving s = serveInBackground(ConnldServer.bind(p), failures.wrap(recordingEcho(seen)))) {
            assertTrue(Streams.isAttached(p), p + " is not on namefs while served");
            List<String> tokens = new ArrayList<>();
            List<Future<String>> replies = new ArrayList<>();
            for (int i = 0; i < clients; i++) {
                String token = "streams-" + i + "-" + UUID.randomUUID();
                tokens.add(token);
                replies.add(pool.submit(() -> {
                    try (Connection c = ConnldClient.connect(p)) {
                        assertTrue(c.fd().isStream(), "the client's end is not a stream");
                        writeLine(c, token);
                        return readLine(c);
                    }
                }));
            }
            for (int i = 0; i < clients; i++) {
                assertEquals(tokens.get(i), replies.get(i).get(GUARD.toSeconds(), TimeUnit.SECONDS), "client " + i);
            }
            Set<Integer> zones = new HashSet<>();
            for (String token : tokens) {
                PeerCredentials peer = seen.get(token);
                assertNotNull(peer, "server never saw " + token);
                assertEquals(Platform.euid(), peer.uid(), peer.toString());
                assertEquals(Platform.egid(), peer.gid(), peer.toString());
                assertEquals(ProcessHandle.current().pid(), peer.pid().orElseThrow(), peer.toString());
                assertTrue(peer.zone().isPresent(), "no zone for " + peer);
                zones.add(peer.zone().getAsInt());
            }
            assertEquals(1, zones.size(), "one process, several zones: " + zones);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aClientInAnotherProcessIsKnownByItsPidAndZone() throws Exception {
        Path p = dir.resolve("procs");
        Map<String, PeerCredentials> seen = new ConcurrentHashMap<>();
        try (Serving s = serveInBackground(ConnldServer.bind(p), failures.wrap(recordingEcho(seen)))) {
            int myZone;
            try (Connection c = ConnldClient.connect(p, GUARD)) {
                writeLine(c, "me");
                assertEquals("me", readLine(c));
            }
            myZone = seen.get("me").zone().orElseThrow();
            String token = "process-" + UUID.randomUUID();
            try (Child child = Child.start(ConnldClientMain.class, p.toString(), token)) {
                assertEquals("ECHO " + token, child.awaitLine("ECHO ", GUARD));
                assertEquals(0, child.awaitExit(GUARD), "output " + child.output());
                PeerCredentials peer = seen.get(token);
                assertNotNull(peer, "server never saw " + token);
                assertEquals(child.pid(), peer.pid().orElseThrow(), peer.toString());
                assertEquals(Platform.euid(), peer.uid(), peer.toString());
                assertEquals(myZone, peer.zone().orElseThrow(), "a child process in another zone: " + peer);
            }
        }
    }

    @Test
    void aClientWaitingInOpenGetsENXIOWhenTheServerDiesAndLaterOnesFindThePlainFile() throws Exception {
        Path p = dir.resolve("dying");
        try (Child server = Child.start(ConnldEchoServerMain.class, p.toString(), "noaccept")) {
            server.awaitLine("READY ", GUARD);
            assertTrue(Streams.isAttached(p));

            CompletableFuture<Connection> waiting = new CompletableFuture<>();
            Thread t = new Thread(() -> {
                try {
                    waiting.complete(ConnldClient.connect(p));
                } catch (Throwable e) {
                    waiting.completeExceptionally(e);
                }
            }, "opening " + p);
            t.setDaemon(true);
            t.start();
            // The open waits in connld for an I_RECVFD that never comes.
            TestSupport.awaitInNative(t, "s4j_open", GUARD);
            assertFalse(waiting.isDone(), "the open returned although nobody accepted: " + waiting);

            long killedAt = System.nanoTime();
            server.kill();      // its receiving end closes without fdetach
            Throwable e;
            try {
                Connection c = waiting.get(NOTICE.toMillis(), TimeUnit.MILLISECONDS);
                c.close();
                throw new AssertionError("the open succeeded although the server died");
            } catch (ExecutionException x) {
                e = x.getCause();
            } catch (TimeoutException x) {
                throw new AssertionError("the waiting open did not fail within " + NOTICE + " of the SIGKILL");
            }
            System.out.printf("ConnldStreamsTest: the waiting open failed %.1f ms after the SIGKILL%n",
                (System.nanoTime() - killedAt) / 1e6);
            StreamsException se = assertInstanceOf(StreamsException.class, e);
            assertEquals("ENXIO", se.errnoName(), se.getMessage());
            assertEquals("connect", se.operation());
            assertEquals(p.toString(), se.target());

            // The kernel detached the dead server's end: the path is the plain file again, and a
            // client must not take it for a server. fifo_close() wakes the waiting open before it
            // calls nm_unmountall(), so the detach may land a moment after the ENXIO.
            awaitDetached(p);
            StreamsException later = assertThrows(StreamsException.class, () -> ConnldClient.connect(p, GUARD));
            assertEquals("ENOSTR", later.errnoName(), later.getMessage());
            assertEquals(p.toString(), later.target());
            assertTrue(Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS));
            assertEquals(0L, Files.size(p), "a client wrote into the plain file");
        }
        // And a new server takes the path again.
        try (Serving s = serveInBackground(ConnldServer.bind(p), failures.wrap(ConnldEchoServerMain::echo));
             Connection c = ConnldClient.connect(p, GUARD)) {
            writeLine(c, "again");
            assertEquals("again", readLine(c));
        }
    }

    /** Who may connect by that mode (EACCES, as nobody when root): ConnldServerTest.onlyUsersThePathsModeAdmitsMayConnect. */
    @Test
    void theAttachPointIsCreatedWithTheRequestedMode() throws Exception {
        Path p = dir.resolve("group");
        try (ConnldServer s = ConnldServer.bind(p, ConnldOptions.builder().mode(0660).build())) {
            assertTrue(Streams.isAttached(p));
            assertEquals(PosixFilePermissions.fromString("rw-rw----"), Files.getPosixFilePermissions(p));
        }
        Path closed = dir.resolve("nobody");
        try (ConnldServer s = ConnldServer.bind(closed, ConnldOptions.builder().mode(0).build())) {
            // fattach needs owner write (nm_mount): bind attaches with it, then sets exactly 0.
            assertTrue(Streams.isAttached(closed));
            assertEquals(Set.<PosixFilePermission>of(), Files.getPosixFilePermissions(closed));
        }
    }

    @Test
    void aFileWithContentIsNeverAttachedOverNorRemoved() throws Exception {
        Path p = dir.resolve("existing");
        byte[] content = "under the attachment\n".getBytes(StandardCharsets.UTF_8);
        Files.write(p, content);
        Set<PosixFilePermission> mode = PosixFilePermissions.fromString("rw-r--r--");
        Files.setPosixFilePermissions(p, mode);
        StreamsException e = assertThrows(StreamsException.class, () -> ConnldServer.bind(p));
        assertEquals("EEXIST", e.errnoName(), e.getMessage());
        assertFalse(Streams.isAttached(p));
        assertArrayEquals(content, Files.readAllBytes(p));
        assertEquals(mode, Files.getPosixFilePermissions(p));
    }

    /** close() closes the server's ends (nm_unmountall): another server attached at the path later stays. */
    @Test
    void closeDetachesOnlyItsOwnAttachment() throws Exception {
        Path p = dir.resolve("shared");
        ConnldServer first = ConnldServer.bind(p);
        Streams.fdetach(p);                      // an operator detaches it by hand
        try (Serving s = serveInBackground(ConnldServer.bind(p), failures.wrap(ConnldEchoServerMain::echo))) {
            first.close();                       // the old code ran fdetach(p) here
            assertTrue(Streams.isAttached(p), "closing the first server detached the second");
            try (Connection c = ConnldClient.connect(p, GUARD)) {
                writeLine(c, "still here");
                assertEquals("still here", readLine(c));
            }
        }
        awaitDetached(p);
        assertTrue(Files.notExists(p, LinkOption.NOFOLLOW_LINKS), "the second server left its attach point");
    }

    /**
     * Unlinking an attached name does not fail with EBUSY: for the node's
     * owner it unmounts the namefs node and removes the file underneath
     * (vn_removeat on nm_mount's VFS_UNLINKABLE), leaving the server with no
     * name. That is why bind and close hold the path's BindLock between their
     * look and their unlink.
     */
    @Test
    void unlinkingAnAttachedNameDetachesItAndRemovesTheFile() throws Exception {
        Path p = dir.resolve("unlinked");
        try (ConnldServer s = ConnldServer.bind(p)) {
            assertTrue(Streams.isAttached(p));
            Files.delete(p);
            assertTrue(Files.notExists(p, LinkOption.NOFOLLOW_LINKS), "the name is still there");
            assertTrue(s.isOpen(), "the server's ends closed with its name");
            StreamsException e = assertThrows(StreamsException.class, () -> ConnldClient.connect(p, GUARD));
            assertEquals("ENOENT", e.errnoName(), e.getMessage());
        }
        assertTrue(Files.notExists(p, LinkOption.NOFOLLOW_LINKS), "close made a file at the path");
    }

    /** A link to a named FIFO that no server is attached over is refused before any open. */
    @Test
    void aLinkToANamedFifoIsNoServer() throws Exception {
        Path fifo = dir.resolve("fifo");
        assertEquals(0, new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor());
        Path link = Files.createSymbolicLink(dir.resolve("link"), fifo);
        StreamsException e = assertThrows(StreamsException.class, () -> ConnldClient.connect(link, GUARD));
        assertEquals("ENOSTR", e.errnoName(), e.getMessage());
    }

    /**
     * close() racing fattach on the same descriptor never attaches the
     * process-wide close marker: fattach is a quick use, which close() waits
     * for instead of pointing the number at the marker.
     */
    @Test
    void closeRacingFattachNeverAttachesTheCloseMarker() throws Exception {
        Path p = Files.createFile(dir.resolve("race"));
        for (int i = 0; i < 300; i++) {
            StreamPipe pipe = StreamPipe.open();
            Thread t = new Thread(() -> {
                try {
                    Streams.fattach(pipe.second(), p);
                } catch (StreamsException e) {
                    // closed first: fine
                }
            });
            t.start();
            pipe.second().close();
            t.join();
            pipe.close();                        // our pipe's attachment, if any, goes with it
            awaitDetached(p);
        }
    }

    /** Timed-out connects to a server that never accepts leave one opener thread, not one each. */
    @Test
    void timedOutConnectsLeaveOneOpenerThread() throws Exception {
        Path p = dir.resolve("never-accepts");
        try (ConnldServer server = ConnldServer.bind(p)) {
            for (int i = 0; i < 200; i++) {
                StreamsException e = assertThrows(StreamsException.class,
                    () -> ConnldClient.connect(p, Duration.ofMillis(5)));
                assertEquals("ETIMEDOUT", e.errnoName(), e.getMessage());
            }
            assertEquals(1, PendingOpens.openers());
        }
        long deadline = System.nanoTime() + GUARD.toNanos();
        while (PendingOpens.openers() != 0 && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertEquals(0, PendingOpens.openers(), "the opener stayed in the kernel after the server closed");
    }

    @Test
    void aZoneAllowListAdmitsTheClientsZoneAndRefusesOthers() throws Exception {
        Path probe = dir.resolve("zone-probe");
        int myZone;
        try (Serving s = serveInBackground(ConnldServer.bind(probe), failures.wrap(c -> {
            writeLine(c, Integer.toString(c.peer().zone().orElse(-1)));
        })); Connection c = ConnldClient.connect(probe, GUARD)) {
            myZone = Integer.parseInt(readLine(c));
        }
        assertTrue(myZone >= 0, "no zone id");

        Path in = dir.resolve("zone-in");
        try (Serving s = serveInBackground(ConnldServer.bind(in,
                ConnldOptions.builder().allowZones(Set.of(myZone)).build()), failures.wrap(ConnldEchoServerMain::echo));
             Connection c = ConnldClient.connect(in, GUARD)) {
            writeLine(c, "same zone");
            assertEquals("same zone", readLine(c));
        }

        Path out = dir.resolve("zone-out");
        AtomicInteger handled = new AtomicInteger();
        try (Serving s = serveInBackground(ConnldServer.bind(out,
                ConnldOptions.builder().allowZones(Set.of(myZone + 12345)).build()),
                failures.wrap(c -> handled.incrementAndGet()));
             Connection c = ConnldClient.connect(out, GUARD)) {
            CompletableFuture<Integer> r = CompletableFuture.supplyAsync(() -> {
                try {
                    return c.read(new byte[8], 0, 8);
                } catch (StreamsException e) {
                    throw new RuntimeException(e);
                }
            }, Async.EACH);
            assertEquals(-1, r.get(GUARD.toMillis(), TimeUnit.MILLISECONDS), "a refused client read data");
            assertEquals(0, handled.get());
        }
    }

    /**
     * A connld pipe attached at the path whose receiving end was closed before
     * the attach: the kernel's automatic detach (nm_unmountall, at the last close
     * of that end) has passed, so the attachment stays, and an open of the path
     * gives ENXIO (connld: the other end is gone). bind() refuses it (EBUSY,
     * served by another process) and leaves it for the operator to detach.
     */
    @Test
    void anAttachmentIsNeverTakenOverEvenWhenItsServerEndIsGone() throws Exception {
        // An end attached after its peer was closed: nm_unmountall never ran for
        // it, so it stays attached with nobody to answer (a client's open gets
        // ENXIO). bind does not open attached paths (that would connect to a
        // live server) nor detach what is not its own: it says the path is
        // served, and the operator detaches it (streamsctl detach).
        Path p = dir.resolve("stale");
        Files.createFile(p);
        try (StreamPipe dead = StreamPipe.open()) {
            dead.second().push("connld");
            dead.first().close();
            Streams.fattach(dead.second(), p);
            try {
                assertTrue(Streams.isAttached(p));
                StreamsException refused = assertThrows(StreamsException.class, () -> ConnldServer.bind(p));
                assertEquals("bind", refused.operation());
                assertEquals(p.toString(), refused.target());
                assertEquals("EBUSY", refused.errnoName(), refused.getMessage());
                assertTrue(Streams.isAttached(p), "a refused bind detached the attachment");
                StreamsException gone = assertThrows(StreamsException.class, () -> ConnldClient.connect(p, GUARD));
                assertTrue(gone.errnoName().equals("ENXIO") || gone.errnoName().equals("EPIPE"), gone.getMessage());
            } finally {
                Streams.fdetach(p);
            }
            try (Serving s = serveInBackground(ConnldServer.bind(p), failures.wrap(ConnldEchoServerMain::echo));
                 Connection c = ConnldClient.connect(p, GUARD)) {
                writeLine(c, "after the operator's fdetach");
                assertEquals("after the operator's fdetach", readLine(c));
            }
        }
    }

    /**
     * A client's high-priority message (M_PCPROTO: putmsg RS_HIPRI) raises
     * only POLLPRI at the server's end (strpoll): the shim's poll asks for it,
     * so the connection is readable rather than hidden, and read's EBADMSG
     * names a control message as a possible cause.
     */
    @Test
    void aHighPriorityMessageFromAClientIsNeverHiddenFromPoll() throws Exception {
        Path exe = dir.resolve("hipri");
        Process cc = new ProcessBuilder("gcc", "-o", exe.toString(), Path.of("src", "test", "c", "hipri.c").toString())
            .redirectErrorStream(true).start();
        String log = new String(cc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        org.junit.jupiter.api.Assumptions.assumeTrue(cc.waitFor() == 0, "no gcc to build src/test/c/hipri.c: " + log);
        Path p = dir.resolve("hipri-server");
        try (ConnldServer server = ConnldServer.bind(p)) {
            Process client = new ProcessBuilder(exe.toString(), p.toString()).start();
            try (Connection c = server.accept(GUARD).orElseThrow()) {
                assertTrue(c.fd().awaitReadable(GUARD), "the high-priority message left the connection unreadable");
                StreamsException e = assertThrows(StreamsException.class, () -> c.read(new byte[8], 0, 8));
                assertEquals("EBADMSG", e.errnoName(), e.getMessage());
                assertTrue(e.getMessage().contains("control message"), e.getMessage());
            } finally {
                client.getOutputStream().close();
                client.waitFor();
            }
        }
    }

    /** Waits up to {@link #NOTICE} for the kernel to detach whatever is attached at {@code p}. */
    static void awaitDetached(Path p) throws Exception {
        long deadline = System.nanoTime() + NOTICE.toNanos();
        while (Streams.isAttached(p)) {
            if (System.nanoTime() > deadline) {
                fail(p + " is still attached " + NOTICE + " after its server died");
            }
            Thread.sleep(10);
        }
    }

    // ---- modules, isastream, I_SENDFD, fattach and fdetach on pipes and files

    @Test
    void connldPushLookFindListPop() throws Exception {
        try (StreamPipe p = StreamPipe.open()) {
            StreamFd end = p.second();
            // Nothing pushed: I_LOOK fails with EINVAL, which look() reports as null.
            assertNull(end.look());
            assertFalse(end.find("connld"));
            // I_LIST with a null argument counts the modules plus one for the driver, but
            // not on a pipe (strioctl: sd_pushcnt alone for VFIFO), which has no driver:
            // the names stop where the stream meets the other end's stream head. A bare
            // pipe end counts 0 and lists nothing.
            assertEquals(List.of(), end.list());

            end.push("connld");
            assertEquals("connld", end.look());
            assertTrue(end.find("connld"));
            assertEquals(List.of("connld"), end.list(), "topmost first; nothing below connld on a pipe");
            assertFalse(p.first().find("connld"), "pushed on one end only");

            end.pop();
            assertNull(end.look());
            assertFalse(end.find("connld"));
            assertEquals(List.of(), end.list());
        }
    }

    @Test
    void popWithNothingPushedIsEinval() throws Exception {
        try (StreamPipe p = StreamPipe.open()) {
            StreamsException e = assertThrows(StreamsException.class, () -> p.first().pop());
            assertEquals("EINVAL", e.errnoName());
            assertEquals("pop " + p.first().name() + ": EINVAL (no module to pop)", e.getMessage());
        }
    }

    @Test
    void pushingAnUnknownModuleIsEinval() throws Exception {
        try (StreamPipe p = StreamPipe.open()) {
            StreamsException e = assertThrows(StreamsException.class, () -> p.first().push("nosuchm"));
            assertEquals("EINVAL", e.errnoName());
            assertNull(p.first().look());
        }
    }

    @Test
    void connldPushedTwiceIsEnxio() throws Exception {
        try (StreamPipe p = StreamPipe.open()) {
            p.second().push("connld");
            StreamsException e = assertThrows(StreamsException.class, () -> p.second().push("connld"));
            assertEquals("ENXIO", e.errnoName());
            assertEquals("push", e.operation());
            assertEquals(p.second().name(), e.target());
            assertEquals(List.of("connld"), p.second().list(), "the first one stays");
        }
    }

    @Test
    void pushAfterTheOtherEndClosedFails() throws Exception {
        try (StreamPipe p = StreamPipe.open()) {
            p.first().close();
            StreamsException e = assertThrows(StreamsException.class, () -> p.second().push("connld"));
            // connld(4M) and connopen() answer EPIPE when the other end is closed. But the
            // closing end sends M_HANGUP (fifo_close), which sets STRHUP on this stream
            // head, and strioctl's I_PUSH returns ENXIO for STRHUP before any module's
            // open runs. Either way the push must fail with one of the two.
            assertTrue(Set.of("EPIPE", "ENXIO").contains(e.errnoName()), e.getMessage());
            assertNull(p.second().look());
        }
    }

    @Test
    void isStreamOnAPipeEndNotOnAFile() throws Exception {
        Path file = dir.resolve("plain");
        Files.writeString(file, "plain");
        try (StreamPipe p = StreamPipe.open(); StreamFd f = StreamFd.open(file, StreamFd.Mode.READ)) {
            assertTrue(p.first().isStream());
            assertTrue(p.second().isStream());
            assertFalse(f.isStream());
        }
    }

    @Test
    void passedDescriptorCarriesOurEffectiveIds() throws Exception {
        Path file = dir.resolve("passed");
        Files.writeString(file, "passed");
        try (StreamPipe p = StreamPipe.open(); StreamFd f = StreamFd.open(file, StreamFd.Mode.READ)) {
            p.first().sendFd(f);
            try (ReceivedFd got = p.second().receiveFd()) {
                assertEquals(Platform.euid(), got.uid());
                assertEquals(Platform.egid(), got.gid());
                assertEquals("passed", TestSupport.readString(got.fd(), 6));
                assertFalse(got.fd().isStream());
            }
        }
    }

    @Test
    void fattachOnAnAttachedPathIsEbusy() throws Exception {
        Path path = dir.resolve("attached");
        Files.createFile(path);
        try (StreamPipe a = StreamPipe.open(); StreamPipe b = StreamPipe.open()) {
            Streams.fattach(a.second(), path);
            try {
                StreamsException e = assertThrows(StreamsException.class, () -> Streams.fattach(b.second(), path));
                assertEquals("EBUSY", e.errnoName());
                assertEquals("fattach", e.operation());
                assertEquals(path.toString(), e.target());
            } finally {
                Streams.fdetach(path);
            }
        }
    }

    @Test
    void isAttachedFollowsFattachAndFdetach() throws Exception {
        Path path = dir.resolve("attached");
        Files.createFile(path);
        assertFalse(Streams.isAttached(path));
        try (StreamPipe p = StreamPipe.open()) {
            Streams.fattach(p.second(), path);
            try {
                assertTrue(Streams.isAttached(path));
            } finally {
                Streams.fdetach(path);
            }
            assertFalse(Streams.isAttached(path));
            assertTrue(Files.isRegularFile(path), "the underlying file is visible again");

            try (Attachment at = Streams.attach(p.second(), path)) {
                assertEquals(path, at.path());
                assertTrue(Streams.isAttached(path));
            }
            assertFalse(Streams.isAttached(path), "Attachment.close detached it");
        }
        assertFalse(Streams.isAttached(dir.resolve("missing")));
    }

    @Test
    void fdetachOfAPlainFileIsEinval() throws Exception {
        Path path = dir.resolve("plain");
        Files.createFile(path);
        StreamsException e = assertThrows(StreamsException.class, () -> Streams.fdetach(path));
        assertEquals("EINVAL", e.errnoName());
        assertEquals("fdetach", e.operation());
        assertEquals(path.toString(), e.target());
    }

    /** I_FIND with a name that is no module at all: EINVAL (strioctl, fmodsw_find); a known module not pushed: false. */
    @Test
    void findOfAnUnknownModuleIsEinval() throws Exception {
        try (StreamPipe p = StreamPipe.open()) {
            StreamsException e = assertThrows(StreamsException.class, () -> p.first().find("nosuchm"));
            assertEquals("EINVAL", e.errnoName());
            assertEquals("find", e.operation());
            assertEquals(p.first().name(), e.target());
            assertFalse(p.first().find("connld"));
            assertNull(p.first().look(), "nothing was pushed by asking");
        }
    }
}
