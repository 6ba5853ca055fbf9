package org.streams4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;
import org.streams4j.internal.Shim;

/**
 * The numbers Java sizes native memory by come from the shim (s4j_abi), not
 * from copies: the values the header gives, the iovec bound within
 * sysconf(_SC_IOV_MAX), and a gathering write of more buffers than that
 * bound taking at most that many (the rest is a short write).
 */
class ShimAbiTest {
    @Test
    void theShimsNumbers() {
        assertEquals(256, Shim.EV_BATCH, "S4J_EV_BATCH");
        assertEquals(16, Shim.EV_SIZE, "S4J_EV_SIZE, sizeof (s4j_ev_t)");
        assertEquals(254, Shim.RECV_FDS, "S4J_RECV_FDS");
        assertTrue(Shim.MAX_IOV >= 1 && Shim.MAX_IOV <= 64, "S4J_MAX_IOV or _SC_IOV_MAX: " + Shim.MAX_IOV);
        assertTrue(Shim.PIPE_BUF >= 512, "PIPE_BUF (POSIX: at least 512): " + Shim.PIPE_BUF);
        if ("Linux".equals(System.getProperty("os.name"))) {
            assertEquals(4096, Shim.PIPE_BUF, "Linux's PIPE_BUF");
        }
        assertEquals(256, Shim.TTY_SAVE_MAX, "S4J_TTY_SAVE_MAX");
        assertEquals(-Errno.EINVAL, Shim.s4j_abi(99), "an ABI number the shim does not know");
        assertEquals(-Errno.ERANGE, org.streams4j.internal.PtyShim.s4j_tty_save(0, new byte[1], 1),
            "a termios does not fit in one byte: the shim checks the room");
    }

    @Test
    void aGatheringWriteTakesAtMostMaxIovBuffers() throws Exception {
        try (StreamPipe p = StreamPipe.open()) {
            ByteBuffer[] bufs = new ByteBuffer[Shim.MAX_IOV + 10];
            for (int i = 0; i < bufs.length; i++) {
                bufs[i] = ByteBuffer.allocateDirect(1).put(0, (byte) i);
            }
            long n = p.first().write(bufs, 0, bufs.length);
            assertEquals(Shim.MAX_IOV, n, "one byte from each of the first MAX_IOV buffers");
            assertEquals(0, bufs[Shim.MAX_IOV].position(), "the buffers past the bound were not touched");
        }
    }
}
