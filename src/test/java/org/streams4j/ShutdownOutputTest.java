package org.streams4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.streams4j.testsupport.RequiresBackend;

/**
 * {@link StreamFd#shutdownOutput()}: the end of a request, after which the
 * other end reads end of stream and can still answer. Real pipes (pipe(2) on
 * STREAMS, socketpair elsewhere) and a real connld connection.
 */
class ShutdownOutputTest {
    private static final byte[] REQUEST = "request".getBytes(StandardCharsets.UTF_8);

    @Test
    void theOtherEndReadsTheDataThenEndOfStreamAndCanStillAnswer() throws Exception {
        try (StreamPipe p = StreamPipe.open()) {
            StreamFd client = p.first();
            StreamFd server = p.second();
            client.writeFully(REQUEST);
            client.shutdownOutput();
            assertEquals("request", readToEnd(server));
            server.writeFully("answer".getBytes(StandardCharsets.UTF_8));
            server.close();
            assertEquals("answer", readToEnd(client));
        }
    }

    @Test
    void aConnldServerSeesTheClientsEndOfInput() throws Exception {
        java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("streams4j-shut");
        java.nio.file.Path path = dir.resolve("srv");
        try (ConnldServer s = ConnldServer.bind(path);
             Connection c = ConnldClient.connect(path, TestSupport.guard(Duration.ofSeconds(10)));
             Connection a = s.accept(TestSupport.guard(Duration.ofSeconds(10))).orElseThrow()) {
            c.writeFully(REQUEST, 0, REQUEST.length);
            c.fd().shutdownOutput();
            assertEquals("request", readToEnd(a.fd()));
            a.writeFully("12\n".getBytes(StandardCharsets.UTF_8), 0, 3);
            a.close();
            assertEquals("12\n", readToEnd(c.fd()));
        } finally {
            java.nio.file.Files.deleteIfExists(path);
            java.nio.file.Files.deleteIfExists(dir);
        }
    }

    /** Portable: shutdown(SHUT_WR) is a state of the socket; writing after it fails. */
    @Test
    @RequiresBackend(Backend.PORTABLE)
    void afterShutdownOutputAWriteFailsWithEpipe() throws Exception {
        try (StreamPipe p = StreamPipe.open()) {
            p.first().shutdownOutput();
            StreamsException e = assertThrows(StreamsException.class, () -> p.first().writeFully(REQUEST));
            assertEquals(Errno.EPIPE, e.errno(), e.getMessage());
        }
    }

    /**
     * STREAMS: a zero-length message (fifo_write sends it only with SNDZERO
     * set; strread returns it as a read of 0 in RNORM), read once; what is
     * written after it is read after it.
     */
    @Test
    @RequiresBackend(Backend.STREAMS)
    void onStreamsTheEndOfInputIsAZeroLengthMessageReadOnce() throws Exception {
        try (StreamPipe p = StreamPipe.open()) {
            p.first().shutdownOutput();
            p.first().writeFully("late".getBytes(StandardCharsets.UTF_8));
            byte[] buf = new byte[16];
            assertEquals(-1, p.second().read(buf));
            assertEquals(4, p.second().read(buf));
            assertEquals("late", new String(buf, 0, 4, StandardCharsets.UTF_8));
        }
    }

    private static String readToEnd(StreamFd fd) throws Exception {
        StringBuilder sb = new StringBuilder();
        byte[] buf = new byte[64];
        while (true) {
            if (!fd.awaitReadable(TestSupport.guard(Duration.ofSeconds(10)))) {
                throw new AssertionError("no end of stream within 10s; read so far: " + sb);
            }
            int n = fd.read(buf);
            if (n < 0) {
                return sb.toString();
            }
            sb.append(new String(buf, 0, n, StandardCharsets.UTF_8));
        }
    }
}
