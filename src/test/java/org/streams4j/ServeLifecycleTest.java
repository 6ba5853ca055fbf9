package org.streams4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.streams4j.TestSupport.Background;
import org.streams4j.testsupport.TimeScale;

/**
 * Issue 23, item 3: a server's life as a caller sees it. serve()'s close ends
 * every handler and connection, as serveEvents' does; start and startEvents
 * serve without taking the caller's thread; awaitTermination waits for the
 * end; the options' ThreadFactory makes the server's threads.
 */
class ServeLifecycleTest {
    private static final Duration GUARD = TimeScale.guard(Duration.ofSeconds(20));

    @TempDir
    Path dir;

    private static ConnldOptions.Builder options() {
        return ConnldOptions.builder().shutdownHook(false);
    }


    private static final ConnldServer.Handler ECHO = c -> {
        byte[] b = new byte[256];
        for (int n; (n = c.read(b, 0, b.length)) > 0; ) {
            c.writeFully(b, 0, n);
        }
    };

    @Test
    void closingAServeEndsEveryHandlerAndConnection() throws Exception {
        Path p = dir.resolve("serve");
        int clients = 5;
        CountDownLatch reading = new CountDownLatch(clients);
        AtomicInteger woken = new AtomicInteger();
        AtomicInteger returned = new AtomicInteger();
        TestSupport.Descriptors before = TestSupport.Descriptors.now();
        ConnldServer s = ConnldServer.bind(p, options().threads(clients).build());
        Background<Void> serving = new Background<>("serve", () -> {
            s.serve(c -> {
                try {
                    reading.countDown();
                    c.read(new byte[1], 0, 1);   // the client never sends: blocked until closed
                } catch (StreamClosedException e) {
                    woken.incrementAndGet();
                } finally {
                    returned.incrementAndGet();
                }
            });
            return null;
        });
        List<Connection> held = new ArrayList<>();
        try {
            for (int i = 0; i < clients; i++) {
                held.add(ConnldClient.connect(p, GUARD));
            }
            assertTrue(reading.await(GUARD.toMillis(), TimeUnit.MILLISECONDS), "the handlers did not start");
            s.close();
            serving.get(GUARD);     // serve returned
            assertEquals(clients, returned.get(), "serve returned before its handlers");
            assertEquals(clients, woken.get(), "handlers not woken by the close");
            for (Connection c : held) {
                assertTrue(c.fd().awaitReadable(GUARD), "the client's connection stayed open");
                assertEquals(-1, c.read(new byte[1], 0, 1, GUARD), "end of stream for the client");
            }
            assertTrue(s.awaitTermination(Duration.ZERO));
        } finally {
            held.forEach(Connection::close);
            s.close();
        }
        TestSupport.assertClosedSince(before, GUARD, dir);
    }

    /** Every slot taken, the accept loop waits for one: close still ends serveEvents (it waited for ever). */
    @Test
    void aServeEventsWithEverySlotTakenStillStops() throws Exception {
        Path p = dir.resolve("full");
        CountDownLatch opened = new CountDownLatch(2);
        ConnldServer s = ConnldServer.bind(p, options().loops(1).maxConnections(2).build());
        s.startEvents(new ConnldServer.EventHandler() {
            @Override
            public void opened(Connection c) {
                opened.countDown();
            }

            @Override
            public boolean readable(Connection c) throws Exception {
                return c.read(new byte[64], 0, 64) >= 0;
            }
        });
        try (Connection a = ConnldClient.connect(p, GUARD); Connection b = ConnldClient.connect(p, GUARD)) {
            assertTrue(opened.await(GUARD.toMillis(), TimeUnit.MILLISECONDS), "the two clients were not served");
            s.close();
            assertTrue(s.awaitTermination(GUARD), "serveEvents did not end with every slot taken");
            assertTrue(a.fd().awaitReadable(GUARD), "the loop's connections stayed open");
        }
    }

    @Test
    void startServesWithoutTheCallersThreadAndAwaitTerminationWaitsForTheEnd() throws Exception {
        Path p = dir.resolve("start");
        ConnldServer s = ConnldServer.bind(p, options().build());
        assertTrue(s == s.start(ECHO), "start returns the server");
        try {
            TestSupport.echoes(p, "started", GUARD);
            assertFalse(s.awaitTermination(Duration.ofMillis(50)), "ended while open");
        } finally {
            s.close();
        }
        assertTrue(s.awaitTermination(GUARD), "start's serve did not end after close");
        assertThrows(StreamClosedException.class, () -> s.start(ECHO), "start after close");
        assertThrows(StreamClosedException.class, () -> s.serve(ECHO), "serve after close");
    }

    @Test
    void startEventsAndTheOptionsThreadFactory() throws Exception {
        Path p = dir.resolve("events");
        AtomicInteger made = new AtomicInteger();
        ThreadFactory mine = r -> {
            Thread t = new Thread(r, "mine-" + made.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
        Set<String> loopThreads = ConcurrentHashMap.newKeySet();
        ConnldServer s = ConnldServer.bind(p, options().loops(2).threadFactory(mine).build());
        s.startEvents(c -> {
            loopThreads.add(Thread.currentThread().getName());
            byte[] b = new byte[256];
            int n = c.read(b, 0, b.length);
            if (n > 0) {
                c.writeFully(b, 0, n);
            }
            return n >= 0;
        });
        try {
            for (int i = 0; i < 4; i++) {
                TestSupport.echoes(p, "events " + i, GUARD);
            }
        } finally {
            s.close();
        }
        assertTrue(s.awaitTermination(GUARD), "startEvents did not end after close");
        assertEquals(3, made.get(), "the factory made the serving thread and both loops");
        assertTrue(loopThreads.stream().allMatch(n -> n.startsWith("mine-")), loopThreads.toString());
    }

    @Test
    void theFactoryMakesServesHandlerThreads() throws Exception {
        Path p = dir.resolve("pool");
        Set<String> handlerThreads = ConcurrentHashMap.newKeySet();
        ConnldServer s = ConnldServer.bind(p, options().threadFactory(r -> {
            Thread t = new Thread(r, "pool-of-mine");
            t.setDaemon(true);
            return t;
        }).build());
        s.start(c -> {
            handlerThreads.add(Thread.currentThread().getName());
            ECHO.handle(c);
        });
        try {
            TestSupport.echoes(p, "pooled", GUARD);
        } finally {
            s.close();
        }
        assertTrue(s.awaitTermination(GUARD));
        assertEquals(Set.of("pool-of-mine"), handlerThreads);
    }
}
