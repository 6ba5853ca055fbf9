package org.streams4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.streams4j.testsupport.ConnldEchoServerMain.readLine;
import static org.streams4j.testsupport.ConnldEchoServerMain.serveInBackground;
import static org.streams4j.testsupport.ConnldEchoServerMain.writeLine;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.streams4j.testsupport.ConnldClientMain;
import org.streams4j.testsupport.ConnldEchoServerMain;
import org.streams4j.testsupport.Child;
import org.streams4j.testsupport.ConnldEchoServerMain.Serving;

/**
 * Many clients at once through {@link ConnldServer#serve}: each gets its own
 * private connection (its token and nothing else comes back), and the server
 * knows who each one is (uid, gid, pid), also for clients in other processes.
 */
@SuppressWarnings("try") // a serving server is a resource its try block need not name
class ConnldConcurrentClientsTest {
    private static final Duration GUARD = TestSupport.guard(Duration.ofSeconds(60));

    @TempDir
    Path dir;

    @RegisterExtension
    final TestSupport.HandlerFailures failures = new TestSupport.HandlerFailures();

    /** Reads the client's token line, notes who sent it, answers with the same line, then echoes. */
    private static ConnldServer.Handler recordingEcho(Map<String, PeerCredentials> seen) {
        return c -> {
            String token = readLine(c);
            if (token == null) {
                return;     // a probe, or a client that changed its mind
            }
            PeerCredentials old = seen.putIfAbsent(token, c.peer());
            if (old != null) {
                throw new AssertionError("token " + token + " arrived twice");
            }
            writeLine(c, token);
            ConnldEchoServerMain.echo(c);
        };
    }

    @Test
    void twoHundredConcurrentClientsEachGetExactlyTheirOwnToken() throws Exception {
        int clients = 200;
        Path p = dir.resolve("echo");
        Map<String, PeerCredentials> seen = new ConcurrentHashMap<>();
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        try (Serving s = serveInBackground(ConnldServer.bind(p), failures.wrap(recordingEcho(seen)))) {
            CountDownLatch go = new CountDownLatch(1);
            List<String> tokens = new ArrayList<>();
            List<Future<String>> replies = new ArrayList<>();
            for (int i = 0; i < clients; i++) {
                String token = "client-" + i + "-" + UUID.randomUUID();
                tokens.add(token);
                replies.add(pool.submit(() -> {
                    go.await();
                    try (Connection c = ConnldClient.connect(p)) {
                        writeLine(c, token);
                        String back = readLine(c);
                        // Nothing else may follow on a private connection: a second exchange
                        // still gives exactly what this client sent.
                        writeLine(c, token + "/2");
                        String again = readLine(c);
                        return back + "|" + again;
                    }
                }));
            }
            go.countDown();
            for (int i = 0; i < clients; i++) {
                String reply = replies.get(i).get(GUARD.toSeconds(), TimeUnit.SECONDS);
                assertEquals(tokens.get(i) + "|" + tokens.get(i) + "/2", reply, "client " + i);
            }
            assertEquals(clients, seen.size(), "tokens the server saw");
            long pid = ProcessHandle.current().pid();
            for (String token : tokens) {
                PeerCredentials peer = seen.get(token);
                assertNotNull(peer, "server never saw " + token);
                assertEquals(Platform.euid(), peer.uid(), token + ": " + peer);
                assertEquals(Platform.egid(), peer.gid(), token + ": " + peer);
                assertEquals(pid, peer.pid().orElseThrow(), token + ": " + peer);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void clientsInOtherProcessesAreKnownByTheirPid() throws Exception {
        int processes = 3;
        Path p = dir.resolve("procs");
        Map<String, PeerCredentials> seen = new ConcurrentHashMap<>();
        List<Child> children = new ArrayList<>();
        try (Serving s = serveInBackground(ConnldServer.bind(p), failures.wrap(recordingEcho(seen)))) {
            List<String> tokens = new ArrayList<>();
            for (int i = 0; i < processes; i++) {
                String token = "process-" + i + "-" + UUID.randomUUID();
                tokens.add(token);
                children.add(Child.start(ConnldClientMain.class, p.toString(), token));
            }
            for (int i = 0; i < processes; i++) {
                Child child = children.get(i);
                String token = tokens.get(i);
                assertEquals("PID " + child.pid(), child.awaitLine("PID ", GUARD));
                assertEquals("ECHO " + token, child.awaitLine("ECHO ", GUARD));
                assertEquals(0, child.awaitExit(GUARD), "exit status; output " + child.output());
                PeerCredentials peer = seen.get(token);
                assertNotNull(peer, "server never saw " + token);
                assertEquals(child.pid(), peer.pid().orElseThrow(), token + ": " + peer);
                assertEquals(Platform.euid(), peer.uid(), token + ": " + peer);
                assertEquals(Platform.egid(), peer.gid(), token + ": " + peer);
                assertTrue(child.pid() != ProcessHandle.current().pid());
            }
        } finally {
            for (Child c : children) {
                c.close();
            }
        }
    }
}
