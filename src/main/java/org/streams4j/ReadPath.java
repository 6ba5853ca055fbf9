package org.streams4j;

import java.nio.ByteBuffer;
import java.nio.ReadOnlyBufferException;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.locks.ReentrantLock;
import org.streams4j.internal.HotCalls;
import org.streams4j.internal.Shim;
import org.streams4j.internal.Shim.Scratch;

/**
 * Every read of one descriptor, and the peer's input state in one place: the
 * reader's lock, a data byte that {@code receiveFd} met first (pushback), and
 * through the {@link Descriptor} a descriptor that came with data (pending).
 * Reads, scattering reads, {@code receiveFd}, {@code available} and the read
 * half of {@code exchange} all look at that state first, so none can pass a
 * byte or a descriptor that another has put aside.
 *
 * <p>Bytes go through this thread's native scratch and are copied once into a
 * heap array; a direct buffer is read into without a copy. Results come from
 * the shim as -errno (the JDK's {@code IOUtil} shape), turned into exceptions
 * by {@link #readResult}.
 */
final class ReadPath {
    private static final HotCalls CALLS = HotCalls.INSTANCE;
    private static final int NO_FD = Descriptor.NO_FD;
    /** Whether a received descriptor's sender ids are the connection's (see senderIds). */
    private static final boolean CONNECTION_IDS = Platform.backend() == Backend.PORTABLE;

    private final Descriptor d;
    private final WritePath writes;
    /** The reader's lock (StreamMessages takes it for its reads too). */
    final ReentrantLock lock = new ReentrantLock();
    /** A data byte that receiveFd met first; guarded by lock. */
    private int pushback = -1;
    /**
     * The rest of a message that did not fit a receive (portable message
     * sockets, where the kernel cannot keep it: a SOCK_SEQPACKET read takes
     * the whole message); served before the kernel by every read. Guarded by lock.
     */
    private ByteBuffer held;
    /**
     * The sender's ids of every descriptor received here, once asked
     * (portable backend), else null. There they are the connection's
     * (SO_PEERCRED, getpeereid: the peer's at connect(2) or socketpair(2),
     * fixed for the socket's life), so the first receiveFd asks the kernel
     * and the others reuse them: one system call fewer per descriptor. On
     * STREAMS each descriptor brings its own sender's (strrecvfd, no call),
     * and nothing is kept. Guarded by lock.
     */
    private int[] senderIds;
    /** Set while an event loop holds this descriptor: a read with nothing there returns 0. */
    private volatile boolean nonBlocking;

    ReadPath(Descriptor d, WritePath writes) {
        this.d = d;
        this.writes = writes;
    }

    /** An event loop took (true) or gave back (false) the descriptor. */
    void nonBlocking(boolean on) {
        nonBlocking = on;
    }

    boolean isNonBlocking() {
        return nonBlocking;
    }

    /** Whether a read or receiveFd would be answered from what is held here, without the kernel. */
    boolean hasBuffered() {
        return pushback >= 0 || held != null || d.pendingFd.get() != NO_FD;
    }

    /** Up to len bytes of the held rest of a message into b (lock held); the rest stays. */
    private int fromHeld(byte[] b, int off, int len) {
        int n = Math.min(len, held.remaining());
        held.get(b, off, n);
        if (!held.hasRemaining()) {
            held = null;
        }
        return n;
    }

    private int fromHeld(ByteBuffer dst) {
        int n = Math.min(dst.remaining(), held.remaining());
        dst.put(held.slice().limit(n));
        held.position(held.position() + n);
        if (!held.hasRemaining()) {
            held = null;
        }
        return n;
    }

    int read(byte[] b, int off, int len) throws StreamsException {
        Objects.checkFromIndexSize(off, len, b.length);
        if (len == 0) {
            return 0;
        }
        lock.lock();
        try {
            if (pushback >= 0) {
                b[off] = (byte) pushback;
                pushback = -1;
                return 1;
            }
            if (held != null) {
                return fromHeld(b, off, len);
            }
            checkNoPendingFd();
            // Into this thread's native scratch, then one copy of what came.
            Scratch s = Scratch.get(Math.min(len, Scratch.MAX_CACHED));
            d.acquire("read");
            long n;
            try {
                n = recv(s.address, Scratch.BYTES, Math.min(len, Scratch.MAX_CACHED), s.address + Scratch.PASSED);
            } finally {
                d.release();
            }
            int r = readResult(n, s);
            if (r > 0) {
                s.buf.get(Scratch.BYTES, b, off, r);
            }
            return r;
        } finally {
            lock.unlock();
        }
    }

    int read(byte[] b, int off, int len, Duration timeout) throws StreamsException {
        lock.lock();
        try {
            awaitOrTimeOut("read", timeout);
            return read(b, off, len);
        } finally {
            lock.unlock();
        }
    }

    int read(ByteBuffer dst, Duration timeout) throws StreamsException {
        lock.lock();
        try {
            awaitOrTimeOut("read", timeout);
            return read(dst);
        } finally {
            lock.unlock();
        }
    }

    /** Waits (holding the read lock) until a read or receiveFd would not block, or throws the time-out. */
    private void awaitOrTimeOut(String op, Duration timeout) throws StreamsException {
        if (timeout != null && !timeout.isNegative() && !awaitReadable(timeout)) {
            throw new StreamTimeoutException(op, d.target(), timeout);
        }
    }

    int read(ByteBuffer dst) throws StreamsException {
        if (dst.isReadOnly()) {
            throw new ReadOnlyBufferException();
        }
        int len = dst.remaining();
        if (len == 0) {
            return 0;
        }
        if (!dst.isDirect()) {
            int n = read(dst.array(), dst.arrayOffset() + dst.position(), len);
            if (n > 0) {
                dst.position(dst.position() + n);
            }
            return n;
        }
        lock.lock();
        try {
            if (pushback >= 0) {
                dst.put((byte) pushback);
                pushback = -1;
                return 1;
            }
            if (held != null) {
                return fromHeld(dst);
            }
            checkNoPendingFd();
            Scratch s = Scratch.get(0);
            d.acquire("read");
            long n;
            try {
                n = recv(s.address(dst, 0), dst.position(), len, s.address + Scratch.PASSED);
            } finally {
                d.release();
            }
            int r = readResult(n, s);
            if (r > 0) {
                dst.position(dst.position() + r);
            }
            return r;
        } finally {
            lock.unlock();
        }
    }

    long read(ByteBuffer[] dsts, int offset, int length) throws StreamsException {
        Objects.checkFromIndexSize(offset, length, dsts.length);
        for (int i = offset; i < offset + length; i++) {
            if (dsts[i].isReadOnly()) {
                throw new ReadOnlyBufferException();
            }
        }
        lock.lock();
        try {
            if (pushback >= 0) {
                for (int i = offset; i < offset + length; i++) {
                    if (dsts[i].hasRemaining()) {
                        dsts[i].put((byte) pushback);
                        pushback = -1;
                        return 1;
                    }
                }
                return 0;
            }
            if (held != null) {
                long n = 0;
                for (int i = offset; i < offset + length && held != null; i++) {
                    n += fromHeld(dsts[i]);
                }
                return n;
            }
            int count = Iov.vectors(dsts, offset, length, false);
            Scratch s = Scratch.get(0);
            if (count == 0) {
                return 0;
            }
            checkNoPendingFd();
            d.acquire("read");
            long n;
            try {
                parkIfVirtual("read");
                n = CALLS.recvv(d.fd, s.address + Scratch.BYTES, count, s.address + Scratch.PASSED);
            } finally {
                d.release();
            }
            int r = readResult(n, s);
            if (r > 0) {
                Iov.advance(s, dsts, offset, count, r, true);
            }
            return r;
        } finally {
            lock.unlock();
        }
    }

    /**
     * A request and its answer (see {@link StreamFd#exchange}): with direct
     * buffers, nothing held here and the descriptor not on a loop, one call
     * into the shim writes and reads; otherwise the write path writes and
     * then this reads. Holds the writers' lock, then the read lock.
     */
    int exchange(ByteBuffer out, ByteBuffer in) throws StreamsException {
        writes.lock.lock();
        try {
            lock.lock();
            try {
                int wlen = out.remaining();
                if (!out.isDirect() || !in.isDirect() || in.isReadOnly() || wlen == 0 || !in.hasRemaining()
                    || !writes.direct() || hasBuffered() || Parking.parks()) {
                    // (A virtual thread parks for each half: one native call would block for both.)
                    return writeThenRead(out, in);
                }
                Scratch s = Scratch.get(0);
                long n = writes.exchange(s, out, in);
                long w = s.buf.getLong(Scratch.WRITTEN);
                if (w < 0) {
                    throw d.failure("write", (int) -w);
                }
                out.position(out.position() + (int) w);
                if (w < wlen) {
                    return writeThenRead(out, in);
                }
                int r = readResult(n, s);
                if (r > 0) {
                    in.position(in.position() + r);
                }
                return r;
            } finally {
                lock.unlock();
            }
        } finally {
            writes.lock.unlock();
        }
    }

    private int writeThenRead(ByteBuffer out, ByteBuffer in) throws StreamsException {
        writes.writeAll(out);
        return read(in);
    }

    /**
     * One read into native memory, holding the blocking use. A platform
     * thread (or an event loop's non-blocking descriptor) makes the call. A
     * virtual thread does not sleep in it (Parking): on a socket it reads
     * with MSG_DONTWAIT and parks on EAGAIN; on a stream, a file or a FIFO
     * it parks until poll says readable, then reads.
     */
    private long recv(long buf, long off, long len, long passed) throws StreamsException {
        if (nonBlocking || !Parking.parks()) {
            return CALLS.recv(d.fd, buf, off, len, passed);
        }
        while (Parking.PER_CALL_NONBLOCKING) {
            long n = CALLS.recvNb(d.fd, buf, off, len, passed);
            if (n == -Errno.ENOTSOCK) {
                break;
            }
            if (n != -Errno.EAGAIN) {
                return n;
            }
            if (d.parkOnce("read", Shim.POLLIN, false, 0) < 0) {
                return CALLS.recv(d.fd, buf, off, len, passed);    // it cannot park: as a platform thread
            }
        }
        d.ready("read", Shim.POLLIN);
        return CALLS.recv(d.fd, buf, off, len, passed);
    }

    /**
     * Before a read's native call, holding the blocking use: a virtual thread
     * parks until there is something to read ({@link Descriptor#ready}); an
     * event loop's descriptor is non-blocking and never waits.
     */
    private void parkIfVirtual(String op) throws StreamsException {
        if (!nonBlocking) {
            d.ready(op, Shim.POLLIN);
        }
    }

    private void checkNoPendingFd() throws StreamsException {
        if (d.pendingFd.get() != NO_FD) {
            throw new StreamsException("read", d.target(), Errno.EBADMSG);
        }
    }

    /**
     * Turns the shim's result into bytes read or -1; keeps a descriptor that
     * came with the data, and has any others that came with it closed
     * ({@link Closer}: a peer's descriptor may take for ever to close).
     */
    private int readResult(long n, Scratch s) throws StreamsException {
        int passed = s.passed();
        if (passed >= 0) {
            for (int other : s.passedFrom(1)) {
                Closer.close(other);
            }
        }
        if (n == -Errno.EAGAIN && nonBlocking) {
            return 0;   // an event loop's non-blocking descriptor with nothing to read now
        }
        if (n < 0) {
            throw d.failure("read", (int) -n);
        }
        if (passed >= 0) {
            // A descriptor came with the last bytes read (portable backend);
            // the shim has taken off its NUL carrier, and any other byte that
            // came with it is data. Keep the descriptor for receiveFd.
            d.setPending(passed);
            if (n == 0) {
                throw new StreamsException("read", d.target(), Errno.EBADMSG);
            }
        }
        if (n == 0) {
            if (d.isClosed()) {
                throw d.closed("read");
            }
            return -1;
        }
        return (int) n;
    }

    boolean awaitReadable(Duration timeout) throws StreamsException {
        if (hasBuffered()) {
            return true;
        }
        return (d.poll(Shim.POLLIN, timeout) & (Shim.POLLIN | Shim.POLLHUP | Shim.POLLERR)) != 0;
    }

    int available() throws StreamsException {
        if (pushback >= 0) {
            return 1;
        }
        ByteBuffer h = held;
        if (h != null) {
            return h.remaining();
        }
        return d.call("available", Shim::s4j_nread);
    }

    ReceivedFd receiveFd(Duration timeout) throws StreamsException {
        lock.lock();
        try {
            awaitOrTimeOut("receiveFd", timeout);
            return receiveFd();
        } finally {
            lock.unlock();
        }
    }

    ReceivedFd receiveFd() throws StreamsException {
        lock.lock();
        try {
            int pending = d.pendingFd.getAndSet(NO_FD);
            Scratch s = Scratch.get(0);
            if (pending != NO_FD) {
                // Owned first, so that a close meanwhile cannot leave it open.
                StreamFd got = StreamFd.adoptReceived(pending);
                int r = 0;
                if (senderIds == null) {
                    try {
                        r = d.useQuick("receiveFd", n -> Shim.s4j_peer_cred(n, s.address + Scratch.CRED));
                    } catch (StreamClosedException e) {
                        got.close();
                        throw e;
                    }
                }
                return received(got, s, r == 0);
            }
            if (pushback >= 0 || held != null) {
                throw new StreamsException("receiveFd", d.target(), Errno.EBADMSG);
            }
            if (d.socketType("receiveFd") == Shim.SOCK_SEQPACKET) {
                // One read takes a whole message there: look before taking, so
                // that a data message met first stays whole (EBADMSG, as I_RECVFD).
                Scratch t = Scratch.get(0);
                long len = peekLength("receiveFd", t, 0, 0, false);
                if (len < 0) {
                    throw d.failure("receiveFd", (int) -len);
                }
                if (t.buf.getInt(Scratch.MSG_OUT) == 0) {
                    if (len == 0) {
                        throw new StreamsException("receiveFd", d.target(), Errno.ENXIO, "end of stream");
                    }
                    throw new StreamsException("receiveFd", d.target(), Errno.EBADMSG);
                }
            }
            d.acquire("receiveFd");
            int r;
            try {
                parkIfVirtual("receiveFd");
                r = CALLS.recvfd(d.fd, senderIds != null ? 0 : s.address + Scratch.CRED, s.address + Scratch.DATA,
                    s.address + Scratch.PASSED);
            } finally {
                d.release();
            }
            // What came beside the one returned (more in one message, one with a data byte).
            for (int other : s.passedFrom(0)) {
                Closer.close(other);
            }
            if (r < 0) {
                int data = s.buf.getInt(Scratch.DATA);
                if (data >= 0) {
                    pushback = data;
                }
                throw d.failure("receiveFd", -r);
            }
            return received(StreamFd.adoptReceived(r), s, true);
        } finally {
            lock.unlock();
        }
    }

    /**
     * What receiveFd hands back for {@code got} (lock held): with the ids kept
     * in senderIds, else those the kernel has just put into s ({@code asked}:
     * it did; -1 when it could not say), which are kept where they are the
     * connection's.
     */
    private ReceivedFd received(StreamFd got, Scratch s, boolean asked) {
        int[] ids = senderIds;
        if (ids != null) {
            return new ReceivedFd(got, ids[0], ids[1]);
        }
        if (!asked) {
            return new ReceivedFd(got, -1, -1);
        }
        int uid = s.cred(Shim.CRED_UID);
        int gid = s.cred(Shim.CRED_GID);
        if (CONNECTION_IDS) {
            senderIds = new int[] {uid, gid};
        }
        return new ReceivedFd(got, uid, gid);
    }

    // ---- messages on the portable backend's SOCK_SEQPACKET sockets (StreamMessages) ----

    /**
     * s4j_msg_peek under a blocking use: the head message's length, at most
     * {@code len} of its bytes copied to {@code buf}, whether descriptors
     * travel with it in the int at MSG_OUT. {@code nb}: never waits
     * (-EAGAIN). A virtual thread parks until something is there first.
     */
    private long peekLength(String op, Scratch s, long buf, long len, boolean nb) throws StreamsException {
        d.acquire(op);
        try {
            if (!nb && !nonBlocking) {
                parkIfVirtual(op);
            }
            return Shim.s4j_msg_peek(d.fd, buf, len, nb || nonBlocking ? Shim.MSG_PEEK_NB : 0,
                s.address + Scratch.MSG_OUT);
        } finally {
            d.release();
        }
    }

    /**
     * One message into {@code m}'s data part (portable; lock held by the
     * caller or taken here). The kernel gives a SOCK_SEQPACKET message whole
     * or drops what does not fit, so its length is looked at first: a message
     * larger than the room is taken whole, the rest held here for the next
     * read or receive (MOREDATA), as a stream head keeps it.
     *
     * @return false at the end of the stream
     */
    boolean receiveMessage(StreamMessage m, Duration timeout) throws StreamsException {
        lock.lock();
        try {
            awaitOrTimeOut("getmsg", timeout);
            if (pushback >= 0) {
                // A byte receiveFd met first: the one-byte message it was.
                m.data().clear();
                int n = Math.min(1, m.dataCapacity());
                if (n == 1) {
                    m.data().put(0, (byte) pushback);
                    pushback = -1;
                }
                m.filled(-1, n, 0, false, false, n == 0);
                return true;
            }
            if (held != null) {
                int n = Math.min(held.remaining(), m.dataCapacity());
                m.data().clear();
                m.data().put(0, held, held.position(), n);
                held.position(held.position() + n);
                boolean more = held.hasRemaining();
                if (!more) {
                    held = null;
                }
                m.filled(-1, n, 0, false, false, more);
                return true;
            }
            if (d.pendingFd.get() != NO_FD) {
                throw new StreamsException("getmsg", d.target(), Errno.EBADMSG, "a descriptor is first: receiveFd takes it");
            }
            Scratch s = Scratch.get(0);
            long len = peekLength("getmsg", s, 0, 0, false);
            if (len == -Errno.EAGAIN && nonBlocking) {
                m.clear();      // an event loop's descriptor with nothing queued yet
                return false;
            }
            if (len < 0) {
                throw d.failure("getmsg", (int) -len);
            }
            if (s.buf.getInt(Scratch.MSG_OUT) != 0) {
                throw new StreamsException("getmsg", d.target(), Errno.EBADMSG, "a descriptor is first: receiveFd takes it");
            }
            if (len == 0) {
                // The end of the stream, or a zero-length message: SOCK_SEQPACKET
                // cannot tell them apart, so a zero-length one is taken as the end.
                takeWhole(s, 0, 0);
                m.ended();
                return false;
            }
            if (len <= m.dataCapacity()) {
                long n = takeWhole(s, m.dataAddress(), len);
                m.filled(-1, (int) n, 0, false, false, false);
                return true;
            }
            if (len > Integer.MAX_VALUE - 8) {
                throw new StreamsException("getmsg", d.target(), Errno.EMSGSIZE);
            }
            ByteBuffer whole = ByteBuffer.allocateDirect((int) len);
            long n = takeWhole(s, Shim.address(whole), len);
            whole.limit((int) n);
            int room = m.dataCapacity();
            m.data().clear();
            m.data().put(0, whole, 0, room);
            whole.position(room);
            held = ByteBuffer.allocate(whole.remaining()).put(whole).flip();
            m.filled(-1, room, 0, false, false, true);
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** Takes the head message whole into buf (at least len bytes of room); its length. */
    private long takeWhole(Scratch s, long buf, long len) throws StreamsException {
        d.acquire("getmsg");
        long n;
        try {
            // Non-blocking: the peek saw it queued, and only this reader takes it.
            n = len == 0 ? CALLS.recvNb(d.fd, s.address + Scratch.BYTES, 0, 0, s.address + Scratch.PASSED)
                : CALLS.recvNb(d.fd, buf, 0, len, s.address + Scratch.PASSED);
        } finally {
            d.release();
        }
        if (n == -Errno.EAGAIN && len == 0) {
            return 0;   // the end of the stream: nothing was queued to take
        }
        return readResult(n, s) < 0 ? 0 : n;
    }

    /**
     * The head message's data without taking it (portable). False when
     * nothing is queued; never waits.
     */
    boolean peekMessage(StreamMessage m) throws StreamsException {
        lock.lock();
        try {
            if (held != null) {
                int n = Math.min(held.remaining(), m.dataCapacity());
                m.data().clear();
                m.data().put(0, held, held.position(), n);
                m.filled(-1, n, 0, false, false, held.remaining() > n);
                return true;
            }
            if (pushback >= 0 || d.pendingFd.get() != NO_FD) {
                throw new StreamsException("I_PEEK", d.target(), Errno.EBADMSG);
            }
            Scratch s = Scratch.get(0);
            long len = peekLength("I_PEEK", s, m.dataAddress(), m.dataCapacity(), true);
            if (len == -Errno.EAGAIN) {
                return false;
            }
            if (len < 0) {
                throw d.failure("I_PEEK", (int) -len);
            }
            if (s.buf.getInt(Scratch.MSG_OUT) != 0) {
                throw new StreamsException("I_PEEK", d.target(), Errno.EBADMSG, "a descriptor is first: receiveFd takes it");
            }
            if (len == 0) {
                return false;   // the end (or a zero-length message, read as the end)
            }
            int n = (int) Math.min(len, m.dataCapacity());
            m.filled(-1, n, 0, false, false, len > n);
            return true;
        } finally {
            lock.unlock();
        }
    }
}
