package org.streams4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.streams4j.testsupport.RequiresBackend;

/**
 * A peer that is not streams4j, on the portable backend: Python's
 * socket.send_fds puts data bytes and a descriptor in one message. Nothing
 * it sends is dropped (issue 13 item 9: "abc" with a descriptor was read as
 * "ab"), and a descriptor that came with data reaches receiveFd.
 */
@RequiresBackend(Backend.PORTABLE)   // STREAMS: data and M_PASSFP are separate messages
class ForeignPeerTest {
    private static final Path PYTHON = Path.of("/usr/bin/python3");

    @TempDir
    Path dir;

    @Test
    void dataSentWithADescriptorInOneMessageIsNeverDropped() throws Exception {
        assumeTrue(Files.isExecutable(PYTHON), "no /usr/bin/python3 to act as a foreign peer");
        Path p = dir.resolve("foreign");
        Path file = Files.writeString(dir.resolve("passed"), "the passed file\n");
        String script = String.join("\n",
            "import socket, os, sys",
            "s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)",
            "s.connect(sys.argv[1])",
            "fd = os.open(sys.argv[2], os.O_RDONLY)",
            "socket.send_fds(s, [b'abc'], [fd])",
            "s.sendall(b'def')",
            "s.close()");
        try (ConnldServer server = ConnldServer.bind(p)) {
            Process py = new ProcessBuilder(PYTHON.toString(), "-c", script, p.toString(), file.toString())
                .redirectErrorStream(true).start();
            try (Connection c = server.accept(TestSupport.guard(Duration.ofSeconds(30))).orElseThrow()) {
                assertEquals(0, py.waitFor(TestSupport.guard(Duration.ofSeconds(30)).toMillis(), TimeUnit.MILLISECONDS) ? py.exitValue() : -1, "python failed");
                ByteArrayOutputStream data = new ByteArrayOutputStream();
                int descriptors = 0;
                byte[] buf = new byte[64];
                while (true) {
                    int n;
                    try {
                        n = c.read(buf, 0, buf.length);
                    } catch (StreamsException e) {
                        assertEquals("EBADMSG", e.errnoName(), e.getMessage());
                        try (ReceivedFd got = c.receiveFd()) {
                            assertEquals("the passed file\n", new String(got.inputStream().readAllBytes()));
                        }
                        descriptors++;
                        continue;
                    }
                    if (n < 0) {
                        break;
                    }
                    data.write(buf, 0, n);
                }
                assertEquals("abcdef", data.toString(), "bytes the foreign peer sent");
                assertEquals(1, descriptors);
            }
        }
    }

    @Test
    void receiveFdMeetingADataByteThatCarriesADescriptorKeepsTheByte() throws Exception {
        assumeTrue(Files.isExecutable(PYTHON), "no /usr/bin/python3 to act as a foreign peer");
        Path p = dir.resolve("foreign-fd");
        String script = String.join("\n",
            "import socket, os, sys",
            "s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)",
            "s.connect(sys.argv[1])",
            "socket.send_fds(s, [b'xyz'], [0])",
            "s.close()");
        try (ConnldServer server = ConnldServer.bind(p)) {
            Process py = new ProcessBuilder(PYTHON.toString(), "-c", script, p.toString())
                .redirectErrorStream(true).start();
            try (Connection c = server.accept(TestSupport.guard(Duration.ofSeconds(30))).orElseThrow()) {
                assertEquals(0, py.waitFor(TestSupport.guard(Duration.ofSeconds(30)).toMillis(), TimeUnit.MILLISECONDS) ? py.exitValue() : -1, "python failed");
                StreamsException e = assertThrows(StreamsException.class, c::receiveFd);
                assertEquals("EBADMSG", e.errnoName(), e.getMessage());
                assertEquals("xyz", TestSupport.readString(c.fd(), 3));
                assertEquals(-1, c.read(new byte[4], 0, 4));
            }
        }
    }
}
