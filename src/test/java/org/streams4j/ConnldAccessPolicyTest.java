package org.streams4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.streams4j.testsupport.ConnldEchoServerMain.readLine;
import static org.streams4j.testsupport.ConnldEchoServerMain.serveInBackground;
import static org.streams4j.testsupport.ConnldEchoServerMain.writeLine;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.logging.SimpleFormatter;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.streams4j.testsupport.ConnldEchoServerMain;
import org.streams4j.testsupport.ConnldEchoServerMain.Serving;

/**
 * {@link ConnldOptions} allow lists: a client they exclude is closed before
 * any handler sees it, and the refusal is logged at WARNING on
 * {@code org.streams4j.connld} (System.Logger, which goes to java.util.logging).
 */
@SuppressWarnings("try") // a serving server is a resource its try block need not name
class ConnldAccessPolicyTest {
    private static final Duration GUARD = Duration.ofSeconds(10);
    /** What a client's read may fail with instead of returning end of stream. */
    private static final Set<String> RESET_LIKE = Set.of("ECONNRESET", "ENXIO");

    @TempDir
    Path dir;

    /** Held here: java.util.logging keeps loggers only weakly. */
    private Logger jul;
    private final List<LogRecord> records = new ArrayList<>();
    private final Handler capture = new Handler() {
        @Override
        public void publish(LogRecord r) {
            synchronized (records) {
                records.add(r);
            }
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };

    @BeforeEach
    void captureLog() {
        jul = Logger.getLogger("org.streams4j.connld");
        capture.setLevel(Level.ALL);
        jul.addHandler(capture);
    }

    @AfterEach
    void releaseLog() {
        jul.removeHandler(capture);
    }

    @Test
    void aClientWhoseUidIsNotAllowedIsClosedAndTheRefusalIsLogged() throws Exception {
        int euid = Platform.euid();
        Path p = dir.resolve("uid-policy");
        AtomicInteger handled = new AtomicInteger();
        ConnldOptions options = ConnldOptions.builder().allowUids(Set.of(euid + 12345)).build();
        try (Serving s = serveInBackground(ConnldServer.bind(p, options), c -> handled.incrementAndGet())) {
            // One client only listens, one speaks first: both find the connection closed.
            try (Connection quiet = ConnldClient.connect(p, GUARD)) {
                assertClosedByTheServer(quiet);
            }
            try (Connection talker = ConnldClient.connect(p, GUARD)) {
                try {
                    writeLine(talker, "let me in");
                } catch (StreamsException e) {
                    assertEquals("EPIPE", e.errnoName(), e.getMessage());     // closed already
                }
                assertClosedByTheServer(talker);
            }
            List<String> refusals = awaitWarnings(2);
            for (String m : refusals) {
                assertTrue(m.contains("uid=" + euid), m);
                assertTrue(m.contains("refused"), m);
                assertTrue(m.contains(p.toString()), m);
            }
            assertEquals(0, handled.get(), "the handler saw a refused client");
        }
    }

    @Test
    void aClientWhoseGidIsNotAllowedIsRefusedToo() throws Exception {
        Path p = dir.resolve("gid-policy");
        AtomicInteger handled = new AtomicInteger();
        ConnldOptions options = ConnldOptions.builder().allowGids(Set.of(Platform.egid() + 12345)).build();
        try (Serving s = serveInBackground(ConnldServer.bind(p, options), c -> handled.incrementAndGet());
             Connection c = ConnldClient.connect(p, GUARD)) {
            assertClosedByTheServer(c);
            String m = awaitWarnings(1).get(0);
            assertTrue(m.contains("gid=" + Platform.egid()), m);
            assertEquals(0, handled.get());
        }
    }

    @Test
    void acceptDoesNotReturnARefusedClient() throws Exception {
        Path p = dir.resolve("accept-policy");
        ConnldOptions refuseAll = ConnldOptions.builder().allowUids(Set.of(Platform.euid() + 12345)).build();
        try (ConnldServer s = ConnldServer.bind(p, refuseAll)) {
            CompletableFuture<Connection> client = CompletableFuture.supplyAsync(() -> {
                try {
                    return ConnldClient.connect(p);
                } catch (StreamsException e) {
                    throw new RuntimeException(e);
                }
            });
            Optional<Connection> got = s.accept(Duration.ofMillis(500));
            assertTrue(got.isEmpty(), "accept returned a refused client: " + got);
            try (Connection c = client.get(GUARD.toMillis(), TimeUnit.MILLISECONDS)) {
                assertClosedByTheServer(c);
            }
            assertEquals(1, awaitWarnings(1).size());
        }
    }

    @Test
    void aClientOnTheAllowListsIsServedAndNothingIsLogged() throws Exception {
        Path p = dir.resolve("allowed");
        ConnldOptions options = ConnldOptions.builder()
            .allowUids(Set.of(Platform.euid(), Platform.euid() + 12345))
            .allowGids(Set.of(Platform.egid()))
            .build();
        try (Serving s = serveInBackground(ConnldServer.bind(p, options), ConnldEchoServerMain::echo);
             Connection c = ConnldClient.connect(p, GUARD)) {
            writeLine(c, "welcome");
            assertEquals("welcome", readLine(c));
        }
        synchronized (records) {
            assertTrue(records.stream().noneMatch(r -> r.getLevel().intValue() >= Level.WARNING.intValue()),
                "warnings logged for an allowed client: " + records.stream().map(this::text).toList());
        }
    }

    /** The client's next read ends the stream (-1) or reports a reset, within the guard. */
    static void assertClosedByTheServer(Connection c) throws Exception {
        CompletableFuture<String> outcome = CompletableFuture.supplyAsync(() -> {
            try {
                int n = c.read(new byte[64], 0, 64);
                return n == -1 ? "eof" : "read " + n + " bytes";
            } catch (StreamsException e) {
                return RESET_LIKE.contains(e.errnoName()) ? "reset" : e.getMessage();
            }
        });
        String r = outcome.get(GUARD.toMillis(), TimeUnit.MILLISECONDS);
        assertTrue(r.equals("eof") || r.equals("reset"), "a refused client's read gave: " + r);
    }

    /** Waits (bounded) for n WARNING records and returns their formatted messages. */
    private List<String> awaitWarnings(int n) throws InterruptedException {
        long deadline = System.nanoTime() + GUARD.toNanos();
        while (true) {
            List<String> warnings = new ArrayList<>();
            synchronized (records) {
                for (LogRecord r : records) {
                    if (r.getLevel() == Level.WARNING) {
                        warnings.add(text(r));
                    }
                }
            }
            if (warnings.size() >= n) {
                assertEquals(n, warnings.size(), "warnings: " + warnings);
                return warnings;
            }
            if (System.nanoTime() > deadline) {
                fail("expected " + n + " WARNING records on org.streams4j.connld within " + GUARD + ", got " + warnings);
            }
            Thread.sleep(10);
        }
    }

    private String text(LogRecord r) {
        return new SimpleFormatter().formatMessage(r);
    }
}
