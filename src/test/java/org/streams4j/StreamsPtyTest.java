package org.streams4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;
import org.streams4j.testsupport.RequiresBackend;

/**
 * What only illumos' ptys do (ILLUMOS-NOTES, "Pseudo-terminals"): the
 * subsidiary is a STREAMS device that streams4j makes a terminal by pushing
 * ptem, ldterm and ttcompat, once; termios is the subsidiary's; the master
 * sees the command's end as one end of stream. The rest runs in
 * {@link PtyTest} on both backends.
 */
@RequiresBackend(Backend.STREAMS)
class StreamsPtyTest {
    private static final Duration GUARD = TestSupport.guard(Duration.ofSeconds(20));

    @Test
    void theSubsidiarysStackIsTheTerminalModulesTopFirst() throws Exception {
        try (Pty pty = Pty.open()) {
            assertEquals(List.of("ttcompat", "ldterm", "ptem", "pts"), pty.subsidiary().list(),
                "I_LIST, topmost first, the driver last");
            assertTrue(pty.subsidiary().isStream());
            assertTrue(pty.master().isStream());
        }
    }

    @Test
    void modulesThereAlreadyAreNotPushedTwice() throws Exception {
        try (Pty pty = Pty.open()) {
            // What an autopushed stack looks like to open(): ldterm is found, nothing is pushed.
            assertFalse(Pty.pushModules(pty.subsidiary()));
            try (StreamFd again = StreamFd.open(Path.of(pty.name()), StreamFd.Mode.READ_WRITE)) {
                assertFalse(Pty.pushModules(again), "a second open sees the same stream");
                assertEquals(List.of("ttcompat", "ldterm", "ptem", "pts"), again.list());
            }
            assertEquals(List.of("ttcompat", "ldterm", "ptem", "pts"), pty.subsidiary().list());
        }
    }

    @Test
    @EnabledIf(PtyTest.STARTS)
    void termiosIsTheSubsidiarysAlsoOnceACommandHoldsIt() throws Exception {
        try (Pty pty = Pty.open()) {
            assertTrue(pty.modes().contains(TerminalMode.ECHO), "ldterm's default: " + pty.modes());
            TerminalProcess p = pty.start(List.of("sh", "-c", "stty -echo; echo done; exec sleep 100"));
            new PtyTest.Screen(pty).until("done");
            assertFalse(pty.modes().contains(TerminalMode.ECHO), "read through the subsidiary opened again");
            pty.setEcho(true);
            assertTrue(pty.modes().contains(TerminalMode.ECHO));
            assertTrue(p.isAlive(), "the subsidiary opened for the call was not the stream's last");
        }
    }

    @Test
    @EnabledIf(PtyTest.STARTS)
    void theCommandsEndIsOneEndOfStreamAtTheMaster() throws Exception {
        try (Pty pty = Pty.open()) {
            TerminalProcess p = pty.start(List.of("sh", "-c", "printf last"));
            assertTrue(p.waitFor(GUARD.toMillis(), TimeUnit.MILLISECONDS));
            byte[] b = new byte[16];
            int n = pty.master().read(b, 0, b.length, GUARD);
            assertEquals("last", new String(b, 0, n, java.nio.charset.StandardCharsets.US_ASCII));
            java.io.InputStream in = pty.inputStream();
            assertEquals(-1, in.read(b), "ptsclose's zero-length message");
            assertEquals(-1, in.read(b), "and the end stays, where a read of the master would block");
        }
    }
}
