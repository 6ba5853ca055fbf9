package org.streams4j;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.ref.Cleaner;
import java.nio.ByteBuffer;
import java.nio.ReadOnlyBufferException;
import java.nio.channels.ClosedChannelException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.OptionalInt;
import java.util.Set;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
import org.streams4j.internal.HotCalls;
import org.streams4j.internal.Shim;
import org.streams4j.internal.Shim.Scratch;
import org.streams4j.internal.StreamsShim;

/**
 * The single owner of one descriptor: a STREAMS pipe end, a socket, a file.
 *
 * <p>Every operation holds a use count on the descriptor while it runs, so the
 * number is never closed while a thread still uses it and never closed twice:
 * {@link #close()} marks the descriptor closed, wakes a thread blocked on it
 * (the number is pointed at a dead pipe end, so nothing can reach a reused
 * number), and the last user closes it. A thread woken that way gets a
 * {@link StreamClosedException}. A {@link Cleaner} closes descriptors whose
 * owner forgot and logs it.
 *
 * <p>Thread-safe; one reader and one writer at a time are served in parallel
 * (reads are serialised with each other, as are writes).
 */
public final class StreamFd implements Closeable {
    /** The data-path calls: JNA, or FFM downcalls on JDK 22+ (HotCalls). */
    private static final HotCalls CALLS = HotCalls.INSTANCE;

    private static final Cleaner CLEANER = Cleaner.create();
    private static final System.Logger LOG = System.getLogger("org.streams4j");
    private static final int NO_FD = -1;

    static {
        // Created up front, not on the first concurrent close, which may come
        // when descriptors have run out.
        if (Platform.isAvailable()) {
            Objects.requireNonNull(Integer.valueOf(Marker.FD));
        }
        // Loaded and initialised now for the same reason: a class first loaded
        // from a directory on the class path needs a descriptor, so a close at
        // EMFILE would fail with NoClassDefFoundError and keep the number.
        Closer.load();
    }

    private final Handle handle;
    private final Cleaner.Cleanable cleanable;
    private final ReentrantLock readLock = new ReentrantLock();
    /** Every write, descriptor passed and end of output; its lock is the writers' lock. */
    private final WritePath writes;
    /** Reader state, guarded by readLock: a data byte that receiveFd met first. */
    private int pushback = -1;
    /** Set while an event loop holds this descriptor: a read with nothing there returns 0. */
    private volatile boolean nonBlocking;

    private StreamFd(int fd) {
        this(fd, false);
    }

    private StreamFd(int fd, boolean fromPeer) {
        this.handle = new Handle(fd, fromPeer);
        this.cleanable = CLEANER.register(this, handle);
        this.writes = new WritePath(this, handle);
    }

    /**
     * Takes ownership of a descriptor a peer made or could fill: one received,
     * or a server's connection (whose queue may hold the peer's descriptors in
     * flight). Its last close may block for as long as the peer likes, so it
     * is done by {@link Closer}, never by the thread that calls close().
     */
    static StreamFd adoptFromPeer(int fd) {
        Platform.ensureAvailability();
        if (fd < 0) {
            throw new IllegalArgumentException("not a descriptor: " + fd);
        }
        return new StreamFd(fd, true);
    }

    /**
     * Takes ownership of an open descriptor number; it will be closed by this object only.
     *
     * @param fd an open descriptor
     * @return its owner
     */
    public static StreamFd adopt(int fd) {
        Platform.ensureAvailability();
        if (fd < 0) {
            throw new IllegalArgumentException("not a descriptor: " + fd);
        }
        return new StreamFd(fd);
    }

    /** How files are opened by {@link #open(Path, Mode)}. */
    public enum Mode {
        /** O_RDONLY. */
        READ(Shim.O_READ),
        /** O_WRONLY. */
        WRITE(Shim.O_WRITE),
        /** O_RDWR. */
        READ_WRITE(Shim.O_READ | Shim.O_WRITE);

        final int flags;

        Mode(int flags) {
            this.flags = flags;
        }
    }

    /**
     * {@code open(2)} a path (close-on-exec), e.g. a file whose descriptor is to be passed.
     *
     * @param path the file
     * @param mode read, write or both
     * @return the open descriptor's owner
     * @throws StreamsException e.g. {@code open /x: ENOENT}
     */
    public static StreamFd open(Path path, Mode mode) throws StreamsException {
        Platform.ensureAvailability();
        int fd = Shim.s4j_open(path.toString(), mode.flags, 0);
        if (fd < 0) {
            throw new StreamsException("open", path.toString(), -fd);
        }
        return new StreamFd(fd);
    }

    /**
     * The descriptor number, for logs and for handing to other code.
     *
     * @return the number; -1 once closed
     */
    public int fd() {
        return handle.isClosed() ? NO_FD : handle.fd;
    }

    /**
     * The name used in messages.
     *
     * @return {@code fd N}
     */
    public String name() {
        return target();
    }

    /** {@code fd N}, made when a message needs it rather than for every descriptor. */
    private String target() {
        return StreamsException.fd(handle.fd);
    }

    /**
     * Whether the descriptor is still open here.
     *
     * @return false once {@link #close()} was called
     */
    public boolean isOpen() {
        return !handle.isClosed();
    }

    @Override
    public String toString() {
        return "StreamFd[" + handle.fd + (isOpen() ? "" : ", closed") + "]";
    }

    // ---- reading ----------------------------------------------------------

    /**
     * Reads up to {@code len} bytes, blocking until some arrive.
     *
     * @return the number of bytes read, or -1 at end of stream: the other end
     *     closed, or called {@link #shutdownOutput()}. On STREAMS the latter is
     *     a zero-length message, read as end of stream once: a further read
     *     waits for whatever the other end writes after it.
     * @throws StreamsException EBADMSG when a descriptor is next on the stream
     *     (take it with {@link #receiveFd()}); {@link StreamClosedException} when
     *     this descriptor is or gets closed
     * @param b where the bytes go
     * @param off where in {@code b} the first goes
     * @param len the most bytes to read
     */
    public int read(byte[] b, int off, int len) throws StreamsException {
        Objects.checkFromIndexSize(off, len, b.length);
        if (len == 0) {
            return 0;
        }
        readLock.lock();
        try {
            if (pushback >= 0) {
                b[off] = (byte) pushback;
                pushback = -1;
                return 1;
            }
            checkNoPendingFd();
            // Into this thread's native scratch, then one copy of what came.
            Scratch s = Scratch.get(Math.min(len, Scratch.MAX_CACHED));
            handle.acquire("read");
            long n;
            try {
                n = CALLS.recv(handle.fd, s.address, Scratch.BYTES,
                    Math.min(len, Scratch.MAX_CACHED), s.address + Scratch.PASSED);
            } finally {
                handle.release();
            }
            int r = readResult(n, s);
            if (r > 0) {
                s.buf.get(Scratch.BYTES, b, off, r);
            }
            return r;
        } finally {
            readLock.unlock();
        }
    }

    /**
     * Reads up to {@code b.length} bytes, blocking until some arrive.
     *
     * @param b where the bytes go
     * @return the number of bytes read, or -1 at end of stream
     * @throws StreamsException as {@link #read(byte[], int, int)}
     */
    public int read(byte[] b) throws StreamsException {
        return read(b, 0, b.length);
    }

    /**
     * Reads up to {@code len} bytes, waiting at most {@code timeout} for some
     * to arrive.
     *
     * @param b where the bytes go
     * @param off where in {@code b} the first byte goes
     * @param len the most bytes to read
     * @param timeout how long to wait; null or negative waits for ever
     * @return the number of bytes read, or -1 at end of stream
     * @throws StreamTimeoutException when nothing arrived in time (nothing was taken)
     * @throws StreamsException as {@link #read(byte[], int, int)}
     */
    public int read(byte[] b, int off, int len, Duration timeout) throws StreamsException {
        readLock.lock();
        try {
            awaitOrTimeOut("read", timeout);
            return read(b, off, len);
        } finally {
            readLock.unlock();
        }
    }

    /**
     * Reads into the buffer's remaining space, waiting at most {@code timeout}
     * for something to arrive.
     *
     * @param dst where the bytes go
     * @param timeout how long to wait; null or negative waits for ever
     * @return bytes read, or -1 at end of stream
     * @throws StreamTimeoutException when nothing arrived in time (nothing was taken)
     * @throws StreamsException as {@link #read(ByteBuffer)}
     */
    public int read(ByteBuffer dst, Duration timeout) throws StreamsException {
        readLock.lock();
        try {
            awaitOrTimeOut("read", timeout);
            return read(dst);
        } finally {
            readLock.unlock();
        }
    }

    /** Waits (holding the read lock) until a read or receiveFd would not block, or throws the time-out. */
    private void awaitOrTimeOut(String op, Duration timeout) throws StreamsException {
        if (timeout != null && !timeout.isNegative() && !awaitReadable(timeout)) {
            throw new StreamTimeoutException(op, target(), timeout);
        }
    }

    /**
     * Reads into the buffer's remaining space; a direct buffer is read into
     * without a copy.
     *
     * @param dst where the bytes go
     * @return bytes read, or -1 at end of stream
     * @throws java.nio.ReadOnlyBufferException for a read-only buffer
     * @throws StreamsException as {@link #read(byte[], int, int)}
     */
    public int read(ByteBuffer dst) throws StreamsException {
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
        readLock.lock();
        try {
            if (pushback >= 0) {
                dst.put((byte) pushback);
                pushback = -1;
                return 1;
            }
            checkNoPendingFd();
            Scratch s = Scratch.get(0);
            handle.acquire("read");
            long n;
            try {
                n = CALLS.recv(handle.fd, s.address(dst, 0), dst.position(), len,
                    s.address + Scratch.PASSED);
            } finally {
                handle.release();
            }
            int r = readResult(n, s);
            if (r > 0) {
                dst.position(dst.position() + r);
            }
            return r;
        } finally {
            readLock.unlock();
        }
    }

    private void checkNoPendingFd() throws StreamsException {
        if (handle.pendingFd.get() != NO_FD) {
            throw new StreamsException("read", target(), Errno.EBADMSG);
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
            throw failure("read", (int) -n);
        }
        if (passed >= 0) {
            // A descriptor came with the last bytes read (portable backend);
            // the shim has taken off its NUL carrier, and any other byte that
            // came with it is data. Keep the descriptor for receiveFd.
            handle.setPending(passed);
            if (n == 0) {
                throw new StreamsException("read", target(), Errno.EBADMSG);
            }
        }
        if (n == 0) {
            if (handle.isClosed()) {
                throw new StreamClosedException("read", target());
            }
            return -1;
        }
        return (int) n;
    }

    /**
     * Waits until the descriptor is readable (or at end of stream).
     *
     * @param timeout how long to wait; null or negative waits for ever
     * @return true when a read would not block, false when the time ran out
     * @throws StreamsException when poll fails or the descriptor is closed
     */
    public boolean awaitReadable(Duration timeout) throws StreamsException {
        if (pushback >= 0 || handle.pendingFd.get() != NO_FD) {
            return true;
        }
        return (poll(Shim.POLLIN, timeout) & (Shim.POLLIN | Shim.POLLHUP | Shim.POLLERR)) != 0;
    }

    /**
     * {@code poll(2)} this descriptor; EINTR is retried with what is left of
     * the timeout.
     *
     * @param events what to wait for: {@link PollEvent#READABLE}, {@link PollEvent#WRITABLE}
     * @param timeout how long to wait; null or negative waits for ever
     * @return what happened (errors and hang-up are reported whether asked for
     *     or not); empty when the time ran out
     * @throws StreamsException when poll fails or the descriptor is closed
     */
    public Set<PollEvent> poll(Set<PollEvent> events, Duration timeout) throws StreamsException {
        return PollEvent.of(poll(PollEvent.bits(events), timeout));
    }

    /** poll with the shim's POLL* bits; returns revents bits, 0 on time-out. */
    int poll(int events, Duration timeout) throws StreamsException {
        long deadline = timeout == null || timeout.isNegative() ? -1
            : System.nanoTime() + timeout.toNanos();
        while (true) {
            int ms = deadline < 0 ? -1 : (int) Math.min(Integer.MAX_VALUE,
                Math.max(0, (deadline - System.nanoTime() + 999_999) / 1_000_000));
            handle.acquire("poll");
            int r;
            try {
                r = CALLS.poll(handle.fd, events, ms);
            } finally {
                handle.release();
            }
            if (handle.isClosed()) {
                throw new StreamClosedException("poll", target());
            }
            if (r == -Errno.EINTR) {
                continue;
            }
            if (r < 0) {
                throw failure("poll", -r);
            }
            return r;
        }
    }

    /**
     * Bytes that can be read now without blocking (STREAMS: of the first message).
     *
     * @return a byte count
     * @throws StreamsException when the descriptor is closed or the ioctl fails
     */
    public int available() throws StreamsException {
        if (pushback >= 0) {
            return 1;
        }
        return call("available", () -> Shim.s4j_nread(handle.fd));
    }

    // ---- writing ----------------------------------------------------------

    /**
     * Writes some of the bytes; returns how many were written. Zero bytes are
     * never written (a zero-length STREAMS message reads as end of file).
     *
     * @param b the bytes
     * @param off where they start
     * @param len how many to write
     * @return how many were written
     * @throws StreamsException e.g. EPIPE when the other end is closed
     */
    public int write(byte[] b, int off, int len) throws StreamsException {
        Objects.checkFromIndexSize(off, len, b.length);
        if (len == 0) {
            return 0;
        }
        return writes.write(b, off, len);
    }

    /**
     * Writes all the bytes (several write calls if need be) before another writer may write.
     *
     * @param b the bytes
     * @param off where in {@code b} they start
     * @param len how many to write
     * @throws StreamsException e.g. EPIPE when the other end is closed
     */
    public void writeFully(byte[] b, int off, int len) throws StreamsException {
        Objects.checkFromIndexSize(off, len, b.length);
        writes.writeFully(b, off, len);
    }

    /**
     * Writes all the bytes before another writer may write.
     *
     * @param b the bytes
     * @throws StreamsException e.g. EPIPE when the other end is closed
     */
    public void writeFully(byte[] b) throws StreamsException {
        writeFully(b, 0, b.length);
    }

    /**
     * Writes from the buffer's remaining bytes (one write(2)); a direct buffer
     * is written without a copy. Heap, direct and read-only buffers all work.
     *
     * @param src the bytes, from its position to its limit
     * @return how many were written (the position moves by as many)
     * @throws StreamsException e.g. EPIPE when the other end is closed
     */
    public int write(ByteBuffer src) throws StreamsException {
        return writes.write(src);
    }

    // ---- request and answer ---------------------------------------------------

    /**
     * A request and its answer: writes all of {@code out}'s remaining bytes,
     * then reads once into {@code in}, blocking until something arrives, as
     * {@code write} until done and then {@code read} would. With direct
     * buffers and a write that goes whole (a message the pipe has room for),
     * both are one call into the native layer instead of two. Holds the write
     * and the read lock for the duration.
     *
     * @param out the request: all its remaining bytes are written
     * @param in where the answer is read to
     * @return bytes read into {@code in}, or -1 at end of stream
     * @throws StreamsException e.g. EPIPE when the other end is closed
     */
    public int exchange(ByteBuffer out, ByteBuffer in) throws StreamsException {
        writes.lock.lock();
        try {
            readLock.lock();
            try {
                int wlen = out.remaining();
                if (!out.isDirect() || !in.isDirect() || in.isReadOnly() || wlen == 0 || !in.hasRemaining()
                    || !writes.direct() || pushback >= 0 || handle.pendingFd.get() != NO_FD) {
                    return writeThenRead(out, in);
                }
                Scratch s = Scratch.get(0);
                long n = writes.exchange(s, out, in);
                long w = s.buf.getLong(Scratch.WRITTEN);
                if (w < 0) {
                    throw failure("write", (int) -w);
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
                readLock.unlock();
            }
        } finally {
            writes.lock.unlock();
        }
    }

    // ---- end of output -------------------------------------------------------

    /**
     * Tells the other end that this end sends nothing more; this end can still
     * read, so a client can send its request, signal its end and read the
     * answer until the server closes.
     *
     * <p>Portable backend: {@code shutdown(SHUT_WR)}. The other end's reads
     * return -1 from then on; a write here fails with EPIPE.
     *
     * <p>STREAMS: a pipe has no half-close, so this is a convention. It sends a
     * zero-length message ({@code I_SWROPT} {@code SNDZERO}, then a write of
     * 0 bytes: {@code fifo_write} drops it without SNDZERO, {@code strwrite}
     * sends it as a message of its own), which the other end's read returns as
     * 0, i.e. -1 here, in the default read mode ({@code RNORM}, {@code strread}):
     * any program reading stdin takes it as end of file. It is read once; data
     * written after it would be read after it, so write nothing more.
     *
     * <p>On a connection held by an event loop ({@link ConnldServer#serveEvents})
     * the end of output goes after whatever is queued, as every write does,
     * and a write after it fails with EPIPE at once.
     *
     * @throws StreamsException e.g. EPIPE when the other end is closed already
     */
    public void shutdownOutput() throws StreamsException {
        writes.shutdownOutput();
    }

    // ---- gathering and scattering ------------------------------------------------

    /** The most buffers one readv/writev takes; a longer array is a short read or write. */
    private static final int MAX_IOV = Shim.MAX_IOV;

    /**
     * Writes from the buffers' remaining bytes, in order, with one
     * {@code writev(2)}; direct buffers without a copy, heap and read-only
     * buffers through this thread's native scratch (at most 256 KiB of them
     * a call: the rest is a short write, as {@link java.nio.channels.GatheringByteChannel} allows).
     *
     * @param srcs the buffers
     * @param offset the first buffer to take
     * @param length how many buffers to take
     * @return the number of bytes written; each buffer's position moves past what of it was written
     * @throws StreamsException e.g. EPIPE when the other end is closed
     */
    public long write(ByteBuffer[] srcs, int offset, int length) throws StreamsException {
        Objects.checkFromIndexSize(offset, length, srcs.length);
        return writes.write(srcs, offset, length);
    }

    private int writeThenRead(ByteBuffer out, ByteBuffer in) throws StreamsException {
        writes.writeAll(out);
        return read(in);
    }

    /**
     * Reads into the buffers' remaining space, in order, with one
     * {@code readv(2)} (or {@code recvmsg(2)}); blocks until some bytes arrive.
     *
     * @param dsts the buffers; none may be read-only
     * @param offset the first buffer to fill
     * @param length how many buffers to fill
     * @return the number of bytes read, or -1 at end of stream
     * @throws java.nio.ReadOnlyBufferException when one of the buffers is read-only
     * @throws StreamsException as {@link #read(byte[], int, int)}
     */
    public long read(ByteBuffer[] dsts, int offset, int length) throws StreamsException {
        Objects.checkFromIndexSize(offset, length, dsts.length);
        for (int i = offset; i < offset + length; i++) {
            if (dsts[i].isReadOnly()) {
                throw new ReadOnlyBufferException();
            }
        }
        readLock.lock();
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
            int count = vectors(dsts, offset, length, false);
            Scratch s = Scratch.get(0);
            if (count == 0) {
                return 0;
            }
            checkNoPendingFd();
            handle.acquire("read");
            long n;
            try {
                n = CALLS.recvv(handle.fd, s.address + Scratch.BYTES, count, s.address + Scratch.PASSED);
            } finally {
                handle.release();
            }
            int r = readResult(n, s);
            if (r > 0) {
                advance(s, dsts, offset, count, r, true);
            }
            return r;
        } finally {
            readLock.unlock();
        }
    }

    /**
     * Fills this thread's scratch (taken here: callers use Scratch.get(0)
     * after) with the iovec array (at BYTES) for the
     * buffers, heap ones pointing at copies (write) or room (read) after the
     * array. Returns the number of iovecs; buffers with nothing remaining are
     * given an empty iovec so that iovec i is buffer offset + i.
     */
    static int vectors(ByteBuffer[] bufs, int offset, int length, boolean copyIn) {
        int count = Math.min(length, MAX_IOV);
        int data = Scratch.BYTES + count * Shim.IOVEC_SIZE;
        int heap = 0;
        for (int i = 0; i < count; i++) {
            ByteBuffer b = bufs[offset + i];
            if (!b.isDirect()) {
                heap = (int) Math.min(Scratch.MAX_CACHED, (long) heap + b.remaining());
            }
        }
        Scratch s = Scratch.get(count * Shim.IOVEC_SIZE + heap);
        int room = heap;
        long total = 0;
        int used = 0;
        for (int i = 0; i < count; i++) {
            ByteBuffer b = bufs[offset + i];
            int len = b.remaining();
            long base;
            if (b.isDirect()) {
                base = Shim.address(b) + b.position();
            } else {
                len = Math.min(len, room);
                base = s.address + data;
                if (copyIn && len > 0) {
                    s.buf.put(data, b, b.position(), len);
                }
                data += len;
                room -= len;
            }
            s.buf.putLong(Scratch.BYTES + i * Shim.IOVEC_SIZE, base);
            s.buf.putLong(Scratch.BYTES + i * Shim.IOVEC_SIZE + 8, len);
            total += len;
            used = i + 1;
            if (total >= Integer.MAX_VALUE / 2) {
                break;
            }
        }
        return total == 0 ? 0 : used;
    }

    /** Moves the buffers' positions past {@code n} bytes; copies them out of scratch when reading. */
    static void advance(Scratch s, ByteBuffer[] bufs, int offset, int count, long n, boolean copyOut) {
        int data = Scratch.BYTES + count * Shim.IOVEC_SIZE;
        for (int i = 0; i < count && n > 0; i++) {
            ByteBuffer b = bufs[offset + i];
            int len = (int) s.buf.getLong(Scratch.BYTES + i * Shim.IOVEC_SIZE + 8);
            int k = (int) Math.min(len, n);
            if (!b.isDirect()) {
                if (copyOut && k > 0) {
                    b.put(b.position(), s.buf, data, k);
                }
                data += len;
            }
            b.position(b.position() + k);
            n -= k;
        }
    }

    // ---- descriptor passing -------------------------------------------------

    /**
     * Passes a descriptor to the other end ({@code I_SENDFD}, or SCM_RIGHTS on
     * the portable backend). This end keeps its own copy of {@code fd} open.
     * Like a write, it waits while the receiver's queue is full (I_SENDFD
     * itself answers EAGAIN there).
     *
     * @param fd the descriptor to pass
     * @throws StreamsException e.g. EPIPE when the other end is closed
     */
    public void sendFd(StreamFd fd) throws StreamsException {
        writes.sendFd(fd.handle);
    }

    /**
     * Takes the descriptor at the head of the stream ({@code I_RECVFD}),
     * waiting at most {@code timeout} for one to arrive.
     *
     * @param timeout how long to wait; null or negative waits for ever
     * @return the descriptor and the sender's ids
     * @throws StreamTimeoutException when nothing arrived in time
     * @throws StreamsException as {@link #receiveFd()}
     */
    public ReceivedFd receiveFd(Duration timeout) throws StreamsException {
        readLock.lock();
        try {
            awaitOrTimeOut("receiveFd", timeout);
            return receiveFd();
        } finally {
            readLock.unlock();
        }
    }

    /**
     * Takes the descriptor at the head of the stream ({@code I_RECVFD}),
     * blocking until one arrives.
     *
     * @return the descriptor and the sender's ids
     * @throws StreamsException EBADMSG when data is next (nothing of it is lost:
     *     the next read returns it); ENXIO when the other end hung up
     */
    public ReceivedFd receiveFd() throws StreamsException {
        readLock.lock();
        try {
            int pending = handle.pendingFd.getAndSet(NO_FD);
            Scratch s = Scratch.get(0);
            if (pending != NO_FD) {
                handle.acquireQuick("receiveFd");
                int r;
                try {
                    r = Shim.s4j_peer_cred(handle.fd, s.address + Scratch.CRED);
                } finally {
                    handle.releaseQuick();
                }
                StreamFd got = adoptFromPeer(pending);
                return new ReceivedFd(got, r == 0 ? s.cred(Shim.CRED_UID) : -1,
                    r == 0 ? s.cred(Shim.CRED_GID) : -1);
            }
            if (pushback >= 0) {
                throw new StreamsException("receiveFd", target(), Errno.EBADMSG);
            }
            handle.acquire("receiveFd");
            int r;
            try {
                r = CALLS.recvfd(handle.fd, s.address + Scratch.CRED, s.address + Scratch.DATA,
                    s.address + Scratch.PASSED);
            } finally {
                handle.release();
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
                throw failure("receiveFd", -r);
            }
            return new ReceivedFd(adoptFromPeer(r), s.cred(Shim.CRED_UID), s.cred(Shim.CRED_GID));
        } finally {
            readLock.unlock();
        }
    }

    /**
     * The credentials of the process at the other end (getpeerucred,
     * SO_PEERCRED, getpeereid), with its supplementary groups where the
     * platform reports them (ucred_getgroups, SO_PEERGROUPS).
     *
     * @return the peer's credentials
     * @throws StreamsException e.g. ENOTSUP where the descriptor has no peer credentials
     */
    public PeerCredentials peerCredentials() throws StreamsException {
        int max = 32;
        while (true) {
            Scratch s = Scratch.get(4 * max);
            int room = max;
            int n = call("peerCredentials", () -> Shim.s4j_peer_cred_groups(handle.fd,
                s.address + Scratch.CRED, s.address + Scratch.BYTES, room));
            if (n > max) {
                max = n;     // more groups than room: ask again with enough
                continue;
            }
            Set<Integer> groups = n == 0 ? Set.of() : new HashSet<>();
            for (int i = 0; i < n; i++) {
                groups.add(s.buf.getInt(Scratch.BYTES + 4 * i));
            }
            int pid = s.cred(Shim.CRED_PID);
            int zone = s.cred(Shim.CRED_ZONE);
            return new PeerCredentials(s.cred(Shim.CRED_UID), s.cred(Shim.CRED_GID),
                pid < 0 ? OptionalInt.empty() : OptionalInt.of(pid),
                zone < 0 ? OptionalInt.empty() : OptionalInt.of(zone), groups);
        }
    }

    // ---- STREAMS modules ----------------------------------------------------

    /**
     * {@code isastream(3C)}: whether this is a STREAMS descriptor.
     *
     * @return true for a stream; always false on the portable backend
     * @throws StreamsException when the descriptor is closed
     */
    public boolean isStream() throws StreamsException {
        if (!Platform.supportsModules()) {
            call("isastream", () -> Shim.s4j_file_type(handle.fd));
            return false;
        }
        return call("isastream", () -> StreamsShim.s4j_isastream(handle.fd)) == 1;
    }

    /**
     * {@code I_PUSH}: pushes a module on the stream.
     *
     * @param module its name, at most 8 ASCII characters
     * @throws StreamsException e.g. EINVAL for no such module; {@link UnsupportedPlatformException} off STREAMS
     */
    public void push(String module) throws StreamsException {
        checkModuleName("push", module);
        requireModules("push");
        call("push", () -> StreamsShim.s4j_push(handle.fd, module));
    }

    /**
     * {@code I_POP}: removes the topmost module.
     *
     * @throws StreamsException EINVAL when no module is pushed; {@link UnsupportedPlatformException} off STREAMS
     */
    public void pop() throws StreamsException {
        requireModules("pop");
        call("pop", () -> StreamsShim.s4j_pop(handle.fd));
    }

    /**
     * {@code I_LOOK}: the topmost module's name.
     *
     * @return the name, or null when no module is pushed
     * @throws StreamsException {@link UnsupportedPlatformException} off STREAMS
     */
    public String look() throws StreamsException {
        requireModules("look");
        byte[] name = new byte[Shim.MODNAME_SIZE];
        handle.acquireQuick("look");
        int r;
        try {
            r = StreamsShim.s4j_look(handle.fd, name, name.length);
        } finally {
            handle.releaseQuick();
        }
        if (r == -Errno.EINVAL) {
            return null;
        }
        if (r < 0) {
            throw failure("look", -r);
        }
        return cString(name, 0, name.length);
    }

    /**
     * {@code I_FIND}: whether the module is on the stream.
     *
     * @param module its name
     * @return true when it is pushed
     * @throws StreamsException {@link UnsupportedPlatformException} off STREAMS
     */
    public boolean find(String module) throws StreamsException {
        checkModuleName("find", module);
        requireModules("find");
        return call("find", () -> StreamsShim.s4j_find(handle.fd, module)) == 1;
    }

    /**
     * {@code I_LIST}: the modules on the stream, topmost first, and last the
     * driver. A pipe or FIFO has no driver: a bare pipe end lists nothing.
     *
     * @return the names
     * @throws StreamsException {@link UnsupportedPlatformException} off STREAMS
     */
    public List<String> list() throws StreamsException {
        requireModules("list");
        int count = call("list", () -> StreamsShim.s4j_list(handle.fd, null, 0));
        if (count <= 0) {
            return List.of();
        }
        byte[] names = new byte[count * Shim.MODNAME_SIZE];
        int got = call("list", () -> StreamsShim.s4j_list(handle.fd, names, count));
        List<String> out = new ArrayList<>(got);
        for (int i = 0; i < got && i < count; i++) {
            out.add(cString(names, i * Shim.MODNAME_SIZE, Shim.MODNAME_SIZE));
        }
        return Collections.unmodifiableList(out);
    }

    private void requireModules(String op) throws StreamsException {
        if (!Platform.supportsModules()) {
            handle.acquireQuick(op);
            handle.releaseQuick();
            throw new UnsupportedPlatformException(op, target());
        }
    }

    private void checkModuleName(String op, String module) throws StreamsException {
        if (module == null || module.isEmpty() || module.length() > Shim.MODNAME_SIZE - 1
            || module.indexOf('\0') >= 0 || !StandardCharsets.US_ASCII.newEncoder().canEncode(module)) {
            throw new StreamsException(op, target(), Errno.EINVAL,
                "module name must be 1 to 8 ASCII characters: \"" + module + "\"");
        }
    }

    private static String cString(byte[] b, int off, int max) {
        int n = 0;
        while (n < max && b[off + n] != 0) {
            n++;
        }
        return new String(b, off, n, StandardCharsets.US_ASCII);
    }

    // ---- streams and channels ---------------------------------------------

    /**
     * An InputStream reading this descriptor; closing it closes this descriptor.
     *
     * <p>Its reads block, as an InputStream's must. A descriptor held by an
     * event loop ({@link ConnldServer#serveEvents}) is non-blocking, and a
     * read that returned 0 would break the InputStream contract, so there
     * its reads throw {@link java.nio.channels.IllegalBlockingModeException},
     * as the JDK's {@code Channels.newInputStream} does over a non-blocking
     * channel: read with {@link #read(ByteBuffer)} in the handler, or let
     * {@link Frames} deliver whole lines or frames.
     *
     * @return a new stream
     */
    public InputStream inputStream() {
        return new InputStream() {
            @Override
            public int read() throws IOException {
                byte[] one = new byte[1];
                int n = read(one, 0, 1);
                return n < 0 ? -1 : one[0] & 0xff;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                if (nonBlocking) {
                    throw new HeldByLoopException(name());
                }
                return StreamFd.this.read(b, off, len);
            }

            @Override
            public int available() throws IOException {
                return Math.max(0, StreamFd.this.available());
            }

            @Override
            public void close() {
                StreamFd.this.close();
            }
        };
    }

    /**
     * An OutputStream writing this descriptor; closing it closes this descriptor.
     *
     * @return a new stream
     */
    public OutputStream outputStream() {
        return new OutputStream() {
            @Override
            public void write(int b) throws IOException {
                writeFully(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                writeFully(b, off, len);
            }

            @Override
            public void close() {
                StreamFd.this.close();
            }
        };
    }

    /**
     * A channel over this descriptor: byte, scattering and gathering, for
     * heap, direct and read-only buffers. Closing it closes this descriptor.
     *
     * @return a channel; each call makes a new one over the same descriptor
     */
    public StreamChannel channel() {
        return new StreamChannel() {
            @Override
            public int read(ByteBuffer dst) throws IOException {
                open();
                return StreamFd.this.read(dst);
            }

            @Override
            public int write(ByteBuffer src) throws IOException {
                open();
                return StreamFd.this.write(src);
            }

            @Override
            public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
                open();
                return StreamFd.this.read(dsts, offset, length);
            }

            @Override
            public long read(ByteBuffer[] dsts) throws IOException {
                return read(dsts, 0, dsts.length);
            }

            @Override
            public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
                open();
                return StreamFd.this.write(srcs, offset, length);
            }

            @Override
            public long write(ByteBuffer[] srcs) throws IOException {
                return write(srcs, 0, srcs.length);
            }

            private void open() throws ClosedChannelException {
                if (!isOpen()) {
                    throw new ClosedChannelException();
                }
            }

            @Override
            public boolean isOpen() {
                return StreamFd.this.isOpen();
            }

            @Override
            public void close() {
                StreamFd.this.close();
            }
        };
    }

    // ---- closing --------------------------------------------------------------

    /**
     * Closes the descriptor once. Idempotent; safe while other threads use it:
     * a thread blocked in read is woken with {@link StreamClosedException}.
     *
     * <p>A descriptor a peer made or can fill (one {@link #receiveFd()}
     * returned, a server's connection) is closed on a closer thread and this
     * returns at once: its last close can block in the kernel for as long as
     * the peer likes (a TCP socket lingering towards a reader that never
     * reads, or such a socket in flight in the connection's queue), and the
     * thread calling close() may be an event loop that serves everybody. It is
     * gone from this object at once, and from the process as soon as the
     * kernel lets it go. Any descriptor the peer sent that was never taken is
     * closed the same way.
     */
    @Override
    public void close() {
        handle.close();
        cleanable.clean();
    }

    /**
     * What kind of file the descriptor refers to ({@code fstat(2)}).
     *
     * @return regular file, socket, FIFO...
     * @throws StreamsException when the descriptor is closed or fstat fails
     */
    public FileType fileType() throws StreamsException {
        return FileType.of(call("fstat", () -> Shim.s4j_file_type(handle.fd)));
    }

    // ---- plumbing ---------------------------------------------------------------

    /**
     * Takes a use count that is held until {@link #unpin()}, for an event loop
     * that polls the number: a close() meanwhile points the number at the dead
     * marker (poll reports it) and the number is closed at unpin.
     */
    int pin() throws StreamClosedException {
        handle.acquire("poll");
        return handle.fd;
    }

    void unpin() {
        handle.release();
    }

    /** Whether a read or receiveFd would be answered from what this object holds, without the kernel. */
    boolean hasBuffered() {
        return pushback >= 0 || handle.pendingFd.get() != NO_FD;
    }

    // ---- held by an event loop ---------------------------------------------------

    /** An event loop's registration of this descriptor. */
    interface Watch {
        /** Registers the number with the loop's poller (loop thread, once). */
        void register(int fd) throws StreamsException;

        /** A write left bytes queued: the loop must wait for room (any thread). */
        void queued();

        /**
         * Called by whichever thread closes the descriptor while the loop holds
         * it, before the number is pointed at the close marker and while it is
         * still taken: deregister (the kernel keys registrations by file) and
         * tell the loop.
         */
        void closing(int fd);
    }

    /**
     * For an event loop: pins the number (as {@link #pin()}), makes the
     * descriptor non-blocking with writes that would block queued for the loop
     * ({@link #flushQueued()}), and registers it; a close() from any thread
     * then runs {@link Watch#closing} first. Undone by {@link #unwatch()}.
     */
    int watch(Watch w) throws StreamsException {
        handle.acquire("poll");
        try {
            int r = Shim.s4j_set_nonblocking(handle.fd, 1);
            if (r < 0) {
                throw failure("fcntl", -r);
            }
            writes.enterLoop();
            nonBlocking = true;
            synchronized (handle) {
                if (handle.isClosed()) {
                    throw new StreamClosedException("poll", target());
                }
                w.register(handle.fd);
                handle.watch = w;
            }
            return handle.fd;
        } catch (StreamsException | RuntimeException | Error e) {
            handle.release();
            throw e;
        }
    }

    /** Ends {@link #watch}: no close hook any more, and the pin is released. */
    void unwatch() {
        synchronized (handle) {
            handle.watch = null;
        }
        writes.leaveLoop();
        handle.release();
    }

    /**
     * When the write call now in the kernel began (System.nanoTime(), odd), or
     * 0 when no write is under way: a write blocked since long ago is a
     * client that does not read.
     */
    long blockedWriteSince() {
        return writes.blockedWriteSince();
    }

    /**
     * What the other end has not read yet of what this end wrote, as the
     * kernel counts it (Linux SIOCOUTQ; see s4j_unread): it goes down when
     * the peer reads. -1 where the platform cannot tell, or once closed.
     */
    int unreadByPeer() {
        try {
            int r = withFdQuick("ioctl", Shim::s4j_unread);
            return r < 0 ? -1 : r;
        } catch (StreamsException e) {
            return -1;
        }
    }

    /** Whether writes are waiting for the loop (the descriptor was full). */
    boolean hasQueued() {
        return writes.hasQueued();
    }

    /** Bytes waiting for the loop (a descriptor or the end of output counts as one). */
    long queued() {
        return writes.queued();
    }

    /**
     * Writes what is queued until the kernel takes no more (loop thread, when
     * the descriptor is writable).
     *
     * @return true when nothing is left queued
     */
    boolean flushQueued() throws StreamsException {
        return writes.flush();
    }

    /** A graceful close on a loop: true when it waits for the queue (see {@link WritePath#closeWhenWritten}). */
    boolean closeWhenWritten() {
        return writes.closeWhenWritten();
    }

    /** Whether a graceful close waits for the queue to be written. */
    boolean closing() {
        return writes.closing();
    }

    /** An InputStream read of a descriptor an event loop holds: it cannot block, and 0 would break the contract. */
    private static final class HeldByLoopException extends java.nio.channels.IllegalBlockingModeException {
        private static final long serialVersionUID = 1L;
        private final String target;

        HeldByLoopException(String target) {
            this.target = target;
        }

        @Override
        public String getMessage() {
            return "inputStream() read of " + target + ", which an event loop holds (non-blocking): an InputStream"
                + " must block; read(ByteBuffer) in readable(), or use Frames.lines for whole lines";
        }
    }

    /** Thread.sleep that keeps an interrupt for the caller to see. */
    static void sleepQuietly(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Runs a native call on the descriptor number while holding a use count,
     * so that the number cannot be closed (and reused) during the call.
     * Returns the call's raw result (-errno on failure).
     */
    int withFd(String op, java.util.function.IntUnaryOperator c) throws StreamsException {
        handle.acquire(op);
        try {
            return c.applyAsInt(handle.fd);
        } finally {
            handle.release();
        }
    }

    /**
     * {@link #withFd} for a call that never blocks (fattach, fchmod, an
     * ioctl that answers at once): a close() meanwhile waits for it rather
     * than pointing the number at the dead marker, so such a call can never
     * act on the marker (attach it, pass it, change it).
     */
    int withFdQuick(String op, java.util.function.IntUnaryOperator c) throws StreamsException {
        handle.acquireQuick(op);
        try {
            return c.applyAsInt(handle.fd);
        } finally {
            handle.releaseQuick();
        }
    }

    @FunctionalInterface
    private interface NativeCall {
        int run();
    }

    /** A call that never blocks (see {@link #withFdQuick}). */
    private int call(String op, NativeCall c) throws StreamsException {
        handle.acquireQuick(op);
        int r;
        try {
            r = c.run();
        } finally {
            handle.releaseQuick();
        }
        if (r < 0) {
            throw failure(op, -r);
        }
        return r;
    }

    StreamsException failure(String op, int errno) {
        if (handle.isClosed()) {
            return new StreamClosedException(op, target());
        }
        return new StreamsException(op, target(), errno);
    }

    /**
     * The descriptor's life: use counts and a closed bit in one atomic int.
     * Whoever leaves it closed with no users closes the number, exactly once.
     * Users that may block (read, write, poll, I_RECVFD, accept) are counted
     * apart from quick ones (fattach, ioctls that answer at once, the passed
     * descriptor of a sendFd): close() wakes the blocking ones by pointing the
     * number at the dead marker, and only when there are any, so a quick
     * call never meets the marker. It is also the Cleaner's action, so it
     * must not refer to the StreamFd.
     */
    static final class Handle implements Runnable {
        private static final int CLOSED = 1 << 30;
        private static final int BLOCKING = 1 << 15;
        private static final int BLOCKING_MASK = ((1 << 15) - 1) << 15;
        final int fd;
        /** A peer made or can fill this descriptor: its closes go to {@link Closer}. */
        final boolean fromPeer;
        private final AtomicInteger state = new AtomicInteger();
        /** A descriptor that came with the data, for receiveFd; closed by {@link Closer} if never taken. */
        final AtomicInteger pendingFd = new AtomicInteger(NO_FD);
        /** The event loop waiting on this number, if any; guarded by this. */
        private volatile Watch watch;

        Handle(int fd) {
            this(fd, false);
        }

        Handle(int fd, boolean fromPeer) {
            this.fd = fd;
            this.fromPeer = fromPeer;
        }

        boolean isClosed() {
            return (state.get() & CLOSED) != 0;
        }

        /** A use that may block, and that close() must wake. */
        void acquire(String op) throws StreamClosedException {
            add(op, BLOCKING);
        }

        void release() {
            if (state.addAndGet(-BLOCKING) == CLOSED) {
                finish();
            }
        }

        /** A use that never blocks: close() waits for it instead of waking it. */
        void acquireQuick(String op) throws StreamClosedException {
            add(op, 1);
        }

        void releaseQuick() {
            if (state.decrementAndGet() == CLOSED) {
                finish();
            }
        }

        private void add(String op, int one) throws StreamClosedException {
            while (true) {
                int s = state.get();
                if ((s & CLOSED) != 0) {
                    throw new StreamClosedException(op, StreamsException.fd(fd));
                }
                if (state.compareAndSet(s, s + one)) {
                    return;
                }
            }
        }

        /** A write left something queued: the loop must wait for room (any thread). */
        void tellLoop() {
            Watch w = watch;
            if (w != null) {
                w.queued();
            }
        }

        void setPending(int passed) {
            int old = pendingFd.getAndSet(passed);
            if (old != NO_FD) {
                Closer.close(old);
            }
            if (isClosed()) {
                int p = pendingFd.getAndSet(NO_FD);
                if (p != NO_FD) {
                    Closer.close(p);
                }
            }
        }

        /** Marks closed; returns false if it already was. */
        boolean close() {
            int s;
            do {
                s = state.get();
                if ((s & CLOSED) != 0) {
                    return false;
                }
            } while (!state.compareAndSet(s, (s + 1) | CLOSED));
            if ((s & BLOCKING_MASK) != 0) {
                Watch w;
                synchronized (this) {
                    w = watch;
                    watch = null;
                }
                if (w != null) {
                    // Before the number changes file: the event loop's
                    // registration is keyed by the file (epoll, event ports).
                    w.closing(fd);
                }
                // Threads may be blocked on the number (an event loop's pin
                // among them): point it at a dead pipe end so that they return
                // now, and keep it taken until the last leaves. A peer's
                // descriptor keeps a second reference for the Closer, so that
                // this thread never makes the file's last close (which may
                // block); if that dup fails, the number keeps its file and
                // finish() hands it to the Closer.
                int kept = Shim.s4j_preclose(fd, Marker.FD, fromPeer ? 1 : 0);
                if (fromPeer && kept >= 0) {
                    Closer.close(kept);
                }
            }
            releaseQuick();
            return true;
        }

        private void finish() {
            if (fromPeer) {
                Closer.close(fd);
            } else {
                CALLS.close(fd);
            }
            int p = pendingFd.getAndSet(NO_FD);
            if (p != NO_FD) {
                Closer.close(p);
            }
        }

        /** The Cleaner's action: runs after close() (nothing to do) or for a forgotten descriptor. */
        @Override
        public void run() {
            if (close()) {
                LOG.log(System.Logger.Level.WARNING,
                    "streams4j: fd {0} was not closed by its owner; closed by the cleaner", fd);
            }
        }
    }

    /** One end of a pipe whose other end is closed: reads give EOF, writes EPIPE. */
    static final class Marker {
        static final int FD = create();

        private Marker() {
        }

        private static int create() {
            int[] fds = new int[2];
            int r = Shim.s4j_pipe(fds);
            if (r < 0) {
                throw new IllegalStateException("streams4j: cannot create the close marker: "
                    + Errno.name(-r));
            }
            CALLS.close(fds[1]);
            return fds[0];
        }
    }
}
