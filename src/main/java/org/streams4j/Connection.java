package org.streams4j;

import java.io.Closeable;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Set;

/**
 * One private connection: on STREAMS the pipe connld made for one client
 * ({@code open} on the client side, {@code I_RECVFD} on the server side); on
 * the portable backend an accepted AF_UNIX socket. Thread-safe for one reader
 * plus one writer. Never writes zero bytes.
 *
 * <p>Every read, write and end-of-stream call of {@link StreamFd} is here
 * too, with the same meaning (ConnectionSurfaceTest keeps the two alike);
 * {@link #fd()} is for what belongs to the descriptor itself: module
 * operations, its file type, its number.
 */
public final class Connection implements Closeable {
    private final StreamFd fd;
    /** Read on first use unless read when accepted (null: not yet, or unknown on a client). */
    private volatile PeerCredentials peer;
    private volatile boolean peerAsked;
    /** What the accept told of the peer (STREAMS: the I_RECVFD ids), if peer() cannot read more; or null. */
    private final PeerCredentials known;
    /** The server's end: peer() is never null there (unknown fields are -1). */
    private final boolean serverSide;
    private volatile Object attachment;
    /** The poll bits of the event an event loop is dispatching (Shim.POLL*), 0 outside one. */
    private volatile int readyBits;
    /** {@link Frames}' buffer for this connection (loop thread only), or null. */
    ByteBuffer frames;

    Connection(StreamFd fd, PeerCredentials peer, PeerCredentials known, boolean serverSide) {
        this.fd = fd;
        this.peer = peer;
        this.peerAsked = peer != null;
        this.known = known;
        this.serverSide = serverSide;
    }

    /**
     * The process at the other end: on the server, the client's uid, gid, pid
     * and (illumos) zone; on the client, what the platform reports for the
     * server end, or null when it reports nothing.
     *
     * @return the peer's credentials; null only on a client
     */
    public PeerCredentials peer() {
        if (!peerAsked) {
            try {
                peer = fd.peerCredentials();
            } catch (StreamsException e) {
                // e.g. ENOTSUP on the client end of a connld pipe
                peer = known != null ? known : serverSide ? new PeerCredentials(-1, -1, -1, -1) : null;
            }
            peerAsked = true;
        }
        return peer;
    }

    /**
     * The descriptor, owned by this connection.
     *
     * @return its StreamFd
     */
    public StreamFd fd() {
        return fd;
    }

    /**
     * Reads the connection; closing the stream closes the connection.
     *
     * @return an InputStream over the connection
     */
    public InputStream inputStream() {
        return fd.inputStream();
    }

    /**
     * Writes the connection; closing the stream closes the connection.
     *
     * @return an OutputStream over the connection
     */
    public OutputStream outputStream() {
        return fd.outputStream();
    }

    /**
     * What the application keeps with this connection (e.g. the state of an event handler).
     *
     * @return the attachment; null at first
     */
    public Object attachment() {
        return attachment;
    }

    /**
     * Replaces the attachment.
     *
     * @param value the new attachment
     * @return the previous one
     */
    public Object attach(Object value) {
        Object old = attachment;
        attachment = value;
        return old;
    }

    /**
     * The connection as a byte, scattering and gathering channel; closing it
     * closes the connection.
     *
     * @return see {@link StreamFd#channel()}
     */
    public StreamChannel channel() {
        return fd.channel();
    }

    /**
     * In {@link ConnldServer.EventHandler#readable}, what the event loop saw
     * ready on this connection: {@link PollEvent#READABLE}, with, on STREAMS,
     * {@link PollEvent#PRIORITY} for a high-priority message at the head or
     * {@link PollEvent#READ_BAND} for a banded one, and
     * {@link PollEvent#HANG_UP} when the other end has gone; a handler that
     * speaks in messages takes the urgent ones first
     * ({@code messages().receive(m, MessagePriority.HIGH, null)}). Empty
     * outside a handler's call.
     *
     * @return the events of the dispatch under way
     */
    public java.util.Set<PollEvent> readyEvents() {
        return PollEvent.of(readyBits);
    }

    /** The event loop dispatches {@code bits} (0 when done). */
    void readyBits(int bits) {
        readyBits = bits;
    }

    /**
     * This connection's messages ({@link StreamFd#messages()}).
     *
     * @return the connection's {@link StreamMessages}
     */
    public StreamMessages messages() {
        return fd().messages();
    }

    /**
     * Reads some bytes, blocking until some arrive.
     *
     * @param b where the bytes go
     * @param off where in {@code b} the first goes
     * @param len the most bytes to read
     * @return bytes read, or -1 at end of stream
     * @throws StreamsException see {@link StreamFd#read(byte[], int, int)}
     */
    public int read(byte[] b, int off, int len) throws StreamsException {
        return fd.read(b, off, len);
    }

    /**
     * Reads some bytes, waiting at most {@code timeout} for them.
     *
     * @param b where the bytes go
     * @param off where in {@code b} the first goes
     * @param len the most bytes to read
     * @param timeout how long to wait; null or negative waits for ever
     * @return bytes read, or -1 at end of stream
     * @throws StreamTimeoutException when nothing arrived in time
     * @throws StreamsException see {@link StreamFd#read(byte[], int, int)}
     */
    public int read(byte[] b, int off, int len, Duration timeout) throws StreamsException {
        return fd.read(b, off, len, timeout);
    }

    /**
     * Reads into the buffer's remaining space, blocking until some bytes arrive.
     *
     * @param dst where the bytes go
     * @return bytes read, or -1 at end of stream
     * @throws StreamsException see {@link StreamFd#read(ByteBuffer)}
     */
    public int read(ByteBuffer dst) throws StreamsException {
        return fd.read(dst);
    }

    /**
     * Reads into the buffer's remaining space, waiting at most {@code timeout}.
     *
     * @param dst where the bytes go
     * @param timeout how long to wait; null or negative waits for ever
     * @return bytes read, or -1 at end of stream
     * @throws StreamTimeoutException when nothing arrived in time
     * @throws StreamsException see {@link StreamFd#read(ByteBuffer)}
     */
    public int read(ByteBuffer dst, Duration timeout) throws StreamsException {
        return fd.read(dst, timeout);
    }

    /**
     * Writes all the bytes.
     *
     * @param b the bytes
     * @param off where they start
     * @param len how many
     * @throws StreamsException e.g. EPIPE when the other end is closed
     */
    public void writeFully(byte[] b, int off, int len) throws StreamsException {
        fd.writeFully(b, off, len);
    }

    /**
     * Writes all the bytes.
     *
     * @param b the bytes
     * @throws StreamsException e.g. EPIPE when the other end is closed
     */
    public void writeFully(byte[] b) throws StreamsException {
        fd.writeFully(b, 0, b.length);
    }

    /**
     * Writes from the buffer's remaining bytes: heap, direct or read-only.
     *
     * @param src the bytes
     * @return how many were written
     * @throws StreamsException e.g. EPIPE when the other end is closed
     */
    public int write(ByteBuffer src) throws StreamsException {
        return fd.write(src);
    }

    /**
     * Reads some bytes into {@code b}, blocking until some arrive.
     *
     * @param b where the bytes go
     * @return bytes read, or -1 at end of stream
     * @throws StreamsException see {@link StreamFd#read(byte[], int, int)}
     */
    public int read(byte[] b) throws StreamsException {
        return fd.read(b);
    }

    /**
     * Writes some of the bytes: one write(2) (or, on an event loop, what fits
     * and the rest queued); see {@link StreamFd#write(byte[], int, int)}.
     *
     * @param b the bytes
     * @param off where they start
     * @param len how many to write
     * @return how many were written
     * @throws StreamsException e.g. EPIPE when the other end is closed
     */
    public int write(byte[] b, int off, int len) throws StreamsException {
        return fd.write(b, off, len);
    }

    /**
     * A gathering write: one writev(2); see {@link StreamFd#write(ByteBuffer[], int, int)}.
     *
     * @param srcs the buffers
     * @param offset the first buffer to take
     * @param length how many buffers to take
     * @return the number of bytes written
     * @throws StreamsException e.g. EPIPE when the other end is closed
     */
    public long write(ByteBuffer[] srcs, int offset, int length) throws StreamsException {
        return fd.write(srcs, offset, length);
    }

    /**
     * A scattering read: one readv(2); see {@link StreamFd#read(ByteBuffer[], int, int)}.
     *
     * @param dsts the buffers; none may be read-only
     * @param offset the first buffer to fill
     * @param length how many buffers to fill
     * @return the number of bytes read, or -1 at end of stream
     * @throws StreamsException see {@link StreamFd#read(byte[], int, int)}
     */
    public long read(ByteBuffer[] dsts, int offset, int length) throws StreamsException {
        return fd.read(dsts, offset, length);
    }

    /**
     * Writes a request and reads (some of) its answer; see
     * {@link StreamFd#exchange(ByteBuffer, ByteBuffer)}.
     *
     * @param out the request: all its remaining bytes are written
     * @param in where the answer is read to
     * @return bytes read into {@code in}, or -1 at end of stream
     * @throws StreamsException e.g. EPIPE when the other end is closed
     */
    public int exchange(ByteBuffer out, ByteBuffer in) throws StreamsException {
        return fd.exchange(out, in);
    }

    /**
     * Ends this side's output: the other end reads end of stream and can
     * still answer; see {@link StreamFd#shutdownOutput()}.
     *
     * @throws StreamsException e.g. EPIPE when the other end is closed already
     */
    public void shutdownOutput() throws StreamsException {
        fd.shutdownOutput();
    }

    /**
     * Waits until a read would not block (data, end of stream or an error).
     *
     * @param timeout how long to wait; null or negative waits for ever
     * @return true when a read would not block, false when the time ran out
     * @throws StreamsException when poll fails or the connection is closed
     */
    public boolean awaitReadable(Duration timeout) throws StreamsException {
        return fd.awaitReadable(timeout);
    }

    /**
     * poll(2) on the connection; see {@link StreamFd#poll(Set, Duration)}.
     *
     * @param events what to wait for
     * @param timeout how long to wait; null or negative waits for ever
     * @return what happened
     * @throws StreamsException when poll fails or the connection is closed
     */
    public Set<PollEvent> poll(Set<PollEvent> events, Duration timeout) throws StreamsException {
        return fd.poll(events, timeout);
    }

    /**
     * Bytes that can be read now without blocking; see {@link StreamFd#available()}.
     *
     * @return a byte count
     * @throws StreamsException when the connection is closed or the ioctl fails
     */
    public int available() throws StreamsException {
        return fd.available();
    }

    /**
     * Passes a descriptor to the other end; this end keeps its copy.
     *
     * @param passed the descriptor to pass
     * @throws StreamsException see {@link StreamFd#sendFd(StreamFd)}
     */
    public void sendFd(StreamFd passed) throws StreamsException {
        fd.sendFd(passed);
    }

    /**
     * Takes a descriptor the other end passed, blocking until one arrives.
     *
     * @return the descriptor and the sender's ids
     * @throws StreamsException see {@link StreamFd#receiveFd()}
     */
    public ReceivedFd receiveFd() throws StreamsException {
        return fd.receiveFd();
    }

    /**
     * Takes a descriptor the other end passed, waiting at most {@code timeout}.
     *
     * @param timeout how long to wait; null or negative waits for ever
     * @return the descriptor and the sender's ids
     * @throws StreamTimeoutException when nothing arrived in time
     * @throws StreamsException see {@link StreamFd#receiveFd()}
     */
    public ReceivedFd receiveFd(Duration timeout) throws StreamsException {
        return fd.receiveFd(timeout);
    }

    /**
     * Whether the connection is still open here.
     *
     * @return false once closed (also while a close waits for what is queued)
     */
    public boolean isOpen() {
        return fd.isOpen() && !fd.writes().closing();
    }

    /**
     * Bytes written to this connection that an event loop has queued and not
     * yet handed to the kernel (a queued descriptor or end of output counts as
     * one); always 0 off an event loop, where writes block instead. A handler
     * that streams a long answer writes while this is small and goes on in
     * {@link ConnldServer.EventHandler#writable}.
     *
     * @return the queued byte count
     */
    public long queued() {
        return fd.writes().queued();
    }

    /**
     * Closes the connection. Off an event loop, and on one with nothing
     * queued, at once. On an event loop ({@link ConnldServer#serveEvents})
     * with writes still queued, the close is graceful: the connection counts
     * as closed from now on (no more handler calls, writes fail), the loop
     * writes what is queued, in order, and then closes it; a client that
     * takes none of it for {@link ConnldOptions#writeTimeout()} is closed
     * then, without the rest. {@link #abort()} closes at once and drops the
     * queue.
     */
    @Override
    public void close() {
        if (!fd.writes().closeWhenWritten()) {
            fd.close();
        }
    }

    /**
     * Closes the connection at once, abortively: what an event loop has
     * queued for it and not yet written is dropped (the client sees its
     * answer end early). {@code fd().close()} does the same.
     */
    public void abort() {
        fd.close();
    }

    @Override
    public String toString() {
        return "Connection[" + fd + (peer != null ? " " + peer : "") + "]";
    }
}
