package org.streams4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.streams4j.TestSupport.readExactly;
import static org.streams4j.testsupport.ConnldEchoServerMain.serveEventsInBackground;
import static org.streams4j.testsupport.ConnldEchoServerMain.serveInBackground;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.IllegalBlockingModeException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.streams4j.testsupport.ConnldEchoServerMain.Serving;

/**
 * The one write path (issue 21): every kind of write after a write that left
 * bytes queued on an event loop keeps its order and loses nothing, and a
 * close or end of output waits for the queue. Each answer is 4 MB and more,
 * far beyond what the kernel takes at once (about 219 KB on Linux), so on
 * {@code serveEvents} the first write always leaves most of it queued. The
 * same answers on {@code serve} (a thread per connection, blocking writes)
 * show the two loops keep one contract. Real clients, real descriptors.
 */
@SuppressWarnings("try") // a serving server is a resource its try block need not name
class WritePathTest {
    private static final Duration GUARD = Duration.ofSeconds(60);
    static final int ANSWER = 4 << 20;
    static final byte[] BIG = pattern(ANSWER, 7);
    static final byte[] TAIL = "the tail, after the queued answer\n".getBytes(StandardCharsets.US_ASCII);
    static final byte[] TAIL2 = "and a direct second tail\n".getBytes(StandardCharsets.US_ASCII);

    @TempDir
    Path dir;

    @RegisterExtension
    final TestSupport.HandlerFailures failures = new TestSupport.HandlerFailures();

    enum Loop { THREADS, EVENTS }

    static byte[] pattern(int n, int seed) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (i * 31 + (i >>> 13) + seed);
        }
        return b;
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            o.write(p, 0, p.length);
        }
        return o.toByteArray();
    }

    static ByteBuffer direct(byte[] b) {
        return ByteBuffer.allocateDirect(b.length).put(b).flip();
    }

    /**
     * The server's answer to a one-byte request: 4 MB, then the kind of write
     * or close the request names. Returns what an event handler returns.
     */
    static boolean answer(Connection c, int kind, Loop loop, Path file) throws Exception {
        c.writeFully(BIG);
        switch (kind) {
            case 'c':
                return false;                       // the handler's close
            case 'C':
                c.close();                          // Connection.close() in the handler
                return true;
            case 's':
                c.fd().shutdownOutput();
                return true;
            case 'g': {
                ByteBuffer[] bs = {ByteBuffer.wrap(TAIL), direct(TAIL2)};
                while (bs[0].hasRemaining() || bs[1].hasRemaining()) {
                    c.channel().write(bs);
                }
                return false;
            }
            case 'h': {
                ByteBuffer t = ByteBuffer.wrap(TAIL);
                while (t.hasRemaining()) {
                    c.channel().write(t);
                }
                return false;
            }
            case 'o': {
                OutputStream o = c.outputStream();
                o.write(TAIL);
                o.flush();
                return false;
            }
            case 'x': {
                ByteBuffer in = ByteBuffer.allocateDirect(16);
                int r = c.fd().exchange(direct(TAIL), in);
                if (loop == Loop.THREADS) {
                    assertEquals(1, r, "the client's 'k' after it read the answer");
                    return false;
                }
                return true;                        // its 'k' comes to readable, which closes
            }
            case 'f':
                try (StreamFd f = StreamFd.open(file, StreamFd.Mode.READ)) {
                    c.sendFd(f);
                }
                c.writeFully(TAIL);
                return false;
            default:
                throw new AssertionError("unknown request " + kind);
        }
    }

    private Serving serve(Loop loop, ConnldOptions o, Path file) throws Exception {
        ConnldServer server = ConnldServer.bind(dir.resolve("s"), o);
        if (loop == Loop.THREADS) {
            return serveInBackground(server, failures.wrap(c -> {
                int k = c.inputStream().read();
                if (k >= 0) {
                    answer(c, k, loop, file);
                }
            }));
        }
        return serveEventsInBackground(server, failures.wrapEvents(c -> {
            ByteBuffer one = ByteBuffer.allocate(1);
            int n = c.read(one);
            if (n <= 0) {
                return n == 0;
            }
            int k = one.get(0);
            return k != 'k' && answer(c, k, loop, file);
        }));
    }

    private Path passedFile() throws Exception {
        Path f = dir.resolve("passed.txt");
        Files.writeString(f, "the passed file");
        return f;
    }

    /** Sends the request and reads the whole answer, to end of stream, on a thread of its own. */
    private byte[] request(Connection c, int kind) throws Exception {
        c.writeFully(new byte[] {(byte) kind});
        CompletableFuture<byte[]> all = CompletableFuture.supplyAsync(() -> {
            try {
                return c.inputStream().readAllBytes();
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        return all.get(GUARD.toSeconds(), TimeUnit.SECONDS);
    }

    private void assertAnswer(Loop loop, int kind, byte[] want) throws Exception {
        try (Serving s = serve(loop, ConnldOptions.defaults(), null);
             Connection c = ConnldClient.connect(s.server().path())) {
            byte[] got = request(c, kind);
            assertEquals(want.length, got.length, "bytes before end of stream");
            assertArrayEquals(want, got, "in order, nothing lost");
        }
    }

    @ParameterizedTest
    @EnumSource(Loop.class)
    void aHandlerThatClosesAfterAQueuedAnswerHasAllOfItDelivered(Loop loop) throws Exception {
        assertAnswer(loop, 'c', BIG);
    }

    @ParameterizedTest
    @EnumSource(Loop.class)
    void connectionCloseInAHandlerWaitsForTheQueuedAnswer(Loop loop) throws Exception {
        assertAnswer(loop, 'C', BIG);
    }

    @ParameterizedTest
    @EnumSource(Loop.class)
    void shutdownOutputAfterAQueuedAnswerEndsTheStreamAfterIt(Loop loop) throws Exception {
        assertAnswer(loop, 's', BIG);
    }

    @ParameterizedTest
    @EnumSource(Loop.class)
    void aGatheringWriteAfterAQueuedAnswerGoesBehindIt(Loop loop) throws Exception {
        assertAnswer(loop, 'g', concat(BIG, TAIL, TAIL2));
    }

    @ParameterizedTest
    @EnumSource(Loop.class)
    void aChannelWriteAfterAQueuedAnswerGoesBehindIt(Loop loop) throws Exception {
        assertAnswer(loop, 'h', concat(BIG, TAIL));
    }

    @ParameterizedTest
    @EnumSource(Loop.class)
    void anOutputStreamWriteAfterAQueuedAnswerGoesBehindIt(Loop loop) throws Exception {
        assertAnswer(loop, 'o', concat(BIG, TAIL));
    }

    @ParameterizedTest
    @EnumSource(Loop.class)
    void exchangesRequestAfterAQueuedAnswerGoesBehindIt(Loop loop) throws Exception {
        try (Serving s = serve(loop, ConnldOptions.defaults(), null);
             Connection c = ConnldClient.connect(s.server().path())) {
            c.writeFully(new byte[] {'x'});
            byte[] want = concat(BIG, TAIL);
            assertArrayEquals(want, readExactly(c.fd(), want.length), "in order, nothing lost");
            c.writeFully(new byte[] {'k'});
            assertEquals(-1, c.read(new byte[1], 0, 1, GUARD), "nothing more, then the server closes");
        }
    }

    @ParameterizedTest
    @EnumSource(Loop.class)
    void aDescriptorPassedAfterAQueuedAnswerComesAfterItAndBeforeWhatFollows(Loop loop) throws Exception {
        try (Serving s = serve(loop, ConnldOptions.defaults(), passedFile());
             Connection c = ConnldClient.connect(s.server().path())) {
            c.writeFully(new byte[] {'f'});
            assertArrayEquals(BIG, readExactly(c.fd(), BIG.length), "the answer first, whole");
            try (ReceivedFd got = c.receiveFd(GUARD)) {
                assertEquals("the passed file", new String(got.inputStream().readAllBytes(),
                    StandardCharsets.US_ASCII));
            }
            assertArrayEquals(TAIL, readExactly(c.fd(), TAIL.length), "then what was written after it");
            assertEquals(-1, c.read(new byte[1], 0, 1, GUARD));
        }
    }

    /**
     * Before: sendFd in a handler waited, on the loop thread, until the client
     * had taken everything queued before it, so every other client of that
     * loop waited too (7 s in the issue; here for as long as the first
     * client does not read).
     */
    @Test
    void sendFdInAHandlerNeverBlocksTheLoop() throws Exception {
        Path file = passedFile();
        ConnldOptions o = ConnldOptions.builder().loops(1).build();
        try (Serving s = serveEventsInBackground(ConnldServer.bind(dir.resolve("s"), o),
                failures.wrapEvents(c -> {
                    ByteBuffer one = ByteBuffer.allocate(1);
                    int n = c.read(one);
                    if (n <= 0) {
                        return n == 0;
                    }
                    if (one.get(0) == 'p') {
                        c.writeFully("pong".getBytes(StandardCharsets.US_ASCII));
                        return true;
                    }
                    c.writeFully(BIG);
                    try (StreamFd f = StreamFd.open(file, StreamFd.Mode.READ)) {
                        c.sendFd(f);
                    }
                    return true;
                }));
             Connection slow = ConnldClient.connect(s.server().path());
             Connection ping = ConnldClient.connect(s.server().path())) {
            slow.writeFully(new byte[] {'f'});
            // The slow client reads nothing until the other has its answer.
            awaitQueued(slow);
            ping.writeFully(new byte[] {'p'});
            byte[] pong = new byte[4];
            int got = 0;
            while (got < 4) {
                int n = ping.read(pong, got, 4 - got, GUARD);
                assertTrue(n > 0, "pong");
                got += n;
            }
            assertEquals("pong", new String(pong, StandardCharsets.US_ASCII));
            assertArrayEquals(BIG, readExactly(slow.fd(), BIG.length));
            try (ReceivedFd f = slow.receiveFd(GUARD)) {
                assertNotNull(f);
            }
        }
    }

    /** Waits until the server has had the slow client's request (its answer has filled the connection). */
    private static void awaitQueued(Connection slow) throws Exception {
        for (long end = System.nanoTime() + GUARD.toNanos(); System.nanoTime() < end; ) {
            if (slow.fd().available() > 0) {
                return;
            }
            Thread.sleep(5);
        }
        throw new AssertionError("the server never answered");
    }

    /**
     * Before: an InputStream read in a handler returned 0 when nothing was
     * there, which breaks InputStream (a BufferedReader fails with
     * "Underlying input stream returned zero bytes"). Now it is refused as the
     * JDK refuses a stream over a non-blocking channel.
     */
    @Test
    void anInputStreamInAHandlerRefusesToReadRatherThanReturnZero() throws Exception {
        CompletableFuture<Object> seen = new CompletableFuture<>();
        try (Serving s = serveEventsInBackground(ConnldServer.bind(dir.resolve("s")), c -> {
                try {
                    seen.complete(c.inputStream().read(new byte[16]));
                } catch (Throwable t) {
                    seen.complete(t);
                }
                return false;
            });
             Connection c = ConnldClient.connect(s.server().path())) {
            c.writeFully(new byte[] {'a'});
            Object r = seen.get(GUARD.toSeconds(), TimeUnit.SECONDS);
            assertTrue(r instanceof IllegalBlockingModeException, "refused, not " + r);
            String m = ((Throwable) r).getMessage();
            assertTrue(m.contains("event loop") && m.contains("Frames.lines"), m);
        }
    }
}
