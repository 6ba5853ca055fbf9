package org.streams4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.streams4j.testsupport.ConnldEchoServerMain.serveInBackground;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.streams4j.testsupport.ConnldEchoServerMain;
import org.streams4j.testsupport.ConnldEchoServerMain.Serving;

/**
 * Thousands of connections through a serving server leave the process with
 * the descriptors it had before: neither the client side (connect, connect
 * with a time-out) nor the server side (accept, handler, close) keeps any.
 */
@SuppressWarnings("try") // a serving server is a resource its try block need not name
class ConnldDescriptorLeakTest {
    private static final int WARM_UP = 200;
    private static final int CYCLES = 2000;
    private static final Duration SETTLE = TestSupport.guard(Duration.ofSeconds(10));

    @TempDir
    Path dir;

    @Test
    void twoThousandConnectTransferCloseCyclesLeaveTheDescriptorCountAtItsBaseline() throws Exception {
        Path p = dir.resolve("cycles");
        try (Serving s = serveInBackground(ConnldServer.bind(p), ConnldEchoServerMain::echo)) {
            for (int i = 0; i < WARM_UP; i++) {
                cycle(p, i);
            }
            Map<Integer, String> baseline = settledDescriptors();

            for (int i = 0; i < CYCLES; i++) {
                cycle(p, i);
            }

            // The server closes its ends on its handler threads, a moment after each client: wait for that.
            long deadline = System.nanoTime() + SETTLE.toNanos();
            Map<Integer, String> now = descriptors();
            while (now.size() > baseline.size() && System.nanoTime() < deadline) {
                Thread.sleep(20);
                now = descriptors();
            }
            if (now.size() > baseline.size()) {
                Map<Integer, String> extra = new TreeMap<>(now);
                extra.entrySet().removeAll(baseline.entrySet());
                assertEquals(baseline.size(), now.size(), "descriptors after " + CYCLES
                    + " cycles (baseline " + baseline.size() + "); new ones: " + extra);
            }
        }
    }

    /** One client: connect (every fourth with a time-out), send, get the echo, close. */
    private static void cycle(Path p, int i) throws Exception {
        byte[] msg = String.format("cycle %08d of many", i).getBytes(StandardCharsets.US_ASCII);
        try (Connection c = i % 4 == 0 ? ConnldClient.connect(p, TestSupport.guard(Duration.ofSeconds(30))) : ConnldClient.connect(p)) {
            c.writeFully(msg);
            byte[] back = new byte[msg.length];
            int got = 0;
            while (got < back.length) {
                int n = c.read(back, got, back.length - got);
                if (n < 0) {
                    throw new AssertionError("end of stream in cycle " + i + " after " + got + " bytes");
                }
                got += n;
            }
            assertArrayEquals(msg, back, "cycle " + i);
        }
    }

    /** The count once it stops moving (two equal looks in a row), within the settle time. */
    private static Map<Integer, String> settledDescriptors() throws Exception {
        long deadline = System.nanoTime() + SETTLE.toNanos();
        Map<Integer, String> last = descriptors();
        while (System.nanoTime() < deadline) {
            Thread.sleep(50);
            Map<Integer, String> now = descriptors();
            if (now.size() == last.size()) {
                return now;
            }
            last = now;
        }
        return last;
    }

    /** This process's open descriptors and, where the system says, what they are. */
    private static Map<Integer, String> descriptors() throws IOException {
        Path fdDir = Files.isDirectory(Path.of("/proc/self/fd")) ? Path.of("/proc/self/fd") : Path.of("/dev/fd");
        Map<Integer, String> out = new TreeMap<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(fdDir)) {
            for (Path e : ds) {
                String target;
                try {
                    target = Files.isSymbolicLink(e) ? Files.readSymbolicLink(e).toString() : "?";
                } catch (NoSuchFileException | UnsupportedOperationException x) {
                    target = "(gone)";      // e.g. the directory stream's own descriptor
                }
                out.put(Integer.parseInt(e.getFileName().toString()), target);
            }
        }
        return out;
    }
}
