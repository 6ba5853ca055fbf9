package org.streams4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.streams4j.testsupport.ConnldEchoServerMain.readLine;
import static org.streams4j.testsupport.ConnldEchoServerMain.serveInBackground;
import static org.streams4j.testsupport.ConnldEchoServerMain.writeLine;

import java.io.DataInputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.streams4j.testsupport.ConnldEchoServerMain;
import org.streams4j.testsupport.ConnldEchoServerMain.Serving;
import org.streams4j.testsupport.Async;

/**
 * One private connection from a {@link ConnldServer}: streams, channels,
 * descriptor passing in both directions, and one reader with one writer at
 * the same time.
 */
@SuppressWarnings("try") // a serving server is a resource its try block need not name
class ConnectionTest {
    private static final Duration GUARD = TestSupport.guard(Duration.ofSeconds(60));
    private static final int MIB = 1 << 20;

    @TempDir
    Path dir;

    private ConnldServer server;
    private Connection client;
    private Connection served;

    /** A client and the server's end of its connection. */
    @BeforeEach
    void connect() throws Exception {
        server = ConnldServer.bind(dir.resolve("conn"));
        // On STREAMS the client's open returns only once the server has taken the pipe: connect aside.
        CompletableFuture<Connection> c = CompletableFuture.supplyAsync(() -> {
            try {
                return ConnldClient.connect(server.path());
            } catch (StreamsException e) {
                throw new RuntimeException(e);
            }
        }, Async.EACH);
        served = server.accept(GUARD).orElseThrow(() -> new AssertionError("no client within " + GUARD));
        client = c.get(GUARD.toMillis(), TimeUnit.MILLISECONDS);
    }

    @AfterEach
    void close() {
        if (client != null) {
            client.close();
        }
        if (served != null) {
            served.close();
        }
        if (server != null) {
            server.close();
        }
    }

    @Test
    void theServerKnowsTheClient() {
        PeerCredentials peer = served.peer();
        assertNotNull(peer);
        assertEquals(Platform.euid(), peer.uid());
        assertEquals(Platform.egid(), peer.gid());
        assertEquals(ProcessHandle.current().pid(), peer.pid().orElseThrow());
        assertTrue(client.isOpen());
        assertTrue(served.isOpen());
    }

    /**
     * What the accept knew (STREAMS: the I_RECVFD uid and gid) never stops
     * peer() from asking the kernel for the rest (pid, zone, groups), and
     * stands in only when the kernel will not say.
     */
    @Test
    void idsKnownAtAcceptStillLetPeerAskTheKernelAndStandInWhenItCannot() throws Exception {
        PeerCredentials known = new PeerCredentials(Platform.euid(), Platform.egid(), -1, -1);
        try (StreamPipe p = StreamPipe.open()) {
            Connection c = new Connection(p.first(), null, known, true);
            assertEquals(ProcessHandle.current().pid(), c.peer().pid().orElseThrow(), c.peer().toString());
        }
        Path file = Files.writeString(dir.resolve("no-peer"), "x");
        try (StreamFd f = StreamFd.open(file, StreamFd.Mode.READ)) {
            assertEquals(known, new Connection(f, null, known, true).peer(), "a file has no peer: the known ids");
            assertEquals(new PeerCredentials(-1, -1, -1, -1), new Connection(f, null, null, true).peer());
        }
    }

    @Test
    void inputAndOutputStreamsCarryAMebibyteEachWay() throws Exception {
        long seed = System.nanoTime();
        byte[] up = new byte[MIB];
        byte[] down = new byte[MIB];
        new Random(seed).nextBytes(up);
        new Random(~seed).nextBytes(down);

        // Writers on their own threads: a socket or pipe holds far less than a mebibyte.
        CompletableFuture<Void> sendUp = writeAside(client.outputStream(), up);
        CompletableFuture<Void> sendDown = writeAside(served.outputStream(), down);
        byte[] gotUp = new byte[MIB];
        byte[] gotDown = new byte[MIB];
        new DataInputStream(served.inputStream()).readFully(gotUp);
        new DataInputStream(client.inputStream()).readFully(gotDown);
        sendUp.get(GUARD.toMillis(), TimeUnit.MILLISECONDS);
        sendDown.get(GUARD.toMillis(), TimeUnit.MILLISECONDS);
        assertArrayEquals(up, gotUp, "client to server, seed " + seed);
        assertArrayEquals(down, gotDown, "server to client, seed " + seed);

        // Single bytes, including ones with the top bit set, which read() returns as 0..255.
        OutputStream out = client.outputStream();
        out.write(0xff);
        out.write('A');
        out.flush();
        InputStream in = served.inputStream();
        assertEquals(0xff, in.read());
        assertEquals('A', in.read());
    }

    @Test
    void closingTheOutputStreamClosesTheConnectionAndThePeerSeesEndOfStream() throws Exception {
        client.outputStream().write("last words\n".getBytes(StandardCharsets.UTF_8));
        client.outputStream().close();
        assertFalse(client.isOpen());
        assertEquals("last words", readLine(served));
        assertEquals(-1, served.inputStream().read());
        assertEquals(-1, served.read(new byte[8], 0, 8));
    }

    @Test
    void byteChannelsCarryDirectAndHeapBuffers() throws Exception {
        ByteChannel up = client.channel();
        ByteChannel down = served.channel();
        ByteBuffer direct = ByteBuffer.allocateDirect(64);
        direct.put("direct bytes".getBytes(StandardCharsets.US_ASCII)).flip();
        while (direct.hasRemaining()) {
            up.write(direct);
        }
        ByteBuffer heap = ByteBuffer.allocate(64);
        while (heap.position() < 12) {
            assertTrue(down.read(heap) > 0);
        }
        assertEquals("direct bytes", new String(heap.array(), 0, heap.position(), StandardCharsets.US_ASCII));
    }

    @Test
    void aFileDescriptorPassesFromClientToServer() throws Exception {
        Path file = dir.resolve("passed.txt");
        byte[] content = "the contents of a file the server never opened\n".repeat(100)
            .getBytes(StandardCharsets.UTF_8);
        Files.write(file, content);

        try (StreamFd f = StreamFd.open(file, StreamFd.Mode.READ)) {
            writeLine(client, "here it comes");
            client.sendFd(f);
            writeLine(client, "sent");
            // The sender keeps its own copy.
            assertTrue(f.isOpen());
            assertEquals(FileType.REGULAR, f.fileType());
        }

        assertEquals("here it comes", readLine(served));
        try (ReceivedFd got = served.receiveFd()) {
            assertEquals(Platform.euid(), got.uid());
            assertEquals(Platform.egid(), got.gid());
            assertTrue(got.fd().isOpen());
            assertEquals(FileType.REGULAR, got.fd().fileType());
            try (FileChannel ch = got.openFileChannel()) {
                assertEquals(content.length, ch.size());
            }
            assertArrayEquals(content, got.inputStream().readAllBytes());
        }
        assertEquals("sent", readLine(served));
    }

    @Test
    void aPipeEndPassesFromServerToClient() throws Exception {
        try (StreamPipe pipe = StreamPipe.open()) {
            served.sendFd(pipe.second());
            pipe.second().close();      // the server keeps only its own end
            try (ReceivedFd got = client.receiveFd()) {
                got.fd().writeFully("through the passed end".getBytes(StandardCharsets.US_ASCII));
            }
            byte[] b = new byte[64];
            int n = 0;
            while (n < 22) {
                int r = pipe.first().read(b, n, b.length - n);
                assertTrue(r > 0, "end of stream after " + n + " bytes");
                n += r;
            }
            assertEquals("through the passed end", new String(b, 0, n, StandardCharsets.US_ASCII));
            // Every copy of the other end is closed now: end of stream.
            assertEquals(-1, pipe.first().read(b, 0, b.length));
        }
    }

    @Test
    void oneReaderAndOneWriterUseAConnectionAtTheSameTime() throws Exception {
        // The server echoes; the client writes 8 MiB and reads them back at the same time on
        // another thread. Written first and read after, they could not fit in the buffers.
        served.close();
        served = null;
        Path p = dir.resolve("echo");
        try (Serving s = serveInBackground(ConnldServer.bind(p), ConnldEchoServerMain::echo);
             Connection c = ConnldClient.connect(p, GUARD)) {
            int total = 8 * MIB;
            long seed = System.nanoTime();
            CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
                Random sizes = new Random(seed);
                byte[] chunk = new byte[70_000];
                long at = 0;
                try {
                    while (at < total) {
                        int n = (int) Math.min(total - at, 1 + sizes.nextInt(chunk.length));
                        for (int i = 0; i < n; i++) {
                            chunk[i] = pattern(at + i);
                        }
                        c.writeFully(chunk, 0, n);
                        at += n;
                    }
                } catch (StreamsException e) {
                    throw new RuntimeException("writer at byte " + at, e);
                }
            }, Async.EACH);
            CompletableFuture<Long> reader = CompletableFuture.supplyAsync(() -> {
                byte[] buf = new byte[50_000];
                long at = 0;
                try {
                    while (at < total) {
                        int n = c.read(buf, 0, buf.length);
                        if (n < 0) {
                            throw new AssertionError("end of stream at byte " + at);
                        }
                        for (int i = 0; i < n; i++) {
                            if (buf[i] != pattern(at + i)) {
                                throw new AssertionError("byte " + (at + i) + " is " + buf[i]
                                    + ", expected " + pattern(at + i) + " (seed " + seed + ")");
                            }
                        }
                        at += n;
                    }
                } catch (StreamsException e) {
                    throw new RuntimeException("reader at byte " + at, e);
                }
                return at;
            }, Async.EACH);
            try {
                writer.get(GUARD.toMillis(), TimeUnit.MILLISECONDS);
                assertEquals((long) total, reader.get(GUARD.toMillis(), TimeUnit.MILLISECONDS));
            } catch (ExecutionException e) {
                throw new AssertionError(e.getCause().getMessage(), e.getCause());
            }
            // Still in step afterwards.
            writeLine(c, "done");
            assertEquals("done", readLine(c));
        }
    }

    private static byte pattern(long i) {
        return (byte) (i * 31 + (i >>> 11));
    }

    private static CompletableFuture<Void> writeAside(OutputStream out, byte[] data) {
        return CompletableFuture.runAsync(() -> {
            try {
                // Uneven pieces, so that writes and reads do not line up.
                int at = 0;
                int piece = 1;
                while (at < data.length) {
                    int n = Math.min(data.length - at, piece);
                    out.write(data, at, n);
                    at += n;
                    piece = piece * 3 % 100_003 + 1;
                }
                out.flush();
            } catch (java.io.IOException e) {
                throw new RuntimeException(e);
            }
        }, Async.EACH);
    }

    /** A connection's failures name the path it is a connection of, not only its number (issue 23, item 6). */
    @Test
    void aConnectionsMessagesNameItsPath() throws Exception {
        // The pair @BeforeEach made (connected aside: on STREAMS the open returns once the server takes it).
        Path p = server.path();
        org.junit.jupiter.api.Assertions.assertEquals("fd " + client.fd().fd() + " to " + p, client.fd().name());
        org.junit.jupiter.api.Assertions.assertEquals("fd " + served.fd().fd() + " on " + p, served.fd().name());
        client.close();
        StreamsException e = org.junit.jupiter.api.Assertions.assertThrows(StreamsException.class,
            () -> client.read(new byte[1], 0, 1));
        org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().startsWith("read fd "), e.getMessage());
        org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains(" to " + p + ": "), e.getMessage());
    }
}
