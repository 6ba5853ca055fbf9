package org.streams4j;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 23, item 6: "no server here" and "the other end has gone" asked
 * without listing the errnos of both backends, on real paths and
 * descriptors.
 */
class FailureKindsTest {
    private static final Duration GUARD = Duration.ofSeconds(10);

    @TempDir
    Path dir;

    @Test
    void nothingAtThePathAndAFileThatIsNoServerAreNoServer() throws Exception {
        StreamsException missing = assertThrows(StreamsException.class,
            () -> ConnldClient.connect(dir.resolve("nobody"), GUARD));
        assertTrue(missing.isNoServer(), missing.getMessage());
        assertFalse(missing.isPeerGone(), missing.getMessage());

        Path file = Files.writeString(dir.resolve("plain"), "not a server");
        StreamsException plain = assertThrows(StreamsException.class, () -> ConnldClient.connect(file, GUARD));
        assertTrue(plain.isNoServer(), plain.getMessage());
    }

    @Test
    void aServerThatClosedIsNoServerForTheNextClient() throws Exception {
        Path p = dir.resolve("gone");
        ConnldServer.bind(p, ConnldOptions.builder().shutdownHook(false).build()).close();
        StreamsException e = assertThrows(StreamsException.class, () -> ConnldClient.connect(p, GUARD));
        assertTrue(e.isNoServer() || e.isPeerGone(), e.getMessage());
    }

    @Test
    void aWriteToAClosedPeerIsPeerGone() throws Exception {
        try (StreamPipe pipe = StreamPipe.open()) {
            StreamFd a = pipe.first();
            pipe.second().close();
            StreamsException e = assertThrows(StreamsException.class, () -> {
                for (int i = 0; i < 1000; i++) {
                    a.write(new byte[4096], 0, 4096);
                }
            });
            assertTrue(e.isPeerGone(), e.getMessage());
            assertFalse(e.isNoServer(), e.getMessage());
        }
    }
}
