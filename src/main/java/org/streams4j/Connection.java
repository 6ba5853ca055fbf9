package org.streams4j;

import java.io.Closeable;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;

/**
 * One private connection: on STREAMS the pipe connld made for one client
 * ({@code open} on the client side, {@code I_RECVFD} on the server side); on
 * the portable backend an accepted AF_UNIX socket. Thread-safe for one reader
 * plus one writer. Never writes zero bytes.
 */
public final class Connection implements Closeable {
    private final StreamFd fd;
    /** Read on first use unless known when accepted (null: not yet, or unknown on a client). */
    private volatile PeerCredentials peer;
    private volatile boolean peerAsked;
    /** The server's end: peer() is never null there (unknown fields are -1). */
    private final boolean serverSide;
    private volatile Object attachment;

    Connection(StreamFd fd, PeerCredentials peer, boolean serverSide) {
        this.fd = fd;
        this.peer = peer;
        this.peerAsked = peer != null;
        this.serverSide = serverSide;
    }

    /**
     * The process at the other end: on the server, the client's uid, gid, pid
     * and (illumos) zone; on the client, what the platform reports for the
     * server end, or null when it reports nothing.
     */
    public PeerCredentials peer() {
        if (!peerAsked) {
            try {
                peer = fd.peerCredentials();
            } catch (StreamsException e) {
                // e.g. ENOTSUP on the client end of a connld pipe
                peer = serverSide ? new PeerCredentials(-1, -1, -1, -1) : null;
            }
            peerAsked = true;
        }
        return peer;
    }

    /** The descriptor, owned by this connection. */
    public StreamFd fd() {
        return fd;
    }

    /** Reads the connection; closing the stream closes the connection. */
    public InputStream inputStream() {
        return fd.inputStream();
    }

    /** Writes the connection; closing the stream closes the connection. */
    public OutputStream outputStream() {
        return fd.outputStream();
    }

    /** What the application keeps with this connection (e.g. the state of an event handler); null at first. */
    public Object attachment() {
        return attachment;
    }

    /** Replaces the attachment; returns the previous one. */
    public Object attach(Object value) {
        Object old = attachment;
        attachment = value;
        return old;
    }

    public ByteChannel channel() {
        return fd.channel();
    }

    public int read(byte[] b, int off, int len) throws StreamsException {
        return fd.read(b, off, len);
    }

    public int read(ByteBuffer dst) throws StreamsException {
        return fd.read(dst);
    }

    public void writeFully(byte[] b, int off, int len) throws StreamsException {
        fd.writeFully(b, off, len);
    }

    public void writeFully(byte[] b) throws StreamsException {
        fd.writeFully(b, 0, b.length);
    }

    public int write(ByteBuffer src) throws StreamsException {
        return fd.write(src);
    }

    public void sendFd(StreamFd passed) throws StreamsException {
        fd.sendFd(passed);
    }

    public ReceivedFd receiveFd() throws StreamsException {
        return fd.receiveFd();
    }

    public boolean isOpen() {
        return fd.isOpen();
    }

    @Override
    public void close() {
        fd.close();
    }

    @Override
    public String toString() {
        return "Connection[" + fd + (peer != null ? " " + peer : "") + "]";
    }
}
