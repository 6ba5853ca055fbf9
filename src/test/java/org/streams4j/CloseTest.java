package org.streams4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.streams4j.TestSupport.ascii;
import static org.streams4j.TestSupport.assertEndOfStream;
import static org.streams4j.TestSupport.readString;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.streams4j.TestSupport.Background;
import org.streams4j.internal.Shim;

/** StreamFd owns its number: closed once, never reused under a user, woken when closed under one. */
class CloseTest {
    private static final Duration GENEROUS = TestSupport.guard(Duration.ofSeconds(10));

    @TempDir
    Path dir;

    private static void assertClosed(String op, Executable call) {
        StreamClosedException e = assertThrows(StreamClosedException.class, call, op);
        assertEquals(op, e.operation());
        assertEquals("EBADF", e.errnoName());
    }

    @Test
    void everyOperationOnAClosedDescriptorSaysClosed() throws Exception {
        try (StreamPipe p = StreamPipe.open(); StreamPipe other = StreamPipe.open()) {
            StreamFd fd = p.first();
            String name = fd.name();
            fd.close();
            assertFalse(fd.isOpen());
            assertEquals(-1, fd.fd());
            assertTrue(fd.toString().contains("closed"), fd.toString());

            assertClosed("read", () -> fd.read(new byte[4]));
            assertClosed("read", () -> fd.read(ByteBuffer.allocateDirect(4)));
            assertClosed("write", () -> fd.write(ascii("x"), 0, 1));
            assertClosed("write", () -> fd.writeFully(ascii("x")));
            assertClosed("write", () -> fd.write(ByteBuffer.allocateDirect(4)));
            assertClosed("poll", () -> fd.poll(Shim.POLLIN, Duration.ZERO));
            assertClosed("poll", () -> fd.awaitReadable(Duration.ZERO));
            assertClosed("sendFd", () -> fd.sendFd(other.first()));
            assertClosed("sendFd", () -> other.first().sendFd(fd));
            assertClosed("receiveFd", fd::receiveFd);
            assertClosed("available", fd::available);
            assertClosed("peerCredentials", fd::peerCredentials);
            assertClosed("isastream", fd::isStream);
            assertClosed("fstat", fd::fileType);
            assertClosed("pop", fd::pop);
            assertClosed("look", fd::look);
            assertClosed("list", fd::list);
            assertClosed("push", () -> fd.push("connld"));
            assertClosed("find", () -> fd.find("connld"));

            StreamClosedException e = assertThrows(StreamClosedException.class, () -> fd.read(new byte[1]));
            assertEquals(name, e.target(), "the message names the descriptor it had");
            assertTrue(e.getMessage().startsWith("read " + name + ": EBADF"), e.getMessage());
            assertInstanceOf(StreamsException.class, e);
            // The other end sees the close as end of stream.
            assertEndOfStream(p.second());
        }
    }

    /** The message calls (issue 25) name themselves on a closed descriptor too, on both backends. */
    @Test
    void messageOperationsOnAClosedDescriptorSayClosed() throws Exception {
        try (StreamPipe p = StreamPipe.openMessages()) {
            StreamFd fd = p.first();
            fd.close();
            StreamMessage m = new StreamMessage(16);
            assertClosed("getmsg", () -> fd.messages().receive(m));
            assertClosed("putmsg", () -> fd.messages().send(ascii("x")));
            assertClosed("I_PEEK", () -> fd.messages().peek(m));
            assertClosed("receiveFd", fd::receiveFd);
        }
    }

    @Test
    void doubleCloseDoesNotTouchAReusedNumber() throws Exception {
        StreamPipe old = StreamPipe.open();
        int oldFirst = old.first().fd();
        int oldSecond = old.second().fd();
        old.close();
        old.first().close();
        // Open pipes until one takes a number the old pipe had (the kernel hands
        // out the lowest free number, so the first one normally does).
        List<StreamPipe> opened = new ArrayList<>();
        StreamPipe reuser = null;
        try {
            for (int i = 0; i < 32 && reuser == null; i++) {
                StreamPipe p = StreamPipe.open();
                opened.add(p);
                int a = p.first().fd();
                int b = p.second().fd();
                if (a == oldFirst || a == oldSecond || b == oldFirst || b == oldSecond) {
                    reuser = p;
                }
            }
            // POSIX hands out the lowest free number, but another thread of this JVM may
            // have taken the freed ones first: then there is nothing to test.
            Assumptions.assumeTrue(reuser != null, "none of " + opened.size()
                + " new pipes got fd " + oldFirst + " or " + oldSecond + " (another thread took them)");
            StreamPipe check = reuser;
            old.close();
            old.first().close();
            old.second().close();
            check.first().writeFully(ascii("still"));
            assertEquals("still", readString(check.second(), 5));
            check.second().writeFully(ascii("alive"));
            assertEquals("alive", readString(check.first(), 5));
        } finally {
            opened.forEach(StreamPipe::close);
        }
    }

    /** Blocks in one operation; close() from another thread must wake it with StreamClosedException. */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"read", "readDirect", "receiveFd", "poll"})
    void closeWakesAThreadBlockedOnTheDescriptor(String op) throws Exception {
        try (StreamPipe p = StreamPipe.open()) {
            StreamFd fd = p.first();
            Background<Object> blocked = new Background<>("blocked-" + op, () -> {
                switch (op) {
                    case "read":
                        return fd.read(new byte[16]);
                    case "readDirect":
                        return fd.read(ByteBuffer.allocateDirect(16));
                    case "receiveFd":
                        return fd.receiveFd();
                    default:
                        return fd.poll(Shim.POLLIN, null);
                }
            });
            // Closed while it waits in the kernel (s4j_recv, s4j_recvfd, s4j_poll), not before.
            TestSupport.awaitInNative(blocked.thread(), GENEROUS, "s4j_recv", "s4j_recvfd", "s4j_poll");
            assertTrue(blocked.thread().isAlive(), op + " returned before anything was closed");
            fd.close();
            Throwable t = assertTimeoutPreemptively(GENEROUS, () -> blocked.failure(GENEROUS));
            assertInstanceOf(StreamClosedException.class, t, String.valueOf(t));
            assertEquals("EBADF", ((StreamsException) t).errnoName());
            assertEquals(op.equals("readDirect") ? "read" : op, ((StreamsException) t).operation());
            // The descriptor really went away: the other end sees end of stream.
            assertEndOfStream(p.second());
        }
    }

    /** The Handle state machine: of many racing closes, exactly one wins. */
    @Test
    void manyThreadsRacingCloseCloseOnce() throws Exception {
        int threads = 16;
        for (int round = 0; round < 100; round++) {
            int fd = Shim.s4j_open("/dev/null", Shim.O_READ, 0);
            assertTrue(fd >= 0, "open /dev/null: " + Errno.name(-fd));
            Descriptor h = new Descriptor(fd);
            CyclicBarrier barrier = new CyclicBarrier(threads);
            AtomicInteger winners = new AtomicInteger();
            List<Background<Void>> closers = new ArrayList<>();
            for (int i = 0; i < threads; i++) {
                closers.add(new Background<>("closer-" + i, () -> {
                    barrier.await();
                    if (h.close()) {
                        winners.incrementAndGet();
                    }
                    return null;
                }));
            }
            for (Background<Void> c : closers) {
                c.get(GENEROUS);
            }
            assertEquals(1, winners.get(), "round " + round);
            assertTrue(h.isClosed());
        }
    }

    /**
     * The same race on StreamFd, with other threads using the descriptor: each closer
     * opens a file right after its close() returns, which takes the freed number if the
     * descriptor is already gone; a second real close would close one of those files.
     */
    @Test
    void racingClosesWhileInUseNeverCloseAReusedNumber() throws Exception {
        Path file = dir.resolve("sentinel");
        Files.writeString(file, "s");
        int threads = 8;
        for (int round = 0; round < 50; round++) {
            StreamPipe p = StreamPipe.open();
            StreamFd fd = p.first();
            List<Background<Object>> readers = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                readers.add(new Background<>("reader-" + i, () -> fd.read(new byte[1])));
            }
            CyclicBarrier barrier = new CyclicBarrier(threads);
            List<Background<StreamFd>> closers = new ArrayList<>();
            for (int i = 0; i < threads; i++) {
                closers.add(new Background<>("closer-" + i, () -> {
                    barrier.await();
                    fd.close();
                    return StreamFd.open(file, StreamFd.Mode.READ);
                }));
            }
            List<StreamFd> sentinels = new ArrayList<>();
            try {
                for (Background<StreamFd> c : closers) {
                    sentinels.add(c.get(GENEROUS));
                }
                for (Background<Object> r : readers) {
                    assertInstanceOf(StreamClosedException.class, r.failure(GENEROUS));
                }
                for (StreamFd s : sentinels) {
                    assertEquals(FileType.REGULAR, s.fileType(), "sentinel " + s + " in round " + round);
                    assertEquals(1, s.read(new byte[4]), "sentinel " + s + " still reads its file");
                }
                assertEndOfStream(p.second()); // the pipe end was really closed
            } finally {
                sentinels.forEach(StreamFd::close);
                p.close();
            }
        }
    }

    /**
     * A StreamFd nobody closed is closed by the Cleaner once unreachable, which
     * says so. On Linux the number is also seen to go (its /proc/self/fd link).
     */
    @Test
    void aForgottenDescriptorIsClosedByTheCleaner() throws Exception {
        Path file = dir.resolve("forgotten-" + System.nanoTime());
        Files.writeString(file, "f");
        String target = file.toRealPath().toString();
        boolean linux = OS.LINUX.isCurrentOs();
        // Forgotten on purpose: the Cleaner's warning names it, and this test takes it.
        int n = openAndForget(file);
        CleanerWarnings.expect(n);
        if (linux) {
            assertEquals(target, TestSupport.linuxFdTarget(n), "open before the collection");
        }
        long deadline = System.nanoTime() + TestSupport.guard(Duration.ofSeconds(30)).toNanos();
        boolean warned = false;
        while (!warned && System.nanoTime() < deadline) {
            System.gc();
            warned = CleanerWarnings.awaitExpected(n, Duration.ofMillis(20));
        }
        assertTrue(warned, "no warning from the Cleaner about fd " + n);
        if (linux) {
            assertNotEquals(target, TestSupport.linuxFdTarget(n), "fd " + n + " still open on " + target);
        }
    }

    private static int openAndForget(Path file) throws StreamsException {
        return StreamFd.open(file, StreamFd.Mode.READ).fd();
    }
}
