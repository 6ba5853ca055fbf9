package org.streams4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ReadOnlyBufferException;
import java.nio.channels.ClosedChannelException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.streams4j.testsupport.Async;

/**
 * The channel of a StreamFd (byte, scattering, gathering) over every kind of
 * buffer, reads and receiveFd with a time-out, and the public poll and file
 * type enums, on real pipes of the live backend.
 */
class ChannelTest {
    @TempDir
    Path dir;

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    private static ByteBuffer direct(String s) {
        ByteBuffer b = ByteBuffer.allocateDirect(s.length());
        b.put(bytes(s)).flip();
        return b;
    }

    private static String drain(StreamFd fd, int n) throws Exception {
        return new String(TestSupport.readExactly(fd, n), StandardCharsets.US_ASCII);
    }

    @Test
    void writesHeapDirectAndReadOnlyBuffers() throws Exception {
        try (StreamPipe p = StreamPipe.open()) {
            StreamChannel ch = p.first().channel();
            ByteBuffer readOnlyHeap = ByteBuffer.wrap(bytes("read-only heap;")).asReadOnlyBuffer();
            assertTrue(readOnlyHeap.isReadOnly() && !readOnlyHeap.hasArray());
            assertEquals(15, ch.write(readOnlyHeap));
            assertFalse(readOnlyHeap.hasRemaining());
            assertEquals(5, ch.write(ByteBuffer.wrap(bytes("heap;"))));
            assertEquals(7, ch.write(direct("direct;")));
            assertEquals(10, ch.write(direct("read-only;").asReadOnlyBuffer()));
            // a read-only view in the middle of a larger array: only its window goes out
            ByteBuffer window = ByteBuffer.wrap(bytes("xxwindowxx"), 2, 6).slice().asReadOnlyBuffer();
            assertEquals(6, p.first().write(window));
            assertEquals("read-only heap;heap;direct;read-only;window", drain(p.second(), 43));
        }
    }

    @Test
    void aLargeReadOnlyBufferIsWrittenWhole() throws Exception {
        byte[] data = new byte[600 * 1024];   // beyond the per-thread scratch
        new Random(7).nextBytes(data);
        try (StreamPipe p = StreamPipe.open()) {
            CompletableFuture<byte[]> got = CompletableFuture.supplyAsync(() -> {
                try {
                    return TestSupport.readExactly(p.second(), data.length);
                } catch (StreamsException e) {
                    throw new IllegalStateException(e);
                }
            }, Async.EACH);
            ByteBuffer src = ByteBuffer.wrap(data).asReadOnlyBuffer();
            StreamChannel ch = p.first().channel();
            while (src.hasRemaining()) {
                ch.write(src);
            }
            assertArrayEquals(data, got.get(TestSupport.guard(Duration.ofSeconds(30)).toMillis(), TimeUnit.MILLISECONDS));
        }
    }

    @Test
    void readingIntoAReadOnlyBufferIsRefusedAndTakesNothing() throws Exception {
        try (StreamPipe p = StreamPipe.open()) {
            p.first().writeFully(bytes("kept"));
            StreamChannel ch = p.second().channel();
            assertThrows(ReadOnlyBufferException.class, () -> ch.read(ByteBuffer.allocate(4).asReadOnlyBuffer()));
            assertThrows(ReadOnlyBufferException.class,
                () -> ch.read(ByteBuffer.allocateDirect(4).asReadOnlyBuffer()));
            assertThrows(ReadOnlyBufferException.class,
                () -> ch.read(new ByteBuffer[] {ByteBuffer.allocate(2), ByteBuffer.allocate(2).asReadOnlyBuffer()}));
            assertEquals("kept", drain(p.second(), 4));
        }
    }

    @Test
    void gatheringWriteAndScatteringReadKeepOrderAcrossBufferKinds() throws Exception {
        try (StreamPipe p = StreamPipe.open()) {
            ByteBuffer[] srcs = {
                ByteBuffer.wrap(bytes("skipped")),
                ByteBuffer.wrap(bytes("heap|")),
                direct("direct|"),
                ByteBuffer.allocate(0),
                ByteBuffer.wrap(bytes("ro-heap|")).asReadOnlyBuffer(),
                direct("ro-direct").asReadOnlyBuffer(),
            };
            long n = p.first().channel().write(srcs, 1, 5);
            assertEquals(29, n, "one writev of every remaining byte");
            assertEquals(7, srcs[0].remaining(), "a buffer outside offset/length is not touched");
            for (int i = 1; i < srcs.length; i++) {
                assertFalse(srcs[i].hasRemaining(), "buffer " + i);
            }

            ByteBuffer a = ByteBuffer.allocate(3);
            ByteBuffer b = ByteBuffer.allocateDirect(10);
            ByteBuffer c = ByteBuffer.allocate(64);
            c.position(4);   // reading starts at each buffer's position
            StreamChannel in = p.second().channel();
            long got = 0;
            while (got < 29) {
                got += in.read(new ByteBuffer[] {a, b, c});
            }
            assertEquals(29, got);
            assertEquals("hea", new String(a.array(), 0, 3, StandardCharsets.US_ASCII));
            b.flip();
            byte[] mid = new byte[b.remaining()];
            b.get(mid);
            assertEquals("p|direct|r", new String(mid, StandardCharsets.US_ASCII));
            assertEquals("o-heap|ro-direct", new String(c.array(), 4, c.position() - 4, StandardCharsets.US_ASCII));
        }
    }

    @Test
    void aGatheringWriteLargerThanTheScratchIsWrittenInFullByRepeatedCalls() throws Exception {
        Random r = new Random(11);
        ByteBuffer[] srcs = new ByteBuffer[5];
        ByteArrayOutputStream expected = new ByteArrayOutputStream();
        for (int i = 0; i < srcs.length; i++) {
            byte[] chunk = new byte[100 * 1024 + i];
            r.nextBytes(chunk);
            expected.write(chunk);
            srcs[i] = i % 2 == 0 ? ByteBuffer.wrap(chunk) : ByteBuffer.allocateDirect(chunk.length).put(chunk).flip();
        }
        byte[] want = expected.toByteArray();
        try (StreamPipe p = StreamPipe.open()) {
            CompletableFuture<byte[]> got = CompletableFuture.supplyAsync(() -> {
                try {
                    return TestSupport.readExactly(p.second(), want.length);
                } catch (StreamsException e) {
                    throw new IllegalStateException(e);
                }
            }, Async.EACH);
            StreamChannel ch = p.first().channel();
            long total = 0;
            while (total < want.length) {
                total += ch.write(srcs);
            }
            assertEquals(want.length, total);
            assertArrayEquals(want, got.get(TestSupport.guard(Duration.ofSeconds(30)).toMillis(), TimeUnit.MILLISECONDS));
        }
    }

    @Test
    void aScatteringReadDoesNotSwallowAPassedDescriptor() throws Exception {
        Path file = Files.writeString(dir.resolve("passed"), "file contents");
        try (StreamPipe p = StreamPipe.open(); StreamFd f = StreamFd.open(file, StreamFd.Mode.READ)) {
            p.first().writeFully(bytes("data"));
            p.first().sendFd(f);
            p.first().writeFully(bytes("more"));
            ByteBuffer x = ByteBuffer.allocate(2);
            ByteBuffer y = ByteBuffer.allocateDirect(16);
            long got = 0;
            while (got < 4) {
                got += p.second().read(new ByteBuffer[] {x, y}, 0, 2);
            }
            assertEquals(4, got, "the data before the descriptor, and nothing else");
            StreamsException e = assertThrows(StreamsException.class,
                () -> p.second().read(new ByteBuffer[] {ByteBuffer.allocate(8)}, 0, 1));
            assertEquals(Errno.EBADMSG, e.errno(), "a descriptor is next: " + e.getMessage());
            try (ReceivedFd r = p.second().receiveFd(TestSupport.guard(Duration.ofSeconds(10)))) {
                assertEquals(FileType.REGULAR, r.fd().fileType());
                assertEquals("file contents", new String(r.inputStream().readAllBytes(), StandardCharsets.US_ASCII));
            }
            assertEquals("more", drain(p.second(), 4));
        }
    }

    @Test
    void aReadWithATimeOutThrowsADistinctExceptionAndLosesNothing() throws Exception {
        try (StreamPipe p = StreamPipe.open()) {
            long t0 = System.nanoTime();
            StreamTimeoutException e = assertThrows(StreamTimeoutException.class,
                () -> p.second().read(ByteBuffer.allocate(8), Duration.ofMillis(200)));
            assertTrue(System.nanoTime() - t0 >= Duration.ofMillis(190).toNanos(), "waited the time-out");
            assertEquals(Errno.ETIMEDOUT, e.errno());
            assertEquals("ETIMEDOUT", e.errnoName());
            assertEquals(Duration.ofMillis(200), e.timeout());
            assertEquals("read", e.operation());
            assertThrows(StreamTimeoutException.class,
                () -> p.second().read(new byte[4], 0, 4, Duration.ZERO));

            p.first().writeFully(bytes("late"));
            byte[] b = new byte[4];
            assertEquals(4, p.second().read(b, 0, 4, TestSupport.guard(Duration.ofSeconds(10))));
            assertEquals("late", new String(b, StandardCharsets.US_ASCII));
            p.first().close();
            assertEquals(-1, p.second().read(ByteBuffer.allocate(1), TestSupport.guard(Duration.ofSeconds(10))),
                "end of stream is an answer, not a time-out");
        }
    }

    @Test
    void receiveFdWithATimeOut() throws Exception {
        Path file = Files.writeString(dir.resolve("f"), "x");
        try (StreamPipe p = StreamPipe.open(); StreamFd f = StreamFd.open(file, StreamFd.Mode.READ)) {
            StreamTimeoutException e = assertThrows(StreamTimeoutException.class,
                () -> p.second().receiveFd(Duration.ofMillis(100)));
            assertEquals("receiveFd", e.operation());
            assertTrue(e.getMessage().startsWith("receiveFd fd " + p.second().fd() + ": ETIMEDOUT"), e.getMessage());
            p.first().sendFd(f);
            try (ReceivedFd r = p.second().receiveFd(TestSupport.guard(Duration.ofSeconds(10)))) {
                assertEquals(FileType.REGULAR, r.fd().fileType());
            }
        }
    }

    @Test
    void pollReportsEnumValues() throws Exception {
        try (StreamPipe p = StreamPipe.open()) {
            Set<PollEvent> read = EnumSet.of(PollEvent.READABLE);
            assertEquals(Set.of(), p.second().poll(read, Duration.ZERO), "nothing to read yet");
            assertEquals(Set.of(PollEvent.WRITABLE), p.first().poll(EnumSet.of(PollEvent.WRITABLE), Duration.ZERO));
            p.first().writeFully(bytes("x"));
            assertTrue(p.second().poll(read, TestSupport.guard(Duration.ofSeconds(10))).contains(PollEvent.READABLE));
            p.first().close();
            drain(p.second(), 1);
            Set<PollEvent> after = p.second().poll(read, TestSupport.guard(Duration.ofSeconds(10)));
            assertTrue(after.contains(PollEvent.HANG_UP) || after.contains(PollEvent.READABLE),
                "the writer's close is reported: " + after);
        }
    }

    @Test
    void aClosedChannelSaysSo() throws Exception {
        StreamPipe p = StreamPipe.open();
        StreamChannel ch = p.first().channel();
        ch.close();
        assertFalse(p.first().isOpen(), "closing the channel closes the descriptor");
        assertThrows(ClosedChannelException.class, () -> ch.write(new ByteBuffer[] {ByteBuffer.allocate(1)}));
        assertThrows(ClosedChannelException.class, () -> ch.read(new ByteBuffer[] {ByteBuffer.allocate(1)}));
        p.close();
    }

    /**
     * The channel reports closes as the JDK's channels do (issue 23, item 6):
     * ClosedChannelException before the call, AsynchronousCloseException for a
     * close while it waits, ClosedByInterruptException for an interrupt.
     */
    @Test
    void aChannelReportsClosesAsTheJdksChannelsDo() throws Exception {
        Duration guard = org.streams4j.testsupport.TimeScale.guard(Duration.ofSeconds(20));
        try (StreamPipe p = StreamPipe.open()) {
            StreamChannel ch = p.first().channel();
            CompletableFuture<Throwable> closed = new CompletableFuture<>();
            Thread reader = new Thread(() -> {
                try {
                    ch.read(ByteBuffer.allocate(8));
                    closed.complete(null);
                } catch (Throwable e) {
                    closed.complete(e);
                }
            }, "channel-reader");
            reader.setDaemon(true);
            reader.start();
            TestSupport.awaitInNative(reader, "s4j_recv", guard);
            p.first().close();
            Throwable t = closed.get(guard.toMillis(), TimeUnit.MILLISECONDS);
            org.junit.jupiter.api.Assertions.assertInstanceOf(java.nio.channels.AsynchronousCloseException.class, t,
                String.valueOf(t));
            assertFalse(t instanceof java.nio.channels.ClosedByInterruptException);
            assertThrows(ClosedChannelException.class, () -> ch.read(ByteBuffer.allocate(8)));
        }
        try (StreamPipe p = StreamPipe.open()) {
            StreamChannel ch = p.first().channel();
            CompletableFuture<Throwable> interrupted = new CompletableFuture<>();
            CompletableFuture<Boolean> status = new CompletableFuture<>();
            Thread reader = new Thread(() -> {
                try {
                    ch.read(ByteBuffer.allocate(8));
                    interrupted.complete(null);
                } catch (Throwable e) {
                    interrupted.complete(e);
                }
                status.complete(Thread.currentThread().isInterrupted());
            }, "channel-reader");
            reader.setDaemon(true);
            reader.start();
            TestSupport.awaitInNative(reader, "s4j_recv", guard);
            reader.interrupt();
            Throwable t = interrupted.get(guard.toMillis(), TimeUnit.MILLISECONDS);
            org.junit.jupiter.api.Assertions.assertInstanceOf(java.nio.channels.ClosedByInterruptException.class, t,
                String.valueOf(t));
            assertTrue(status.get(guard.toMillis(), TimeUnit.MILLISECONDS), "the interrupt status was cleared");
            assertFalse(ch.isOpen());
        }
    }
}
