package org.streams4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.streams4j.testsupport.ConnldEchoServerMain.readLine;
import static org.streams4j.testsupport.ConnldEchoServerMain.serveEventsInBackground;
import static org.streams4j.testsupport.ConnldEchoServerMain.writeLine;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.streams4j.TestSupport.Background;
import org.streams4j.testsupport.ConnldEchoServerMain;
import org.streams4j.testsupport.ConnldEchoServerMain.Serving;

/**
 * Closing while other threads are inside: close racing a blocked read,
 * receiveFd, accept and an event loop's wait; two threads closing one
 * connection; a server closed while clients connect. After each race a file
 * opened afresh (which takes the lowest free number, likely the one just
 * closed) is written through the closed object's every way in, and must be
 * untouched: no double close, no use of a reused number. Both backends.
 */
@SuppressWarnings("try")
class RaceTest {
    private static final Duration GUARD = TestSupport.guard(Duration.ofSeconds(30));
    private static final int ROUNDS = 50;
    private static final byte[] CONTENT = "the fresh file's own content\n".getBytes(StandardCharsets.US_ASCII);

    @TempDir
    Path dir;

    @RegisterExtension
    final TestSupport.HandlerFailures failures = new TestSupport.HandlerFailures();

    /** A pair of connected clients of one echo server, the server side held by the test. */
    private record Pair(Connection client, Connection server) {
    }

    private Pair connect(ConnldServer s) throws Exception {
        Background<Connection> accepted = new Background<>("accept", s::accept);
        Connection c = ConnldClient.connect(s.path(), GUARD);
        return new Pair(c, accepted.get(GUARD));
    }

    /**
     * Opens a fresh file, tries to write through every closed connection
     * (each must say closed), and checks the file kept its content.
     */
    private void assertFreshFileUntouched(int round, Connection... closed) throws Exception {
        Path f = dir.resolve("fresh-" + round);
        Files.write(f, CONTENT);
        try (StreamFd fresh = StreamFd.open(f, StreamFd.Mode.READ_WRITE)) {
            for (Connection c : closed) {
                assertFalse(c.isOpen());
                assertThrows(StreamClosedException.class, () -> c.writeFully(new byte[] {'X'}));
                assertThrows(StreamClosedException.class, () -> c.sendFd(fresh));
                c.close();      // once more: a no-op, never a close of the fresh number
            }
            assertTrue(fresh.isOpen());
        }
        assertEquals(new String(CONTENT, StandardCharsets.US_ASCII), Files.readString(f));
    }

    @Test
    void closeRacingABlockedReadAndReceiveFd() throws Exception {
        try (ConnldServer s = ConnldServer.bind(dir.resolve("rw"))) {
            for (int i = 0; i < ROUNDS; i++) {
                Pair pair = connect(s);
                boolean fd = i % 2 == 1;
                Background<Object> blocked = new Background<>(fd ? "receiveFd" : "read",
                    () -> fd ? pair.client().receiveFd() : pair.client().read(new byte[16], 0, 16));
                TestSupport.awaitInNative(blocked.thread(), GUARD, "s4j_recv", "s4j_recvfd", "s4j_poll");
                pair.client().close();
                Throwable t = blocked.failure(GUARD);
                assertTrue(t instanceof StreamClosedException, "woken by close: " + t);
                assertFreshFileUntouched(i, pair.client());
                pair.server().close();
            }
        }
    }

    @Test
    void twoThreadsClosingOneConnection() throws Exception {
        try (ConnldServer s = ConnldServer.bind(dir.resolve("twice"))) {
            for (int i = 0; i < ROUNDS; i++) {
                Pair pair = connect(s);
                CyclicBarrier start = new CyclicBarrier(3);
                List<Background<Void>> closers = new ArrayList<>();
                for (int k = 0; k < 2; k++) {
                    closers.add(new Background<>("closer " + k, () -> {
                        start.await();
                        pair.server().close();
                        return null;
                    }));
                }
                start.await();
                for (Background<Void> b : closers) {
                    b.get(GUARD);
                }
                assertFreshFileUntouched(i, pair.server());
                // The client sees the one close as end of stream.
                TestSupport.assertEndOfStream(pair.client().fd());
                pair.client().close();
            }
        }
    }

    @Test
    void closeRacingABlockedAccept() throws Exception {
        for (int i = 0; i < ROUNDS / 5; i++) {
            ConnldServer s = ConnldServer.bind(dir.resolve("accept-" + i));
            Background<Connection> accepting = new Background<>("accept", s::accept);
            TestSupport.awaitInNative(accepting.thread(), GUARD, "s4j_unix_accept", "s4j_poll", "s4j_recvfd");
            s.close();
            Throwable t = accepting.failure(GUARD);
            assertTrue(t instanceof StreamClosedException, "woken by close: " + t);
            assertFalse(Files.exists(s.path(), java.nio.file.LinkOption.NOFOLLOW_LINKS));
            assertFreshFileUntouched(i);
        }
    }

    /**
     * serveEvents: the server closed while its loop waits with connections
     * held and clients arriving; every client sees end of stream or a refused
     * connect, serveEvents returns, the path is gone.
     */
    @Test
    void serverCloseWhileTheLoopWaitsAndClientsConnect() throws Exception {
        ConnldServer.EventHandler echo = c -> {
            byte[] b = new byte[4096];
            int n = c.read(b, 0, b.length);
            if (n > 0) {
                c.writeFully(b, 0, n);
            }
            return n >= 0;
        };
        for (int i = 0; i < ROUNDS / 5; i++) {
            Path p = dir.resolve("events-" + i);
            List<Connection> held = new ArrayList<>();
            Serving serving = serveEventsInBackground(ConnldServer.bind(p), failures.wrapEvents(echo));
            try {
                for (int k = 0; k < 4; k++) {
                    Connection c = ConnldClient.connect(p, GUARD);
                    writeLine(c, "held " + k);
                    assertEquals("held " + k, readLine(c));
                    held.add(c);
                }
                List<Background<String>> arriving = new ArrayList<>();
                for (int k = 0; k < 8; k++) {
                    arriving.add(new Background<>("arriving " + k, () -> {
                        try (Connection c = ConnldClient.connect(p, TestSupport.guard(Duration.ofSeconds(5)))) {
                            writeLine(c, "x");
                            String back = readLine(c);
                            return back == null ? "EOF" : back;
                        } catch (StreamsException e) {
                            return e.errnoName();
                        }
                    }));
                }
                serving.close();        // closes the server and waits for serveEvents to return
                for (Background<String> a : arriving) {
                    String r = a.get(GUARD);
                    assertTrue(List.of("x", "EOF", "ENOENT", "ECONNREFUSED", "EPIPE", "ECONNRESET", "ENOSTR",
                        "ETIMEDOUT").contains(r), "an arriving client saw " + r);
                }
                for (Connection c : held) {
                    TestSupport.assertEndOfStream(c.fd());
                }
            } finally {
                held.forEach(Connection::close);
            }
            assertFalse(Files.exists(p, java.nio.file.LinkOption.NOFOLLOW_LINKS));
            assertFreshFileUntouched(i, held.toArray(new Connection[0]));
        }
    }
}
