package org.streams4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.streams4j.testsupport.ConnldEchoServerMain.readLine;
import static org.streams4j.testsupport.ConnldEchoServerMain.serveEventsInBackground;
import static org.streams4j.testsupport.ConnldEchoServerMain.serveInBackground;
import static org.streams4j.testsupport.ConnldEchoServerMain.writeLine;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.streams4j.testsupport.ConnldEchoServerMain;
import org.streams4j.testsupport.ConnldEchoServerMain.Serving;

/**
 * A client that never reads while the server writes to it: with
 * {@link ConnldOptions#writeTimeout()} its connection ends, the handler's
 * thread is free again, and the other clients are served meanwhile. Both
 * serve loops, both backends; real clients that really do not read.
 */
@SuppressWarnings("try")
class WriteTimeoutTest {
    private static final Duration GUARD = TestSupport.guard(Duration.ofSeconds(30));
    private static final Duration TIMEOUT = Duration.ofMillis(500);
    /** A client's "hello": the server answers the deaf client with an endless stream instead of an echo. */
    private static final String DEAF = "deaf";

    @TempDir
    Path dir;

    @RegisterExtension
    final TestSupport.LogCapture log = new TestSupport.LogCapture("org.streams4j.connld");

    @Test
    void serveClosesAConnectionWhoseClientNeverReadsAndServesTheOthers() throws Exception {
        Path p = dir.resolve("serve");
        CompletableFuture<Throwable> deafEnded = new CompletableFuture<>();
        ConnldServer.Handler handler = c -> {
            String first = readLine(c);
            if (!DEAF.equals(first)) {
                writeLine(c, first);
                ConnldEchoServerMain.echo(c);
                return;
            }
            byte[] chunk = new byte[64 * 1024];
            long t0 = System.nanoTime();
            try {
                while (true) {
                    c.writeFully(chunk);     // blocks once the client's buffers are full
                }
            } catch (StreamsException e) {
                deafEnded.complete(e);
            } finally {
                if (!deafEnded.isDone()) {
                    deafEnded.complete(null);
                }
            }
            assertTrue(System.nanoTime() - t0 >= TIMEOUT.toNanos());
        };
        ConnldOptions o = ConnldOptions.builder().writeTimeout(TIMEOUT).threads(4).build();
        try (Serving s = serveInBackground(ConnldServer.bind(p, o), handler);
             Connection deaf = ConnldClient.connect(p, GUARD)) {
            writeLine(deaf, DEAF);
            // While the deaf client's handler is stuck in write, another is served.
            try (Connection other = ConnldClient.connect(p, GUARD)) {
                writeLine(other, "hello");
                assertEquals("hello", readLine(other));
            }
            Throwable ended = deafEnded.get(GUARD.toMillis(), TimeUnit.MILLISECONDS);
            assertTrue(ended instanceof StreamsException, "the blocked write failed: " + ended);
            // The handler thread is free: the pool of 4 serves 4 more clients at once.
            for (int i = 0; i < 4; i++) {
                try (Connection c = ConnldClient.connect(p, GUARD)) {
                    writeLine(c, "after " + i);
                    assertEquals("after " + i, readLine(c));
                }
            }
            // The deaf client finds what was written, then the end of the stream.
            assertEndAfterSomeData(deaf);
            // Either of the write time-out's two checks may see it first: the write blocked for
            // the time-out, or (Linux) what was sent left unread that long.
            assertTrue(log.at(java.util.logging.Level.INFO).stream().map(TestSupport.LogCapture::text)
                .anyMatch(m -> m.contains("a write made no progress") || m.contains("left what it was sent unread")),
                "the time-out is logged");
        }
    }

    @Test
    void serveEventsClosesAConnectionWhoseQueuedWritesMakeNoProgress() throws Exception {
        Path p = dir.resolve("events");
        CompletableFuture<Connection> deafClosed = new CompletableFuture<>();
        ConnldServer.EventHandler handler = new ConnldServer.EventHandler() {
            @Override
            public boolean readable(Connection c) throws Exception {
                byte[] b = new byte[4096];
                int n = c.read(b, 0, b.length);
                if (n < 0) {
                    return false;
                }
                if (new String(b, 0, n, StandardCharsets.US_ASCII).equals(DEAF + "\n")) {
                    c.attach(DEAF);
                    c.writeFully(new byte[8 << 20]);     // far more than the kernel holds: queued
                } else if (n > 0) {
                    c.writeFully(b, 0, n);
                }
                return true;
            }

            @Override
            public void closed(Connection c) {
                if (DEAF.equals(c.attachment())) {
                    deafClosed.complete(c);
                }
            }
        };
        ConnldOptions o = ConnldOptions.builder().writeTimeout(TIMEOUT).loops(1).build();
        try (Serving s = serveEventsInBackground(ConnldServer.bind(p, o), handler);
             Connection deaf = ConnldClient.connect(p, GUARD)) {
            long t0 = System.nanoTime();
            writeLine(deaf, DEAF);
            // The same loop serves another client while the deaf one's queue waits.
            try (Connection other = ConnldClient.connect(p, GUARD)) {
                writeLine(other, "hello");
                assertEquals("hello", readLine(other));
            }
            deafClosed.get(GUARD.toMillis(), TimeUnit.MILLISECONDS);
            long waited = (System.nanoTime() - t0) / 1_000_000;
            assertTrue(waited >= TIMEOUT.toMillis(), "closed after " + waited + " ms");
            assertEndAfterSomeData(deaf);
        }
    }

    @Test
    void aClientThatReadsSlowlyButSteadilyIsNotCutOff() throws Exception {
        Path p = dir.resolve("slow");
        int total = 4 << 20;
        ConnldServer.Handler handler = c -> {
            byte[] chunk = new byte[16 * 1024];
            for (int sent = 0; sent < total; sent += chunk.length) {
                c.writeFully(chunk);
            }
        };
        ConnldOptions o = ConnldOptions.builder().writeTimeout(Duration.ofSeconds(2)).build();
        try (Serving s = serveInBackground(ConnldServer.bind(p, o), handler);
             Connection c = ConnldClient.connect(p, GUARD)) {
            byte[] b = new byte[256 * 1024];
            long got = 0;
            int reads = 0;
            while (true) {
                int n = c.read(b, 0, b.length);
                if (n < 0) {
                    break;
                }
                got += n;
                if (++reads % 4 == 0) {
                    Thread.sleep(20);   // slow, but never 2 s without taking anything
                }
            }
            assertEquals(total, got);
        }
    }

    @Test
    void theOptionRefusesZeroAndNegativeTimeOuts() {
        assertThrows(IllegalArgumentException.class, () -> ConnldOptions.builder().writeTimeout(Duration.ZERO));
        assertThrows(IllegalArgumentException.class,
            () -> ConnldOptions.builder().writeTimeout(Duration.ofSeconds(-1)));
        assertEquals(null, ConnldOptions.defaults().writeTimeout());
        assertEquals(TIMEOUT, ConnldOptions.builder().writeTimeout(TIMEOUT).build().writeTimeout());
    }

    /** Reads what the server managed to write, then end of stream (not a hang). */
    private static void assertEndAfterSomeData(Connection c) throws StreamsException {
        byte[] b = new byte[1 << 20];
        long got = 0;
        while (true) {
            int n = c.read(b, 0, b.length, GUARD);
            if (n < 0) {
                break;
            }
            got += n;
        }
        assertTrue(got > 0, "the client got what was written before the time-out");
    }
}
