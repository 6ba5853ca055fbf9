package org.streams4j.bench;

import static org.streams4j.bench.Bench.readFully;
import static org.streams4j.bench.Bench.writeFully;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.streams4j.ConnldClient;
import org.streams4j.ConnldServer;
import org.streams4j.Connection;
import org.streams4j.ReceivedFd;
import org.streams4j.StreamFd;
import org.streams4j.StreamPipe;
import org.streams4j.StreamsException;

/**
 * Diagnostics, not in the table: the cost of a call with no other thread and
 * no wake-up, so that what the Java layer adds shows without scheduler noise.
 * One thread writes into one end and reads from the other.
 * {@code java -cp ... org.openjdk.jmh.Main CallCost}
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@State(Scope.Thread)
public class CallCost {
    @Param({"64"})
    public int size;
    StreamPipe pipe;
    ByteBuffer direct;
    byte[] array;
    ChannelBench.Pair jdk;
    StreamFd passed;
    Path dir;
    Path s4jPath;
    ConnldServer s4jServer;
    java.net.SocketAddress jdkAddress;
    java.nio.channels.ServerSocketChannel jdkServer;

    @Setup(Level.Trial)
    public void setup() throws IOException {
        pipe = StreamPipe.open();
        direct = ByteBuffer.allocateDirect(size);
        array = new byte[size];
        jdk = new ChannelBench.Pair(ChannelBench.JDK);
        passed = StreamFd.open(Path.of(Bench.NULL_DEVICE), StreamFd.Mode.READ);
        dir = Bench.tempDir();
        s4jPath = dir.resolve("s4j");
        s4jServer = ConnldServer.bind(s4jPath);
        Path j = dir.resolve("jdk");
        jdkServer = ChannelBench.listen(ChannelBench.JDK, j);
        jdkAddress = ChannelBench.address(ChannelBench.JDK, j);
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        pipe.close();
        jdk.close();
        passed.close();
        s4jServer.close();
        jdkServer.close();
        Bench.deleteTree(dir);
    }

    @Benchmark
    public void s4jDirect() throws StreamsException {
        writeFully(pipe.first(), direct.clear());
        readFully(pipe.second(), direct.clear());
    }

    @Benchmark
    public void s4jArray() throws StreamsException {
        pipe.first().writeFully(array, 0, size);
        for (int got = 0; got < size; ) {
            got += pipe.second().read(array, got, size - got);
        }
    }

    @Benchmark
    public void jdkDirect() throws IOException {
        writeFully(jdk.a, direct.clear());
        readFully(jdk.b, direct.clear());
    }

    @Benchmark
    public void s4jFd() throws StreamsException {
        pipe.first().sendFd(passed);
        try (ReceivedFd r = pipe.second().receiveFd()) {
            r.uid();
        }
    }

    /** One connection's CPU: connect, accept, a round trip of {@code size} bytes, close both; no wake-ups. */
    @Benchmark
    public void s4jConnect() throws StreamsException {
        try (Connection c = ConnldClient.connect(s4jPath);
             Connection s = s4jServer.accept()) {
            writeFully(c.fd(), direct.clear());
            readFully(s.fd(), direct.clear());
            writeFully(s.fd(), direct.flip());
            readFully(c.fd(), direct.clear());
        }
    }

    @Benchmark
    public void jdkConnect() throws IOException {
        try (java.nio.channels.SocketChannel c = java.nio.channels.SocketChannel.open(jdkAddress);
             java.nio.channels.SocketChannel s = jdkServer.accept()) {
            writeFully(c, direct.clear());
            readFully(s, direct.clear());
            writeFully(s, direct.flip());
            readFully(c, direct.clear());
        }
    }
}
