package org.streams4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.streams4j.testsupport.Child;
import org.streams4j.testsupport.DuplicateMain;
import org.streams4j.testsupport.TimeScale;

/**
 * Issue 23, item 8: descriptor passing with the JDK's types. A FileDescriptor
 * (FileOutputStream.getFD()), a FileChannel and a JDK SocketChannel are
 * duplicated into StreamFds and passed; what is received opens as a
 * FileChannel that can be written as well as read. The test JVM opens java.io
 * and sun.nio.ch as a user of StreamFd.duplicate must (pom.xml); a child JVM
 * without that gets the error that names the flag.
 */
class JdkTypesTest {
    private static final Duration GUARD = TimeScale.guard(Duration.ofSeconds(30));

    @TempDir
    Path dir;

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    /** Passes d over a pipe and gives back what arrived. */
    private static ReceivedFd pass(StreamFd d) throws Exception {
        try (StreamPipe p = StreamPipe.open(); d) {
            p.first().sendFd(d);
            return p.second().receiveFd(GUARD);
        }
    }

    @Test
    void aFileOutputStreamsDescriptorIsPassedAndTheReceiverWritesAndReadsIt() throws Exception {
        Path f = dir.resolve("log");
        try (FileOutputStream out = new FileOutputStream(f.toFile())) {
            out.write(ascii("sent "));
            try (ReceivedFd got = pass(StreamFd.duplicate(out.getFD()));
                 FileChannel ch = got.openFileChannel(StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                ch.position(ch.size()).write(ByteBuffer.wrap(ascii("and written back")));
                ByteBuffer all = ByteBuffer.allocate(64);
                ch.read(all, 0);
                assertEquals("sent and written back", new String(all.array(), 0, all.position(),
                    StandardCharsets.US_ASCII));
            }
            assertTrue(out.getFD().valid(), "the JDK's stream is untouched and still the caller's");
        }
        assertEquals("sent and written back", Files.readString(f));
    }

    @Test
    void aFileChannelIsPassedAndSharesItsOffsetWithTheSender() throws Exception {
        Path f = dir.resolve("data");
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(ascii("abc")));
            try (ReceivedFd got = pass(StreamFd.duplicate(ch))) {
                got.fd().writeFully(ascii("def"));     // a dup: the same open file, the same offset
            }
            assertEquals(6, ch.position());
        }
        assertEquals("abcdef", Files.readString(f));
    }

    @Test
    void aJdkSocketChannelIsPassedAndTheReceiverTalksToItsPeer() throws Exception {
        Path sock = dir.resolve("s");
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(sock));
            try (SocketChannel client = SocketChannel.open(UnixDomainSocketAddress.of(sock));
                 SocketChannel accepted = server.accept();
                 ReceivedFd got = pass(StreamFd.duplicate(client))) {
                got.fd().writeFully(ascii("ping"));
                ByteBuffer in = ByteBuffer.allocate(4);
                while (in.hasRemaining()) {
                    accepted.read(in);
                }
                assertArrayEquals(ascii("ping"), in.array());
                accepted.write(ByteBuffer.wrap(ascii("pong")));
                assertEquals("pong", TestSupport.readString(got.fd(), 4));
            }
        }
    }

    @Test
    void closedOrForeignJdkObjectsAreRefusedClearly() throws Exception {
        assertThrows(StreamClosedException.class, () -> StreamFd.duplicate(new FileDescriptor()));
        SocketChannel closed = SocketChannel.open(StandardProtocolFamily.UNIX);
        closed.close();
        assertThrows(StreamClosedException.class, () -> StreamFd.duplicate(closed));
        java.nio.channels.Channel foreign = new java.nio.channels.Channel() {
            @Override
            public boolean isOpen() {
                return true;
            }

            @Override
            public void close() {
            }
        };
        UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class,
            () -> StreamFd.duplicate(foreign));
        assertTrue(e.getMessage().contains("not one of the JDK's channels"), e.getMessage());
    }

    @Test
    void openFileChannelRefusesWhatWouldCreateAndWhatIsNoFile() throws Exception {
        Path f = dir.resolve("x");
        Files.writeString(f, "x");
        try (ReceivedFd got = pass(StreamFd.open(f, StreamFd.Mode.READ))) {
            assertThrows(IllegalArgumentException.class, () -> got.openFileChannel(StandardOpenOption.CREATE));
            try (FileChannel ch = got.openFileChannel()) {
                assertEquals(1, ch.size());
                assertThrows(java.nio.channels.NonWritableChannelException.class,
                    () -> ch.write(ByteBuffer.wrap(ascii("y"))));
            }
        }
        try (StreamPipe p = StreamPipe.open(); ReceivedFd got = pass(p.first())) {
            StreamsException e = assertThrows(StreamsException.class, got::openFileChannel);
            assertEquals(Errno.EINVAL, e.errno());
        }
    }

    @Test
    void withoutAddOpensTheErrorNamesTheFlag() throws Exception {
        try (Child c = Child.startWithJvmOptions(List.of(), DuplicateMain.class)) {
            String line = c.awaitLine("refused ", GUARD);
            assertTrue(line.contains("--add-opens java.base/java.io=ALL-UNNAMED"), line);
            assertEquals(0, c.awaitExit(GUARD));
        }
    }
}
