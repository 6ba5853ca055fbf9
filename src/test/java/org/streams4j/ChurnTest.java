package org.streams4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.streams4j.testsupport.ConnldEchoServerMain.serveEventsInBackground;
import static org.streams4j.testsupport.ConnldEchoServerMain.serveInBackground;

import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.streams4j.testsupport.ConnldEchoServerMain;
import org.streams4j.testsupport.Child;
import org.streams4j.testsupport.ConnldEchoServerMain.Serving;
import org.streams4j.testsupport.ManyClientsMain;

/**
 * Churn: 10,000 connect, transfer, close cycles against serve, and 1,000
 * clients with random early closes plus client processes SIGKILLed while
 * connected against serveEvents. Afterwards this process's descriptors,
 * threads and heap (after GC) are back where they were, and every client that
 * stayed got back exactly what it sent. Both backends.
 */
@SuppressWarnings("try")
class ChurnTest {
    private static final Duration GUARD = TestSupport.guard(Duration.ofSeconds(60));

    @TempDir
    Path dir;

    @RegisterExtension
    final TestSupport.HandlerFailures failures = new TestSupport.HandlerFailures();

    /** Descriptors, live threads and heap used after GC: what must come back. */
    private record Usage(long fds, int threads, long heap) {
        static Usage now() throws Exception {
            long heap = Long.MAX_VALUE;
            for (int i = 0; i < 3; i++) {
                System.gc();
                Thread.sleep(50);
                heap = Math.min(heap, ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed());
            }
            return new Usage(TestSupport.openDescriptorCount(), Thread.activeCount(), heap);
        }

        /** Waits (threads end and descriptors close a little after serve returns) until back at most at base. */
        static Usage settle(Usage base) throws Exception {
            long deadline = System.nanoTime() + TestSupport.guard(Duration.ofSeconds(40)).toNanos();
            Usage u;
            do {
                u = now();
            } while ((u.fds > base.fds || u.threads > base.threads) && System.nanoTime() < deadline);
            return u;
        }

        String against(Usage base) {
            return String.format("descriptors %d -> %d, threads %d -> %d, heap after GC %.1f -> %.1f MiB",
                base.fds, fds, base.threads, threads, base.heap / 1048576.0, heap / 1048576.0);
        }
    }

    private static void assertBack(String what, Usage base, Usage after) {
        System.out.println(what + ": " + after.against(base));
        assertTrue(after.fds <= base.fds, what + ": " + after.against(base));
        assertTrue(after.threads <= base.threads, what + ": " + after.against(base));
        assertTrue(after.heap <= base.heap + (16L << 20), what + ": " + after.against(base));
    }

    @Test
    void tenThousandConnectTransferCloseCycles() throws Exception {
        Path p = dir.resolve("cycles");
        ConnldServer.Handler echo = ConnldEchoServerMain::echo;
        Usage base;
        int cycles = 10_000;
        long t0;
        AtomicInteger done = new AtomicInteger();
        try (ConnldServer bound = ConnldServer.bind(p, ConnldOptions.builder().threads(8).build())) {
            base = Usage.now();
            t0 = System.nanoTime();
            try (Serving s = serveInBackground(bound, failures.wrap(echo))) {
                ExecutorService clients = Executors.newFixedThreadPool(4);
                try {
                    List<Future<?>> fs = new ArrayList<>();
                    for (int k = 0; k < 4; k++) {
                        int first = k;
                        fs.add(clients.submit(() -> {
                            for (int i = first; i < cycles; i += 4) {
                                byte[] sent = payload(i, 1 + i % 4096);
                                try (Connection c = ConnldClient.connect(p, GUARD)) {
                                    c.writeFully(sent);
                                    assertArrayEquals(sent, TestSupport.readExactly(c.fd(), sent.length));
                                }
                                done.incrementAndGet();
                            }
                            return null;
                        }));
                    }
                    for (Future<?> f : fs) {
                        f.get(TestSupport.guard(Duration.ofSeconds(120)).toMillis(), TimeUnit.MILLISECONDS);
                    }
                } finally {
                    clients.shutdown();
                    assertTrue(clients.awaitTermination(TestSupport.guard(Duration.ofSeconds(10)).toMillis(), TimeUnit.MILLISECONDS));
                }
            }
        }
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertEquals(cycles, done.get());
        System.out.println("churn: " + cycles + " connect/transfer/close cycles in " + ms + " ms");
        assertBack("churn serve", base, Usage.settle(base));
    }

    @Test
    void aThousandClientsWithEarlyClosesAndKillsAgainstServeEvents() throws Exception {
        Path p = dir.resolve("events");
        ConnldServer.EventHandler echo = c -> {
            byte[] b = new byte[16 * 1024];
            try {
                int n = c.read(b, 0, b.length);
                if (n > 0) {
                    c.writeFully(b, 0, n);
                }
                return n >= 0;
            } catch (StreamsException e) {
                // A client that closed early or was killed: its connection ends, nothing else.
                if (!List.of("EPIPE", "ECONNRESET").contains(e.errnoName())) {
                    throw e;
                }
                return false;
            }
        };
        int clients = 1000;
        AtomicInteger exact = new AtomicInteger();
        AtomicInteger early = new AtomicInteger();
        Usage base;
        int killed = 0;
        try (ConnldServer bound = ConnldServer.bind(p, ConnldOptions.builder().loops(2).build())) {
            base = Usage.now();
            try (Serving s = serveEventsInBackground(bound, failures.wrapEvents(echo))) {
                List<Child> doomed = new ArrayList<>();
                ExecutorService pool = Executors.newFixedThreadPool(16);
                try {
                    List<Future<?>> fs = new ArrayList<>();
                    for (int i = 0; i < clients; i++) {
                        int id = i;
                        fs.add(pool.submit(() -> {
                            Random r = new Random(id);
                            byte[] sent = payload(id, 1 + r.nextInt(64 * 1024));
                            try (Connection c = ConnldClient.connect(p, GUARD)) {
                                if (r.nextInt(5) == 0) {
                                    c.writeFully(sent, 0, sent.length / 2 + 1);  // and gone, reading nothing
                                    early.incrementAndGet();
                                    return null;
                                }
                                Thread writer = new Thread(() -> {
                                    try {
                                        c.writeFully(sent);
                                    } catch (StreamsException e) {
                                        throw new IllegalStateException(e);
                                    }
                                });
                                writer.start();
                                byte[] got = TestSupport.readExactly(c.fd(), sent.length);
                                writer.join();
                                assertArrayEquals(sent, got, "client " + id);
                                exact.incrementAndGet();
                            }
                            return null;
                        }));
                        if (i % 250 == 100) {
                            // A process with 25 connections, killed once they are all up.
                            Child victim = Child.start(ManyClientsMain.class, p.toString(), "25");
                            doomed.add(victim);
                        }
                    }
                    for (Child victim : doomed) {
                        victim.awaitLine("HELD ", GUARD);
                        victim.kill();
                        killed++;
                    }
                    for (Future<?> f : fs) {
                        f.get(TestSupport.guard(Duration.ofSeconds(120)).toMillis(), TimeUnit.MILLISECONDS);
                    }
                } finally {
                    pool.shutdown();
                    assertTrue(pool.awaitTermination(TestSupport.guard(Duration.ofSeconds(10)).toMillis(), TimeUnit.MILLISECONDS));
                    doomed.forEach(Child::close);
                }
            }
        }
        assertEquals(clients, exact.get() + early.get());
        System.out.println("churn serveEvents: " + exact.get() + " clients byte-exact, " + early.get()
            + " closed early, " + killed + " processes of 25 connections SIGKILLed");
        assertBack("churn serveEvents", base, Usage.settle(base));
    }

    private static byte[] payload(long seed, int n) {
        byte[] b = new byte[n];
        new Random(seed * 31 + n).nextBytes(b);
        return b;
    }
}
