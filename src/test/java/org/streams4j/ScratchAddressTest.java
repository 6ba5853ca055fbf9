package org.streams4j;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;
import org.streams4j.internal.Shim;
import org.streams4j.internal.Shim.Scratch;

/**
 * Scratch.address remembers the last two direct buffers of each direction
 * (issue 24, fix 1): whatever the order buffers come in, the address it
 * gives is the buffer's own, and the two directions do not mix.
 */
class ScratchAddressTest {
    @Test
    void everyBufferGetsItsOwnAddressWhateverTheOrder() {
        ByteBuffer[] b = new ByteBuffer[5];
        for (int i = 0; i < b.length; i++) {
            b[i] = ByteBuffer.allocateDirect(16);
        }
        Scratch s = Scratch.get(0);
        int[] order = {0, 1, 0, 1, 2, 0, 2, 1, 3, 4, 3, 4, 0, 0, 1, 2, 3, 4, 4, 3, 2, 1, 0};
        for (int slot = 0; slot < 2; slot++) {
            for (int i : order) {
                int j = slot == 0 ? i : b.length - 1 - i;
                assertEquals(Shim.address(b[j]), s.address(b[j], slot), "buffer " + j + " in slot " + slot);
            }
        }
        for (int i : order) {
            assertEquals(Shim.address(b[i]), s.address(b[i], 0));
            assertEquals(Shim.address(b[4 - i]), s.address(b[4 - i], 1));
        }
    }
}
