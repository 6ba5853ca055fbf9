package org.streams4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.streams4j.TestSupport.ascii;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.EnumSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.streams4j.internal.Shim;
import org.streams4j.testsupport.RequiresBackend;

/**
 * STREAMS messages on a live illumos or Solaris kernel: two ends of one pipe
 * in one process, {@code putmsg} on one and {@code getmsg} on the other.
 * Each expectation is what the named kernel function does
 * ({@code uts/common/os/streamio.c} unless said otherwise; the facts are in
 * docs/ILLUMOS-NOTES.md, "Messages"), so that the first illumos host proves
 * them or says which reading was wrong.
 */
@RequiresBackend(Backend.STREAMS)
class StreamsMessagesTest {
    private static final Duration GUARD = TestSupport.guard(Duration.ofSeconds(30));

    private static ByteBuffer b(String s) {
        return ByteBuffer.wrap(ascii(s));
    }

    private static String data(StreamMessage m) {
        return ascii(m.dataBytes(), 0, m.data().limit());
    }

    private static String control(StreamMessage m) {
        return ascii(m.controlBytes(), 0, m.control().limit());
    }

    /** strputmsg makes M_PROTO + M_DATA; strgetmsg gives both parts back, apart. */
    @Test
    void controlAndDataPartsComeBackApart() throws Exception {
        try (StreamPipe p = StreamPipe.open()) {
            p.first().messages().send(b("T_DATA_REQ"), b("payload"));
            p.first().messages().send(null, b("data only"));
            p.first().messages().send(b("ctl only"), null);
            StreamMessage m = new StreamMessage(64, 64);
            StreamMessages in = p.second().messages();
            assertTrue(in.receive(m, GUARD));
            assertTrue(m.hasControl());
            assertEquals("T_DATA_REQ", control(m));
            assertEquals("payload", data(m));
            assertTrue(in.receive(m, GUARD));
            assertFalse(m.hasControl());
            assertEquals("data only", data(m));
            assertTrue(in.receive(m, GUARD));
            assertEquals("ctl only", control(m));
            assertFalse(m.hasData());
        }
    }

    /** strgetmsg: what does not fit is put back (putback) and MORECTL/MOREDATA returned. */
    @Test
    void partsLargerThanTheRoomAreReadInPieces() throws Exception {
        try (StreamPipe p = StreamPipe.open()) {
            p.first().messages().send(b("0123456789"), b("abcdefghij"));
            StreamMessage m = new StreamMessage(4, 4);
            StreamMessages in = p.second().messages();
            assertTrue(in.receive(m, GUARD));
            assertEquals("0123", control(m));
            assertEquals("abcd", data(m));
            assertTrue(m.moreControl());
            assertTrue(m.moreData());
            StringBuilder ctl = new StringBuilder("0123");
            StringBuilder dat = new StringBuilder("abcd");
            while (m.moreControl() || m.moreData()) {
                assertTrue(in.receive(m, GUARD));
                ctl.append(control(m));
                dat.append(data(m));
            }
            assertEquals("0123456789", ctl.toString());
            assertEquals("abcdefghij", dat.toString());
        }
    }

    /**
     * Bands: a message of band 2 goes ahead of band 0 (strrput queues by band),
     * getpmsg MSG_BAND takes band 2 or above, a high-priority message (RS_HIPRI,
     * M_PCPROTO) goes first of all and alone raises POLLPRI (strpoll, STRPRI).
     */
    @Test
    void bandsAndHighPriorityComeInPriorityOrder() throws Exception {
        try (StreamPipe p = StreamPipe.open()) {
            StreamMessages out = p.first().messages();
            out.send(null, b("normal"));
            out.send(null, b("band 2"), MessagePriority.band(2));
            out.send(b("urgent"), null, MessagePriority.HIGH);
            Set<PollEvent> ev = p.second().poll(EnumSet.of(PollEvent.READABLE), GUARD);
            assertTrue(ev.contains(PollEvent.PRIORITY), ev.toString());
            StreamMessage m = new StreamMessage(16, 16);
            StreamMessages in = p.second().messages();
            assertTrue(in.peek(m, true));
            assertTrue(m.isHighPriority());
            assertTrue(in.receive(m, MessagePriority.HIGH, GUARD));
            assertTrue(m.isHighPriority());
            assertEquals("urgent", control(m));
            assertEquals(2, in.firstBand().getAsInt());
            assertTrue(in.hasBand(2));
            ev = p.second().poll(EnumSet.of(PollEvent.READABLE), GUARD);
            assertTrue(ev.contains(PollEvent.READ_BAND), ev.toString());
            assertTrue(in.receive(m, MessagePriority.band(1), GUARD));
            assertEquals("band 2", data(m));
            assertEquals(2, m.band());
            assertThrows(StreamTimeoutException.class,
                () -> in.receive(m, MessagePriority.band(1), Duration.ofMillis(50)));
            assertTrue(in.receive(m, GUARD));
            assertEquals("normal", data(m));
            assertEquals(0, m.band());
            assertFalse(in.firstBand().isPresent());    // I_GETBAND: ENODATA on an empty queue
        }
    }

    /**
     * A timed receive of band 5 behind a band-1 message: strpoll reports
     * POLLRDBAND for it, and strgetmsg would sleep without limit for band 5
     * (strwaitq), so StreamMessages.awaitBand looks at the head's band
     * (I_GETBAND) between waits: the time-out is kept, the band-1 message
     * stays, a band-5 message sent during a wait (queued ahead of band 1 by
     * strrput) is taken, and a high-priority one ends the wait at once.
     */
    @Test
    void aTimedReceiveOfAHigherBandKeepsItsTimeOutBehindALowerBand() throws Exception {
        try (StreamPipe p = StreamPipe.open()) {
            StreamMessages out = p.first().messages();
            StreamMessages in = p.second().messages();
            out.send(null, b("band 1"), MessagePriority.band(1));
            StreamMessage m = new StreamMessage(16, 16);
            assertThrows(StreamTimeoutException.class,
                () -> in.receive(m, MessagePriority.band(5), Duration.ofMillis(100)));
            assertEquals(1, in.firstBand().getAsInt(), "the band-1 message is still queued");
            TestSupport.Background<Boolean> got = new TestSupport.Background<>("receive band 5",
                () -> in.receive(m, MessagePriority.band(5), GUARD));
            out.send(null, b("band 5"), MessagePriority.band(5));
            assertTrue(got.get(GUARD));
            assertEquals("band 5", data(m));
            assertEquals(5, m.band());
            out.send(b("urgent"), null, MessagePriority.HIGH);
            assertTrue(in.receive(m, MessagePriority.band(5), GUARD));
            assertTrue(m.isHighPriority());
            assertTrue(in.receive(m, GUARD));
            assertEquals("band 1", data(m));
        }
    }

    /**
     * I_PEEK reports 0 for a part given maxlen 0 whether or not it is there,
     * and answers 0 (no message) when both parts are -1: s4j_peekmsg peeks
     * a part given no room into a byte of its own, so a control-only
     * high-priority message is seen with no control room, and a part the
     * message lacks is not reported as there.
     */
    @Test
    void peekSeesAPartGivenNoRoom() throws Exception {
        try (StreamPipe p = StreamPipe.open()) {
            p.first().messages().send(b("urgent"), null, MessagePriority.HIGH);
            StreamMessages in = p.second().messages();
            StreamMessage dataOnly = new StreamMessage(8);
            assertTrue(in.peek(dataOnly, true), "a control-only message, no control room");
            assertTrue(dataOnly.isHighPriority());
            assertTrue(dataOnly.hasControl());
            assertEquals(0, dataOnly.control().remaining(), "nothing copied: no room");
            assertFalse(dataOnly.hasData());
            StreamMessage controlOnly = new StreamMessage(8, 0);
            assertTrue(in.peek(controlOnly));
            assertEquals("urgent", control(controlOnly));
            assertFalse(controlOnly.hasData(), "the message has no data part");
            assertTrue(in.receive(controlOnly, MessagePriority.HIGH, GUARD));
            assertFalse(in.peek(dataOnly), "nothing left");
        }
    }

    /**
     * A client that leaves band-1 messages unread: once band 1 is full
     * downstream (putq counts them in the band, bcanputnext looks at its
     * QB_FULL) the loop's putpmsg answers EAGAIN while band 0 is empty, so
     * POLLOUT (band 0's room) and POLLWRBAND (any band's) would answer at
     * once (strpoll). The loop waits for POLLWRBAND and backs off from a
     * writable event that finds no room (EventLoop.STALL_NANOS) instead of
     * waiting on it again at once, and since only what leaves its queue is
     * the client's progress, the write time-out closes it. The loop threads'
     * CPU time until then stays well under the time taken, as it would not
     * if the loop spun.
     */
    @Test
    void aClientThatLeavesBandMessagesUnreadMeetsTheWriteTimeOutWithoutTheLoopSpinning(@TempDir Path dir)
        throws Exception {
        Path path = dir.resolve("unread.sock");
        CountDownLatch made = new CountDownLatch(1);
        CountDownLatch closed = new CountDownLatch(1);
        AtomicLong mostQueued = new AtomicLong();
        ConnldOptions o = ConnldOptions.builder().messages(true).writeTimeout(Duration.ofMillis(500)).build();
        try (ConnldServer server = ConnldServer.bind(path, o)) {
            server.startEvents(new ConnldServer.EventHandler() {
                @Override
                public boolean readable(Connection c) throws StreamsException {
                    StreamMessage request = new StreamMessage(16, 16);
                    if (!c.messages().receive(request)) {
                        return !request.isEndOfStream();
                    }
                    for (int i = 0; i < 200; i++) {
                        c.messages().send(null, ByteBuffer.wrap(new byte[64]), MessagePriority.band(1));
                        mostQueued.accumulateAndGet(c.queued(), Math::max);
                    }
                    made.countDown();
                    return true;
                }

                @Override
                public void closed(Connection c) {
                    closed.countDown();
                }
            });
            try (Connection c = ConnldClient.connect(path, GUARD)) {
                c.messages().send(b("go"));
                assertTrue(made.await(GUARD.toMillis(), TimeUnit.MILLISECONDS), "the handler made them all");
                assertTrue(mostQueued.get() > 0, "the loop queued some: " + mostQueued.get());
                long cpu0 = loopCpuNanos(path);
                long t0 = System.nanoTime();
                assertTrue(closed.await(GUARD.toMillis(), TimeUnit.MILLISECONDS), "closed at the write time-out");
                long took = System.nanoTime() - t0;
                long cpu = loopCpuNanos(path) - cpu0;
                assertTrue(cpu < took / 2, "the loops used " + cpu / 1_000_000 + " ms of CPU in "
                    + took / 1_000_000 + " ms: they spun on the connection");
            }
        }
    }

    /** CPU time of the event loop threads serving {@code path}. */
    private static long loopCpuNanos(Path path) {
        java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
        long sum = 0;
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().startsWith("streams4j-loop-") && t.getName().endsWith(path.toString())) {
                sum += Math.max(0, mx.getThreadCpuTime(t.getId()));
            }
        }
        return sum;
    }

    /** strputmsg: a high-priority message needs a control part (EINVAL). */
    @Test
    void aHighPriorityMessageWithoutControlIsRefused() throws Exception {
        try (StreamPipe p = StreamPipe.open()) {
            StreamsException e = assertThrows(StreamsException.class,
                () -> p.first().messages().send(null, b("x"), MessagePriority.HIGH));
            assertEquals(Errno.Code.EINVAL, e.code());
        }
    }

    /** stropen gives a pipe sd_qn_maxpsz PIPE_BUF (fiform_info): a larger data part is ERANGE. */
    @Test
    void aPipeMessageCarriesAtMostPipeBufBytes() throws Exception {
        try (StreamPipe p = StreamPipe.open()) {
            StreamsException e = assertThrows(StreamsException.class,
                () -> p.first().messages().send(ByteBuffer.allocate(Shim.PIPE_BUF + 1)));
            assertEquals(Errno.Code.ERANGE, e.code());
            p.first().messages().send(ByteBuffer.allocate(Shim.PIPE_BUF));
        }
    }

    /** strread: RPROTNORM fails with EBADMSG at an M_PROTO, RPROTDIS drops the control, RPROTDAT reads it as data. */
    @Test
    void readOptionsDecideWhatAReadDoesWithAControlPart() throws Exception {
        try (StreamPipe p = StreamPipe.open()) {
            StreamMessages in = p.second().messages();
            assertEquals(ReadOptions.DEFAULT, in.readOptions());     // a fresh stream: RNORM|RPROTNORM (0x10)
            p.first().messages().send(b("CTL"), b("data"));
            byte[] buf = new byte[16];
            StreamsException e = assertThrows(StreamsException.class, () -> p.second().read(buf));
            assertEquals(Errno.Code.EBADMSG, e.code());
            in.setReadOptions(new ReadOptions(ReadMode.BYTE_STREAM, ControlReadMode.DISCARD));
            assertEquals(4, p.second().read(buf));
            assertEquals("data", ascii(buf, 0, 4));
            in.setReadOptions(new ReadOptions(ReadMode.BYTE_STREAM, ControlReadMode.AS_DATA));
            p.first().messages().send(b("CTL"), b("data"));
            assertEquals(7, p.second().read(buf));
            assertEquals("CTLdata", ascii(buf, 0, 7));
            assertEquals(new ReadOptions(ReadMode.BYTE_STREAM, ControlReadMode.AS_DATA), in.readOptions());
        }
    }

    /** strread: RMSGD frees the rest of a message, RMSGN puts it back; RNORM reads across messages. */
    @Test
    void readModesKeepOrDropTheRestOfAMessage() throws Exception {
        try (StreamPipe p = StreamPipe.open()) {
            StreamMessages in = p.second().messages();
            byte[] buf = new byte[4];
            in.setReadOptions(new ReadOptions(ReadMode.MESSAGE_NONDISCARD, ControlReadMode.FAIL));
            p.first().messages().send(ascii("abcdef"));
            p.first().messages().send(ascii("gh"));
            assertEquals(4, p.second().read(buf));
            assertEquals(2, p.second().read(buf));
            assertEquals("ef", ascii(buf, 0, 2));
            assertEquals(2, p.second().read(buf));
            in.setReadOptions(new ReadOptions(ReadMode.MESSAGE_DISCARD, ControlReadMode.FAIL));
            p.first().messages().send(ascii("abcdef"));
            p.first().messages().send(ascii("gh"));
            assertEquals(4, p.second().read(buf));
            assertEquals(2, p.second().read(buf));
            assertEquals("gh", ascii(buf, 0, 2));
        }
    }

    /** I_NREAD in stream mode: the count of messages and the first one's M_DATA bytes. */
    @Test
    void queuedCountsMessagesAndTheFirstOnesBytes() throws Exception {
        try (StreamPipe p = StreamPipe.open()) {
            StreamMessages in = p.second().messages();
            p.first().messages().send(b("ctl"), b("12345"));
            p.first().messages().send(ascii("67"));
            assertTrue(p.second().awaitReadable(GUARD));
            assertEquals(new QueuedMessages(2, 5), in.queued());
        }
    }

    /** I_PEEK copies without taking; 0 when nothing is queued (strioctl I_PEEK, never blocks). */
    @Test
    void peekLeavesTheMessageQueued() throws Exception {
        try (StreamPipe p = StreamPipe.open()) {
            StreamMessages in = p.second().messages();
            StreamMessage m = new StreamMessage(16, 16);
            assertFalse(in.peek(m));
            p.first().messages().send(b("c"), b("d"));
            assertTrue(p.second().awaitReadable(GUARD));
            assertTrue(in.peek(m));
            assertEquals("c", control(m));
            assertEquals("d", data(m));
            assertFalse(in.peek(m, true));      // not high priority
            assertTrue(in.receive(m, GUARD));
            assertEquals("d", data(m));
        }
    }

    /**
     * strgetmsg at hang-up: flags 0 and both lengths 0, after what is queued;
     * a zero-length message is a message (flags MSG_BAND, data length 0).
     */
    @Test
    void theEndIsToldFromAZeroLengthMessage() throws Exception {
        try (StreamPipe p = StreamPipe.open()) {
            p.first().messages().send(null, ByteBuffer.allocate(0));
            p.first().close();
            StreamMessage m = new StreamMessage(8, 8);
            assertTrue(p.second().messages().receive(m, GUARD));
            assertTrue(m.hasData());
            assertEquals(0, m.data().limit());
            assertFalse(p.second().messages().receive(m, GUARD));
            assertTrue(m.isEndOfStream());
        }
    }

    /**
     * A putmsg on a hung-up pipe: SVID's putpmsg (the shim is built without
     * X/Open mode, so not __xpg4_putpmsg), strwriteable without SIGPIPE,
     * strgeterr: STRHUP gives sd_werror, ENXIO since the M_HANGUP. EPIPE is
     * accepted too until a host shows which path the close of a pipe still
     * in fifofs' fast mode takes; either is the peer gone.
     */
    @Test
    void aMessageToAClosedEndFailsWithTheHangUpsError() throws Exception {
        try (StreamPipe p = StreamPipe.open()) {
            p.second().close();
            StreamsException e = assertThrows(StreamsException.class, () -> p.first().messages().send(ascii("x")));
            assertTrue(e.code() == Errno.Code.ENXIO || e.code() == Errno.Code.EPIPE, e.getMessage());
            assertTrue(e.isPeerGone(), e.getMessage());
        }
    }

    /** I_GWROPT on a fresh pipe: SNDPIPE (stropen sets SW_SIGPIPE); I_SWROPT replaces both bits. */
    @Test
    void writeOptionsAreSetAsGiven() throws Exception {
        try (StreamPipe p = StreamPipe.open()) {
            StreamMessages m = p.first().messages();
            assertEquals(EnumSet.of(WriteOption.SEND_SIGPIPE), m.writeOptions());
            m.setWriteOptions(EnumSet.of(WriteOption.SEND_ZERO));
            assertEquals(EnumSet.of(WriteOption.SEND_ZERO), m.writeOptions());
            // With SNDZERO a write of 0 bytes is a zero-length message (fifo_write), read as 0.
            m.setWriteOptions(EnumSet.of(WriteOption.SEND_ZERO, WriteOption.SEND_SIGPIPE));
            assertEquals(EnumSet.allOf(WriteOption.class), m.writeOptions());
        }
    }

    /**
     * I_FLUSH on a bare pipe in stream mode: the M_FLUSH reaches the other
     * end's stream head, whose FLUSHR empties its read queue (strrput_nondata).
     */
    @Test
    void flushReadEmptiesWhatTheOtherEndHasNotRead() throws Exception {
        try (StreamPipe p = StreamPipe.open()) {
            p.first().messages().send(ascii("lost"));        // to the second end's read queue
            assertTrue(p.second().awaitReadable(GUARD));
            p.first().messages().flush(Flush.READ);
            assertEquals(new QueuedMessages(0, 0), p.second().messages().queued());
            p.first().messages().send(ascii("kept"));
            StreamMessage m = new StreamMessage(8);
            assertTrue(p.second().messages().receive(m, GUARD));
            assertEquals("kept", data(m));
        }
    }

    /** I_CANPUT: bcanputnext of a band, 0..255 (no ANYBAND on illumos); I_ATMARK with no mark: 0. */
    @Test
    void flowControlAndMarksCanBeAsked() throws Exception {
        try (StreamPipe p = StreamPipe.open()) {
            assertTrue(p.first().messages().canSend(0));
            assertTrue(p.first().messages().canSend(3));
            assertFalse(p.second().messages().atMark());
            assertFalse(p.second().messages().atLastMark());
        }
    }

    /** I_SETCLTIME / I_GETCLTIME: milliseconds, STRTIMOUT (15,000) by default. */
    @Test
    void theCloseTimeIsKeptInMilliseconds() throws Exception {
        try (StreamPipe p = StreamPipe.open()) {
            StreamMessages m = p.first().messages();
            assertEquals(Duration.ofSeconds(15), m.closeTime());
            m.setCloseTime(Duration.ofMillis(250));
            assertEquals(Duration.ofMillis(250), m.closeTime());
        }
    }

    /** I_STR on a pipe with no module: the other end's stream head NAKs it (strrput_nondata M_IOCTL): EINVAL at once. */
    @Test
    void anIoctlNoModuleKnowsIsRefusedAtOnce() throws Exception {
        try (StreamPipe p = StreamPipe.open()) {
            long t0 = System.nanoTime();
            StreamsException e = assertThrows(StreamsException.class,
                () -> p.first().messages().ioctl(('X' << 8) | 1, new byte[] {1, 2, 3}, 16, Duration.ofSeconds(5)));
            assertEquals(Errno.Code.EINVAL, e.code());
            assertTrue(System.nanoTime() - t0 < Duration.ofSeconds(5).toNanos(), "no time-out was waited for");
        }
    }

    /** A message read meets a passed descriptor: strgetmsg puts the M_PASSFP back and fails with EBADMSG. */
    @Test
    void aDescriptorAtTheHeadStopsGetmsg() throws Exception {
        try (StreamPipe p = StreamPipe.open(); StreamPipe carried = StreamPipe.open()) {
            p.first().sendFd(carried.first());
            StreamMessage m = new StreamMessage(8, 8);
            assertTrue(p.second().awaitReadable(GUARD));
            StreamsException e = assertThrows(StreamsException.class, () -> p.second().messages().receive(m, GUARD));
            assertEquals(Errno.Code.EBADMSG, e.code());
            try (ReceivedFd r = p.second().receiveFd(GUARD)) {
                assertTrue(r.fd().isOpen());
            }
        }
    }

    /** Sends of a heap and a direct buffer read the same bytes; positions move to the limit. */
    @Test
    void buffersOfEitherKindAreSentWhole() throws Exception {
        try (StreamPipe p = StreamPipe.open()) {
            ByteBuffer direct = ByteBuffer.allocateDirect(6).put(ascii("direct")).flip();
            ByteBuffer heap = b("heap");
            p.first().messages().send(heap, direct);
            assertEquals(heap.limit(), heap.position());
            assertEquals(direct.limit(), direct.position());
            StreamMessage m = new StreamMessage(8, 8);
            assertTrue(p.second().messages().receive(m, GUARD));
            assertArrayEquals(ascii("heap"), m.controlBytes());
            assertArrayEquals(ascii("direct"), m.dataBytes());
        }
    }

    /**
     * fifo_write: in fifofs' fast mode every write joins one b_cont chain,
     * which becomes one message when a message call takes the pipe out of
     * fast mode (msgio -> fifo_vfastoff -> fifo_fastturnoff); a pipe from
     * openMessages left fast mode at once (s4j_pipe: I_CKBAND ->
     * fifo_fastioctl -> fifo_fastoff, both ends), so each write is one
     * message (strwrite).
     */
    @Test
    void writesJoinInFastModeAndStayApartOnAMessagePipe() throws Exception {
        StreamMessage m = new StreamMessage(64);
        try (StreamPipe p = StreamPipe.open()) {
            p.first().writeFully(ascii("ab"));
            p.first().writeFully(ascii("cd"));
            assertTrue(p.second().messages().receive(m, GUARD));
            assertEquals("abcd", data(m), "the fast-mode writes came as one message");
        }
        try (StreamPipe p = StreamPipe.openMessages()) {
            p.first().writeFully(ascii("ab"));
            p.first().writeFully(ascii("cd"));
            assertTrue(p.second().messages().receive(m, GUARD));
            assertEquals("ab", data(m));
            assertTrue(p.second().messages().receive(m, GUARD));
            assertEquals("cd", data(m));
        }
    }

    /**
     * A connld server with ConnldOptions.messages takes each new pipe out of
     * fast mode at accept (StreamsTransport.Bound.leaveFastMode), so a
     * client's plain writes after that are one message each though neither
     * end has made a message call yet.
     */
    @Test
    void aMessageServerSeesEachClientWriteAsOneMessage(@TempDir Path dir) throws Exception {
        Path path = dir.resolve("msgs");
        CountDownLatch accepted = new CountDownLatch(1);
        try (ConnldServer server = ConnldServer.bind(path, ConnldOptions.builder().messages(true).build())) {
            CompletableFuture<String> got = CompletableFuture.supplyAsync(() -> {
                try (Connection c = server.accept()) {
                    accepted.countDown();
                    StreamMessage m = new StreamMessage(64);
                    StringBuilder seen = new StringBuilder();
                    for (int i = 0; i < 2; i++) {
                        assertTrue(c.messages().receive(m, GUARD));
                        seen.append('[').append(data(m)).append(']');
                    }
                    return seen.toString();
                } catch (StreamsException e) {
                    throw new RuntimeException(e);
                }
            });
            try (Connection c = ConnldClient.connect(path, GUARD)) {
                assertTrue(accepted.await(GUARD.toMillis(), TimeUnit.MILLISECONDS));
                c.writeFully(ascii("ab"));
                c.writeFully(ascii("cd"));
                assertEquals("[ab][cd]", got.get(GUARD.toMillis(), TimeUnit.MILLISECONDS));
            }
        }
    }

    /**
     * SBIOCSCHUNK and SBIOCGCHUNK from the host's own sys/bufmod.h, compiled
     * here with a C compiler ($CC, cc or gcc: the build needs one), so that no
     * ioctl number is copied into Java.
     */
    private static int[] bufmodCommands(Path dir) throws Exception {
        Path c = dir.resolve("sbioc.c");
        Path exe = dir.resolve("sbioc");
        Files.writeString(c, String.join("\n",
            "#include <sys/types.h>",
            "#include <sys/time.h>",
            "#include <sys/stropts.h>",
            "#include <sys/bufmod.h>",
            "#include <stdio.h>",
            "int",
            "main(void)",
            "{",
            "\t(void) printf(\"%d %d\\n\", (int)SBIOCSCHUNK, (int)SBIOCGCHUNK);",
            "\treturn (0);",
            "}", ""));
        Process build = null;
        for (String cc : new String[] {System.getenv("CC"), "cc", "gcc"}) {    // as scripts/omnios-test finds one
            if (cc != null && build == null) {
                try {
                    build = new ProcessBuilder(cc, "-o", exe.toString(), c.toString()).redirectErrorStream(true).start();
                } catch (java.io.IOException notThere) {
                    // the next one
                }
            }
        }
        assertTrue(build != null, "no C compiler ($CC, cc or gcc) on the PATH");
        String log = new String(build.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(build.waitFor(GUARD.toMillis(), TimeUnit.MILLISECONDS), "cc did not finish");
        assertEquals(0, build.exitValue(), "cc of sys/bufmod.h's numbers: " + log);
        Process run = new ProcessBuilder(exe.toString()).start();
        String out = new String(run.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).trim();
        assertTrue(run.waitFor(GUARD.toMillis(), TimeUnit.MILLISECONDS));
        String[] f = out.split(" ");
        return new int[] {Integer.parseInt(f[0]), Integer.parseInt(f[1])};
    }

    private static int nativeInt(byte[] b) {
        return ByteBuffer.wrap(b).order(ByteOrder.nativeOrder()).getInt();
    }

    /**
     * I_STR marshalling with a module that answers: bufmod pushed on a bare
     * pipe (sbopen only checks MODOPEN) answers SBIOCGCHUNK with one uint_t
     * (SB_DFLT_CHUNK, 8,192, on a fresh push) and takes SBIOCSCHUNK with at
     * least 4 bytes, acking with none (sbioctl); fewer is EINVAL
     * (miocpullup). The answer is copied whole (strdoioctl, getiocd).
     */
    @Test
    void anIoctlReachesAModuleAndItsAnswerComesBack(@TempDir Path dir) throws Exception {
        int[] cmd = bufmodCommands(dir);
        int set = cmd[0];
        int get = cmd[1];
        try (StreamPipe p = StreamPipe.open()) {
            p.first().push("bufmod");
            StreamMessages m = p.first().messages();
            IoctlAnswer fresh = m.ioctl(get, new byte[4], 4, Duration.ofSeconds(5));
            assertEquals(0, fresh.value());
            assertEquals(4, fresh.data().length);
            assertEquals(8192, nativeInt(fresh.data()));
            byte[] chunk = ByteBuffer.allocate(4).order(ByteOrder.nativeOrder()).putInt(1234).array();
            IoctlAnswer ack = m.ioctl(set, chunk, 4, Duration.ofSeconds(5));
            assertEquals(0, ack.value());
            assertEquals(0, ack.data().length, "SBIOCSCHUNK acks with no data");
            assertEquals(1234, nativeInt(m.ioctl(get, new byte[4], 4, Duration.ofSeconds(5)).data()));
            StreamsException e = assertThrows(StreamsException.class,
                () -> m.ioctl(set, new byte[0], 0, Duration.ofSeconds(5)));
            assertEquals(Errno.Code.EINVAL, e.code());
        }
    }
}
