package org.streams4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.streams4j.testsupport.ConnldEchoServerMain.readLine;
import static org.streams4j.testsupport.ConnldEchoServerMain.serveInBackground;
import static org.streams4j.testsupport.ConnldEchoServerMain.writeLine;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.streams4j.testsupport.ConnldEchoServerMain;
import org.streams4j.testsupport.Child;
import org.streams4j.testsupport.ConnldEchoServerMain.Serving;

/**
 * A server process killed with SIGKILL: no close(), no clean-up. Its clients
 * must notice, new clients must be told the server is gone, and a new server
 * must be able to take the path.
 */
@SuppressWarnings("try") // a serving server is a resource its try block need not name
class ConnldCrashTest {
    private static final Duration GUARD = TestSupport.guard(Duration.ofSeconds(30));
    /** Hang guard for noticing the death; it is expected within a second. */
    private static final Duration NOTICE = TestSupport.guard(Duration.ofSeconds(5));
    /** What a read may fail with instead of returning end of stream. */
    private static final Set<String> RESET_LIKE = Set.of("ECONNRESET", "ENXIO");

    @TempDir
    Path dir;

    @Test
    void clientsOfAKilledServerSeeEndOfStreamAndANewServerTakesThePath() throws Exception {
        Path p = dir.resolve("crashing");
        List<Connection> clients = new ArrayList<>();
        try (Child server = Child.start(ConnldEchoServerMain.class, p.toString())) {
            long serverPid = Long.parseLong(server.awaitLine("READY ", GUARD).substring("READY ".length()));
            assertEquals(server.pid(), serverPid);
            for (int i = 0; i < 3; i++) {
                Connection c = ConnldClient.connect(p, GUARD);
                clients.add(c);
                writeLine(c, "alive-" + i);
                assertEquals("alive-" + i, readLine(c));
            }

            // Every client blocks in read, then the server dies.
            List<CompletableFuture<Long>> noticed = new ArrayList<>();
            List<Thread> readers = new ArrayList<>();
            for (Connection c : clients) {
                CompletableFuture<Long> f = new CompletableFuture<>();
                Thread t = new Thread(() -> {
                    try {
                        int n = c.read(new byte[16], 0, 16);
                        long at = System.nanoTime();
                        if (n == -1) {
                            f.complete(at);
                        } else {
                            f.completeExceptionally(new AssertionError("read " + n + " bytes from a dead server"));
                        }
                    } catch (StreamsException e) {
                        long at = System.nanoTime();
                        if (RESET_LIKE.contains(e.errnoName())) {
                            f.complete(at);
                        } else {
                            f.completeExceptionally(e);
                        }
                    } catch (Throwable e) {
                        f.completeExceptionally(e);
                    }
                }, "reader " + c);
                t.setDaemon(true);
                t.start();
                readers.add(t);
                noticed.add(f);
            }
            for (Thread t : readers) {
                TestSupport.awaitInNative(t, "s4j_recv", GUARD);
            }
            long killedAt = System.nanoTime();
            server.process().destroyForcibly();     // SIGKILL
            for (int i = 0; i < noticed.size(); i++) {
                long at;
                try {
                    at = noticed.get(i).get(NOTICE.toMillis(), TimeUnit.MILLISECONDS);
                } catch (TimeoutException e) {
                    throw new AssertionError("client " + i + " did not notice the server's death within " + NOTICE);
                } catch (ExecutionException e) {
                    throw new AssertionError("client " + i + ": " + e.getCause(), e.getCause());
                }
                System.out.printf("ConnldCrashTest: client %d noticed the SIGKILL after %.1f ms%n",
                    i, (at - killedAt) / 1e6);
            }
            assertFalse(server.awaitExit(GUARD) == 0, "a SIGKILLed server exited with status 0");

            // Writing to the dead server fails with EPIPE, as the semantics page says.
            StreamsException w = assertThrows(StreamsException.class,
                () -> clients.get(0).writeFully(new byte[] {'x'}));
            assertEquals("EPIPE", w.errnoName(), w.getMessage());

            // A new client is told that nobody serves the path any more, and nothing is written there.
            StreamsException gone = assertThrows(StreamsException.class, () -> ConnldClient.connect(p, GUARD));
            if (Platform.backend() == Backend.PORTABLE) {
                assertEquals("ECONNREFUSED", gone.errnoName(), gone.getMessage());
                assertTrue(gone.getMessage().contains("the server at " + p + " is gone"), gone.getMessage());
                // The dead server's socket is still there: replacing it can be refused.
                assertTrue(Files.exists(p, LinkOption.NOFOLLOW_LINKS));
                StreamsException kept = assertThrows(StreamsException.class,
                    () -> ConnldServer.bind(p, ConnldOptions.builder().replaceStale(false).build()));
                assertTrue(kept.getMessage().contains("replacing it is not allowed"), kept.getMessage());
                assertTrue(Files.exists(p, LinkOption.NOFOLLOW_LINKS), "a refused bind removed the stale socket");
            } else {
                // The kernel detached the dead server's pipe: the path is the plain file again.
                assertEquals("ENOSTR", gone.errnoName(), gone.getMessage());
                assertEquals(0L, Files.size(p), "a client wrote into the plain file");
                // The dead server's attach point may be re-used: not when forbidden.
                StreamsException kept = assertThrows(StreamsException.class,
                    () -> ConnldServer.bind(p, ConnldOptions.builder().replaceStale(false).build()));
                assertEquals("EEXIST", kept.errnoName(), kept.getMessage());
                assertTrue(Files.exists(p, LinkOption.NOFOLLOW_LINKS), "a refused bind removed the attach point");
            }
        } finally {
            clients.forEach(Connection::close);
        }

        // A new server takes the path (the stale socket or plain file is replaced or re-used)
        // with the mode it asks for, not the dead server's (0600), and removes it on close.
        try (Serving s = serveInBackground(ConnldServer.bind(p, ConnldOptions.builder().mode(0640).build()),
                 ConnldEchoServerMain::echo);
             Connection c = ConnldClient.connect(p, GUARD)) {
            writeLine(c, "reborn");
            assertEquals("reborn", readLine(c));
            assertTrue(Streams.isAttached(p), p + " is not attached after the new bind");
            assertEquals(0640, org.streams4j.internal.FileStat.ofPath(p.toString()).perm(),
                "the restarted server's mode");
        }
        assertTrue(Files.notExists(p, LinkOption.NOFOLLOW_LINKS), "close left " + p + " behind after a restart");
    }

}
