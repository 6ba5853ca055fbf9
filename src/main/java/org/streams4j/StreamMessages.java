package org.streams4j;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Objects;
import java.util.OptionalInt;
import java.util.Set;
import org.streams4j.internal.Shim;
import org.streams4j.internal.Shim.Scratch;
import org.streams4j.internal.StreamsShim;

/**
 * The messages of one stream: {@code getmsg}/{@code putmsg} as typed calls,
 * and the streamio(4I) ioctls that look at or change a stream head's queue
 * and options ({@code I_PEEK}, {@code I_NREAD}, {@code I_SRDOPT},
 * {@code I_SWROPT}, {@code I_FLUSH}, {@code I_CANPUT}, {@code I_CKBAND},
 * {@code I_GETBAND}, {@code I_ATMARK}, {@code I_SETCLTIME}, {@code I_STR}).
 * Got from {@link StreamFd#messages()}; the one home of messages in the
 * library.
 *
 * <p>A STREAMS pipe carries messages, not bytes: each has an optional control
 * part, a data part, a priority band (0 to 255) or high priority. A
 * {@code write} sends one data-only message of band 0, and a {@code read} in
 * the default mode takes bytes across messages; {@link #receive} takes one
 * message, parts apart, and {@link #send} sends one.
 *
 * <p>A new pipe starts in fifofs' fast mode, where writes join into one
 * chain of bytes. A receive or a send, and the calls that look at bands,
 * marks or modules or set the read or write options ({@code I_CKBAND},
 * {@code I_GETBAND}, {@code I_ATMARK}, {@code I_CANPUT} of a band,
 * {@code I_SRDOPT}, {@code I_SWROPT}, {@code I_STR}), take both ends of the
 * pipe out of it for good ({@code msgio}, {@code fifo_fastioctl}); after
 * that each write is a message of its own, which a {@code read} in a
 * message mode takes alone. {@link #peek}, {@link #queued()} and
 * {@link #flush} are answered in fast mode.
 * {@link StreamPipe#openMessages()} and a server with
 * {@link ConnldOptions#messages()} leave it at once.
 *
 * <p>Receives take the reader's lock and sends the writers' lock of the
 * descriptor, as reads and writes do, so a message never interleaves with
 * another read or write. A send on an event loop's descriptor never blocks
 * the loop: it is queued whole behind what is queued, as a write is. Blocking
 * receives and sends park a virtual thread; a {@code I_STR} ioctl waits in
 * the kernel for its module's answer.
 *
 * <p><b>The portable backend</b> (Linux, macOS, BSD) has no STREAMS. On a
 * descriptor that keeps message boundaries, an AF_UNIX {@code SOCK_SEQPACKET}
 * socket ({@link StreamPipe#openMessages()}, a server with
 * {@link ConnldOptions#messages()} and its clients), {@link #receive},
 * {@link #send} and {@link #peek} work with the same meaning for data-only
 * messages of band 0: a message larger than the room is taken whole and its
 * rest kept for the next receive or read ({@link StreamMessage#moreData()}),
 * and a {@code read} there takes at most one message, discarding what does
 * not fit, as {@link ReadMode#MESSAGE_DISCARD} does; {@link #readOptions()}
 * says so. A zero-length message cannot be told from the end of the stream
 * there, so {@link #send} refuses to make one. Control parts, bands, high
 * priority and every ioctl fail with {@link UnsupportedPlatformException}
 * (EOPNOTSUPP), as does a message call on a byte-stream socket; nothing is
 * emulated.
 */
public final class StreamMessages {
    /** The least room an I_STR answer gets: strmsgsz, 64 KiB (conf/param.c). */
    private static final int IOCTL_ROOM = 64 * 1024;
    /** The longest {@code ic_timout} whose milliseconds fit the kernel's {@code int}. */
    static final int MAX_IOCTL_SECONDS = Integer.MAX_VALUE / 1000;
    /** awaitBand's first and longest look-again wait. */
    private static final long MIN_BAND_WAIT_NANOS = 1_000_000L;
    private static final long MAX_BAND_WAIT_NANOS = 64_000_000L;

    private final Descriptor d;
    private final ReadPath reads;
    private final WritePath writes;

    StreamMessages(Descriptor d, ReadPath reads, WritePath writes) {
        this.d = d;
        this.reads = reads;
        this.writes = writes;
    }

    // ---- receiving ----------------------------------------------------------------

    /**
     * Takes the next message of any priority, waiting for one
     * ({@code getmsg}).
     *
     * @param m where it goes (its buffers are reused)
     * @return true when a message came; false at the end of the stream
     *     ({@link StreamMessage#isEndOfStream()}), or, on an event loop's
     *     descriptor, when none is queued yet
     * @throws StreamsException e.g. EBADMSG when a passed descriptor is at the head
     */
    public boolean receive(StreamMessage m) throws StreamsException {
        return receive(m, MessagePriority.NORMAL, null);
    }

    /**
     * {@link #receive(StreamMessage)} waiting at most {@code timeout}.
     *
     * @param m where it goes
     * @param timeout how long to wait; null or negative for ever
     * @return as {@link #receive(StreamMessage)}
     * @throws StreamTimeoutException when nothing came in time
     * @throws StreamsException as {@link #receive(StreamMessage)}
     */
    public boolean receive(StreamMessage m, Duration timeout) throws StreamsException {
        return receive(m, MessagePriority.NORMAL, timeout);
    }

    /**
     * Takes the next message of at least {@code least} priority
     * ({@code getpmsg}: {@link MessagePriority#NORMAL} takes any,
     * {@code band(n)} the first of band n or above or high priority,
     * {@link MessagePriority#HIGH} only high priority), waiting at most
     * {@code timeout} for one. A part that does not fit stays queued
     * ({@link StreamMessage#moreControl()}, {@link StreamMessage#moreData()}).
     *
     * <p>The end of the stream is told for what was asked: with
     * {@code band(n)} or {@code HIGH}, false and
     * {@link StreamMessage#isEndOfStream()} say that the other end has closed
     * and no message of that priority or above is queued; messages of a
     * lower priority may still be, for a receive that asks less.
     *
     * <p>STREAMS: {@code poll} reports a message of any band above 0 alike,
     * so a timed receive of {@code band(n)}, n above 1, or one made on a
     * virtual thread, while a lower band's message is at the head, looks at
     * the head's band again after waits of 1 ms doubling to 64 ms (a
     * high-priority message or a hang-up ends the wait at once): a message of
     * band n arriving behind the lower one is taken up to one such wait late.
     * A platform thread's receive without a time-out sleeps in
     * {@code getpmsg}, which the kernel wakes.
     *
     * @param m where it goes
     * @param least the lowest priority taken
     * @param timeout how long to wait; null or negative for ever
     * @return as {@link #receive(StreamMessage)}
     * @throws StreamTimeoutException when nothing came in time
     * @throws StreamsException as {@link #receive(StreamMessage)}
     */
    public boolean receive(StreamMessage m, MessagePriority least, Duration timeout) throws StreamsException {
        Objects.requireNonNull(m, "m");
        Objects.requireNonNull(least, "least");
        if (!Platform.supportsModules()) {
            requireMessages("getmsg");
            if (least != MessagePriority.NORMAL) {
                throw unsupported("getmsg", "message bands and high priority");
            }
            return reads.receiveMessage(m, timeout);
        }
        int events = least.isHigh() ? Shim.POLLPRI : least.band() > 0 ? Shim.POLLRDBAND | Shim.POLLPRI : Shim.POLLIN;
        boolean timed = timeout != null && !timeout.isNegative();
        // A band above 1 is waited for here when the wait has an end or would pin (see awaitBand).
        boolean byBand = least.band() > 1 && !reads.isNonBlocking() && (timed || Parking.parks());
        reads.lock.lock();
        try {
            if (byBand) {
                awaitBand(least.band(), timeout);
            } else if (timed && d.poll(events, timeout) == 0) {
                throw new StreamTimeoutException("getmsg", d.target(), timeout);
            }
            Scratch s = Scratch.get(0);
            int io = Scratch.MSG;
            s.buf.putInt(io, m.controlCapacity());
            s.buf.putInt(io + 4, m.dataCapacity());
            s.buf.putInt(io + 8, least.band());
            s.buf.putInt(io + 12, least.isHigh() ? StreamsShim.MSG_HIPRI
                : least.band() > 0 ? StreamsShim.MSG_BAND : StreamsShim.MSG_ANY);
            int r;
            d.acquire("getmsg");
            try {
                if (!reads.isNonBlocking() && !byBand) {
                    d.ready("getmsg", events);      // a virtual thread parks first
                }
                r = StreamsShim.s4j_getmsg(d.fd, m.controlAddress(), m.dataAddress(), s.address + io);
            } finally {
                d.release();
            }
            if (r == -Errno.EAGAIN && reads.isNonBlocking()) {
                m.clear();
                return false;
            }
            if (r < 0) {
                throw d.failure("getmsg", -r);
            }
            int clen = s.buf.getInt(io);
            int dlen = s.buf.getInt(io + 4);
            int flags = s.buf.getInt(io + 12);
            if (flags == 0) {
                // strgetmsg's answer for the end (STRHUP, STREOF): flags 0, both lengths 0.
                m.ended();
                return false;
            }
            m.filled(clen, dlen, s.buf.getInt(io + 8), flags == StreamsShim.MSG_HIPRI,
                (r & StreamsShim.MORECTL) != 0, (r & StreamsShim.MOREDATA) != 0);
            return true;
        } finally {
            reads.lock.unlock();
        }
    }

    /**
     * Waits (reads' lock held) until {@code getpmsg(MSG_BAND, band)}, band
     * above 1, will not sleep: a message of that band or above, or of high
     * priority, is at the head, or the stream hung up. {@code strpoll}
     * reports POLLRDBAND for a message of any band above 0 at the head,
     * while {@code strgetmsg} takes one only of the band asked or above and
     * otherwise sleeps in {@code strwaitq} with no time limit, where a
     * time-out would not be kept and a virtual thread would hold its carrier.
     * So: with nothing queued, a poll for anything (an arrival changes the
     * head); with a lower band's message at the head, which no event will
     * report the change of, the head's band ({@code I_GETBAND}) is looked at
     * again after each wait for POLLPRI (high priority; a hang-up is reported
     * whatever is asked) of 1 ms, doubling up to 64 ms. A message of the band
     * asked for that arrives behind a lower band's is taken up to one such
     * wait late.
     */
    private void awaitBand(int band, Duration timeout) throws StreamsException {
        boolean timed = timeout != null && !timeout.isNegative();
        long deadline = timed ? System.nanoTime() + timeout.toNanos() : 0;
        long slice = MIN_BAND_WAIT_NANOS;
        while (true) {
            if (d.poll(Shim.POLLPRI, Duration.ZERO) != 0) {
                return;     // high priority at the head, or hung up: getpmsg answers at once
            }
            OptionalInt head = firstBand();
            if (head.isPresent() && head.getAsInt() >= band) {
                return;
            }
            long left = timed ? deadline - System.nanoTime() : Long.MAX_VALUE;
            if (left <= 0) {
                throw new StreamTimeoutException("getmsg", d.target(), timeout);
            }
            if (head.isEmpty()) {
                d.poll(Shim.POLLIN | Shim.POLLRDBAND | Shim.POLLPRI, timed ? Duration.ofNanos(left) : null);
            } else {
                d.poll(Shim.POLLPRI, Duration.ofNanos(Math.min(slice, left)));
                slice = Math.min(slice * 2, MAX_BAND_WAIT_NANOS);
            }
        }
    }

    /**
     * Copies the message at the head into {@code m} without taking it
     * ({@code I_PEEK}); never waits. What does not fit is not copied, and
     * I_PEEK does not say so ({@link StreamMessage#moreData()} stays false)
     * nor give the band (0 is reported). A part {@code m} has no room for is
     * still told apart from a missing one ({@link StreamMessage#hasControl()},
     * {@link StreamMessage#hasData()}), so a message of only a control part,
     * as high-priority messages are, is seen by a {@code StreamMessage(n)}.
     *
     * @param m where it goes
     * @return true when a message was there
     * @throws StreamsException e.g. EBADMSG when a passed descriptor is at the head
     */
    public boolean peek(StreamMessage m) throws StreamsException {
        return peek(m, false);
    }

    /**
     * {@link #peek(StreamMessage)} of a high-priority message only
     * ({@code RS_HIPRI}): false when the head holds none.
     *
     * @param m where it goes
     * @param highPriorityOnly true for {@code RS_HIPRI}
     * @return true when such a message was there
     * @throws StreamsException as {@link #peek(StreamMessage)}
     */
    public boolean peek(StreamMessage m, boolean highPriorityOnly) throws StreamsException {
        Objects.requireNonNull(m, "m");
        if (!Platform.supportsModules()) {
            requireMessages("I_PEEK");
            if (highPriorityOnly) {
                throw unsupported("I_PEEK", "high-priority messages");
            }
            return reads.peekMessage(m);
        }
        reads.lock.lock();
        try {
            Scratch s = Scratch.get(0);
            int io = Scratch.MSG;
            s.buf.putInt(io, m.controlCapacity());
            s.buf.putInt(io + 4, m.dataCapacity());
            s.buf.putInt(io + 8, 0);
            s.buf.putInt(io + 12, highPriorityOnly ? StreamsShim.MSG_HIPRI : 0);
            int r = d.call("I_PEEK", n -> StreamsShim.s4j_peekmsg(n, m.controlAddress(), m.dataAddress(),
                s.address + io));
            if (r == 0) {
                m.clear();
                return false;
            }
            int clen = s.buf.getInt(io);
            int dlen = s.buf.getInt(io + 4);
            m.filled(clen, dlen, 0, s.buf.getInt(io + 12) == StreamsShim.MSG_HIPRI, false, false);
            return true;
        } finally {
            reads.lock.unlock();
        }
    }

    // ---- sending ------------------------------------------------------------------

    /**
     * Sends one data-only message of band 0 ({@code putmsg} with no control part).
     *
     * @param data its data part (from position to limit; the position moves to the limit)
     * @throws StreamsException e.g. ENXIO when the other end has closed
     *     ({@link StreamsException#isPeerGone()})
     */
    public void send(ByteBuffer data) throws StreamsException {
        send(null, Objects.requireNonNull(data, "data"), MessagePriority.NORMAL);
    }

    /**
     * Sends one data-only message of band 0.
     *
     * @param data its data part, all of it
     * @throws StreamsException e.g. ENXIO when the other end has closed
     *     ({@link StreamsException#isPeerGone()})
     */
    public void send(byte[] data) throws StreamsException {
        send(null, ByteBuffer.wrap(data), MessagePriority.NORMAL);
    }

    /**
     * Sends one message of band 0 ({@code putmsg}).
     *
     * @param control its control part, or null for none
     * @param data its data part, or null for none
     * @throws StreamsException as {@link #send(ByteBuffer, ByteBuffer, MessagePriority)}
     */
    public void send(ByteBuffer control, ByteBuffer data) throws StreamsException {
        send(control, data, MessagePriority.NORMAL);
    }

    /**
     * Sends one message, whole, with a priority ({@code putpmsg}): waits while
     * the stream is flow-controlled in that band (a high-priority message is
     * not), as a write does; on an event loop's descriptor it is queued
     * instead, behind what is queued. Each buffer is read from its position to
     * its limit, and its position moves to its limit once the message is
     * taken or queued. A high-priority message needs a control part
     * ({@code strputmsg}: EINVAL otherwise), and a stream head keeps one at a
     * time: a second sent before the reader has taken the first is dropped
     * by the receiving stream head ({@code strrput}) while this call succeeds.
     * On a pipe a message carries at most {@code PIPE_BUF} (5,120) data bytes
     * and 1,024 control bytes ({@code stropen}, {@code strctlsz}: ERANGE above).
     *
     * @param control its control part, or null for none
     * @param data its data part, or null for none
     * @param priority its band or high priority
     * @throws StreamsException e.g. ENXIO when the other end has closed
     *     ({@link StreamsException#isPeerGone()}: {@code putmsg} is SVID's,
     *     which raises no SIGPIPE and fails with the stream head's hang-up
     *     error, where a {@code write} fails with EPIPE), ERANGE
     *     when a part is larger than the stream allows, EINVAL for a
     *     high-priority message without a control part
     */
    public void send(ByteBuffer control, ByteBuffer data, MessagePriority priority) throws StreamsException {
        Objects.requireNonNull(priority, "priority");
        if (control == null && data == null) {
            throw new StreamsException("putmsg", d.target(), Errno.EINVAL, "a message needs a control or a data part");
        }
        if (!Platform.supportsModules()) {
            requireMessages("putmsg");
            if (control != null) {
                throw unsupported("putmsg", "a control part (M_PROTO)");
            }
            if (priority != MessagePriority.NORMAL) {
                throw unsupported("putmsg", "message bands and high priority");
            }
            if (!data.hasRemaining()) {
                throw unsupported("putmsg", "a zero-length message (a SOCK_SEQPACKET reader takes it as the end)");
            }
            writes.sendMessage(null, data, priority, false);
            return;
        }
        writes.sendMessage(control, data, priority, true);
    }

    // ---- the stream head's queue -----------------------------------------------------

    /**
     * What waits to be read ({@code I_NREAD}): every message, of any kind,
     * and the data bytes (M_DATA only) of the first. A pipe that has carried
     * no message call yet (fifofs' fast mode) answers 1 and all the bytes
     * unread instead ({@code fifo_fastioctl}).
     *
     * @return the number of messages and the first one's data bytes
     * @throws StreamsException EOPNOTSUPP on the portable backend
     */
    public QueuedMessages queued() throws StreamsException {
        require("I_NREAD");
        Scratch s = Scratch.get(0);
        int n = d.call("I_NREAD", f -> StreamsShim.s4j_nread_msgs(f, s.address + Scratch.MSG_OUT));
        return new QueuedMessages(n, s.buf.getInt(Scratch.MSG_OUT));
    }

    /**
     * Empties queues of every band ({@code I_FLUSH}); what was in them is lost.
     * The flush travels down the stream: on a pipe with no module pushed it
     * reaches the other end's stream head, so {@link Flush#READ} empties
     * what this end wrote that the other end has not read ({@code strrput}
     * of the peer), not this end's own queue; push {@code pipemod} for
     * streamio(4I)'s meaning. A pipe still in fifofs' fast mode does as the
     * manual says ({@code fifo_fastioctl}).
     *
     * @param which read, write or both
     * @throws StreamsException EOPNOTSUPP on the portable backend
     */
    public void flush(Flush which) throws StreamsException {
        require("I_FLUSH");
        int w = flushBits(which);
        d.call("I_FLUSH", f -> StreamsShim.s4j_flush(f, w, -1));
    }

    /**
     * Empties one band's queues ({@code I_FLUSHBAND}).
     *
     * @param band 0 to 255
     * @param which read, write or both
     * @throws StreamsException EOPNOTSUPP on the portable backend
     */
    public void flushBand(int band, Flush which) throws StreamsException {
        checkBand(band);
        require("I_FLUSHBAND");
        int w = flushBits(which);
        d.call("I_FLUSHBAND", f -> StreamsShim.s4j_flush(f, w, band));
    }

    private static int flushBits(Flush which) {
        switch (Objects.requireNonNull(which, "which")) {
            case READ:
                return StreamsShim.FLUSHR;
            case WRITE:
                return StreamsShim.FLUSHW;
            default:
                return StreamsShim.FLUSHR | StreamsShim.FLUSHW;
        }
    }

    /**
     * Whether a message of {@code band} could be written now without waiting
     * ({@code I_CANPUT}).
     *
     * @param band 0 to 255
     * @return true when the band is not flow-controlled
     * @throws StreamsException EOPNOTSUPP on the portable backend
     */
    public boolean canSend(int band) throws StreamsException {
        checkBand(band);
        require("I_CANPUT");
        return d.call("I_CANPUT", f -> StreamsShim.s4j_canput(f, band)) == 1;
    }

    /**
     * Whether a message of {@code band} is queued to be read ({@code I_CKBAND});
     * for band 0, whether any message is ({@code strioctl} tests the queue's first).
     *
     * @param band 0 to 255
     * @return true when one is
     * @throws StreamsException EOPNOTSUPP on the portable backend
     */
    public boolean hasBand(int band) throws StreamsException {
        checkBand(band);
        require("I_CKBAND");
        return d.call("I_CKBAND", f -> StreamsShim.s4j_ckband(f, band)) == 1;
    }

    /**
     * The band of the first message queued ({@code I_GETBAND}).
     *
     * @return its band, or empty when none is queued (ENODATA)
     * @throws StreamsException EOPNOTSUPP on the portable backend
     */
    public OptionalInt firstBand() throws StreamsException {
        require("I_GETBAND");
        int r = d.useQuick("I_GETBAND", StreamsShim::s4j_getband);
        if (r == -Errno.ENODATA) {
            return OptionalInt.empty();
        }
        if (r < 0) {
            throw d.failure("I_GETBAND", -r);
        }
        return OptionalInt.of(r);
    }

    /**
     * Whether the first message queued is marked ({@code I_ATMARK ANYMARK}):
     * a module below may mark a message, as TCP's urgent data is marked.
     *
     * @return true when it is
     * @throws StreamsException EOPNOTSUPP on the portable backend
     */
    public boolean atMark() throws StreamsException {
        require("I_ATMARK");
        return d.call("I_ATMARK", f -> StreamsShim.s4j_atmark(f, StreamsShim.ANYMARK)) == 1;
    }

    /**
     * Whether the first message queued is the only marked one
     * ({@code I_ATMARK LASTMARK}).
     *
     * @return true when it is the last mark
     * @throws StreamsException EOPNOTSUPP on the portable backend
     */
    public boolean atLastMark() throws StreamsException {
        require("I_ATMARK");
        return d.call("I_ATMARK", f -> StreamsShim.s4j_atmark(f, StreamsShim.LASTMARK)) == 1;
    }

    // ---- options ----------------------------------------------------------------------

    /**
     * The read options ({@code I_GRDOPT}). On the portable backend, what the
     * socket does by its type: {@link ReadMode#MESSAGE_DISCARD} for
     * {@code SOCK_SEQPACKET}, {@link ReadMode#BYTE_STREAM} otherwise, with
     * {@link ControlReadMode#FAIL} (no control part ever comes).
     *
     * @return the options
     * @throws StreamsException when the descriptor is closed
     */
    public ReadOptions readOptions() throws StreamsException {
        if (!Platform.supportsModules()) {
            return portableReadOptions();
        }
        Scratch s = Scratch.get(0);
        d.call("I_GRDOPT", f -> StreamsShim.s4j_get_read_opt(f, s.address + Scratch.MSG));
        ReadMode[] modes = ReadMode.values();
        ControlReadMode[] controls = ControlReadMode.values();
        return new ReadOptions(modes[s.buf.getInt(Scratch.MSG)], controls[s.buf.getInt(Scratch.MSG + 4)]);
    }

    /**
     * Sets the read options ({@code I_SRDOPT}). On the portable backend only
     * what the socket does already ({@link #readOptions()}) is accepted.
     *
     * @param options the mode and the control-part treatment
     * @throws StreamsException EOPNOTSUPP on the portable backend for anything else
     */
    public void setReadOptions(ReadOptions options) throws StreamsException {
        Objects.requireNonNull(options, "options");
        if (!Platform.supportsModules()) {
            if (!options.equals(portableReadOptions())) {
                throw unsupported("I_SRDOPT", "read modes other than the socket type's own ("
                    + portableReadOptions().mode() + ")");
            }
            return;
        }
        int mode = options.mode().ordinal();
        int prot = options.control().ordinal();
        d.call("I_SRDOPT", f -> StreamsShim.s4j_set_read_opt(f, mode, prot));
    }

    private ReadOptions portableReadOptions() throws StreamsException {
        int t = d.socketType("I_GRDOPT");
        return new ReadOptions(t == Shim.SOCK_SEQPACKET || t == Shim.SOCK_DGRAM ? ReadMode.MESSAGE_DISCARD
            : ReadMode.BYTE_STREAM, ControlReadMode.FAIL);
    }

    /**
     * The write options ({@code I_GWROPT}).
     *
     * @return the options set
     * @throws StreamsException EOPNOTSUPP on the portable backend
     */
    public Set<WriteOption> writeOptions() throws StreamsException {
        require("I_GWROPT");
        int bits = d.call("I_GWROPT", StreamsShim::s4j_get_write_opt);
        EnumSet<WriteOption> out = EnumSet.noneOf(WriteOption.class);
        if ((bits & StreamsShim.SNDZERO) != 0) {
            out.add(WriteOption.SEND_ZERO);
        }
        if ((bits & StreamsShim.SNDPIPE) != 0) {
            out.add(WriteOption.SEND_SIGPIPE);
        }
        return out;
    }

    /**
     * Sets the write options ({@code I_SWROPT}): exactly those given.
     *
     * @param options the options to have
     * @throws StreamsException EOPNOTSUPP on the portable backend
     */
    public void setWriteOptions(Set<WriteOption> options) throws StreamsException {
        require("I_SWROPT");
        int bits = (options.contains(WriteOption.SEND_ZERO) ? StreamsShim.SNDZERO : 0)
            | (options.contains(WriteOption.SEND_SIGPIPE) ? StreamsShim.SNDPIPE : 0);
        d.call("I_SWROPT", f -> StreamsShim.s4j_set_write_opt(f, bits));
    }

    /**
     * How long the last close of this stream waits for its write queues to
     * drain ({@code I_GETCLTIME}).
     *
     * @return the close time
     * @throws StreamsException EOPNOTSUPP on the portable backend
     */
    public Duration closeTime() throws StreamsException {
        require("I_GETCLTIME");
        return Duration.ofMillis(d.call("I_GETCLTIME", StreamsShim::s4j_get_cltime));
    }

    /**
     * Sets how long the last close waits for the write queues to drain
     * ({@code I_SETCLTIME}); 0: it does not wait ({@code strclose}).
     *
     * @param time the close time, in milliseconds' precision
     * @throws StreamsException EINVAL for a time the kernel refuses; EOPNOTSUPP on the portable backend
     */
    public void setCloseTime(Duration time) throws StreamsException {
        require("I_SETCLTIME");
        long ms = time.toMillis();
        if (ms < 0 || ms > Integer.MAX_VALUE) {
            throw new StreamsException("I_SETCLTIME", d.target(), Errno.EINVAL, "close time out of range: " + time);
        }
        d.call("I_SETCLTIME", f -> StreamsShim.s4j_set_cltime(f, (int) ms));
    }

    // ---- ioctls for the modules ----------------------------------------------------

    /**
     * A time-out in whole seconds (rounded up, at least 1) for {@code ic_timout},
     * at most {@link #MAX_IOCTL_SECONDS}: {@code strdoioctl} waits
     * {@code ic_timout * 1000} ms computed in {@code int}, which a longer
     * time would overflow into no limit or a short one.
     */
    static int ioctlSeconds(Duration timeout) {
        long s = timeout.getSeconds() + (timeout.getNano() > 0 ? 1 : 0);
        return (int) Math.max(1, Math.min(MAX_IOCTL_SECONDS, s));
    }

    /**
     * Sends {@code command} to the module or driver below the stream head and
     * waits for its answer ({@code I_STR}), for modules the library does not
     * know. Waits in the kernel (a virtual thread holds its carrier meanwhile).
     *
     * @param command the module's ioctl command ({@code ic_cmd})
     * @param request the bytes sent ({@code ic_dp}, {@code ic_len}); may be empty
     * @param answerCapacity room for the answer; at least {@code request.length}
     *     (the kernel answers into the request's buffer, which is given
     *     64 KiB at least: the kernel copies a module's whole answer)
     * @param timeout how long the module may take: null for the stream's
     *     default (15 seconds), negative for no limit, else rounded up to
     *     seconds and held to at most 2,147,483 (24.8 days: the kernel counts
     *     it in milliseconds in an {@code int})
     * @return the ioctl's value and the answer's bytes (as many as the module sent)
     * @throws StreamsException ETIME when no answer came in time, EINVAL from
     *     a module that does not know the command (and at once on a pipe with
     *     no module: the other end's stream head refuses it), ENXIO after a
     *     hang-up; EOPNOTSUPP on the portable backend
     */
    public IoctlAnswer ioctl(int command, byte[] request, int answerCapacity, Duration timeout)
        throws StreamsException {
        Objects.requireNonNull(request, "request");
        if (answerCapacity < request.length) {
            throw new IllegalArgumentException("answerCapacity " + answerCapacity + " is less than the request's "
                + request.length + " bytes");
        }
        require("I_STR");
        int seconds = timeout == null ? 0 : timeout.isNegative() ? -1 : ioctlSeconds(timeout);
        // strdoioctl copies the module's whole answer (ioc_count bytes) into
        // ic_dp without looking at the caller's room: give it at least
        // strmsgsz (64 KiB), the most an ioctl's data may be.
        int room = Math.max(answerCapacity, IOCTL_ROOM);
        ByteBuffer buf = ByteBuffer.allocateDirect(room);
        buf.put(0, request);
        long address = Shim.address(buf);
        Scratch s = Scratch.get(0);
        int r;
        d.acquire("I_STR");
        try {
            r = StreamsShim.s4j_str_ioctl(d.fd, command, address, request.length, room, seconds,
                s.address + Scratch.MSG_OUT);
        } finally {
            d.release();
        }
        if (r < 0) {
            throw d.failure("I_STR", -r);
        }
        int len = Math.max(0, Math.min(room, s.buf.getInt(Scratch.MSG_OUT)));
        byte[] answer = new byte[len];
        buf.get(0, answer);
        return new IoctlAnswer(r, answer);
    }

    // ---- checks -------------------------------------------------------------------

    private void require(String op) throws StreamsException {
        if (!Platform.supportsModules()) {
            d.useQuick(op, n -> 0);     // a closed descriptor says so first
            throw new UnsupportedPlatformException(op, d.target());
        }
    }

    /** Portable: the descriptor must keep message boundaries (SOCK_SEQPACKET). */
    private void requireMessages(String op) throws StreamsException {
        if (d.socketType(op) != Shim.SOCK_SEQPACKET) {
            throw unsupported(op, "message boundaries on this descriptor (not a SOCK_SEQPACKET socket:"
                + " StreamPipe.openMessages() or ConnldOptions.messages(true) make one)");
        }
    }

    private StreamsException unsupported(String op, String what) {
        return new StreamsException(op, d.target(), Errno.EOPNOTSUPP, "not supported on this platform: the "
            + Platform.backend().name().toLowerCase(java.util.Locale.ROOT) + " backend has no STREAMS " + what);
    }

    private static void checkBand(int band) {
        if (band < 0 || band > 255) {
            throw new IllegalArgumentException("a STREAMS band is 0 to 255: " + band);
        }
    }
}
