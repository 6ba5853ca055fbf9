package org.streams4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.streams4j.TestSupport.ascii;
import static org.streams4j.TestSupport.readString;
import static org.streams4j.testsupport.ConnldEchoServerMain.serveInBackground;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;
import org.streams4j.testsupport.ConnldEchoServerMain.Serving;
import org.streams4j.testsupport.ConnldEchoServerMain;

/**
 * Thousands of cycles leave the descriptor table as it was: pipe, pass,
 * receive, close; and connections through a serving server, where neither
 * the client side (connect, connect with a time-out) nor the server side
 * (accept, handler, close) keeps any.
 */
@SuppressWarnings("try") // a serving server is a resource its try block need not name
class LeakTest {
    private static final int CYCLES = 2_000;
    private static final int WARM_UP = 200;
    private static final Duration SETTLE = TestSupport.guard(Duration.ofSeconds(10));

    @TempDir
    Path dir;

    @Test
    @EnabledOnOs({OS.LINUX, OS.SOLARIS}) // both list open descriptors in /proc/self/fd
    void cyclesLeaveNoDescriptorBehind() throws Exception {
        Path file = dir.resolve("passed");
        Files.writeString(file, "passed");
        for (int i = 0; i < 50; i++) { // warm-up: classes, the close marker, JNA
            cycle(file, i);
        }
        TestSupport.Descriptors before = TestSupport.Descriptors.now();
        for (int i = 0; i < CYCLES; i++) {
            cycle(file, i);
        }
        // Everything a cycle opens it closes on this thread: nothing to wait for but stragglers.
        TestSupport.assertClosedSince(before, TestSupport.guard(java.time.Duration.ofSeconds(10)), dir);
    }

    /**
     * One cycle: a pipe, a file descriptor passed across it and taken in one of
     * three ways (receiveFd; a read that meets it first; never taken), a few bytes
     * each way, everything closed.
     */
    private static void cycle(Path file, int i) throws Exception {
        try (StreamPipe p = StreamPipe.open(); StreamFd f = StreamFd.open(file, StreamFd.Mode.READ)) {
            p.first().sendFd(f);
            switch (i % 3) {
                case 0:
                    try (ReceivedFd got = p.second().receiveFd()) {
                        assertEquals("passed", readString(got.fd(), 6));
                    }
                    break;
                case 1:
                    assertThrows(StreamsException.class, () -> p.second().read(new byte[8]));
                    p.second().receiveFd().close();
                    break;
                default:
                    // left in the pipe (or held by the reader after a read met it): closing must free it
                    if (i % 2 == 0) {
                        assertThrows(StreamsException.class, () -> p.second().read(new byte[8]));
                    }
                    break;
            }
            p.first().writeFully(ascii("ab"));
            p.second().writeFully(ascii("cd"));
            if (i % 3 != 2) {
                assertEquals("ab", readString(p.second(), 2));
            }
            assertEquals("cd", readString(p.first(), 2));
        }
    }

    @Test
    void twoThousandConnectTransferCloseCyclesLeaveTheDescriptorCountAtItsBaseline() throws Exception {
        Path p = dir.resolve("cycles");
        try (Serving s = serveInBackground(ConnldServer.bind(p), ConnldEchoServerMain::echo)) {
            for (int i = 0; i < WARM_UP; i++) {
                connectCycle(p, i);
            }
            TestSupport.Descriptors baseline = TestSupport.Descriptors.now();

            for (int i = 0; i < CYCLES; i++) {
                connectCycle(p, i);
            }

            // The server closes its ends on its handler threads, a moment after each client: waited for.
            TestSupport.assertClosedSince(baseline, SETTLE, dir);
        }
    }

    /** One client: connect (every fourth with a time-out), send, get the echo, close. */
    private static void connectCycle(Path p, int i) throws Exception {
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
