package org.streams4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.streams4j.TestSupport.ascii;
import static org.streams4j.TestSupport.assertEndOfStream;
import static org.streams4j.TestSupport.assertNothingQueued;
import static org.streams4j.TestSupport.readString;

import java.time.Duration;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.streams4j.internal.Shim;

/** I_SENDFD / I_RECVFD (SCM_RIGHTS on the portable backend) and how they share one queue with data. */
class DescriptorPassingTest {
    private static final String CONTENT = "streams4j: a descriptor crossed a pipe\nsecond line\n";

    @TempDir
    Path dir;
    private Path file;

    @BeforeEach
    void writeFile() throws Exception {
        file = dir.resolve("passed.txt");
        Files.writeString(file, CONTENT, StandardCharsets.US_ASCII);
    }

    @Test
    void aFileDescriptorCrossesThePipe() throws Exception {
        try (StreamPipe p = StreamPipe.open(); StreamFd opened = StreamFd.open(file, StreamFd.Mode.READ)) {
            p.first().sendFd(opened);
            assertTrue(opened.isOpen(), "the sender keeps its own copy");
            try (ReceivedFd got = p.second().receiveFd()) {
                assertEquals(Platform.euid(), got.uid(), "sender's effective uid");
                assertEquals(Platform.egid(), got.gid(), "sender's effective gid");
                assertNotEquals(opened.fd(), got.fd().fd(), "a new descriptor number");
                assertEquals(FileType.REGULAR, got.fd().fileType());

                // The received descriptor itself reads the content.
                InputStream in = got.inputStream();
                assertEquals(CONTENT, new String(in.readAllBytes(), StandardCharsets.US_ASCII));
                // Same open file description as the sender's copy: the offset is shared.
                assertEquals(-1, opened.read(new byte[8]));
            }
            assertNothingQueued(p.second());
        }
    }

    /**
     * openFileChannel opens the file afresh: its position is its own, neither
     * moved by reads on the received descriptor nor moving them. (On illumos
     * {@code /dev/fd/N} would be a dup sharing the offset; {@code /proc/self/fd/N}
     * reopens the file, as Linux's {@code /dev/fd} does.)
     */
    @Test
    void openFileChannelIsIndependentOfTheReceivedDescriptor() throws Exception {
        try (StreamPipe p = StreamPipe.open(); StreamFd opened = StreamFd.open(file, StreamFd.Mode.READ)) {
            p.first().sendFd(opened);
            try (ReceivedFd got = p.second().receiveFd()) {
                // The descriptor is 7 bytes in when the channel is opened.
                assertEquals(CONTENT.substring(0, 7), readString(got.fd(), 7));
                try (FileChannel ch = got.openFileChannel()) {
                    assertEquals(0, ch.position(), "a fresh channel starts at the beginning");
                    assertEquals(CONTENT, readAll(ch));
                    // Reading the channel to its end left the descriptor where it was.
                    assertEquals(CONTENT.substring(7, 14), readString(got.fd(), 7));
                    // And reads on the descriptor do not move the channel.
                    ch.position(3);
                    assertEquals(CONTENT.substring(14), new String(got.inputStream().readAllBytes(),
                        StandardCharsets.US_ASCII));
                    assertEquals(3, ch.position());
                    assertEquals(CONTENT.substring(3), readAll(ch));
                }
                assertTrue(got.fd().isOpen(), "closing the channel leaves the descriptor open");
                assertEquals(FileType.REGULAR, got.fd().fileType());
            }
        }
    }

    private static String readAll(FileChannel ch) throws java.io.IOException {
        ByteBuffer b = ByteBuffer.allocate(CONTENT.length() + 10);
        while (ch.read(b) > 0) {
            // until end of file
        }
        return ascii(b.array(), 0, b.position());
    }

    @Test
    void severalDescriptorsInARowBothDirections() throws Exception {
        try (StreamPipe p = StreamPipe.open(); StreamFd opened = StreamFd.open(file, StreamFd.Mode.READ)) {
            for (int i = 0; i < 3; i++) {
                p.first().sendFd(opened);
                p.second().sendFd(opened);
            }
            for (int i = 0; i < 3; i++) {
                try (ReceivedFd a = p.second().receiveFd(); ReceivedFd b = p.first().receiveFd()) {
                    assertEquals(FileType.REGULAR, a.fd().fileType());
                    assertEquals(FileType.REGULAR, b.fd().fileType());
                }
            }
            assertNothingQueued(p.first());
            assertNothingQueued(p.second());
        }
    }

    @Test
    void aPipeEndCanBePassedAndUsed() throws Exception {
        try (StreamPipe carrier = StreamPipe.open(); StreamPipe passed = StreamPipe.open()) {
            carrier.first().sendFd(passed.second());
            passed.second().close(); // the receiver's copy keeps that end alive
            try (ReceivedFd got = carrier.second().receiveFd()) {
                passed.first().writeFully(ascii("through"));
                assertEquals("through", readString(got.fd(), 7));
                got.fd().writeFully(ascii("back"));
                assertEquals("back", readString(passed.first(), 4));
            }
            assertEndOfStream(passed.first()); // the last copy of the other end is closed
        }
    }

    @Test
    void dataWhereADescriptorIsExpectedIsNotLost() throws Exception {
        try (StreamPipe p = StreamPipe.open()) {
            p.first().writeFully(ascii("hello"));
            StreamsException e = assertThrows(StreamsException.class, () -> p.second().receiveFd());
            assertEquals("EBADMSG", e.errnoName());
            assertEquals("receiveFd", e.operation());
            assertTrue(e.getMessage().startsWith("receiveFd " + p.second().name() + ": EBADMSG"), e.getMessage());
            // Asking again gives the same answer and still loses nothing.
            StreamsException again = assertThrows(StreamsException.class, () -> p.second().receiveFd());
            assertEquals("EBADMSG", again.errnoName());
            assertEquals("hello", readString(p.second(), 5));
            assertNothingQueued(p.second());
        }
    }

    @Test
    void aDescriptorWhereDataIsExpected() throws Exception {
        try (StreamPipe p = StreamPipe.open(); StreamFd opened = StreamFd.open(file, StreamFd.Mode.READ)) {
            p.first().sendFd(opened);
            p.first().writeFully(ascii("after"));
            byte[] buf = new byte[100];
            StreamsException e = assertThrows(StreamsException.class, () -> p.second().read(buf));
            assertEquals("EBADMSG", e.errnoName());
            assertEquals("read", e.operation());
            assertTrue(e.getMessage().contains("read " + p.second().name() + ": EBADMSG"), e.getMessage());
            // Still a descriptor next, whichever read path asks.
            StreamsException direct = assertThrows(StreamsException.class,
                () -> p.second().read(ByteBuffer.allocateDirect(10)));
            assertEquals("EBADMSG", direct.errnoName());
            try (ReceivedFd got = p.second().receiveFd()) {
                assertEquals(Platform.euid(), got.uid());
                assertEquals(Platform.egid(), got.gid());
                assertEquals(CONTENT, new String(got.inputStream().readAllBytes(), StandardCharsets.US_ASCII));
            }
            assertEquals("after", readString(p.second(), 5));
            assertNothingQueued(p.second());
        }
    }

    @Test
    void dataBeforeADescriptorComesAloneInOneRead() throws Exception {
        try (StreamPipe p = StreamPipe.open(); StreamFd opened = StreamFd.open(file, StreamFd.Mode.READ)) {
            p.first().writeFully(ascii("abc"));
            p.first().sendFd(opened);
            byte[] buf = new byte[100];
            int n = p.second().read(buf, 0, 100);
            assertEquals("abc", ascii(buf, 0, n), "the read stops at the descriptor");
            StreamsException e = assertThrows(StreamsException.class, () -> p.second().read(buf, 0, 100));
            assertEquals("EBADMSG", e.errnoName());
            try (ReceivedFd got = p.second().receiveFd()) {
                assertEquals(FileType.REGULAR, got.fd().fileType());
            }
            assertNothingQueued(p.second());
        }
    }

    @Test
    void receiveFdAfterThePeerClosedIsAHangUp() throws Exception {
        try (StreamPipe p = StreamPipe.open()) {
            p.first().close();
            StreamsException e = assertThrows(StreamsException.class, () -> p.second().receiveFd());
            assertEquals("ENXIO", e.errnoName());
            assertTrue(e.getMessage().startsWith("receiveFd " + p.second().name() + ": ENXIO"), e.getMessage());
        }
    }

    @Test
    void sendingAClosedDescriptorNamesIt() throws Exception {
        try (StreamPipe p = StreamPipe.open()) {
            StreamFd opened = StreamFd.open(file, StreamFd.Mode.READ);
            String name = opened.name();
            opened.close();
            StreamClosedException e = assertThrows(StreamClosedException.class, () -> p.first().sendFd(opened));
            assertEquals("sendFd", e.operation());
            assertEquals(name, e.target(), "names the descriptor that was closed");
            assertEquals("EBADF", e.errnoName());
            assertNothingQueued(p.second());
        }
    }

    /**
     * I_SENDFD answers EAGAIN while the receiver's queue is full; sendFd waits
     * for room like a write. Forced here with a non-blocking sender whose
     * queue is filled with data: the send completes once the reader drains it.
     */
    @Test
    void sendFdWaitsWhileTheReceiversQueueIsFull() throws Exception {
        try (StreamPipe p = StreamPipe.open(); StreamFd opened = StreamFd.open(file, StreamFd.Mode.READ)) {
            StreamFd sender = p.first();
            long queued = TestSupport.fillUntilFull(sender);
            TestSupport.Background<Void> send = new TestSupport.Background<>("sendFd", () -> {
                sender.sendFd(opened);
                return null;
            });
            // It waits for room in poll(2) (POLLOUT), between tries of I_SENDFD.
            TestSupport.awaitInNative(send.thread(), "s4j_poll", TestSupport.guard(Duration.ofSeconds(10)));
            assertTrue(send.thread().isAlive(), "sendFd returned while the queue was full");
            TestSupport.drain(p.second(), queued);
            send.get(TestSupport.guard(Duration.ofSeconds(10)));
            try (ReceivedFd got = p.second().receiveFd()) {
                assertEquals(CONTENT, new String(got.inputStream().readAllBytes(), StandardCharsets.US_ASCII));
            }
        }
    }

    /**
     * Every descriptor comes with its sender's ids, the first and the ones
     * after it: on the portable backend they are the connection's peer
     * (SO_PEERCRED, asked of the kernel once and then kept), on STREAMS each
     * descriptor's own (strrecvfd). As root the sender is a child run as
     * nobody, so that its ids are not this process's.
     */
    @Test
    void everyDescriptorComesWithItsSendersIds() throws Exception {
        Duration guard = TestSupport.guard(Duration.ofSeconds(60));
        TestSupport.letOthersIn(dir);
        Path p = dir.resolve("s");
        try (ConnldServer server = ConnldServer.bind(p, ConnldOptions.builder().mode(0666).build());
             org.streams4j.testsupport.Child sender = Platform.euid() == 0
                 ? org.streams4j.testsupport.Child.startUnprivileged(
                     org.streams4j.testsupport.ConnldClientMain.class, p.toString(), "--pass-stdin", "3")
                 : org.streams4j.testsupport.Child.start(
                     org.streams4j.testsupport.ConnldClientMain.class, p.toString(), "--pass-stdin", "3")) {
            int uid = Integer.parseInt(sender.awaitLine("UID ", guard).substring(4));
            if (Platform.euid() == 0) {
                assertNotEquals(0, uid, "the sender runs as nobody");
            }
            try (Connection c = server.accept(guard).orElseThrow(() -> new AssertionError(
                     "no client within " + guard + ": " + sender.output()))) {
                for (int i = 0; i < 3; i++) {
                    try (ReceivedFd got = c.receiveFd(guard)) {
                        assertEquals(uid, got.uid(), "descriptor " + i + "'s sender");
                    }
                }
            }
            assertEquals(0, sender.awaitExit(guard), String.join("\n", sender.output()));
        }
    }

    /**
     * A received descriptor closed on the caller's own thread is closed there,
     * as the JDK's channels close (no hand-off to a closer thread): once
     * close() returns, the last reference to the passed pipe end is gone and
     * its other end reads the end at once, with no wait. On the library's
     * threads (a handler serve runs) closes go to the closers instead
     * (Closer.onLibraryThread), so that no peer can make one block there
     * (BlockingCloseTest).
     */
    @Test
    void aReceivedDescriptorClosedOnTheCallersThreadIsClosedThere() throws Exception {
        assertTrue(!Closer.onLibraryThread(), "a test's thread is its own");
        try (StreamPipe carrier = StreamPipe.open(); StreamPipe passed = StreamPipe.open()) {
            carrier.first().sendFd(passed.first());
            passed.first().close();     // the only reference left is in flight
            ReceivedFd got = carrier.second().receiveFd();
            got.close();
            java.util.Set<PollEvent> now = passed.second().poll(java.util.EnumSet.of(PollEvent.READABLE), Duration.ZERO);
            assertTrue(now.contains(PollEvent.READABLE) || now.contains(PollEvent.HANG_UP),
                "the end at once, with no wait: " + now);
            assertEquals(-1, passed.second().read(new byte[1], 0, 1, Duration.ZERO), "end of stream");
        }
        Duration guard = TestSupport.guard(Duration.ofSeconds(30));
        java.util.concurrent.CompletableFuture<Boolean> inHandler = new java.util.concurrent.CompletableFuture<>();
        try (ConnldServer server = ConnldServer.bind(dir.resolve("lib"))) {
            server.start(c -> inHandler.complete(Closer.onLibraryThread()));
            try (Connection c = ConnldClient.connect(server.path())) {
                assertTrue(inHandler.get(guard.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS),
                    "a handler serve runs is on one of the library's threads");
            }
        }
    }
}
