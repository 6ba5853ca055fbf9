package org.streams4j.bench;

import static org.streams4j.bench.Bench.FD_BATCH;
import static org.streams4j.bench.Bench.MSG;
import static org.streams4j.bench.Bench.readFully;
import static org.streams4j.bench.Bench.writeFully;

import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.IOException;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import org.newsclub.net.unix.AFUNIXServerSocketChannel;
import org.newsclub.net.unix.AFUNIXSocketAddress;
import org.newsclub.net.unix.AFUNIXSocketChannel;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.streams4j.bench.Bench.Background;

/**
 * The JDK and junixsocket columns: blocking socket channels over AF_UNIX with
 * direct buffers, the same work as {@link S4jBench}. {@code impl} picks
 * {@code jdk} ({@link SocketChannel} over {@link UnixDomainSocketAddress},
 * JDK 16+) or {@code junixsocket} ({@link AFUNIXSocketChannel}). The JDK
 * cannot pass descriptors: fdpass is junixsocket only.
 */
public class ChannelBench {
    static final String JDK = "jdk";
    static final String JUNIXSOCKET = "junixsocket";

    static ServerSocketChannel listen(String impl, Path path) throws IOException {
        if (JUNIXSOCKET.equals(impl)) {
            AFUNIXServerSocketChannel s = AFUNIXServerSocketChannel.open();
            s.bind(AFUNIXSocketAddress.of(path), 128);
            return s;
        }
        ServerSocketChannel s = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        s.bind(UnixDomainSocketAddress.of(path), 128);
        return s;
    }

    static SocketAddress address(String impl, Path path) throws IOException {
        return JUNIXSOCKET.equals(impl) ? AFUNIXSocketAddress.of(path) : UnixDomainSocketAddress.of(path);
    }

    static SocketChannel connect(String impl, SocketAddress addr) throws IOException {
        return JUNIXSOCKET.equals(impl) ? AFUNIXSocketChannel.open(addr) : SocketChannel.open(addr);
    }

    /** A connected pair made by listen, connect and accept. */
    static final class Pair {
        final Path dir;
        final SocketChannel a;
        final SocketChannel b;

        Pair(String impl) throws IOException {
            dir = Bench.tempDir();
            Path p = dir.resolve("p");
            try (ServerSocketChannel ss = listen(impl, p)) {
                a = connect(impl, address(impl, p));
                b = ss.accept();
            }
        }

        void close() throws IOException {
            a.close();
            b.close();
            Bench.deleteTree(dir);
        }
    }

    /** A pair whose far end runs {@link #far} on a background thread until the near end closes. */
    @State(Scope.Thread)
    public abstract static class PairState {
        @Param({JDK, JUNIXSOCKET})
        public String impl;
        Pair pair;
        Background far;

        abstract Bench.Body far(SocketChannel other);

        @Setup(Level.Trial)
        public void setup() throws IOException {
            pair = new Pair(impl);
            far = Background.start("far", far(pair.b));
        }

        @TearDown(Level.Trial)
        public void tearDown() throws Exception {
            pair.a.close();
            far.join();
            pair.close();
        }
    }

    @State(Scope.Thread)
    public static class PingPong extends PairState {
        final ByteBuffer buf = Bench.message();

        @Override
        Bench.Body far(SocketChannel other) {
            return () -> {
                ByteBuffer b = ByteBuffer.allocateDirect(MSG);
                while (readFully(other, b.clear())) {
                    writeFully(other, b.flip());
                }
            };
        }
    }

    @Benchmark
    public void pingpong(PingPong s) throws IOException {
        writeFully(s.pair.a, s.buf.clear());
        if (!readFully(s.pair.a, s.buf.clear())) {
            throw new IllegalStateException("the echo thread is gone");
        }
    }

    @State(Scope.Thread)
    public static class OneWay extends PairState {
        @Param("1073741824")
        public long bytes;
        /** Bytes per write (and the reader's buffer); BenchMain sets it. */
        @Param("65536")
        public int chunkBytes;
        ByteBuffer chunk;
        final ByteBuffer ack = ByteBuffer.allocateDirect(1);

        @Override
        public void setup() throws IOException {
            chunk = ByteBuffer.allocateDirect(chunkBytes);
            super.setup();
        }

        @Override
        Bench.Body far(SocketChannel other) {
            long total = bytes;
            int size = chunkBytes;
            return () -> {
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
            };
        }
    }

    @Benchmark
    public void throughput(OneWay s) throws IOException {
        for (long left = s.bytes; left > 0; ) {
            ByteBuffer c = s.chunk.clear().limit((int) Math.min(s.chunkBytes, left));
            left -= c.remaining();
            writeFully(s.pair.a, c);
        }
        if (!readFully(s.pair.a, s.ack.clear())) {
            throw new IllegalStateException("the sink is gone");
        }
    }

    @State(Scope.Thread)
    public static class Server {
        @Param({JDK, JUNIXSOCKET})
        public String impl;
        Path dir;
        SocketAddress addr;
        ServerSocketChannel server;
        final ByteBuffer buf = Bench.message();
        Background acceptor;

        @Setup(Level.Trial)
        public void setup() throws IOException {
            dir = Bench.tempDir();
            Path p = dir.resolve("s");
            server = listen(impl, p);
            addr = address(impl, p);
            acceptor = Background.start("accept", () -> {
                ByteBuffer b = ByteBuffer.allocateDirect(MSG);
                while (true) {
                    SocketChannel c;
                    try {
                        c = server.accept();
                    } catch (AsynchronousCloseException e) {
                        return;
                    } catch (IOException e) {
                        if (!server.isOpen()) {
                            return;
                        }
                        throw e;
                    }
                    try (c) {
                        if (readFully(c, b.clear())) {
                            writeFully(c, b.flip());
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

    @Benchmark
    public void connect(Server s) throws IOException {
        try (SocketChannel c = connect(s.impl, s.addr)) {
            writeFully(c, s.buf.clear());
            if (!readFully(c, s.buf.clear())) {
                throw new IllegalStateException("the server closed early");
            }
        }
    }

    /** junixsocket only: SCM_RIGHTS with one data byte, as streams4j's portable backend does. */
    @State(Scope.Thread)
    public static class FdPass extends PairState {
        final ByteBuffer one = ByteBuffer.allocateDirect(1);
        FileInputStream passed;
        FileDescriptor passedFd;

        @Override
        public void setup() throws IOException {
            if (!JUNIXSOCKET.equals(impl)) {
                throw new IllegalStateException(impl + " cannot pass descriptors");
            }
            passed = new FileInputStream(Bench.NULL_DEVICE);
            passedFd = passed.getFD();
            super.setup();
        }

        @Override
        public void tearDown() throws Exception {
            super.tearDown();
            passed.close();
        }

        @Override
        Bench.Body far(SocketChannel other) {
            AFUNIXSocketChannel ch = (AFUNIXSocketChannel) other;
            return () -> {
                ch.socket().setAncillaryReceiveBufferSize(256);
                ByteBuffer b = ByteBuffer.allocateDirect(1);
                ByteBuffer k = ByteBuffer.allocateDirect(1).put((byte) 'k');
                while (true) {
                    for (int i = 0; i < FD_BATCH; i++) {
                        if (!readFully(ch, b.clear())) {
                            return;
                        }
                        FileDescriptor[] got = ch.getReceivedFileDescriptors();
                        if (got == null || got.length != 1) {
                            throw new IllegalStateException("no descriptor with the byte");
                        }
                        new FileInputStream(got[0]).close();
                    }
                    writeFully(ch, k.clear());
                }
            };
        }
    }

    @Benchmark
    @OperationsPerInvocation(FD_BATCH)
    public void fdpass(FdPass s) throws IOException {
        AFUNIXSocketChannel ch = (AFUNIXSocketChannel) s.pair.a;
        for (int i = 0; i < FD_BATCH; i++) {
            ch.setOutboundFileDescriptors(s.passedFd);
            writeFully(ch, s.one.clear());
        }
        if (!readFully(ch, s.one.clear())) {
            throw new IllegalStateException("the receiver is gone");
        }
    }
}
