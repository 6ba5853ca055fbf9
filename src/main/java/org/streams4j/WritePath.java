package org.streams4j;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.locks.ReentrantLock;
import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import org.streams4j.internal.HotCalls;
import org.streams4j.internal.Shim;
import org.streams4j.internal.Shim.Scratch;
import org.streams4j.internal.StreamsShim;

/**
 * The one way out of a {@link StreamFd}: every write (bytes, buffers,
 * gathering, {@code exchange}'s request, the stream and channel adapters),
 * every descriptor passed and {@code shutdownOutput} goes through here, so
 * none can forget the event loop's queue (modelled on Netty's
 * {@code ChannelOutboundBuffer} and the JDK's {@code SocketChannelImpl}
 * write path).
 *
 * <p>A descriptor is <em>direct</em> (the caller blocks in the kernel until
 * its write is taken: one {@code write(2)} per call, no queue, no copy of a
 * direct buffer, no allocation) or <em>held by an event loop</em> (it is
 * non-blocking; what the kernel cannot take now is queued, in order, and
 * written by the loop when there is room). On a loop, once anything is queued
 * everything after it is queued behind it: bytes of every kind, a descriptor
 * to pass (kept open by a use count until it is sent, so the caller may close
 * its copy at once) and the end of output. {@link #closeWhenWritten()} marks
 * the queue to be closed once written. Nothing here blocks a loop.
 *
 * <p>Guarded by {@link #lock}, the writers' lock: one writer at a time.
 */
final class WritePath {
    private static final HotCalls CALLS = HotCalls.INSTANCE;
    private static final Duration SEND_ROOM_WAIT = Duration.ofMillis(100);

    private final Descriptor handle;
    /** The writers' lock. */
    final ReentrantLock lock = new ReentrantLock();
    /**
     * Null while direct; an event loop's queue while one holds the descriptor.
     * Changed and its items used under lock; volatile so that a close can tell
     * a direct descriptor without the lock, which a blocked writer holds.
     */
    private volatile LoopQueue queue;
    /**
     * System.nanoTime() (made odd, so never 0) when the write call now in the
     * kernel began; 0 while none is. What a server's write time-out watches.
     */
    private volatile long writeSince;

    WritePath(Descriptor handle) {
        this.handle = handle;
    }

    // ---- bytes -----------------------------------------------------------------------

    int write(byte[] b, int off, int len) throws StreamsException {
        lock.lock();
        try {
            return writeCopy(b, null, off, len);
        } finally {
            lock.unlock();
        }
    }

    void writeFully(byte[] b, int off, int len) throws StreamsException {
        lock.lock();
        try {
            while (len > 0) {
                int n = writeCopy(b, null, off, len);
                off += n;
                len -= n;
            }
        } finally {
            lock.unlock();
        }
    }

    /** One write from the buffer's remaining bytes; a direct buffer without a copy. */
    int write(ByteBuffer src) throws StreamsException {
        int len = src.remaining();
        if (len == 0) {
            return 0;
        }
        if (!src.isDirect()) {
            int n;
            if (src.hasArray()) {
                n = write(src.array(), src.arrayOffset() + src.position(), len);
            } else {
                // read-only heap buffer: no array() to be had
                lock.lock();
                try {
                    n = writeCopy(null, src, src.position(), len);
                } finally {
                    lock.unlock();
                }
            }
            src.position(src.position() + n);
            return n;
        }
        lock.lock();
        try {
            LoopQueue q = queue;
            if (q != null && q.behind("write", handle)) {
                return q.add(LoopQueue.copyOf(src));
            }
            Scratch s = Scratch.get(0);
            boolean parks = q == null && Parking.parks();
            handle.acquire("write");
            writeSince = System.nanoTime() | 1;
            long n;
            try {
                n = parks ? writeParked(s.address(src, 1), src.position(), len)
                    : CALLS.write(handle.fd, s.address(src, 1), src.position(), len);
            } finally {
                writeSince = 0;
                handle.release();
            }
            if (q != null && (n == -Errno.EAGAIN || (n >= 0 && n < len))) {
                src.position(src.position() + (int) Math.max(0, n));
                int rest = q.add(LoopQueue.copyOf(src));
                handle.tellLoop();
                return (int) Math.max(0, n) + rest;
            }
            if (n < 0) {
                throw handle.failure("write", (int) -n);
            }
            src.position(src.position() + (int) n);
            return (int) n;
        } finally {
            lock.unlock();
        }
    }

    /**
     * One write(2) of a copy of {@code len} bytes of {@code b} or (when b is
     * null) of the buffer {@code src}, from {@code off}: the copy is in this
     * thread's scratch, or for a large write in a block of its own, so that
     * one call is still one write(2). A read-only buffer is copied without
     * {@code array()}. On a loop, what the kernel cannot take now is queued.
     */
    private int writeCopy(byte[] b, ByteBuffer src, int off, int len) throws StreamsException {
        LoopQueue q = queue;
        if (q != null && q.behind("write", handle)) {
            return q.add(LoopQueue.copyOf(b, src, off, len));
        }
        boolean parks = q == null && Parking.parks();
        Memory big = len > Scratch.MAX_CACHED ? new Memory(len) : null;
        long n;
        try {
            long address;
            long at;
            if (big == null) {
                Scratch s = Scratch.get(len);
                if (b != null) {
                    s.buf.put(Scratch.BYTES, b, off, len);
                } else {
                    s.buf.put(Scratch.BYTES, src, off, len);
                }
                address = s.address;
                at = Scratch.BYTES;
            } else {
                if (b != null) {
                    big.write(0, b, off, len);
                } else {
                    big.getByteBuffer(0, len).put(0, src, off, len);
                }
                address = Pointer.nativeValue(big);
                at = 0;
            }
            handle.acquire("write");
            writeSince = System.nanoTime() | 1;
            try {
                n = parks ? writeParked(address, at, len) : CALLS.write(handle.fd, address, at, len);
            } finally {
                writeSince = 0;
                handle.release();
            }
        } finally {
            if (big != null) {
                big.close();
            }
        }
        if (q != null && (n == -Errno.EAGAIN || (n >= 0 && n < len))) {
            int done = (int) Math.max(0, n);
            q.add(LoopQueue.copyOf(b, src, off + done, len - done));
            handle.tellLoop();
            return len;
        }
        if (n < 0) {
            throw handle.failure("write", (int) -n);
        }
        return (int) n;
    }

    /**
     * One {@code writev(2)} of the buffers' remaining bytes (see
     * {@link StreamFd#write(ByteBuffer[], int, int)}). On a loop, what the
     * kernel does not take of them now is queued, all of it, after what is
     * queued already.
     */
    long write(ByteBuffer[] srcs, int offset, int length) throws StreamsException {
        lock.lock();
        try {
            LoopQueue q = queue;
            if (q != null && q.behind("write", handle)) {
                return q.addAll(srcs, offset, length);
            }
            if (q == null && Parking.parks()) {
                // The first buffer with bytes left, all of it, parking as needed (see Parking).
                for (int i = offset; i < offset + length; i++) {
                    if (srcs[i].hasRemaining()) {
                        return write(srcs[i]);
                    }
                }
                return 0;
            }
            int count = Iov.vectors(srcs, offset, length, true);
            Scratch s = Scratch.get(0);
            if (count == 0) {
                return 0;
            }
            handle.acquire("write");
            writeSince = System.nanoTime() | 1;
            long n;
            try {
                n = CALLS.writev(handle.fd, s.address + Scratch.BYTES, count);
            } finally {
                writeSince = 0;
                handle.release();
            }
            if (q != null && n == -Errno.EAGAIN) {
                n = 0;
            }
            if (n < 0) {
                throw handle.failure("write", (int) -n);
            }
            Iov.advance(s, srcs, offset, count, n, false);
            if (q != null) {
                long rest = q.addAll(srcs, offset, length);
                if (rest > 0) {
                    handle.tellLoop();
                }
                return n + rest;
            }
            return n;
        } finally {
            lock.unlock();
        }
    }

    /**
     * A virtual thread's direct write, holding the blocking use: all
     * {@code len} bytes, as a blocking write(2) takes them, without ever
     * sleeping in the kernel (Parking). On a socket a send with MSG_DONTWAIT,
     * parking on EAGAIN; on a stream, a file or a FIFO, a park until poll
     * says writable and then at most PIPE_BUF bytes, which the kernel takes
     * without waiting (strwrite_common). Returns the bytes written, or
     * -errno when none were.
     */
    private long writeParked(long address, long at, long len) throws StreamsException {
        long done = 0;
        boolean socket = Parking.PER_CALL_NONBLOCKING;
        while (done < len) {
            long n;
            if (socket) {
                n = CALLS.writeNb(handle.fd, address, at + done, len - done);
                if (n == -Errno.EAGAIN) {
                    if (handle.parkOnce("write", Shim.POLLOUT, false, 0) < 0) {
                        n = CALLS.write(handle.fd, address, at + done, len - done);  // as a platform thread
                    } else {
                        continue;
                    }
                } else if (n == -Errno.ENOTSOCK) {
                    socket = false;
                    continue;
                }
            } else {
                handle.ready("write", Shim.POLLOUT);
                n = CALLS.write(handle.fd, address, at + done, Math.min(len - done, Shim.PIPE_BUF));
            }
            if (n < 0) {
                return done > 0 ? done : n;
            }
            done += n;
        }
        return done;
    }

    // ---- request and answer ----------------------------------------------------------

    /** Whether exchange may write its request in the same native call as its read: direct, lock held. */
    boolean direct() {
        return queue == null;
    }

    /** exchange's combined call (direct only, lock held); its written count is left at Scratch.WRITTEN. */
    long exchange(Scratch s, ByteBuffer out, ByteBuffer in) throws StreamsException {
        long wa = s.address(out, 1);
        long ra = s.address(in, 0);
        handle.acquire("write");
        writeSince = System.nanoTime() | 1;
        try {
            return CALLS.exchange(handle.fd, wa, out.position(), out.remaining(), ra, in.position(),
                in.remaining(), s.address + Scratch.WRITTEN, s.address + Scratch.PASSED);
        } finally {
            writeSince = 0;
            handle.release();
        }
    }

    /** All of out's remaining bytes (a loop takes them all at once). */
    void writeAll(ByteBuffer out) throws StreamsException {
        lock.lock();
        try {
            while (out.hasRemaining()) {
                write(out);
            }
        } finally {
            lock.unlock();
        }
    }

    // ---- descriptor passing ------------------------------------------------------------

    /**
     * Passes {@code passed} (I_SENDFD, SCM_RIGHTS). Direct: waits while the
     * receiver's queue is full. On a loop: never waits; after queued bytes,
     * or when the receiver has no room, the descriptor is queued (a quick use
     * keeps its number open until it is sent, whatever its owner does).
     */
    void sendFd(Descriptor passed) throws StreamsException {
        // A quick use of the passed descriptor: a close meanwhile leaves the
        // number to the last user instead of pointing it at the dead marker,
        // so the marker can never be what the other end receives.
        passed.acquireQuick("sendFd");
        boolean queued = false;
        try {
            lock.lock();
            try {
                LoopQueue q = queue;
                if (q != null) {
                    if (q.behind("sendFd", handle)) {
                        q.add(passed);
                        queued = true;
                        return;
                    }
                    int r = sendNow(passed);
                    if (r == -Errno.EAGAIN) {
                        q.add(passed);
                        queued = true;
                        handle.tellLoop();
                        return;
                    }
                    if (r < 0) {
                        throw handle.failure("sendFd", -r);
                    }
                    return;
                }
                sendWaiting(passed);
            } finally {
                lock.unlock();
            }
        } finally {
            if (!queued) {
                passed.releaseQuick();
            }
        }
    }

    private int sendNow(Descriptor passed) throws StreamsException {
        handle.acquire("sendFd");
        try {
            if (queue == null) {
                handle.ready("sendFd", Shim.POLLOUT);     // a virtual thread parks for room
            }
            return CALLS.sendfd(handle.fd, passed.fd);
        } finally {
            handle.release();
        }
    }

    /** A direct sendFd: I_SENDFD never blocks, so wait for room as a write would, and send again. */
    private void sendWaiting(Descriptor passed) throws StreamsException {
        long pauseMs = 0;
        try {
            while (true) {
                int r = sendNow(passed);
                if (r != -Errno.EAGAIN) {
                    if (r < 0) {
                        throw handle.failure("sendFd", -r);
                    }
                    return;
                }
                if (writeSince == 0) {
                    writeSince = System.nanoTime() | 1;
                }
                if (Thread.currentThread().isInterrupted()) {
                    handle.closeForInterrupt();     // as any blocking call does (InterruptibleChannel)
                    throw handle.closed("sendFd");
                }
                if ((handle.poll(Shim.POLLOUT, SEND_ROOM_WAIT) & Shim.POLLOUT) != 0) {
                    pauseMs = Math.min(50, Math.max(1, pauseMs * 2));
                    Threads.sleepQuietly(pauseMs);   // writable yet EAGAIN: no spinning
                }
            }
        } finally {
            writeSince = 0;
        }
    }

    // ---- messages (StreamMessages) -----------------------------------------------------

    /**
     * Sends one message whole (putmsg on STREAMS; one SOCK_SEQPACKET write on
     * the portable backend, where StreamMessages has checked it is data only
     * of band 0). Direct: waits for room as a write does (a virtual thread
     * parks). On a loop: never waits; behind queued items, or when there is no
     * room, a copy is queued. Either way the buffers' positions move to their
     * limits once the message is taken or queued.
     */
    void sendMessage(ByteBuffer control, ByteBuffer data, MessagePriority p, boolean streams)
        throws StreamsException {
        lock.lock();
        try {
            LoopQueue q = queue;
            if (q != null) {
                if (q.behind("putmsg", handle)) {
                    q.add(copyOf(control, data, p));
                    handle.tellLoop();
                    return;
                }
                int r = putNow(control, data, p, streams, false);
                if (r == -Errno.EAGAIN) {
                    q.add(copyOf(control, data, p));
                    handle.tellLoop();
                    return;
                }
                if (r < 0) {
                    throw handle.failure("putmsg", -r);
                }
                taken(control, data);
                return;
            }
            int r;
            try {
                writeSince = System.nanoTime() | 1;
                r = putNow(control, data, p, streams, true);
            } finally {
                writeSince = 0;
            }
            if (r < 0) {
                throw handle.failure("putmsg", -r);
            }
            taken(control, data);
        } finally {
            lock.unlock();
        }
    }

    private static LoopQueue.Message copyOf(ByteBuffer control, ByteBuffer data, MessagePriority p) {
        LoopQueue.Message m = new LoopQueue.Message(bytes(control), bytes(data), p);
        taken(control, data);
        return m;
    }

    private static byte[] bytes(ByteBuffer b) {
        if (b == null) {
            return null;
        }
        byte[] a = new byte[b.remaining()];
        b.get(b.position(), a);
        return a;
    }

    private static void taken(ByteBuffer control, ByteBuffer data) {
        if (control != null) {
            control.position(control.limit());
        }
        if (data != null) {
            data.position(data.limit());
        }
    }

    /**
     * One putmsg (or SEQPACKET write) of the parts as they stand, their bytes
     * in native memory: a direct buffer where it is, a heap one copied into
     * this thread's scratch (or a block of its own when larger). {@code wait}:
     * a blocking call that waits for room (a virtual thread parks first).
     * Returns 0 or -errno.
     */
    private int putNow(ByteBuffer control, ByteBuffer data, MessagePriority p, boolean streams, boolean wait)
        throws StreamsException {
        int clen = control == null ? -1 : control.remaining();
        int dlen = data == null ? -1 : data.remaining();
        int heap = (control != null && !control.isDirect() ? clen : 0) + (data != null && !data.isDirect() ? dlen : 0);
        Scratch s = Scratch.get(Math.min(heap, Scratch.MAX_CACHED));
        ByteBuffer block = heap > Scratch.MAX_CACHED ? ByteBuffer.allocateDirect(heap) : null;
        long base = block != null ? Shim.address(block) : s.address + Scratch.BYTES;
        ByteBuffer into = block != null ? block : s.buf;
        int at = block != null ? 0 : Scratch.BYTES;
        long ca = 0;
        long da = 0;
        if (control != null) {
            if (control.isDirect()) {
                ca = Shim.address(control) + control.position();
            } else {
                into.put(at, control, control.position(), clen);
                ca = base + (at - (block != null ? 0 : Scratch.BYTES));
                at += clen;
            }
        }
        if (data != null) {
            if (data.isDirect()) {
                da = s.address(data, 1) + data.position();
            } else {
                into.put(at, data, data.position(), dlen);
                da = base + (at - (block != null ? 0 : Scratch.BYTES));
            }
        }
        handle.acquire("putmsg");
        try {
            if (streams) {
                if (wait && !p.isHigh()) {
                    // A virtual thread parks for room (strpoll: POLLOUT for band 0;
                    // POLLWRBAND above, which is set while any band downstream has
                    // room, so a send to a full band while another has room still
                    // sleeps in putpmsg, on bcanputnext of its own band, holding the
                    // carrier); a high-priority message is not flow-controlled.
                    handle.ready("putmsg", p.band() == 0 ? Shim.POLLOUT : Shim.POLLWRBAND);
                }
                return StreamsShim.s4j_putmsg(handle.fd, ca, clen, da, dlen, p.band(),
                    p.isHigh() ? StreamsShim.MSG_HIPRI : 0);
            }
            while (true) {
                long n;
                if (wait && Parking.parks() && Parking.PER_CALL_NONBLOCKING) {
                    n = CALLS.writeNb(handle.fd, da, 0, dlen);
                    if (n == -Errno.EAGAIN && handle.parkOnce("putmsg", Shim.POLLOUT, false, 0) >= 0) {
                        continue;
                    }
                    if (n == -Errno.EAGAIN) {
                        n = CALLS.write(handle.fd, da, 0, dlen);     // it cannot park: as a platform thread
                    }
                } else {
                    n = CALLS.write(handle.fd, da, 0, dlen);
                }
                // A SOCK_SEQPACKET write takes the whole message or none of it.
                return n < 0 ? (int) n : 0;
            }
        } finally {
            handle.release();
        }
    }

    /** A queued message, sent now by the loop (non-blocking). */
    private int putQueued(LoopQueue.Message m, boolean streams) throws StreamsException {
        return putNow(m.control() == null ? null : ByteBuffer.wrap(m.control()),
            m.data() == null ? null : ByteBuffer.wrap(m.data()), m.priority(), streams, false);
    }

    // ---- end of output -----------------------------------------------------------------

    /** shutdownOutput: now when nothing is queued, else after what is. */
    void shutdownOutput() throws StreamsException {
        lock.lock();
        try {
            LoopQueue q = queue;
            if (q != null) {
                if (q.shutdown) {
                    return;
                }
                if (q.behind("shutdownOutput", handle)) {
                    q.add(LoopQueue.SHUTDOWN);
                    q.shutdown = true;
                    return;
                }
                int r = shutdownNow();
                if (r == -Errno.EAGAIN) {
                    q.add(LoopQueue.SHUTDOWN);
                    q.shutdown = true;
                    handle.tellLoop();
                    return;
                }
                if (r < 0) {
                    throw handle.failure("shutdownOutput", -r);
                }
                q.shutdown = true;
                return;
            }
            int r = shutdownNow();
            if (r < 0) {
                throw handle.failure("shutdownOutput", -r);
            }
        } finally {
            lock.unlock();
        }
    }

    private int shutdownNow() throws StreamClosedException {
        handle.acquireQuick("shutdownOutput");
        try {
            return Shim.s4j_shutdown_write(handle.fd);
        } finally {
            handle.releaseQuick();
        }
    }

    // ---- the event loop's side ----------------------------------------------------------

    /** The descriptor is now held by an event loop (it is non-blocking): writes that would block are queued. */
    void enterLoop() {
        lock.lock();
        try {
            queue = new LoopQueue();
        } finally {
            lock.unlock();
        }
    }

    /** The loop lets go (the descriptor is being closed): what is still queued is dropped. */
    void leaveLoop() {
        lock.lock();
        try {
            LoopQueue q = queue;
            queue = null;
            if (q != null) {
                q.drop();
            }
        } finally {
            lock.unlock();
        }
    }

    /** Whether anything waits for the loop. */
    boolean hasQueued() {
        LoopQueue q = queue;
        return q != null && q.size > 0;
    }

    /**
     * What the loop waits for before it writes the head of its queue:
     * POLLWRBAND for a message of a band above 0, else POLLOUT. On STREAMS
     * {@code strpoll}'s POLLOUT is band 0's room (putq counts a band's
     * messages in that band, and bcanputnext looks at the band's QB_FULL), so
     * a full band n with band 0 empty would answer POLLOUT and then EAGAIN.
     * POLLWRBAND is any band's room, so it too can come with no room for the
     * head: the loop then backs off (EventLoop's stall). Loop thread.
     */
    int awaitedByQueue() {
        lock.lock();
        try {
            LoopQueue q = queue;
            Object head = q == null ? null : q.items.peek();
            return head instanceof LoopQueue.Message m && !m.priority().isHigh() && m.priority().band() > 0
                ? Shim.POLLWRBAND : Shim.POLLOUT;
        } finally {
            lock.unlock();
        }
    }

    /** Bytes waiting for the loop (a descriptor or the end of output counts as one); 0 when direct. */
    long queued() {
        LoopQueue q = queue;
        return q == null ? 0 : q.size;
    }

    /**
     * A graceful close on a loop: when something is queued, marks the queue
     * to be closed once written and tells the loop (true); else false, and
     * the caller closes now. Writes after it fail as on a closed descriptor.
     */
    boolean closeWhenWritten() {
        if (queue == null) {
            return false;   // direct: close now, whoever holds the lock (a writer blocked in the kernel)
        }
        lock.lock();
        try {
            LoopQueue q = queue;
            if (q == null || q.items.isEmpty()) {
                return false;
            }
            if (!q.closing) {
                q.closing = true;
                handle.tellLoop();
            }
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** Whether a graceful close waits for the queue. */
    boolean closing() {
        LoopQueue q = queue;
        return q != null && q.closing;
    }

    /** {@link #flush}: nothing is left queued. */
    static final int FLUSHED_ALL = 2;
    /** {@link #flush}: some of the queue was written; the rest waits for room. */
    static final int FLUSHED_SOME = 1;
    /** {@link #flush}: nothing was written, the head finds no room (the client's progress is none). */
    static final int FLUSHED_NONE = 0;

    /**
     * Writes what is queued until the kernel takes no more (loop thread, when
     * the descriptor is writable).
     *
     * @return {@link #FLUSHED_ALL}, {@link #FLUSHED_SOME} or {@link #FLUSHED_NONE}
     */
    int flush() throws StreamsException {
        lock.lock();
        try {
            LoopQueue q = queue;
            if (q == null) {
                return FLUSHED_ALL;
            }
            boolean took = false;
            for (Object item; (item = q.items.peek()) != null; ) {
                if (item instanceof ByteBuffer b) {
                    int chunk = Math.min(b.remaining(), Scratch.MAX_CACHED);
                    Scratch t = Scratch.get(chunk);
                    t.buf.put(Scratch.BYTES, b, b.position(), chunk);
                    handle.acquire("write");
                    long n;
                    try {
                        n = CALLS.write(handle.fd, t.address, Scratch.BYTES, chunk);
                    } finally {
                        handle.release();
                    }
                    if (n == -Errno.EAGAIN) {
                        return took ? FLUSHED_SOME : FLUSHED_NONE;
                    }
                    if (n < 0) {
                        throw handle.failure("write", (int) -n);
                    }
                    b.position(b.position() + (int) n);
                    q.size -= n;
                    took |= n > 0;
                    if (!b.hasRemaining()) {
                        q.items.poll();
                    }
                    if (n < chunk) {
                        return took ? FLUSHED_SOME : FLUSHED_NONE;
                    }
                } else if (item instanceof LoopQueue.Message m) {
                    int r = putQueued(m, Platform.supportsModules());
                    if (r == -Errno.EAGAIN) {
                        return took ? FLUSHED_SOME : FLUSHED_NONE;
                    }
                    q.items.poll();
                    q.size -= m.weight();
                    took = true;
                    if (r < 0) {
                        throw handle.failure("putmsg", -r);
                    }
                } else if (item instanceof Descriptor p) {
                    int r = sendNow(p);
                    if (r == -Errno.EAGAIN) {
                        return took ? FLUSHED_SOME : FLUSHED_NONE;
                    }
                    q.items.poll();
                    q.size--;
                    took = true;
                    p.releaseQuick();
                    if (r < 0) {
                        throw handle.failure("sendFd", -r);
                    }
                } else {
                    int r = shutdownNow();
                    if (r == -Errno.EAGAIN) {
                        return took ? FLUSHED_SOME : FLUSHED_NONE;
                    }
                    q.items.poll();
                    q.size--;
                    took = true;
                    if (r < 0) {
                        throw handle.failure("shutdownOutput", -r);
                    }
                }
            }
            return FLUSHED_ALL;
        } finally {
            lock.unlock();
        }
    }

    /** When the write call now in the kernel began (System.nanoTime(), odd), or 0. */
    long blockedWriteSince() {
        return writeSince;
    }

    /**
     * What the other end has not read yet of what this end wrote, as the
     * kernel counts it (Linux SIOCOUTQ; see s4j_unread): it goes down when
     * the peer reads. -1 where the platform cannot tell, or once closed.
     */
    int unreadByPeer() {
        try {
            int r = handle.useQuick("ioctl", Shim::s4j_unread);
            return r < 0 ? -1 : r;
        } catch (StreamsException e) {
            return -1;
        }
    }
}
