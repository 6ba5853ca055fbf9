package org.streams4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;

/**
 * Probes have no side effects where the kernel can answer (issue 13 item 6):
 * a second server's bind and {@code Streams.isAttached} on a live path never
 * reach the live server as a connection. STREAMS: an attachment is live by
 * construction. Linux: sock_diag lists the listening socket.
 */
class ProbeTest {
    @TempDir
    Path dir;

    @Test
    @EnabledOnOs({OS.LINUX, OS.SOLARIS})
    void probingALiveServerNeverConnectsToIt() throws Exception {
        Path p = dir.resolve("live");
        try (ConnldServer server = ConnldServer.bind(p)) {
            for (int i = 0; i < 5; i++) {
                assertTrue(Streams.isAttached(p));
                StreamsException e = assertThrows(StreamsException.class, () -> ConnldServer.bind(p));
                assertEquals("EBUSY", e.errnoName(), e.getMessage());
            }
            assertTrue(server.accept(Duration.ofMillis(300)).isEmpty(), "a probe reached the server as a client");
        }
        assertFalse(Streams.isAttached(p));
    }
}
