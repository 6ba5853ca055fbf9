package org.streams4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.streams4j.testsupport.ConnldEchoServerMain.readLine;
import static org.streams4j.testsupport.ConnldEchoServerMain.serveInBackground;
import static org.streams4j.testsupport.ConnldEchoServerMain.writeLine;

import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.streams4j.TestSupport.Background;
import org.streams4j.testsupport.ConnldEchoServerMain;
import org.streams4j.testsupport.Child;
import org.streams4j.testsupport.ConnldEchoServerMain.Serving;
import org.streams4j.testsupport.StreamingClientMain;

/**
 * What hosts and clients do to a server: a client SIGKILLed mid-transfer, and
 * a server that runs out of descriptors under a crowd of clients. Real
 * processes, real signals, a real {@code ulimit -n}; both backends.
 */
@SuppressWarnings("try")
class FaultsTest {
    private static final Duration GUARD = TestSupport.guard(Duration.ofSeconds(60));

    @TempDir
    Path dir;

    @RegisterExtension
    final TestSupport.HandlerFailures failures = new TestSupport.HandlerFailures();

    /**
     * A client process killed with SIGKILL while it streams: its handler sees
     * end of stream or EPIPE/ECONNRESET, never anything else, and the clients
     * transferring at the same time get back exactly what they sent.
     */
    @Test
    void aClientKilledMidTransferEndsOnlyItsOwnConnection() throws Exception {
        Path p = dir.resolve("kill");
        List<Map.Entry<Long, String>> endings = new java.util.concurrent.CopyOnWriteArrayList<>();
        ConnldServer.Handler echo = c -> {
            long pid = c.peer().pid().orElse(-1);
            byte[] buf = new byte[64 * 1024];
            try {
                while (true) {
                    int n = c.read(buf, 0, buf.length);
                    if (n < 0) {
                        endings.add(Map.entry(pid, "EOF"));
                        return;
                    }
                    c.writeFully(buf, 0, n);
                }
            } catch (StreamsException e) {
                endings.add(Map.entry(pid, e.errnoName()));
            }
        };
        int clients = 8;
        int size = 4 << 20;
        try (Serving s = serveInBackground(ConnldServer.bind(p), failures.wrap(echo));
             Child victim = Child.start(StreamingClientMain.class, p.toString())) {
            victim.awaitLine("STREAMING", GUARD);
            List<Background<byte[][]>> running = new ArrayList<>();
            for (int i = 0; i < clients; i++) {
                long seed = i;
                running.add(new Background<>("client " + i, () -> transfer(p, size, seed)));
            }
            Thread.sleep(200);
            victim.kill();
            for (Background<byte[][]> b : running) {
                byte[][] digests = b.get(GUARD);
                assertArrayEquals(digests[0], digests[1], b.thread().getName() + ": what came back is what went");
            }
            long deadline = System.nanoTime() + GUARD.toNanos();
            while (endings.size() < clients + 1 && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertEquals(clients + 1, endings.size(), "every handler ended: " + endings);
            List<String> victims = endings.stream().filter(e -> e.getKey() == victim.pid())
                .map(Map.Entry::getValue).toList();
            assertEquals(1, victims.size(), "one connection of the killed client: " + endings);
            assertTrue(List.of("EOF", "EPIPE", "ECONNRESET").contains(victims.get(0)),
                "the killed client's handler saw: " + victims.get(0));
            assertTrue(endings.stream().filter(e -> e.getKey() != victim.pid()).allMatch(e -> e.getValue().equals("EOF")),
                "the others ended cleanly: " + endings);
            System.out.println("SIGKILL mid-transfer: the killed client's handler saw " + victims.get(0) + "; "
                + clients + " others got their " + (size >> 20) + " MiB back byte-exact (SHA-256)");
        }
    }

    /** Sends size random bytes (seeded) and reads the echo at once; SHA-256 of both. */
    private static byte[][] transfer(Path p, int size, long seed) throws Exception {
        MessageDigest sent = MessageDigest.getInstance("SHA-256");
        MessageDigest got = MessageDigest.getInstance("SHA-256");
        try (Connection c = ConnldClient.connect(p, GUARD)) {
            Background<Void> writer = new Background<>("writer " + seed, () -> {
                Random r = new Random(seed);
                byte[] b = new byte[32 * 1024 + (int) seed];
                for (int left = size; left > 0; ) {
                    int n = Math.min(left, b.length);
                    r.nextBytes(b);
                    c.writeFully(b, 0, n);
                    sent.update(b, 0, n);
                    left -= n;
                }
                return null;
            });
            byte[] b = new byte[64 * 1024];
            for (long total = 0; total < size; ) {
                int n = c.read(b, 0, b.length, GUARD);
                if (n < 0) {
                    throw new AssertionError("end of stream after " + total + " of " + size);
                }
                got.update(b, 0, n);
                total += n;
            }
            writer.get(GUARD);
        }
        return new byte[][] {sent.digest(), got.digest()};
    }

    /**
     * A server under {@code ulimit -n 64} and 300 clients that connect with
     * blocking connects and each hold their connection a while: every client
     * is served in the end, the server's CPU time while it is starved stays
     * far below the wall time (no spinning on a readable listener), it says
     * once that it is out of descriptors, and its path still serves after.
     */
    @Test
    void threeHundredClientsAgainstAServerWithSixtyFourDescriptors() throws Exception {
        Path p = dir.resolve("starved");
        int clients = 300;
        AtomicInteger served = new AtomicInteger();
        try (Child server = Child.startWithDescriptorLimit(64, ConnldEchoServerMain.class, p.toString(),
            "threads=1000")) {
            server.awaitLine("READY ", GUARD);
            ProcessHandle ph = server.process().toHandle();
            Duration cpu0 = ph.info().totalCpuDuration().orElseThrow();
            long t0 = System.nanoTime();
            List<Background<Void>> running = new ArrayList<>();
            for (int i = 0; i < clients; i++) {
                String token = "client " + i;
                running.add(new Background<>(token, () -> {
                    try (Connection c = ConnldClient.connect(p)) {    // blocking: waits for its turn
                        writeLine(c, token);
                        assertEquals(token, readLine(c));
                        Thread.sleep(300);      // hold the server's descriptor
                        served.incrementAndGet();
                    }
                    return null;
                }));
            }
            for (Background<Void> b : running) {
                b.get(GUARD);
            }
            long wallMs = (System.nanoTime() - t0) / 1_000_000;
            Duration cpu = ph.info().totalCpuDuration().orElseThrow().minus(cpu0);
            assertEquals(clients, served.get());
            // Still healthy: the listening socket or attachment serves a new client.
            try (Connection c = ConnldClient.connect(p, GUARD)) {
                writeLine(c, "after");
                assertEquals("after", readLine(c));
            }
            List<String> out = server.output();
            long said = out.stream().filter(l -> l.contains("out of descriptors")).count();
            System.out.printf("descriptor exhaustion: %d clients served in %d ms; server CPU %.2f s (%.0f %% of wall)"
                    + "; said out of descriptors %d time(s)%n", clients, wallMs, cpu.toMillis() / 1000.0,
                100.0 * cpu.toMillis() / wallMs, said);
            assertTrue(out.stream().anyMatch(l -> l.contains("EMFILE")), "the server did run out: " + out);
            assertEquals(1, said, "said once: " + out);
            assertTrue(cpu.toMillis() < wallMs / 2, "CPU " + cpu.toMillis() + " ms in " + wallMs + " ms: spinning");
            assertTrue(server.process().isAlive(), out.toString());
        }
    }
}
