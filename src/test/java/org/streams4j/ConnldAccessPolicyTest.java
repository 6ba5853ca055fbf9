package org.streams4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.streams4j.testsupport.ConnldEchoServerMain.readLine;
import static org.streams4j.testsupport.ConnldEchoServerMain.serveInBackground;
import static org.streams4j.testsupport.ConnldEchoServerMain.writeLine;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Level;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.streams4j.testsupport.ConnldEchoServerMain;
import org.streams4j.testsupport.ConnldEchoServerMain.Serving;
import org.streams4j.testsupport.Async;

/**
 * {@link ConnldOptions} allow lists: a client they exclude is closed before
 * any handler sees it, and the refusal is logged at WARNING on
 * {@code org.streams4j.connld} (System.Logger, which goes to java.util.logging).
 */
@SuppressWarnings("try") // a serving server is a resource its try block need not name
class ConnldAccessPolicyTest {
    private static final Duration GUARD = TestSupport.guard(Duration.ofSeconds(10));
    /** What a client's read may fail with instead of returning end of stream. */
    private static final Set<String> RESET_LIKE = Set.of("ECONNRESET", "ENXIO");

    @TempDir
    Path dir;

    @RegisterExtension
    final TestSupport.LogCapture log = new TestSupport.LogCapture("org.streams4j.connld");

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
                // Names the path and the client (its uid), whatever the wording.
                assertTrue(m.contains("uid=" + euid), m);
                assertTrue(m.contains(p.toString()), m);
            }
            assertEquals(0, handled.get(), "the handler saw a refused client");
        }
    }

    @Test
    void aClientWhoseGidIsNotAllowedIsRefusedToo() throws Exception {
        assertOneClientRefused("gid-policy", ConnldOptions.builder().allowGids(Set.of(Platform.egid() + 12345)).build(),
            "gid=" + Platform.egid());
    }

    /** One client of a server with these options is closed unhandled, and the WARNING names it with {@code who}. */
    private void assertOneClientRefused(String name, ConnldOptions options, String who) throws Exception {
        Path p = dir.resolve(name);
        AtomicInteger handled = new AtomicInteger();
        try (Serving s = serveInBackground(ConnldServer.bind(p, options), c -> handled.incrementAndGet());
             Connection c = ConnldClient.connect(p, GUARD)) {
            assertClosedByTheServer(c);
            String m = awaitWarnings(1).get(0);
            assertTrue(m.contains(who), m);
            assertEquals(0, handled.get());
        }
    }

    @Test
    void acceptDoesNotReturnARefusedClient() throws Exception {
        Path p = dir.resolve("accept-policy");
        ConnldOptions refuseAll = ConnldOptions.builder().allowUids(Set.of(Platform.euid() + 12345)).build();
        ConnldServer s = ConnldServer.bind(p, refuseAll);
        try {
            // accept() takes the client, refuses it and goes on waiting: it ends only when the
            // server is closed, never with the refused client.
            TestSupport.Background<Connection> accepting = new TestSupport.Background<>("accept", s::accept);
            try (Connection c = ConnldClient.connect(p, GUARD)) {
                assertClosedByTheServer(c);
            }
            assertEquals(1, awaitWarnings(1).size());
            s.close();
            Throwable t = accepting.failure(GUARD);
            assertTrue(t instanceof StreamClosedException, "accept ended with " + t);
        } finally {
            s.close();
        }
    }

    /** Portable: no zone is ever known, so a zone allow list refuses every client. */
    @Test
    void aZoneAllowListRefusesClientsWhoseZoneIsUnknown() throws Exception {
        Assumptions.assumeFalse(Platform.hasZones(),
            "zones are known here: ConnldStreamsTest.aZoneAllowListAdmitsTheClientsZoneAndRefusesOthers");
        assertOneClientRefused("zone-policy", ConnldOptions.builder().allowZones(Set.of(0)).build(),
            "uid=" + Platform.euid());
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
        assertEquals(List.of(), log.at(Level.WARNING), "warnings logged for an allowed client");
        assertEquals(List.of(), log.at(Level.SEVERE));
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
        }, Async.EACH);
        String r = outcome.get(GUARD.toMillis(), TimeUnit.MILLISECONDS);
        assertTrue(r.equals("eof") || r.equals("reset"), "a refused client's read gave: " + r);
    }

    /** Waits (bounded) for n WARNING records and returns their formatted messages. */
    private List<String> awaitWarnings(int n) throws InterruptedException {
        return log.await(Level.WARNING, n, GUARD).stream().map(TestSupport.LogCapture::text).toList();
    }
}
