package org.streams4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.streams4j.TestSupport.readExactly;
import static org.streams4j.testsupport.ConnldEchoServerMain.serveEventsInBackground;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.streams4j.testsupport.ConnldEchoServerMain.Serving;

/**
 * What the one write path offers a {@code serveEvents} handler (issue 21):
 * {@link Connection#queued()} and {@link ConnldServer.EventHandler#writable}
 * to stream a long answer, the abortive {@link Connection#abort()}, a
 * graceful close bounded by the write time-out, and {@link Frames}.
 */
@SuppressWarnings("try")
class WritePathLoopTest {
    private static final Duration GUARD = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    @RegisterExtension
    final TestSupport.HandlerFailures failures = new TestSupport.HandlerFailures();

    /** 16 MB streamed in 256 KB parts, each written from writable() while less than 1 MB is queued. */
    @Test
    void aLongAnswerIsStreamedFromWritableWithLittleQueued() throws Exception {
        int part = 256 * 1024;
        int parts = 64;
        byte[] all = WritePathTest.pattern(part * parts, 3);
        AtomicLong maxQueued = new AtomicLong();
        AtomicLong writableCalls = new AtomicLong();
        ConnldServer.EventHandler h = new ConnldServer.EventHandler() {
            @Override
            public boolean readable(Connection c) throws Exception {
                int n = c.read(ByteBuffer.allocate(1));
                if (n < 0) {
                    return false;
                }
                if (n > 0) {
                    c.attach(0);
                    more(c);
                }
                return true;
            }

            @Override
            public void writable(Connection c) throws Exception {
                writableCalls.incrementAndGet();
                more(c);
            }

            private void more(Connection c) throws StreamsException {
                int next = (Integer) c.attachment();
                while (next < parts && c.queued() < 1 << 20) {
                    c.writeFully(java.util.Arrays.copyOfRange(all, next * part, (next + 1) * part));
                    next++;
                    maxQueued.accumulateAndGet(c.queued(), Math::max);
                }
                c.attach(next);
                if (next == parts) {
                    c.close();      // once the last part is written
                }
            }
        };
        try (Serving s = serveEventsInBackground(ConnldServer.bind(dir.resolve("s")), failures.wrapEvents(h));
             Connection c = ConnldClient.connect(s.server().path())) {
            c.writeFully(new byte[] {'?'});
            byte[] got = CompletableFuture.supplyAsync(() -> {
                try {
                    return c.inputStream().readAllBytes();
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            }).get(GUARD.toSeconds(), TimeUnit.SECONDS);
            assertEquals(all.length, got.length);
            assertArrayEquals(all, got);
            assertTrue(writableCalls.get() > 0, "streamed from writable()");
            assertTrue(maxQueued.get() < (1 << 20) + part, "never more than 1 MB and a part queued: " + maxQueued);
        }
    }

    @Test
    void queuedIsZeroOffALoop() throws Exception {
        try (StreamPipe p = StreamPipe.open()) {
            Connection c = new Connection(p.first(), null, null, false);
            c.writeFully(new byte[] {1});
            assertEquals(0, c.queued());
        }
    }

    /** abort() drops what is queued: the client's answer ends early. */
    @Test
    void abortClosesAtOnceAndDropsTheQueue() throws Exception {
        CountDownLatch closed = new CountDownLatch(1);
        ConnldServer.EventHandler h = new ConnldServer.EventHandler() {
            @Override
            public boolean readable(Connection c) throws Exception {
                int n = c.read(ByteBuffer.allocate(1));
                if (n > 0) {
                    c.writeFully(WritePathTest.BIG);
                    assertTrue(c.queued() > 0);
                    c.abort();
                    assertFalse(c.isOpen());
                }
                return n >= 0;
            }

            @Override
            public void closed(Connection c) {
                closed.countDown();
            }
        };
        try (Serving s = serveEventsInBackground(ConnldServer.bind(dir.resolve("s")), failures.wrapEvents(h));
             Connection c = ConnldClient.connect(s.server().path())) {
            c.writeFully(new byte[] {'?'});
            assertTrue(closed.await(GUARD.toSeconds(), TimeUnit.SECONDS));
            byte[] got = c.inputStream().readAllBytes();
            assertTrue(got.length < WritePathTest.BIG.length, "cut: " + got.length);
        }
    }

    /** A graceful close waits for the queue, but not for ever: a client that takes nothing goes at the write time-out. */
    @Test
    void aGracefulCloseIsBoundedByTheWriteTimeout() throws Exception {
        CountDownLatch closed = new CountDownLatch(1);
        List<Throwable> writesAfterClose = new CopyOnWriteArrayList<>();
        ConnldServer.EventHandler h = new ConnldServer.EventHandler() {
            @Override
            public boolean readable(Connection c) throws Exception {
                int n = c.read(ByteBuffer.allocate(1));
                if (n > 0) {
                    c.writeFully(WritePathTest.BIG);
                    c.close();
                    assertFalse(c.isOpen(), "closed for the handler, though its queue is still written");
                    assertTrue(c.fd().isOpen());
                    try {
                        c.writeFully(new byte[] {1});
                    } catch (StreamClosedException e) {
                        writesAfterClose.add(e);
                    }
                }
                return true;
            }

            @Override
            public void closed(Connection c) {
                closed.countDown();
            }
        };
        ConnldOptions o = ConnldOptions.builder().writeTimeout(Duration.ofMillis(300)).build();
        try (Serving s = serveEventsInBackground(ConnldServer.bind(dir.resolve("s"), o), failures.wrapEvents(h));
             Connection c = ConnldClient.connect(s.server().path())) {
            c.writeFully(new byte[] {'?'});
            // The client reads nothing: the close waits for the queue until the time-out.
            assertTrue(closed.await(GUARD.toSeconds(), TimeUnit.SECONDS), "closed at the write time-out");
            assertEquals(1, writesAfterClose.size(), "a write after close() fails");
        }
    }

    @Test
    void aWriteAfterAQueuedShutdownOutputFailsWithEpipe() throws Exception {
        CompletableFuture<Throwable> seen = new CompletableFuture<>();
        ConnldServer.EventHandler h = c -> {
            int n = c.read(ByteBuffer.allocate(1));
            if (n > 0) {
                c.writeFully(WritePathTest.BIG);
                c.fd().shutdownOutput();
                try {
                    c.writeFully(new byte[] {1});
                    seen.complete(null);
                } catch (StreamsException e) {
                    seen.complete(e);
                }
            }
            return n >= 0;
        };
        try (Serving s = serveEventsInBackground(ConnldServer.bind(dir.resolve("s")), failures.wrapEvents(h));
             Connection c = ConnldClient.connect(s.server().path())) {
            c.writeFully(new byte[] {'?'});
            Throwable e = seen.get(GUARD.toSeconds(), TimeUnit.SECONDS);
            assertTrue(e instanceof StreamsException && ((StreamsException) e).errno() == Errno.EPIPE, String.valueOf(e));
            assertArrayEquals(WritePathTest.BIG, c.inputStream().readAllBytes(), "the answer, then end of stream");
        }
    }

    @Test
    void framesDeliverDelimitedFramesAndTheUnterminatedLastOneAtEndOfStream() throws Exception {
        List<String> frames = new CopyOnWriteArrayList<>();
        CountDownLatch closed = new CountDownLatch(1);
        Frames f = Frames.delimited((byte) 0, 16, new Frames.Handler() {
            @Override
            public boolean frame(Connection c, ByteBuffer frame) {
                assertTrue(frame.isReadOnly());
                frames.add(StandardCharsets.US_ASCII.decode(frame).toString());
                return true;
            }

            @Override
            public void closed(Connection c) {
                closed.countDown();
            }
        });
        try (Serving s = serveEventsInBackground(ConnldServer.bind(dir.resolve("s")), failures.wrapEvents(f));
             Connection c = ConnldClient.connect(s.server().path())) {
            c.writeFully("a\0bb\0\0ccc\r\0last".getBytes(StandardCharsets.US_ASCII));
            c.fd().shutdownOutput();
            assertTrue(closed.await(GUARD.toSeconds(), TimeUnit.SECONDS));
            assertEquals(List.of("a", "bb", "", "ccc\r", "last"), frames);
        }
    }

    @Test
    void aFrameLongerThanItsMaximumClosesTheConnection() throws Exception {
        List<String> frames = new CopyOnWriteArrayList<>();
        Frames f = Frames.delimited((byte) '\n', 10, (c, frame) -> {
            frames.add(StandardCharsets.US_ASCII.decode(frame).toString());
            return true;
        });
        try (Serving s = serveEventsInBackground(ConnldServer.bind(dir.resolve("s")), failures.wrapEvents(f));
             Connection c = ConnldClient.connect(s.server().path())) {
            c.writeFully("0123456789\n".getBytes(StandardCharsets.US_ASCII));     // exactly 10: taken
            c.writeFully("0123456789A\n".getBytes(StandardCharsets.US_ASCII));    // 11: too long
            assertEquals(-1, c.read(new byte[1], 0, 1, GUARD), "closed");
            assertEquals(List.of("0123456789"), frames);
        }
    }

    @Test
    void framesKeepABufferPerConnectionAcrossLoops() throws Exception {
        Frames f = Frames.lines((c, line) -> {
            c.write(StandardCharsets.UTF_8.encode("echo:" + StandardCharsets.UTF_8.decode(line) + "\n"));
            return true;
        });
        try (Serving s = serveEventsInBackground(ConnldServer.bind(dir.resolve("s")), failures.wrapEvents(f));
             Connection a = ConnldClient.connect(s.server().path());
             Connection b = ConnldClient.connect(s.server().path())) {
            a.writeFully("from ".getBytes(StandardCharsets.UTF_8));
            b.writeFully("other ".getBytes(StandardCharsets.UTF_8));
            a.writeFully("a\n".getBytes(StandardCharsets.UTF_8));
            b.writeFully("b\n".getBytes(StandardCharsets.UTF_8));
            assertEquals("echo:from a\n", new String(readExactly(a.fd(), 12), StandardCharsets.UTF_8));
            assertEquals("echo:other b\n", new String(readExactly(b.fd(), 13), StandardCharsets.UTF_8));
        }
    }
}
