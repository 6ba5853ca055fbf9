package org.streams4j;

import java.io.Closeable;
import java.io.FileDescriptor;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.ref.Cleaner;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import org.streams4j.internal.Shim;

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
 *
 * <p>This class is the public face; the work is done by one package-private
 * piece per concern: {@link Descriptor} (the number's life, use counts,
 * close), {@link WritePath} (every write, descriptor passed and end of
 * output, direct or queued for an event loop), {@link ReadPath} (every read,
 * {@code receiveFd} and the peer input held back), {@link Modules} (the
 * STREAMS module stack), {@link Adapters} (streams and channels) and
 * {@link PeerCredentials#of}.
 */
public final class StreamFd implements Closeable {
    /** Its thread is the library's (Threads): a forgotten peer's descriptor goes to the closers. */
    private static final Cleaner CLEANER = Cleaner.create(Threads.daemons("streams4j-cleaner"));

    static {
        // Created up front, not on the first concurrent close, which may come
        // when descriptors have run out.
        if (Platform.isAvailable()) {
            Objects.requireNonNull(Integer.valueOf(Descriptor.Marker.FD));
        }
        // Loaded and initialised now for the same reason: a class first loaded
        // from a directory on the class path needs a descriptor, so a close at
        // EMFILE would fail with NoClassDefFoundError and keep the number.
        Closer.load();
    }

    private final Descriptor handle;
    private final Cleaner.Cleanable cleanable;
    /** Every write, descriptor passed and end of output; its lock is the writers' lock. */
    private final WritePath writes;
    /** Every read and receiveFd, and what the peer sent that is held back. */
    private final ReadPath reads;
    private final StreamMessages messages;

    private StreamFd(int fd, boolean fromPeer) {
        this(new Descriptor(fd, fromPeer));
    }

    private StreamFd(Descriptor d) {
        this.handle = d;
        this.cleanable = CLEANER.register(this, handle);
        this.writes = new WritePath(handle);
        this.reads = new ReadPath(handle, writes);
        this.messages = new StreamMessages(handle, reads, writes);
    }

    /**
     * Takes ownership of a descriptor a peer made or could fill: one received,
     * or a server's connection (whose queue may hold the peer's descriptors in
     * flight). Its last close may block for as long as the peer likes, so it
     * is done by {@link Closer}, never by the thread that calls close().
     */
    static StreamFd adoptFromPeer(int fd) {
        return adoptPeers(fd, false);
    }

    /**
     * Takes ownership of a descriptor received from a peer: as
     * {@link #adoptFromPeer}, except that a close on a thread not the
     * library's ({@link Closer#onLibraryThread}) is made there, as the JDK's
     * channels close: the caller chose to receive it.
     */
    static StreamFd adoptReceived(int fd) {
        return adoptPeers(fd, true);
    }

    private static StreamFd adoptPeers(int fd, boolean received) {
        Platform.ensureAvailability();
        if (fd < 0) {
            throw new IllegalArgumentException("not a descriptor: " + fd);
        }
        return new StreamFd(new Descriptor(fd, true, received));
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
        return new StreamFd(fd, false);
    }

    /**
     * A descriptor of streams4j's own ({@code fcntl(F_DUPFD_CLOEXEC)}) for
     * the file, socket or pipe that a JDK {@link FileDescriptor} refers to
     * (from a {@code FileInputStream}, {@code FileOutputStream} or
     * {@code RandomAccessFile}'s {@code getFD()}), so that it can be passed
     * with {@link #sendFd(StreamFd)}. The JDK object is not changed and
     * stays the caller's to close; it must stay open until this returns.
     *
     * <p>The JDK has no public way to say which number a FileDescriptor
     * holds: the JVM must open {@code java.io} to streams4j, with
     * {@code --add-opens java.base/java.io=org.streams4j} on the module path
     * or {@code --add-opens java.base/java.io=ALL-UNNAMED} on the class path.
     * {@link FileDescriptor#in}, {@link FileDescriptor#out} and
     * {@link FileDescriptor#err} need no flag: while valid they are 0, 1 and 2.
     *
     * @param fd an open FileDescriptor
     * @return a new descriptor for the same file, which the caller owns
     * @throws StreamClosedException when {@code fd} is not open
     * @throws StreamsException when the dup fails (EMFILE)
     * @throws UnsupportedOperationException when java.io is not opened to streams4j (the message names the flag)
     */
    public static StreamFd duplicate(FileDescriptor fd) throws StreamsException {
        Objects.requireNonNull(fd, "fd");
        Platform.ensureAvailability();
        return duplicateNumber(JdkDescriptors.numberOf(fd), "a FileDescriptor");
    }

    /**
     * {@link #duplicate(FileDescriptor)} for a channel of the JDK's own: a
     * {@code FileChannel}, or a socket, server socket, datagram or pipe
     * channel ({@code SocketChannel.open(UnixDomainSocketAddress)} included).
     * The JVM must open {@code sun.nio.ch} to streams4j
     * ({@code --add-opens java.base/sun.nio.ch=...}), and for a FileChannel
     * {@code java.io} too.
     *
     * @param channel an open channel of the JDK's
     * @return a new descriptor for the same file or socket, which the caller owns
     * @throws StreamClosedException when the channel is closed
     * @throws StreamsException when the dup fails (EMFILE)
     * @throws UnsupportedOperationException when the packages are not opened (the message names the flag), or
     *     the channel is not one of the JDK's
     */
    public static StreamFd duplicate(java.nio.channels.Channel channel) throws StreamsException {
        Objects.requireNonNull(channel, "channel");
        Platform.ensureAvailability();
        if (!channel.isOpen()) {
            throw new StreamClosedException("duplicate", channel.toString());
        }
        return duplicateNumber(JdkDescriptors.numberOf(channel), channel.toString());
    }

    private static StreamFd duplicateNumber(int n, String what) throws StreamsException {
        if (n < 0) {
            throw new StreamClosedException("duplicate", what);
        }
        int fd = Shim.s4j_dup(n);
        if (fd < 0) {
            throw new StreamsException("duplicate", StreamsException.fd(n) + " (" + what + ")", -fd);
        }
        // A socket's last close may wait on its peer: closed on the Closer's threads, as a received one is.
        return new StreamFd(fd, true);
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
        return new StreamFd(fd, false);
    }

    /**
     * The descriptor number, for logs and for handing to other code.
     *
     * @return the number; -1 once closed
     */
    public int fd() {
        return handle.isClosed() ? Descriptor.NO_FD : handle.fd;
    }

    /**
     * The name used in messages: the number, and for a connection the path
     * it is a connection of ({@code fd 9 on /run/x} at a server,
     * {@code fd 5 to /run/x} at a client).
     *
     * @return {@code fd N}, or {@code fd N on PATH} / {@code fd N to PATH}
     */
    public String name() {
        return handle.target();
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

    // ---- reading (ReadPath) --------------------------------------------------

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
        return reads.read(b, off, len);
    }

    /**
     * Reads up to {@code b.length} bytes, blocking until some arrive.
     *
     * @param b where the bytes go
     * @return the number of bytes read, or -1 at end of stream
     * @throws StreamsException as {@link #read(byte[], int, int)}
     */
    public int read(byte[] b) throws StreamsException {
        return reads.read(b, 0, b.length);
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
        return reads.read(b, off, len, timeout);
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
        return reads.read(dst, timeout);
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
        return reads.read(dst);
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
        return reads.read(dsts, offset, length);
    }

    /**
     * Waits until the descriptor is readable (or at end of stream).
     *
     * @param timeout how long to wait; null or negative waits for ever
     * @return true when a read would not block, false when the time ran out
     * @throws StreamsException when poll fails or the descriptor is closed
     */
    public boolean awaitReadable(Duration timeout) throws StreamsException {
        return reads.awaitReadable(timeout);
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
        return PollEvent.of(handle.poll(PollEvent.bits(events), timeout));
    }

    /** poll with the shim's POLL* bits; returns revents bits, 0 on time-out. */
    int poll(int events, Duration timeout) throws StreamsException {
        return handle.poll(events, timeout);
    }

    /**
     * Bytes that can be read now without blocking (STREAMS: of the first message).
     *
     * @return a byte count
     * @throws StreamsException when the descriptor is closed or the ioctl fails
     */
    public int available() throws StreamsException {
        return reads.available();
    }

    // ---- writing (WritePath) -------------------------------------------------

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
        return reads.exchange(out, in);
    }

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

    // ---- descriptor passing and credentials ----------------------------------

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
        return reads.receiveFd(timeout);
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
        return reads.receiveFd();
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
        return PeerCredentials.of(handle);
    }

    // ---- STREAMS modules (Modules) -------------------------------------------

    /**
     * This stream's messages: {@code getmsg}/{@code putmsg}, peeking,
     * flushing, read and write options, bands and {@code I_STR}; on the
     * portable backend, the messages of a {@code SOCK_SEQPACKET} socket.
     *
     * @return the one {@link StreamMessages} of this descriptor
     */
    public StreamMessages messages() {
        return messages;
    }

    /**
     * {@code isastream(3C)}: whether this is a STREAMS descriptor.
     *
     * @return true for a stream; always false on the portable backend
     * @throws StreamsException when the descriptor is closed
     */
    public boolean isStream() throws StreamsException {
        return new Modules(handle).isStream();
    }

    /**
     * {@code I_PUSH}: pushes a module on the stream.
     *
     * @param module its name, at most 8 ASCII characters
     * @throws StreamsException e.g. EINVAL for no such module; {@link UnsupportedPlatformException} off STREAMS
     */
    public void push(String module) throws StreamsException {
        new Modules(handle).push(module);
    }

    /**
     * {@code I_POP}: removes the topmost module.
     *
     * @throws StreamsException EINVAL when no module is pushed; {@link UnsupportedPlatformException} off STREAMS
     */
    public void pop() throws StreamsException {
        new Modules(handle).pop();
    }

    /**
     * {@code I_LOOK}: the topmost module's name.
     *
     * @return the name, or null when no module is pushed
     * @throws StreamsException {@link UnsupportedPlatformException} off STREAMS
     */
    public String look() throws StreamsException {
        return new Modules(handle).look();
    }

    /**
     * {@code I_FIND}: whether the module is on the stream.
     *
     * @param module its name
     * @return true when it is pushed
     * @throws StreamsException {@link UnsupportedPlatformException} off STREAMS
     */
    public boolean find(String module) throws StreamsException {
        return new Modules(handle).find(module);
    }

    /**
     * {@code I_LIST}: the modules on the stream, topmost first, and last the
     * driver. A pipe or FIFO has no driver: a bare pipe end lists nothing.
     *
     * @return the names
     * @throws StreamsException {@link UnsupportedPlatformException} off STREAMS
     */
    public List<String> list() throws StreamsException {
        return new Modules(handle).list();
    }

    // ---- streams and channels (Adapters) -------------------------------------

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
        return Adapters.inputStream(this, reads);
    }

    /**
     * An OutputStream writing this descriptor; closing it closes this descriptor.
     *
     * @return a new stream
     */
    public OutputStream outputStream() {
        return Adapters.outputStream(this);
    }

    /**
     * A channel over this descriptor: byte, scattering and gathering, for
     * heap, direct and read-only buffers. Closing it closes this descriptor.
     * Its failures are the JDK channels' kinds: a closed channel throws
     * {@link java.nio.channels.ClosedChannelException}, a close while a call
     * waits {@link java.nio.channels.AsynchronousCloseException}, and an
     * interrupt of the waiting thread (which closes it)
     * {@link java.nio.channels.ClosedByInterruptException}; other failures
     * are {@link StreamsException}s.
     *
     * @return a channel; each call makes a new one over the same descriptor
     */
    public StreamChannel channel() {
        return Adapters.channel(this);
    }

    // ---- closing -------------------------------------------------------------

    /**
     * Closes the descriptor once. Idempotent; safe while other threads use it:
     * a thread blocked in read is woken with {@link StreamClosedException}.
     *
     * <p>A descriptor a peer made or can fill (a server's connection, or one
     * {@link #receiveFd()} returned closed on one of the library's threads: an
     * event loop, a handler {@code serve} runs, the Cleaner) is closed on a
     * closer thread and this returns at once: its last close can block in the
     * kernel for as long as the peer likes (a TCP socket lingering towards a
     * reader that never reads, or such a socket in flight in the connection's
     * queue), and the thread calling close() may be an event loop that serves
     * everybody. It is gone from this object at once, and from the process as
     * soon as the kernel lets it go. Any descriptor the peer sent that was
     * never taken is closed the same way. A received descriptor closed on any
     * other thread is closed by that thread, as the JDK's channels are closed.
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
        return FileType.of(handle.call("fstat", Shim::s4j_file_type));
    }

    // ---- for the rest of the package -------------------------------------------

    /** The descriptor's life: use counts, close, the calls that hold a count. */
    Descriptor descriptor() {
        return handle;
    }

    /** This descriptor's write path (an event loop flushes its queue). */
    WritePath writes() {
        return writes;
    }

    /** Whether a read or receiveFd would be answered from what this object holds, without the kernel. */
    boolean hasBuffered() {
        return reads.hasBuffered();
    }

    /**
     * For an event loop: takes a use count held until {@link #unwatch()} (a
     * close() meanwhile points the number at the dead marker, which poll
     * reports, and the number is closed at unwatch), makes the descriptor
     * non-blocking with writes that would block queued for the loop
     * ({@link WritePath#flush()}), and registers it; a close() from any
     * thread then runs {@link Descriptor.Watch#closing} first.
     */
    int watch(Descriptor.Watch w) throws StreamsException {
        handle.pin("poll");
        try {
            int r = Shim.s4j_set_nonblocking(handle.fd, 1);
            if (r < 0) {
                throw handle.failure("fcntl", -r);
            }
            writes.enterLoop();
            reads.nonBlocking(true);
            handle.watch(w);
            return handle.fd;
        } catch (StreamsException | RuntimeException | Error e) {
            handle.unpin();
            throw e;
        }
    }

    /** Ends {@link #watch}: no close hook any more, and the use count is given back. */
    void unwatch() {
        handle.unwatch();
        writes.leaveLoop();
        handle.unpin();
    }
}
