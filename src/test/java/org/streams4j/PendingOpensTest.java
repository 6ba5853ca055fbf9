package org.streams4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.streams4j.internal.Shim;

/**
 * Time-outs on a connect the kernel cannot cut short (a STREAMS open of a
 * connld path waits for the server's I_RECVFD). Its stand-in here is as
 * real: opening a FIFO for writing sleeps in the kernel until a reader
 * comes. 1,000 timed-out connects leave one thread in the kernel, not 1,000,
 * and a descriptor completed after everyone gave up is closed.
 */
class PendingOpensTest {
    @TempDir
    Path dir;

    private static long openerThreads() {
        return Thread.getAllStackTraces().keySet().stream()
            .filter(t -> t.getName().startsWith("streams4j-connect")).count();
    }

    @Test
    void thousandTimedOutOpensLeaveOneThreadAndNoDescriptor() throws Exception {
        Path fifo = dir.resolve("fifo");
        Process mk = new ProcessBuilder("mkfifo", fifo.toString()).start();
        assertEquals(0, mk.waitFor());
        mk.getInputStream().close();
        mk.getErrorStream().close();
        mk.getOutputStream().close();
        PendingOpens.Opener open = p -> {
            int fd = Shim.s4j_open(p, Shim.O_WRITE, 0);     // sleeps until a reader opens
            if (fd < 0) {
                throw new StreamsException("open", p, -fd);
            }
            return fd;
        };
        long threadsBefore = openerThreads();
        for (int i = 0; i < 1000; i++) {
            StreamsException e = assertThrows(StreamsException.class,
                () -> PendingOpens.open(fifo.toString(), Duration.ofMillis(1), open));
            assertEquals("ETIMEDOUT", e.errnoName());
        }
        assertEquals(1, PendingOpens.openers(), "opener threads for one path");
        assertEquals(threadsBefore + 1, openerThreads(), "opener threads alive");

        // A reader comes: the open completes for nobody, and its descriptor is closed.
        try (StreamFd reader = StreamFd.open(fifo, StreamFd.Mode.READ)) {
            long deadline = System.nanoTime() + TestSupport.guard(Duration.ofSeconds(30)).toNanos();
            while (PendingOpens.openers() != 0 && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            assertEquals(0, PendingOpens.openers(), "the opener thread did not leave");
            // The writer it opened was closed (a FIFO reads end of file only
            // once no writer is left): nothing leaked, nothing written.
            assertTrue(reader.awaitReadable(TestSupport.guard(Duration.ofSeconds(30))), "a writer of the FIFO is still open");
            assertEquals(-1, reader.read(new byte[8]));
        }

        // And a caller who waits long enough gets the descriptor.
        Thread late = new Thread(() -> {
            try {
                Thread.sleep(100);
                Files.newInputStream(fifo).close();
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        });
        late.start();
        int fd = PendingOpens.open(fifo.toString(), TestSupport.guard(Duration.ofSeconds(30)), open);
        assertTrue(fd >= 0);
        Shim.s4j_close(fd);
        late.join();
    }
}
