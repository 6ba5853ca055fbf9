package org.streams4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.streams4j.testsupport.ConnldEchoServerMain.serveInBackground;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
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
            TestSupport.Descriptors baseline = TestSupport.Descriptors.now();

            for (int i = 0; i < CYCLES; i++) {
                cycle(p, i);
            }

            // The server closes its ends on its handler threads, a moment after each client: waited for.
            TestSupport.assertClosedSince(baseline, SETTLE, dir);
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
}
