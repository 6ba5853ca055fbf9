package org.streams4j;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.ref.Cleaner;
import java.nio.ByteBuffer;
import java.nio.ReadOnlyBufferException;
import java.nio.channels.ByteChannel;
import java.nio.channels.ClosedChannelException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
import com.sun.jna.Memory;
import com.sun.jna.Pointer;
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
    private static final Cleaner CLEANER = Cleaner.create();
    private static final System.Logger LOG = System.getLogger("org.streams4j");
    private static final int NO_FD = -1;
    private static final Duration SEND_ROOM_WAIT = Duration.ofMillis(100);

    static {
        // Created up front, not on the first concurrent close, which may come
        // when descriptors have run out.
        Objects.requireNonNull(Integer.valueOf(Marker.FD));
    }

    private final Handle handle;
    private final Cleaner.Cleanable cleanable;
    private final ReentrantLock readLock = new ReentrantLock();
    private final ReentrantLock writeLock = new ReentrantLock();
    /** Reader state, guarded by readLock: a data byte that receiveFd met first. */
    private int pushback = -1;

    private StreamFd(int fd) {
        this.handle = new Handle(fd);
        this.cleanable = CLEANER.register(this, handle);
    }

    /** Takes ownership of an open descriptor number; it will be closed by this object only. */
    public static StreamFd adopt(int fd) {
        if (fd < 0) {
            throw new IllegalArgumentException("not a descriptor: " + fd);
        }
        return new StreamFd(fd);
    }

    /** How files are opened by {@link #open(Path, Mode)}. */
    public enum Mode {
        READ(Shim.O_READ), WRITE(Shim.O_WRITE), READ_WRITE(Shim.O_READ | Shim.O_WRITE);

        final int flags;

        Mode(int flags) {
            this.flags = flags;
        }
    }

    /** {@code open(2)} a path (close-on-exec), e.g. a file whose descriptor is to be passed. */
    public static StreamFd open(Path path, Mode mode) throws StreamsException {
        int fd = Shim.s4j_open(path.toString(), mode.flags, 0);
        if (fd < 0) {
            throw new StreamsException("open", path.toString(), -fd);
        }
        return new StreamFd(fd);
    }

    /** The descriptor number, for logs and for handing to other code; -1 once closed. */
    public int fd() {
        return handle.isClosed() ? NO_FD : handle.fd;
    }

    /** {@code fd N}, the name used in messages. */
    public String name() {
        return target();
    }

    /** {@code fd N}, made when a message needs it rather than for every descriptor. */
    private String target() {
        return StreamsException.fd(handle.fd);
    }

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
                n = Shim.s4j_recv(handle.fd, s.address, Scratch.BYTES,
                    Math.min(len, Scratch.MAX_CACHED), s.address + Scratch.PASSED);
            } finally {
                handle.release();
            }
            int r = readResult(n, s.passed());
            if (r > 0) {
                s.buf.get(Scratch.BYTES, b, off, r);
            }
            return r;
        } finally {
            readLock.unlock();
        }
    }

    public int read(byte[] b) throws StreamsException {
        return read(b, 0, b.length);
    }

    /**
     * Reads into the buffer's remaining space; a direct buffer is read into
     * without a copy.
     *
     * @return bytes read, or -1 at end of stream
     */
    public int read(ByteBuffer dst) throws StreamsException {
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
            if (dst.isReadOnly()) {
                throw new ReadOnlyBufferException();
            }
            Scratch s = Scratch.get(0);
            handle.acquire("read");
            long n;
            try {
                n = Shim.s4j_recv(handle.fd, s.address(dst, 0), dst.position(), len,
                    s.address + Scratch.PASSED);
            } finally {
                handle.release();
            }
            int r = readResult(n, s.passed());
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

    /** Turns the shim's result into bytes read or -1; keeps a descriptor that came with the data. */
    private int readResult(long n, int passed) throws StreamsException {
        if (n < 0) {
            throw failure("read", (int) -n);
        }
        if (passed >= 0) {
            // The descriptor travelled with the last byte read (portable backend):
            // that byte is the carrier, not data. Keep the descriptor for receiveFd.
            handle.setPending(passed);
            n--;
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
     * @return true when a read would not block, false when the time ran out
     */
    public boolean awaitReadable(Duration timeout) throws StreamsException {
        if (pushback >= 0 || handle.pendingFd.get() != NO_FD) {
            return true;
        }
        return (poll(Shim.POLLIN, timeout) & (Shim.POLLIN | Shim.POLLHUP | Shim.POLLERR)) != 0;
    }

    /**
     * {@code poll(2)} this descriptor for {@link Shim#POLLIN}/{@link Shim#POLLOUT};
     * EINTR is retried with what is left of the timeout. A null or negative
     * timeout waits forever.
     *
     * @return the shim's revents bits, 0 on time-out
     */
    public int poll(int events, Duration timeout) throws StreamsException {
        long deadline = timeout == null || timeout.isNegative() ? -1
            : System.nanoTime() + timeout.toNanos();
        while (true) {
            int ms = deadline < 0 ? -1 : (int) Math.min(Integer.MAX_VALUE,
                Math.max(0, (deadline - System.nanoTime() + 999_999) / 1_000_000));
            handle.acquire("poll");
            int r;
            try {
                r = Shim.s4j_poll(handle.fd, events, ms);
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

    /** Bytes that can be read now without blocking (STREAMS: of the first message). */
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
     */
    public int write(byte[] b, int off, int len) throws StreamsException {
        Objects.checkFromIndexSize(off, len, b.length);
        if (len == 0) {
            return 0;
        }
        writeLock.lock();
        try {
            return writeOnce(b, off, len);
        } finally {
            writeLock.unlock();
        }
    }

    private int writeOnce(byte[] b, int off, int len) throws StreamsException {
        // One copy into native memory: this thread's scratch, or for a large
        // write a block of its own, so that one call is still one write(2).
        Memory big = len > Scratch.MAX_CACHED ? new Memory(len) : null;
        long n;
        try {
            long address;
            long at;
            if (big == null) {
                Scratch s = Scratch.get(len);
                s.buf.put(Scratch.BYTES, b, off, len);
                address = s.address;
                at = Scratch.BYTES;
            } else {
                big.write(0, b, off, len);
                address = Pointer.nativeValue(big);
                at = 0;
            }
            handle.acquire("write");
            try {
                n = Shim.s4j_write(handle.fd, address, at, len);
            } finally {
                handle.release();
            }
        } finally {
            if (big != null) {
                big.close();
            }
        }
        if (n < 0) {
            throw failure("write", (int) -n);
        }
        return (int) n;
    }

    /** Writes all the bytes (several write calls if need be) before another writer may write. */
    public void writeFully(byte[] b, int off, int len) throws StreamsException {
        Objects.checkFromIndexSize(off, len, b.length);
        writeLock.lock();
        try {
            while (len > 0) {
                int n = writeOnce(b, off, len);
                off += n;
                len -= n;
            }
        } finally {
            writeLock.unlock();
        }
    }

    public void writeFully(byte[] b) throws StreamsException {
        writeFully(b, 0, b.length);
    }

    /** Writes from the buffer's remaining bytes; a direct buffer is written without a copy. */
    public int write(ByteBuffer src) throws StreamsException {
        int len = src.remaining();
        if (len == 0) {
            return 0;
        }
        if (!src.isDirect()) {
            int n = write(src.array(), src.arrayOffset() + src.position(), len);
            src.position(src.position() + n);
            return n;
        }
        writeLock.lock();
        try {
            Scratch s = Scratch.get(0);
            handle.acquire("write");
            long n;
            try {
                n = Shim.s4j_write(handle.fd, s.address(src, 1), src.position(), len);
            } finally {
                handle.release();
            }
            if (n < 0) {
                throw failure("write", (int) -n);
            }
            src.position(src.position() + (int) n);
            return (int) n;
        } finally {
            writeLock.unlock();
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
     */
    public void shutdownOutput() throws StreamsException {
        writeLock.lock();
        try {
            call("shutdownOutput", () -> Shim.s4j_shutdown_write(handle.fd));
        } finally {
            writeLock.unlock();
        }
    }

    // ---- descriptor passing -------------------------------------------------

    /**
     * Passes a descriptor to the other end ({@code I_SENDFD}, or SCM_RIGHTS on
     * the portable backend). This end keeps its own copy of {@code fd} open.
     * Like a write, it waits while the receiver's queue is full (I_SENDFD
     * itself answers EAGAIN there).
     */
    public void sendFd(StreamFd fd) throws StreamsException {
        fd.handle.acquire("sendFd");
        try {
            writeLock.lock();
            try {
                long pauseMs = 0;
                while (true) {
                    handle.acquire("sendFd");
                    int r;
                    try {
                        r = Shim.s4j_sendfd(handle.fd, fd.handle.fd);
                    } finally {
                        handle.release();
                    }
                    if (r != -Errno.EAGAIN) {
                        if (r < 0) {
                            throw failure("sendFd", -r);
                        }
                        break;
                    }
                    // I_SENDFD never blocks: EAGAIN while the receiver's queue is
                    // full. Wait for room as a write would, then send again.
                    if (Thread.currentThread().isInterrupted()) {
                        throw new StreamsException("sendFd", name(), Errno.EINTR,
                            "interrupted while the receiver's queue was full");
                    }
                    if ((poll(Shim.POLLOUT, SEND_ROOM_WAIT) & Shim.POLLOUT) != 0) {
                        pauseMs = Math.min(50, Math.max(1, pauseMs * 2));
                        sleepQuietly(pauseMs);   // writable yet EAGAIN: no spinning
                    }
                }
            } finally {
                writeLock.unlock();
            }
        } finally {
            fd.handle.release();
        }
    }

    /**
     * Takes the descriptor at the head of the stream ({@code I_RECVFD}),
     * blocking until one arrives.
     *
     * @throws StreamsException EBADMSG when data is next (nothing of it is lost:
     *     the next read returns it); ENXIO when the other end hung up
     */
    public ReceivedFd receiveFd() throws StreamsException {
        readLock.lock();
        try {
            int pending = handle.pendingFd.getAndSet(NO_FD);
            Scratch s = Scratch.get(0);
            if (pending != NO_FD) {
                handle.acquire("receiveFd");
                int r;
                try {
                    r = Shim.s4j_peer_cred(handle.fd, s.address + Scratch.CRED);
                } finally {
                    handle.release();
                }
                StreamFd got = adopt(pending);
                return new ReceivedFd(got, r == 0 ? s.cred(Shim.CRED_UID) : -1,
                    r == 0 ? s.cred(Shim.CRED_GID) : -1);
            }
            if (pushback >= 0) {
                throw new StreamsException("receiveFd", target(), Errno.EBADMSG);
            }
            handle.acquire("receiveFd");
            int r;
            try {
                r = Shim.s4j_recvfd(handle.fd, s.address + Scratch.CRED, s.address + Scratch.DATA);
            } finally {
                handle.release();
            }
            if (r < 0) {
                int data = s.buf.getInt(Scratch.DATA);
                if (data >= 0) {
                    pushback = data;
                }
                throw failure("receiveFd", -r);
            }
            return new ReceivedFd(adopt(r), s.cred(Shim.CRED_UID), s.cred(Shim.CRED_GID));
        } finally {
            readLock.unlock();
        }
    }

    /** The credentials of the process at the other end (getpeerucred, SO_PEERCRED, getpeereid). */
    public PeerCredentials peerCredentials() throws StreamsException {
        Scratch s = Scratch.get(0);
        call("peerCredentials", () -> Shim.s4j_peer_cred(handle.fd, s.address + Scratch.CRED));
        return new PeerCredentials(s.cred(Shim.CRED_UID), s.cred(Shim.CRED_GID),
            s.cred(Shim.CRED_PID), s.cred(Shim.CRED_ZONE));
    }

    // ---- STREAMS modules ----------------------------------------------------

    /** {@code isastream(3C)}: true for a STREAMS descriptor. Always false on the portable backend. */
    public boolean isStream() throws StreamsException {
        if (!Platform.supportsModules()) {
            call("isastream", () -> Shim.s4j_file_type(handle.fd));
            return false;
        }
        return call("isastream", () -> StreamsShim.s4j_isastream(handle.fd)) == 1;
    }

    /** {@code I_PUSH}: pushes a module (at most 8 characters) on the stream. */
    public void push(String module) throws StreamsException {
        checkModuleName("push", module);
        requireModules("push");
        call("push", () -> StreamsShim.s4j_push(handle.fd, module));
    }

    /** {@code I_POP}: removes the topmost module. */
    public void pop() throws StreamsException {
        requireModules("pop");
        call("pop", () -> StreamsShim.s4j_pop(handle.fd));
    }

    /** {@code I_LOOK}: the topmost module's name, or null when no module is pushed. */
    public String look() throws StreamsException {
        requireModules("look");
        byte[] name = new byte[Shim.MODNAME_SIZE];
        handle.acquire("look");
        int r;
        try {
            r = StreamsShim.s4j_look(handle.fd, name, name.length);
        } finally {
            handle.release();
        }
        if (r == -Errno.EINVAL) {
            return null;
        }
        if (r < 0) {
            throw failure("look", -r);
        }
        return cString(name, 0, name.length);
    }

    /** {@code I_FIND}: whether the module is on the stream. */
    public boolean find(String module) throws StreamsException {
        checkModuleName("find", module);
        requireModules("find");
        return call("find", () -> StreamsShim.s4j_find(handle.fd, module)) == 1;
    }

    /**
     * {@code I_LIST}: the modules on the stream, topmost first, and last the
     * driver. A pipe or FIFO has no driver: a bare pipe end lists nothing.
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
            handle.acquire(op);
            handle.release();
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

    /** An InputStream reading this descriptor; closing it closes this descriptor. */
    public InputStream inputStream() {
        return new InputStream() {
            @Override
            public int read() throws IOException {
                byte[] one = new byte[1];
                int n = StreamFd.this.read(one, 0, 1);
                return n < 0 ? -1 : one[0] & 0xff;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
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

    /** An OutputStream writing this descriptor; closing it closes this descriptor. */
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

    /** A ByteChannel over this descriptor; closing it closes this descriptor. */
    public ByteChannel channel() {
        return new ByteChannel() {
            @Override
            public int read(ByteBuffer dst) throws IOException {
                if (!isOpen()) {
                    throw new ClosedChannelException();
                }
                return StreamFd.this.read(dst);
            }

            @Override
            public int write(ByteBuffer src) throws IOException {
                if (!isOpen()) {
                    throw new ClosedChannelException();
                }
                return StreamFd.this.write(src);
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
     */
    @Override
    public void close() {
        handle.close();
        cleanable.clean();
    }

    /** Kind of descriptor (regular file, socket, FIFO...) as the shim's FT_* value. */
    public int fileType() throws StreamsException {
        return call("fstat", () -> Shim.s4j_file_type(handle.fd));
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

    private static void sleepQuietly(long ms) {
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

    @FunctionalInterface
    private interface NativeCall {
        int run();
    }

    private int call(String op, NativeCall c) throws StreamsException {
        handle.acquire(op);
        int r;
        try {
            r = c.run();
        } finally {
            handle.release();
        }
        if (r < 0) {
            throw failure(op, -r);
        }
        return r;
    }

    private StreamsException failure(String op, int errno) {
        if (handle.isClosed()) {
            return new StreamClosedException(op, target());
        }
        return new StreamsException(op, target(), errno);
    }

    /**
     * The descriptor's life: a use count and a closed bit in one atomic int.
     * Whoever leaves it closed with no users closes the number, exactly once.
     * It is also the Cleaner's action, so it must not refer to the StreamFd.
     */
    static final class Handle implements Runnable {
        private static final int CLOSED = 1 << 30;
        final int fd;
        private final AtomicInteger state = new AtomicInteger();
        final AtomicInteger pendingFd = new AtomicInteger(NO_FD);

        Handle(int fd) {
            this.fd = fd;
        }

        boolean isClosed() {
            return (state.get() & CLOSED) != 0;
        }

        void acquire(String op) throws StreamClosedException {
            while (true) {
                int s = state.get();
                if ((s & CLOSED) != 0) {
                    throw new StreamClosedException(op, StreamsException.fd(fd));
                }
                if (state.compareAndSet(s, s + 1)) {
                    return;
                }
            }
        }

        void release() {
            if (state.decrementAndGet() == CLOSED) {
                finish();
            }
        }

        void setPending(int passed) {
            int old = pendingFd.getAndSet(passed);
            if (old != NO_FD) {
                Shim.s4j_close(old);
            }
            if (isClosed()) {
                int p = pendingFd.getAndSet(NO_FD);
                if (p != NO_FD) {
                    Shim.s4j_close(p);
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
            if (s != 0) {
                // Others are using the number: point it at a dead pipe end so
                // that they return now, and keep it taken until the last leaves.
                Shim.s4j_preclose(fd, Marker.FD);
            }
            release();
            return true;
        }

        private void finish() {
            Shim.s4j_close(fd);
            int p = pendingFd.getAndSet(NO_FD);
            if (p != NO_FD) {
                Shim.s4j_close(p);
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
            Shim.s4j_close(fds[1]);
            return fds[0];
        }
    }
}
