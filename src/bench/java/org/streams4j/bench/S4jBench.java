package org.streams4j.bench;

import static org.streams4j.bench.Bench.FD_BATCH;
import static org.streams4j.bench.Bench.MSG;
import static org.streams4j.bench.Bench.readFully;
import static org.streams4j.bench.Bench.writeFully;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.streams4j.ConnldClient;
import org.streams4j.ConnldServer;
import org.streams4j.Connection;
import org.streams4j.Errno;
import org.streams4j.ReceivedFd;
import org.streams4j.StreamClosedException;
import org.streams4j.StreamFd;
import org.streams4j.StreamMessage;
import org.streams4j.StreamPipe;
import org.streams4j.StreamsException;
import org.streams4j.bench.Bench.Background;

/**
 * The streams4j column, through the public API only: {@link StreamPipe} and
 * {@link StreamFd} with direct buffers, {@link ConnldServer} and
 * {@link ConnldClient}. BenchMain sets modes, iterations and forks.
 */
public class S4jBench {

    /**
     * Echoes 64-byte messages back until end of stream: each answer and the
     * read of the next message are one {@link StreamFd#exchange}.
     */
    static void echo(StreamFd fd) throws StreamsException {
        ByteBuffer b = ByteBuffer.allocateDirect(MSG);
        ByteBuffer next = ByteBuffer.allocateDirect(MSG);
        if (!readFully(fd, b.clear())) {
            return;
        }
        while (true) {
            if (fd.exchange(b.flip(), next.clear()) < 0 || !readFully(fd, next)) {
                return;
            }
            ByteBuffer t = b;
            b = next;
            next = t;
        }
    }

    @State(Scope.Thread)
    public static class PingPong {
        StreamPipe pipe;
        StreamFd fd;
        final ByteBuffer buf = Bench.message();
        final ByteBuffer in = ByteBuffer.allocateDirect(MSG);
        Background echo;

        @Setup(Level.Trial)
        public void setup() throws StreamsException {
            pipe = StreamPipe.open();
            fd = pipe.first();
            StreamFd other = pipe.second();
            echo = Background.start("echo", () -> echo(other));
        }

        @TearDown(Level.Trial)
        public void tearDown() throws Exception {
            fd.close();         // the echo thread reads end of stream
            echo.join();
            pipe.close();
        }
    }

    /** One 64-byte round trip. */
    @Benchmark
    public void pingpong(PingPong s) throws StreamsException {
        // The message out and the read of its echo in one call (StreamFd.exchange).
        if (s.fd.exchange(s.buf.clear(), s.in.clear()) < 0 || !readFully(s.fd, s.in)) {
            throw new IllegalStateException("the echo thread is gone");
        }
    }

    /** Echoes each message back as one message until the end of the stream. */
    static void messageEcho(StreamFd fd) throws StreamsException {
        StreamMessage m = new StreamMessage(MSG);
        while (fd.messages().receive(m)) {
            fd.messages().send(m.data());
        }
    }

    @State(Scope.Thread)
    public static class MessagePingPong {
        StreamPipe pipe;
        StreamFd fd;
        final ByteBuffer buf = Bench.message();
        final StreamMessage in = new StreamMessage(MSG);
        Background echo;

        @Setup(Level.Trial)
        public void setup() throws StreamsException {
            pipe = StreamPipe.openMessages();      // a STREAMS pipe; SOCK_SEQPACKET elsewhere
            fd = pipe.first();
            StreamFd other = pipe.second();
            echo = Background.start("message echo", () -> messageEcho(other));
        }

        @TearDown(Level.Trial)
        public void tearDown() throws Exception {
            fd.close();
            echo.join();
            pipe.close();
        }
    }

    /** One 64-byte message and its echo: putmsg and getmsg (send and recv on SOCK_SEQPACKET). */
    @Benchmark
    public void message(MessagePingPong s) throws StreamsException {
        s.fd.messages().send(s.buf.clear());
        if (!s.fd.messages().receive(s.in) || s.in.data().limit() != MSG) {
            throw new IllegalStateException("the echo thread is gone");
        }
    }

    @State(Scope.Thread)
    public static class OneWay {
        /** Bytes per operation; BenchMain sets it. */
        @Param("1073741824")
        public long bytes;
        /** Bytes per write (and the reader's buffer); BenchMain sets it. */
        @Param("65536")
        public int chunkBytes;
        StreamPipe pipe;
        StreamFd fd;
        ByteBuffer chunk;
        final ByteBuffer ack = ByteBuffer.allocateDirect(1);
        Background sink;

        @Setup(Level.Trial)
        public void setup() throws StreamsException {
            chunk = ByteBuffer.allocateDirect(chunkBytes);
            int size = chunkBytes;
            pipe = StreamPipe.open();
            fd = pipe.first();
            StreamFd other = pipe.second();
            long total = bytes;
            sink = Background.start("sink", () -> {
                ByteBuffer b = ByteBuffer.allocateDirect(size);
                ByteBuffer k = ByteBuffer.allocateDirect(1).put((byte) 'k');
                while (true) {
                    for (long left = total; left > 0; ) {
                        b.clear().limit((int) Math.min(size, left));
                        int n = other.read(b);
                        if (n < 0) {
                            return;
                        }
                        left -= n;
                    }
                    writeFully(other, k.clear());
                }
            });
        }

        @TearDown(Level.Trial)
        public void tearDown() throws Exception {
            fd.close();
            sink.join();
            pipe.close();
        }
    }

    /** {@code bytes} one way in {@code chunkBytes} writes, then the reader's one-byte acknowledgement. */
    @Benchmark
    public void throughput(OneWay s) throws StreamsException {
        for (long left = s.bytes; left > 0; ) {
            ByteBuffer c = s.chunk.clear().limit((int) Math.min(s.chunkBytes, left));
            left -= c.remaining();
            writeFully(s.fd, c);
        }
        if (!readFully(s.fd, s.ack.clear())) {
            throw new IllegalStateException("the sink is gone");
        }
    }

    @State(Scope.Thread)
    public static class Server {
        Path dir;
        Path path;
        ConnldServer server;
        final ByteBuffer buf = Bench.message();
        Background acceptor;

        @Setup(Level.Trial)
        public void setup() throws Exception {
            dir = Bench.tempDir();
            path = dir.resolve("s");
            server = ConnldServer.bind(path);
            acceptor = Background.start("accept", () -> {
                ByteBuffer b = ByteBuffer.allocateDirect(MSG);
                while (true) {
                    Connection c;
                    try {
                        c = server.accept();
                    } catch (StreamClosedException e) {
                        return;
                    }
                    try (c) {
                        if (readFully(c.fd(), b.clear())) {
                            writeFully(c.fd(), b.flip());
                        }
                    }
                }
            });
        }

        @TearDown(Level.Trial)
        public void tearDown() throws Exception {
            server.close();
            acceptor.join();
            Bench.deleteTree(dir);
        }
    }

    /** Connect, one 64-byte round trip, close. */
    @Benchmark
    public void connect(Server s) throws StreamsException {
        try (Connection c = ConnldClient.connect(s.path)) {
            writeFully(c.fd(), s.buf.clear());
            if (!readFully(c.fd(), s.buf.clear())) {
                throw new IllegalStateException("the server closed early");
            }
        }
    }

    @State(Scope.Thread)
    public static class FdPass {
        StreamPipe pipe;
        StreamFd fd;
        StreamFd passed;
        final ByteBuffer ack = ByteBuffer.allocateDirect(1);
        Background receiver;

        @Setup(Level.Trial)
        public void setup() throws StreamsException {
            pipe = StreamPipe.open();
            fd = pipe.first();
            passed = StreamFd.open(Path.of(Bench.NULL_DEVICE), StreamFd.Mode.READ);
            StreamFd other = pipe.second();
            receiver = Background.start("receiver", () -> {
                ByteBuffer k = ByteBuffer.allocateDirect(1).put((byte) 'k');
                while (true) {
                    for (int i = 0; i < FD_BATCH; i++) {
                        ReceivedFd r;
                        try {
                            r = other.receiveFd();
                        } catch (StreamsException e) {
                            if (e.errno() == Errno.ENXIO) {
                                return;     // hang-up: the sender closed
                            }
                            throw e;
                        }
                        r.close();
                    }
                    writeFully(other, k.clear());
                }
            });
        }

        @TearDown(Level.Trial)
        public void tearDown() throws Exception {
            fd.close();
            receiver.join();
            pipe.close();
            passed.close();
        }
    }

    /** Passes per second: batches of FD_BATCH, each acknowledged by the receiver. */
    @Benchmark
    @OperationsPerInvocation(FD_BATCH)
    public void fdpass(FdPass s) throws StreamsException {
        for (int i = 0; i < FD_BATCH; i++) {
            s.fd.sendFd(s.passed);
        }
        if (!readFully(s.fd, s.ack.clear())) {
            throw new IllegalStateException("the receiver is gone");
        }
    }
}
