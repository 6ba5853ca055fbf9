package org.streams4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.streams4j.TestSupport.ascii;
import static org.streams4j.TestSupport.readString;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;

/** Thousands of pipe/pass/receive/close cycles leave the descriptor table as it was. */
@EnabledOnOs({OS.LINUX, OS.SOLARIS}) // both list open descriptors in /proc/self/fd
class LeakTest {
    private static final int CYCLES = 2_000;

    @TempDir
    Path dir;

    @Test
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
}
