package org.streams4j;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/**
 * Runs everywhere, ungated: the backend is STREAMS exactly on illumos and
 * Solaris (os.name "SunOS"). Without it, a STREAMS host that fell back to
 * sockets would skip every {@code @RequiresBackend(Backend.STREAMS)} test
 * and pass.
 */
class BackendChoiceTest {
    @Test
    void theBackendIsStreamsExactlyOnSunOs() {
        boolean sunos = "SunOS".equals(System.getProperty("os.name"));
        assertEquals(sunos ? Backend.STREAMS : Backend.PORTABLE, Platform.backend(), Platform.describe());
        assertEquals(sunos, Platform.supportsModules(), Platform.describe());
        assertEquals(sunos, Platform.supportsFattach(), Platform.describe());
    }
}
