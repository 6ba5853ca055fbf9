package org.streams4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.streams4j.TestSupport.ascii;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Messages on whichever backend the host has: boundaries, a message larger
 * than the room read in parts, peek, the end of the stream, descriptors met
 * by a message read and messages met by receiveFd, a connld server whose
 * clients speak in messages. On Linux these run over AF_UNIX SOCK_SEQPACKET
 * ({@link StreamPipe#openMessages()}, {@link ConnldOptions#messages()}); on
 * STREAMS over a pipe, which always carries messages. STREAMS-only parts
 * (control parts, bands, ioctls) are in {@link StreamsMessagesTest}.
 */
class MessagesTest {
    private static final Duration GUARD = TestSupport.guard(Duration.ofSeconds(30));

    private static String text(StreamMessage m) {
        return ascii(m.dataBytes(), 0, m.data().limit());
    }

    @Test
    void eachSendIsOneMessageAndEachReceiveTakesOne() throws Exception {
        try (StreamPipe p = StreamPipe.openMessages()) {
            StreamMessages out = p.first().messages();
            out.send(ascii("one"));
            out.send(ascii("two two"));
            out.send(ByteBuffer.wrap(ascii("three")));
            StreamMessage m = new StreamMessage(64);
            StreamMessages in = p.second().messages();
            for (String want : new String[] {"one", "two two", "three"}) {
                assertTrue(in.receive(m, GUARD));
                assertEquals(want, text(m));
                assertTrue(m.hasData());
                assertFalse(m.hasControl());
                assertFalse(m.moreData());
                assertEquals(MessagePriority.NORMAL, m.priority());
            }
        }
    }

    @Test
    void aMessageLargerThanTheRoomIsReadInPartsAndNothingIsLost() throws Exception {
        try (StreamPipe p = StreamPipe.openMessages()) {
            byte[] big = new byte[100];
            for (int i = 0; i < big.length; i++) {
                big[i] = (byte) i;
            }
            p.first().messages().send(big);
            p.first().messages().send(ascii("next"));
            StreamMessage m = new StreamMessage(40);
            StreamMessages in = p.second().messages();
            ByteBuffer got = ByteBuffer.allocate(100);
            assertTrue(in.receive(m, GUARD));
            assertTrue(m.moreData());
            got.put(m.data());
            assertTrue(in.receive(m, GUARD));
            assertTrue(m.moreData());
            got.put(m.data());
            // The rest is read by a byte read too, from the same place.
            byte[] rest = new byte[64];
            assertEquals(20, p.second().read(rest));
            got.put(rest, 0, 20);
            assertArrayEquals(big, got.array());
            assertTrue(in.receive(m, GUARD));
            assertEquals("next", text(m));
            assertFalse(m.moreData());
        }
    }

    @Test
    void peekLeavesTheMessageAndSaysWhenNoneIsThere() throws Exception {
        try (StreamPipe p = StreamPipe.openMessages()) {
            StreamMessage m = new StreamMessage(16);
            StreamMessages in = p.second().messages();
            assertFalse(in.peek(m));
            p.first().messages().send(ascii("look"));
            assertTrue(p.second().awaitReadable(GUARD));
            assertTrue(in.peek(m));
            assertEquals("look", text(m));
            assertTrue(in.peek(m));
            assertTrue(in.receive(m, GUARD));
            assertEquals("look", text(m));
            assertFalse(in.peek(m));
        }
    }

    @Test
    void theEndOfTheStreamIsNoMessage() throws Exception {
        try (StreamPipe p = StreamPipe.openMessages()) {
            p.first().messages().send(ascii("last"));
            p.first().close();
            StreamMessage m = new StreamMessage(16);
            assertTrue(p.second().messages().receive(m, GUARD));
            assertEquals("last", text(m));
            assertFalse(m.isEndOfStream());
            assertFalse(p.second().messages().receive(m, GUARD));
            assertTrue(m.isEndOfStream());
            assertFalse(m.hasData());
        }
    }

    @Test
    void aReceiveWaitsForAMessageAndTimesOut() throws Exception {
        try (StreamPipe p = StreamPipe.openMessages()) {
            StreamMessage m = new StreamMessage(16);
            assertThrows(StreamTimeoutException.class,
                () -> p.second().messages().receive(m, Duration.ofMillis(20)));
            CompletableFuture<String> got = CompletableFuture.supplyAsync(() -> {
                try {
                    StreamMessage r = new StreamMessage(16);
                    p.second().messages().receive(r);
                    return text(r);
                } catch (StreamsException e) {
                    throw new RuntimeException(e);
                }
            });
            p.first().messages().send(ascii("late"));
            assertEquals("late", got.get(GUARD.toMillis(), TimeUnit.MILLISECONDS));
        }
    }

    @Test
    void aDescriptorAtTheHeadStopsAMessageReadAndAMessageStopsReceiveFd() throws Exception {
        try (StreamPipe p = StreamPipe.openMessages(); StreamPipe carried = StreamPipe.open()) {
            StreamMessage m = new StreamMessage(16);
            // A message first: receiveFd fails and the message stays whole.
            p.first().messages().send(ascii("data first"));
            assertTrue(p.second().awaitReadable(GUARD));
            StreamsException e = assertThrows(StreamsException.class, () -> p.second().receiveFd());
            assertEquals(Errno.Code.EBADMSG, e.code());
            assertTrue(p.second().messages().receive(m, GUARD));
            assertEquals("data first", text(m));
            // A descriptor first: the message read fails and receiveFd takes it.
            p.first().sendFd(carried.first());
            p.first().messages().send(ascii("after"));
            assertTrue(p.second().awaitReadable(GUARD));
            e = assertThrows(StreamsException.class, () -> p.second().messages().receive(m, GUARD));
            assertEquals(Errno.Code.EBADMSG, e.code());
            try (ReceivedFd r = p.second().receiveFd(GUARD)) {
                r.fd().writeFully(ascii("x"));
                assertEquals("x", TestSupport.readString(carried.second(), 1));
            }
            assertTrue(p.second().messages().receive(m, GUARD));
            assertEquals("after", text(m));
        }
    }

    @Test
    void aConnldServerWhoseClientsSpeakInMessages(@TempDir Path dir) throws Exception {
        Path path = dir.resolve("msg.sock");
        ConnldOptions options = ConnldOptions.builder().messages(true).build();
        try (ConnldServer server = ConnldServer.bind(path, options)) {
            CompletableFuture<Void> serving = CompletableFuture.runAsync(() -> {
                try (Connection c = server.accept()) {
                    StreamMessage request = new StreamMessage(256);
                    while (c.messages().receive(request)) {
                        c.messages().send(ascii("ok " + text(request)));
                    }
                } catch (StreamsException e) {
                    throw new RuntimeException(e);
                }
            });
            try (Connection c = ConnldClient.connect(path, GUARD)) {
                StreamMessage answer = new StreamMessage(256);
                c.messages().send(ascii("a"));
                c.messages().send(ascii("bc"));
                assertTrue(c.messages().receive(answer, GUARD));
                assertEquals("ok a", text(answer));
                assertTrue(c.messages().receive(answer, GUARD));
                assertEquals("ok bc", text(answer));
            }
            serving.get(GUARD.toMillis(), TimeUnit.MILLISECONDS);
            // The untimed connect finds the server's type too.
            CompletableFuture<Void> again = CompletableFuture.runAsync(() -> {
                try (Connection c = server.accept()) {
                    StreamMessage request = new StreamMessage(8);
                    c.messages().receive(request);
                    c.messages().send(request.data());
                } catch (StreamsException e) {
                    throw new RuntimeException(e);
                }
            });
            try (Connection c = ConnldClient.connect(path)) {
                c.messages().send(ascii("echo"));
                StreamMessage answer = new StreamMessage(8);
                assertTrue(c.messages().receive(answer, GUARD));
                assertEquals("echo", text(answer));
            }
            again.get(GUARD.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    @Test
    void aMessageServerReadsKeepBoundariesAsReadOptionsSay() throws Exception {
        try (StreamPipe p = StreamPipe.openMessages()) {
            if (!Platform.supportsModules()) {
                assertEquals(new ReadOptions(ReadMode.MESSAGE_DISCARD, ControlReadMode.FAIL),
                    p.second().messages().readOptions());
            } else {
                p.second().messages().setReadOptions(new ReadOptions(ReadMode.MESSAGE_DISCARD, ControlReadMode.FAIL));
            }
            p.first().messages().send(ascii("abcdef"));
            p.first().messages().send(ascii("gh"));
            byte[] b = new byte[4];
            assertEquals(4, p.second().read(b));     // the rest of "abcdef" is discarded
            assertEquals("abcd", ascii(b, 0, 4));
            assertEquals(2, p.second().read(b));
            assertEquals("gh", ascii(b, 0, 2));
        }
    }

    /**
     * On an event loop, messages and writes a handler makes faster than the
     * client takes them are queued, in order, whole: 200 of 4,000 bytes
     * (within PIPE_BUF, so each write is one message on STREAMS too; each
     * write is one message on SOCK_SEQPACKET), alternately written and sent
     * as messages, all in one callback while the client does not read yet, so
     * that most wait in the loop's queue. Each arrives as one message, in the
     * order made.
     */
    @Test
    void aLoopKeepsTheOrderOfQueuedMessagesAndWrites(@TempDir Path dir) throws Exception {
        Path path = dir.resolve("order.sock");
        int count = 200;
        int size = 4000;
        CountDownLatch allMade = new CountDownLatch(1);
        AtomicLong mostQueued = new AtomicLong();
        try (ConnldServer server = ConnldServer.bind(path, ConnldOptions.builder().messages(true).build())) {
            server.startEvents(c -> {
                StreamMessage request = new StreamMessage(16);
                if (!c.messages().receive(request)) {
                    return !request.isEndOfStream();
                }
                for (int i = 0; i < count; i++) {
                    byte[] b = new byte[size];
                    ByteBuffer.wrap(b).putInt(i).putInt(i % 2);
                    if (i % 2 == 0) {
                        c.writeFully(b);
                    } else {
                        c.messages().send(b);
                    }
                    mostQueued.accumulateAndGet(c.queued(), Math::max);
                }
                allMade.countDown();
                return true;
            });
            try (Connection c = ConnldClient.connect(path, GUARD)) {
                c.messages().send(ascii("go"));
                assertTrue(allMade.await(GUARD.toMillis(), TimeUnit.MILLISECONDS), "the handler made them all");
                assertTrue(mostQueued.get() > 0, "the loop queued some: " + mostQueued.get());
                StreamMessage m = new StreamMessage(size + 100);
                for (int i = 0; i < count; i++) {
                    assertTrue(c.messages().receive(m, GUARD), "message " + i);
                    assertEquals(size, m.data().remaining(), "message " + i + " whole");
                    assertFalse(m.moreData());
                    ByteBuffer got = m.data().duplicate().order(java.nio.ByteOrder.BIG_ENDIAN);
                    assertEquals(i, got.getInt(), "in order");
                    assertEquals(i % 2, got.getInt(), "its kind");
                }
            }
        }
    }

    /**
     * An I_STR time-out in whole seconds, rounded up, held where the kernel's
     * {@code ic_timout * 1000} (int) still fits: no overflow into no limit.
     */
    @Test
    void anIoctlTimeOutIsWholeSecondsTheKernelCanCount() {
        assertEquals(1, StreamMessages.ioctlSeconds(Duration.ZERO));
        assertEquals(1, StreamMessages.ioctlSeconds(Duration.ofMillis(1)));
        assertEquals(2, StreamMessages.ioctlSeconds(Duration.ofSeconds(2)));
        assertEquals(3, StreamMessages.ioctlSeconds(Duration.ofMillis(2001)));
        assertEquals(2_147_483, StreamMessages.MAX_IOCTL_SECONDS);
        assertTrue((long) StreamMessages.MAX_IOCTL_SECONDS * 1000 <= Integer.MAX_VALUE);
        assertEquals(StreamMessages.MAX_IOCTL_SECONDS, StreamMessages.ioctlSeconds(Duration.ofDays(30)));
        assertEquals(StreamMessages.MAX_IOCTL_SECONDS, StreamMessages.ioctlSeconds(Duration.ofSeconds(Long.MAX_VALUE)));
    }
}
