package org.streams4j;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.IllegalBlockingModeException;

/**
 * The java.io streams and the channel over a {@link StreamFd}. Each is a thin
 * view: every call goes to the descriptor's own read or write, so the write
 * path and the reader state are the descriptor's, and closing a view closes
 * the descriptor.
 */
final class Adapters {
    private Adapters() {
    }

    static InputStream inputStream(StreamFd fd, ReadPath reads) {
        return new InputStream() {
            @Override
            public int read() throws IOException {
                byte[] one = new byte[1];
                int n = read(one, 0, 1);
                return n < 0 ? -1 : one[0] & 0xff;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                if (reads.isNonBlocking()) {
                    throw new HeldByLoopException(fd.name());
                }
                return fd.read(b, off, len);
            }

            @Override
            public int available() throws IOException {
                return Math.max(0, fd.available());
            }

            @Override
            public void close() {
                fd.close();
            }
        };
    }

    static OutputStream outputStream(StreamFd fd) {
        return new OutputStream() {
            @Override
            public void write(int b) throws IOException {
                fd.writeFully(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                fd.writeFully(b, off, len);
            }

            @Override
            public void close() {
                fd.close();
            }
        };
    }

    /** A call of the channel's, on the descriptor. */
    @FunctionalInterface
    private interface ChannelCall {
        long run() throws StreamsException;
    }

    /**
     * The channel's view of a call, as the JDK's channels report it: a close
     * while the call waited is {@link AsynchronousCloseException}, the
     * caller's interrupt {@link ClosedByInterruptException} (each with the
     * StreamClosedException as its cause); a channel closed before is
     * {@link ClosedChannelException}.
     */
    private static long channelCall(StreamFd fd, ChannelCall call) throws IOException {
        if (!fd.isOpen()) {
            throw new ClosedChannelException();
        }
        try {
            return call.run();
        } catch (StreamInterruptedException e) {
            throw (ClosedByInterruptException) new ClosedByInterruptException().initCause(e);
        } catch (StreamClosedException e) {
            throw (AsynchronousCloseException) new AsynchronousCloseException().initCause(e);
        }
    }

    static StreamChannel channel(StreamFd fd) {
        return new StreamChannel() {
            @Override
            public int read(ByteBuffer dst) throws IOException {
                return (int) channelCall(fd, () -> fd.read(dst));
            }

            @Override
            public int write(ByteBuffer src) throws IOException {
                return (int) channelCall(fd, () -> fd.write(src));
            }

            @Override
            public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
                return channelCall(fd, () -> fd.read(dsts, offset, length));
            }

            @Override
            public long read(ByteBuffer[] dsts) throws IOException {
                return read(dsts, 0, dsts.length);
            }

            @Override
            public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
                return channelCall(fd, () -> fd.write(srcs, offset, length));
            }

            @Override
            public long write(ByteBuffer[] srcs) throws IOException {
                return write(srcs, 0, srcs.length);
            }

            @Override
            public boolean isOpen() {
                return fd.isOpen();
            }

            @Override
            public void close() {
                fd.close();
            }
        };
    }

    /** An InputStream read of a descriptor an event loop holds: it cannot block, and 0 would break the contract. */
    private static final class HeldByLoopException extends IllegalBlockingModeException {
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
}
