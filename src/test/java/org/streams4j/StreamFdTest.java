package org.streams4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.streams4j.TestSupport.ascii;
import static org.streams4j.TestSupport.readString;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.streams4j.internal.Shim;

/** StreamFd on its own: opening files for writing, available(), poll for output. Both backends. */
class StreamFdTest {
    private static final Duration GUARD = TestSupport.guard(Duration.ofSeconds(10));

    @TempDir
    Path dir;

    @Test
    void openForWritingWritesFromTheStartWithoutTruncatingOrCreating() throws Exception {
        Path f = dir.resolve("out");
        Files.writeString(f, "0123456789");
        try (StreamFd w = StreamFd.open(f, StreamFd.Mode.WRITE)) {
            w.writeFully(ascii("abc"));
            assertEquals(FileType.REGULAR, w.fileType());
            // Write-only: a read is refused by the kernel, and names the descriptor.
            StreamsException e = assertThrows(StreamsException.class, () -> w.read(new byte[4]));
            assertEquals("read", e.operation());
            assertEquals(w.name(), e.target());
            assertEquals("EBADF", e.errnoName());
        }
        assertEquals("abc3456789", Files.readString(f, StandardCharsets.US_ASCII));

        // READ_WRITE reads and writes the same offset.
        try (StreamFd rw = StreamFd.open(f, StreamFd.Mode.READ_WRITE)) {
            assertEquals("abc3", readString(rw, 4));
            rw.writeFully(ascii("XY"));
            assertEquals("6789", readString(rw, 4));
            assertEquals(-1, rw.read(new byte[4]));
        }
        assertEquals("abc3XY6789", Files.readString(f, StandardCharsets.US_ASCII));

        // Never created: no O_CREAT.
        Path missing = dir.resolve("missing");
        StreamsException e = assertThrows(StreamsException.class, () -> StreamFd.open(missing, StreamFd.Mode.WRITE));
        assertEquals("open", e.operation());
        assertEquals(missing.toString(), e.target());
        assertEquals("ENOENT", e.errnoName());
        assertFalse(Files.exists(missing));
    }

    @Test
    void availableCountsWhatIsWaitingAndNothingMore() throws Exception {
        try (StreamPipe p = StreamPipe.open()) {
            assertEquals(0, p.second().available());
            p.first().writeFully(ascii("hello"));
            assertTrue(p.second().awaitReadable(GUARD));
            // STREAMS: I_NREAD, the first message's size; portable: FIONREAD. One write, five bytes.
            assertEquals(5, p.second().available());
            assertEquals(5, p.second().inputStream().available());
            assertEquals("he", readString(p.second(), 2));
            assertEquals(3, p.second().available());
            assertEquals("llo", readString(p.second(), 3));
            assertEquals(0, p.second().available());
        }
    }

    @Test
    void pollForOutputSaysWritableUntilTheQueueIsFull() throws Exception {
        try (StreamPipe p = StreamPipe.open()) {
            StreamFd w = p.first();
            assertEquals(Shim.POLLOUT, w.poll(Shim.POLLOUT, Duration.ZERO) & Shim.POLLOUT, "an empty pipe is writable");
            assertEquals(0, w.poll(Shim.POLLIN, Duration.ZERO) & Shim.POLLIN, "and has nothing to read");
            // Fill the queue (non-blocking writes until EAGAIN): no longer writable.
            long queued = TestSupport.fillUntilFull(w);
            assertEquals(0, w.poll(Shim.POLLOUT, Duration.ZERO) & Shim.POLLOUT, "a full queue is not writable");
            // Drain it: writable again, and a waiting poll says so.
            TestSupport.drain(p.second(), queued);
            assertEquals(Shim.POLLOUT, w.poll(Shim.POLLOUT, GUARD) & Shim.POLLOUT);
        }
    }
}
