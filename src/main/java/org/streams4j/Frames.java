package org.streams4j;

import java.nio.ByteBuffer;
import java.util.Objects;

/**
 * An {@link ConnldServer.EventHandler} that delivers whole lines, or frames
 * ended by a delimiter byte, the framing every line-protocol server would
 * otherwise write by hand in {@code readable}: one buffer per connection,
 * filled by non-blocking reads, split on the delimiter. A line that arrives
 * in many pieces is delivered once, whole; several in one read are delivered
 * one by one, in order.
 *
 * <pre>{@code
 * server.serveEvents(Frames.lines((c, line) -> {
 *     c.write(UTF_8.encode("echo:" + UTF_8.decode(line) + "\n"));
 *     return true;                  // false closes c, after what is queued
 * }));
 * }</pre>
 *
 * <p>A frame is handed over as a read-only buffer without its delimiter
 * (for {@link #lines} without a {@code \r} before the {@code \n} either),
 * valid only during the call. At end of stream an unterminated last frame
 * is delivered too, then the connection is closed. A frame longer than its
 * maximum closes the connection (logged at INFO, with the peer). The
 * connection's {@link Connection#attach attachment} stays the handler's own.
 */
public final class Frames implements ConnldServer.EventHandler {
    private static final System.Logger LOG = System.getLogger("org.streams4j.connld");
    /** The longest line {@link #lines(Handler)} takes, delimiter not counted. */
    public static final int DEFAULT_MAX_LINE = 64 * 1024;
    private static final int FIRST_BUFFER = 4096;

    /** What is done with each frame of a connection. */
    @FunctionalInterface
    public interface Handler {
        /**
         * One whole frame.
         *
         * @param connection the connection it came on
         * @param frame its bytes, without the delimiter; read-only, valid during this call only
         * @return false to close the connection (after what is queued has been written)
         * @throws Exception anything: the connection is closed
         */
        boolean frame(Connection connection, ByteBuffer frame) throws Exception;

        /**
         * As {@link ConnldServer.EventHandler#opened}.
         *
         * @param connection the new connection
         * @throws Exception anything: the connection is closed
         */
        default void opened(Connection connection) throws Exception {
        }

        /**
         * As {@link ConnldServer.EventHandler#writable}.
         *
         * @param connection the connection whose queue drained
         * @throws Exception anything: the connection is closed
         */
        default void writable(Connection connection) throws Exception {
        }

        /**
         * As {@link ConnldServer.EventHandler#closed}.
         *
         * @param connection the closed connection
         */
        default void closed(Connection connection) {
        }
    }

    private final byte delimiter;
    private final int maxFrame;
    private final boolean stripCr;
    private final Handler handler;

    private Frames(byte delimiter, int maxFrame, boolean stripCr, Handler handler) {
        if (maxFrame < 1) {
            throw new IllegalArgumentException("maxFrame must be positive: " + maxFrame);
        }
        this.delimiter = delimiter;
        this.maxFrame = maxFrame;
        this.stripCr = stripCr;
        this.handler = Objects.requireNonNull(handler, "handler");
    }

    /**
     * Lines ended by {@code \n} (a {@code \r} before it is dropped too), at most
     * {@link #DEFAULT_MAX_LINE} bytes each.
     *
     * @param handler what is done with each line
     * @return the event handler to serve with
     */
    public static Frames lines(Handler handler) {
        return new Frames((byte) '\n', DEFAULT_MAX_LINE, true, handler);
    }

    /**
     * Frames ended by {@code delimiter}, at most {@code maxFrame} bytes each
     * (the delimiter not counted).
     *
     * @param delimiter the byte that ends a frame
     * @param maxFrame the longest frame taken
     * @param handler what is done with each frame
     * @return the event handler to serve with
     */
    public static Frames delimited(byte delimiter, int maxFrame, Handler handler) {
        return new Frames(delimiter, maxFrame, false, handler);
    }

    @Override
    public void opened(Connection c) throws Exception {
        c.frames = ByteBuffer.allocate(Math.min(FIRST_BUFFER, maxFrame + 1));
        handler.opened(c);
    }

    @Override
    public boolean readable(Connection c) throws Exception {
        ByteBuffer buf = c.frames;
        if (!buf.hasRemaining()) {
            if (buf.capacity() > maxFrame) {
                LOG.log(System.Logger.Level.INFO, "{0} (peer {1}) sent a frame longer than {2} bytes; closing it",
                    c, c.peer(), maxFrame);
                c.abort();
                return false;
            }
            ByteBuffer bigger = ByteBuffer.allocate((int) Math.min((long) maxFrame + 1, 2L * buf.capacity()));
            buf.flip();
            c.frames = buf = bigger.put(buf);
        }
        int scanFrom = buf.position();
        int n = c.read(buf);
        if (n == 0) {
            return true;
        }
        if (n < 0) {
            buf.flip();
            if (buf.hasRemaining()) {
                deliver(c, buf, buf.position(), buf.limit());   // the last, unterminated frame
            }
            buf.clear();
            return false;
        }
        // Frames are [start, i) for each delimiter at i, scanning only what just came.
        int start = 0;
        int end = buf.position();
        for (int i = scanFrom; i < end; i++) {
            if (buf.get(i) == delimiter) {
                if (!deliver(c, buf, start, i)) {
                    return false;
                }
                start = i + 1;
            }
        }
        buf.limit(end).position(start);
        buf.compact();
        return true;
    }

    private boolean deliver(Connection c, ByteBuffer buf, int from, int to) throws Exception {
        if (stripCr && to > from && buf.get(to - 1) == '\r') {
            to--;
        }
        ByteBuffer frame = buf.duplicate().limit(to).position(from).slice().asReadOnlyBuffer();
        return handler.frame(c, frame) && c.isOpen();
    }

    @Override
    public void writable(Connection c) throws Exception {
        handler.writable(c);
    }

    @Override
    public void closed(Connection c) {
        c.frames = null;
        handler.closed(c);
    }
}
