package org.streams4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Issue 13 item 10: nonsense options fail where they are set, with a message that names them. */
class ConnldOptionsValidationTest {
    @Test
    void aNullProbeTimeoutIsRejected() {
        NullPointerException e = assertThrows(NullPointerException.class,
            () -> ConnldOptions.builder().probeTimeout(null));
        assertEquals("probeTimeout must not be null", e.getMessage());
    }

    @Test
    void aZeroOrNegativeProbeTimeoutIsRejected() {
        for (Duration d : new Duration[] {Duration.ZERO, Duration.ofMillis(-1), Duration.ofSeconds(-5)}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ConnldOptions.builder().probeTimeout(d));
            assertTrue(e.getMessage().startsWith("probeTimeout must be longer than zero"), e.getMessage());
        }
    }

    @Test
    void aBacklogBelowOneIsRejected() {
        for (int b : new int[] {0, -5, Integer.MIN_VALUE}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ConnldOptions.builder().backlog(b));
            assertEquals("backlog must be at least 1: " + b, e.getMessage());
        }
    }

    @Test
    void sensibleValuesAreKept() {
        ConnldOptions o = ConnldOptions.builder().probeTimeout(Duration.ofMillis(1)).backlog(1).build();
        assertEquals(Duration.ofMillis(1), o.probeTimeout());
        assertEquals(1, o.backlog());
    }
}
