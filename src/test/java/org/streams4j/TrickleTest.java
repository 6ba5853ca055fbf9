package org.streams4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.streams4j.TestSupport.Background;

/**
 * Issue 20, finding 2: clients that send one byte now and then, more often
 * than the idle time-out, and never read what the server writes back. They
 * used to hold every slot for as long as they liked: each byte counted as
 * activity, and the echo never filled the kernel's buffer, so nothing was
 * ever queued for the write time-out to watch. A client that takes none of
 * what it is sent now meets the write time-out whatever it sends (the
 * kernel's count of what it left unread must go down), and a uid's share
 * of the slots keeps one user from taking them all.
 */
class TrickleTest {
    private static final Duration GUARD = Duration.ofSeconds(20);
    private static final Duration TIMEOUT = Duration.ofMillis(600);
    /** Well inside the idle time-out: each byte is activity. */
    private static final long TRICKLE_MS = 200;

    @TempDir
    Path dir;

    /** An echo that writes back what it reads (as streamsctl serve --echo). */
    private static final ConnldServer.EventHandler ECHO = c -> {
        byte[] buf = new byte[4096];
        int r = c.read(buf, 0, buf.length);
        if (r > 0) {
            c.writeFully(buf, 0, r);
        }
        return r >= 0;
    };

    /** Sends a byte every TRICKLE_MS and never reads, until a write fails; then counts down. */
    private static Background<Integer> trickle(Connection c, CountDownLatch ended) {
        return new Background<>("trickle", () -> {
            int sent = 0;
            try {
                while (sent < GUARD.toMillis() / TRICKLE_MS) {
                    c.writeFully(new byte[] {'x'});
                    sent++;
                    Thread.sleep(TRICKLE_MS);
                }
            } catch (StreamsException e) {
                ended.countDown();      // EPIPE/ECONNRESET: the server closed it
            } finally {
                c.close();
            }
            return sent;
        });
    }


    /**
     * Four slots, idle and write time-outs of 0.6 s, four clients that send
     * a byte every 0.2 s and read nothing: every one is closed by the write
     * time-out, and a client after them is answered.
     */
    @Test
    void tricklingClientsThatNeverReadMeetTheWriteTimeOut() throws Exception {
        Path p = dir.resolve("echo");
        ConnldServer s = ConnldServer.bind(p, ConnldOptions.builder().loops(1).maxConnections(4)
            .idleTimeout(TIMEOUT).writeTimeout(TIMEOUT).shutdownHook(false).build());
        Background<Void> serving = new Background<>("serveEvents", () -> {
            s.serveEvents(ECHO);
            return null;
        });
        CountDownLatch ended = new CountDownLatch(4);
        List<Background<Integer>> tricklers = new ArrayList<>();
        try {
            long t0 = System.nanoTime();
            for (int i = 0; i < 4; i++) {
                tricklers.add(trickle(ConnldClient.connect(p, GUARD), ended));
            }
            assertTrue(ended.await(GUARD.toMillis(), TimeUnit.MILLISECONDS),
                "trickling clients that never read still hold the slots after " + GUARD.toSeconds() + " s");
            long ms = (System.nanoTime() - t0) / 1_000_000;
            TestSupport.echoes(p, "after the tricklers", GUARD);
            for (Background<Integer> t : tricklers) {
                t.get(GUARD);
            }
            System.out.println("trickle: 4 of 4 clients that never read closed within " + ms
                + " ms (write time-out " + TIMEOUT.toMillis() + " ms); the next client answered");
        } finally {
            s.close();
            serving.get(GUARD);
        }
    }

    /** The same attack on serve (a thread per connection): the write time-out's watchdog closes them. */
    @Test
    void tricklingClientsMeetTheWriteTimeOutOfServeToo() throws Exception {
        Path p = dir.resolve("serve");
        ConnldServer s = ConnldServer.bind(p, ConnldOptions.builder().threads(2)
            .writeTimeout(TIMEOUT).shutdownHook(false).build());
        Background<Void> serving = new Background<>("serve", () -> {
            s.serve(c -> {
                byte[] buf = new byte[4096];
                int r;
                try {
                    while ((r = c.read(buf, 0, buf.length)) > 0) {
                        c.writeFully(buf, 0, r);
                    }
                } catch (StreamClosedException e) {
                    // the watchdog closed it
                }
            });
            return null;
        });
        CountDownLatch ended = new CountDownLatch(2);
        try {
            List<Background<Integer>> tricklers = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                tricklers.add(trickle(ConnldClient.connect(p, GUARD), ended));
            }
            assertTrue(ended.await(GUARD.toMillis(), TimeUnit.MILLISECONDS),
                "trickling clients that never read still hold both handler threads");
            TestSupport.echoes(p, "after the tricklers", GUARD);
            for (Background<Integer> t : tricklers) {
                t.get(GUARD);
            }
        } finally {
            s.close();
            serving.get(GUARD);
        }
    }

    /**
     * maxConnectionsPerUid 2 of 8 slots: a third connection of this uid is
     * refused at once (its read sees the end) while two are held, and taken
     * again once one of the two has closed.
     */
    @Test
    void oneUidHoldsNoMoreThanItsShare() throws Exception {
        Path p = dir.resolve("share");
        ConnldServer s = ConnldServer.bind(p, ConnldOptions.builder().loops(1).maxConnections(8)
            .maxConnectionsPerUid(2).shutdownHook(false).build());
        CountDownLatch closed = new CountDownLatch(1);
        Background<Void> serving = new Background<>("serveEvents", () -> {
            s.serveEvents(new ConnldServer.EventHandler() {
                @Override
                public boolean readable(Connection c) throws Exception {
                    return ECHO.readable(c);
                }

                @Override
                public void closed(Connection c) {
                    closed.countDown();
                }
            });
            return null;
        });
        try (Connection a = ConnldClient.connect(p, GUARD); Connection b = ConnldClient.connect(p, GUARD)) {
            TestSupport.echoRound(a, "a", GUARD);
            TestSupport.echoRound(b, "b", GUARD);
            try (Connection third = ConnldClient.connect(p, GUARD)) {
                int n;
                try {
                    n = third.read(new byte[1], 0, 1, GUARD);
                } catch (StreamTimeoutException e) {
                    throw new AssertionError("a third connection of one uid was held: no share", e);
                } catch (StreamsException e) {
                    n = -1;     // ECONNRESET: refused
                }
                assertEquals(-1, n, "the third connection of one uid is refused");
            }
            a.close();
            assertTrue(closed.await(GUARD.toMillis(), TimeUnit.MILLISECONDS));
            TestSupport.echoes(p, "again", GUARD);
            TestSupport.echoRound(b, "b still", GUARD);
        } finally {
            s.close();
            serving.get(GUARD);
        }
    }

}
