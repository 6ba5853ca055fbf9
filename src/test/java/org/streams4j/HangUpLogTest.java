package org.streams4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.streams4j.TestSupport.Background;
import org.streams4j.testsupport.TimeScale;

/**
 * Issue 23, item 4: clients that leave in the middle of an answer (the
 * server's write fails with EPIPE or ECONNRESET) are how connections
 * routinely end. Neither serve loop logs them as a WARNING, nor with a stack
 * trace: one DEBUG line each, naming the client. A handler that really fails
 * is still a WARNING (ConnldServerTest).
 */
class HangUpLogTest {
    private static final Duration GUARD = TimeScale.guard(Duration.ofSeconds(30));
    private static final int CLIENTS = 100;
    /** More than a socket buffer holds, so that the write is under way when the client leaves. */
    private static final byte[] ANSWER = new byte[1 << 20];

    @TempDir
    Path dir;

    @RegisterExtension
    final TestSupport.LogCapture log = new TestSupport.LogCapture("org.streams4j.connld");

    /** Held: java.util.logging keeps loggers only weakly. */
    private java.util.logging.Logger connld;
    private Level before;

    /** DEBUG (FINE) records reach the capture too. */
    @org.junit.jupiter.api.BeforeEach
    void debugOn() {
        connld = java.util.logging.Logger.getLogger("org.streams4j.connld");
        before = connld.getLevel();
        connld.setLevel(Level.ALL);
    }

    @org.junit.jupiter.api.AfterEach
    void debugOff() {
        connld.setLevel(before);
    }

    /** Sends one byte and closes without reading the answer, CLIENTS times. */
    private static void leaveMidAnswer(Path p) throws Exception {
        for (int i = 0; i < CLIENTS; i++) {
            try (Connection c = ConnldClient.connect(p, GUARD)) {
                c.writeFully(new byte[] {1});
                // the server is answering: wait until the first bytes are here, then leave
                assertTrue(c.fd().awaitReadable(GUARD), "no answer began");
            }
        }
    }

    private void assertNoWarnings(int gone) {
        assertEquals(0, log.at(Level.WARNING).size(), () -> "warnings for clients that left: "
            + log.at(Level.WARNING).stream().map(TestSupport.LogCapture::text).toList());
        long left = log.at(Level.FINE).stream().map(TestSupport.LogCapture::text)
            .filter(m -> m.contains(" left: ")).count();
        assertTrue(left >= 1 && left <= gone, "DEBUG lines for the clients that left: " + left);
        for (LogRecord r : log.at(Level.FINE)) {
            assertEquals(null, r.getThrown(), "a routine hang-up carries no stack trace: " + TestSupport.LogCapture.text(r));
        }
    }

    @Test
    void clientsThatLeaveMidAnswerAreNoWarningsOnServe() throws Exception {
        Path p = dir.resolve("serve");
        CountDownLatch handled = new CountDownLatch(CLIENTS);
        try (ConnldServer s = ConnldServer.bind(p, ConnldOptions.builder().threads(4).shutdownHook(false).build())) {
            Background<Void> serving = new Background<>("serve", () -> {
                s.serve(c -> {
                    try {
                        byte[] one = new byte[1];
                        if (c.read(one, 0, 1) == 1) {
                            for (int i = 0; i < 8; i++) {
                                c.writeFully(ANSWER);
                            }
                        }
                    } finally {
                        handled.countDown();
                    }
                });
                return null;
            });
            leaveMidAnswer(p);
            assertTrue(handled.await(GUARD.toMillis(), TimeUnit.MILLISECONDS), "handlers still answering");
            s.close();
            serving.get(GUARD);
        }
        assertNoWarnings(CLIENTS);
    }

    @Test
    void clientsThatLeaveMidAnswerAreNoWarningsOnServeEvents() throws Exception {
        Path p = dir.resolve("events");
        CountDownLatch closed = new CountDownLatch(CLIENTS);
        try (ConnldServer s = ConnldServer.bind(p, ConnldOptions.builder().loops(2).shutdownHook(false).build())) {
            Background<Void> serving = new Background<>("serveEvents", () -> {
                s.serveEvents(new ConnldServer.EventHandler() {
                    @Override
                    public boolean readable(Connection c) throws Exception {
                        byte[] one = new byte[1];
                        int n = c.read(one, 0, 1);
                        if (n == 1) {
                            c.writeFully(ANSWER);   // queued on the loop past the socket buffer
                        }
                        return n >= 0;
                    }

                    @Override
                    public void closed(Connection c) {
                        closed.countDown();
                    }
                });
                return null;
            });
            leaveMidAnswer(p);
            assertTrue(closed.await(GUARD.toMillis(), TimeUnit.MILLISECONDS), "connections still open");
            s.close();
            serving.get(GUARD);
        }
        assertFalse(log.at(Level.WARNING).stream().anyMatch(r -> r.getThrown() != null), "a stack trace");
        assertEquals(0, log.at(Level.WARNING).size(), () -> "warnings for clients that left: "
            + log.at(Level.WARNING).stream().map(TestSupport.LogCapture::text).toList());
    }
}
