package org.streams4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;

/**
 * Pseudo-terminals (issue 26) for real, on whichever backend the host has:
 * a command on the terminal sees it as its controlling terminal (tty, stty,
 * ^C, SIGWINCH), the settings reach it, the exit status comes back, and
 * nothing leaks. Each test waits for what the terminal shows, never for a
 * time.
 */
class PtyTest {
    private static final Duration GUARD = TestSupport.guard(Duration.ofSeconds(20));
    /** The condition of every test that starts a command: {@link #startsCommands()}. */
    static final String STARTS = "org.streams4j.PtyTest#startsCommands";
    private static Boolean starts;

    /**
     * Whether {@link Pty#start} runs commands here. On Linux it must (glibc
     * 2.26 and later have POSIX_SPAWN_SETSID): true without a look, so that a
     * failure there fails the tests. Elsewhere one start of {@code true} says:
     * an illumos libc without POSIX_SPAWN_SETSID, macOS and the BSDs throw
     * {@link UnsupportedPlatformException}, and the tests that start a
     * command are skipped; the pty's own tests still run.
     */
    static synchronized boolean startsCommands() throws Exception {
        if (starts == null) {
            if ("Linux".equals(System.getProperty("os.name"))) {
                starts = true;
            } else {
                try (Pty pty = Pty.open()) {
                    pty.start(List.of("true")).waitFor();
                    starts = true;
                } catch (UnsupportedPlatformException e) {
                    starts = false;
                }
            }
        }
        return starts;
    }

    /** What the terminal showed so far, read from the master until a text appears. */
    static final class Screen {
        private final Pty pty;
        private final StringBuilder seen = new StringBuilder();
        private final byte[] buf = new byte[4096];

        Screen(Pty pty) {
            this.pty = pty;
        }

        /** Reads until {@code text} has appeared after {@code from}; returns all seen. */
        String until(String text) throws StreamsException {
            long deadline = System.nanoTime() + GUARD.toNanos();
            while (seen.indexOf(text) < 0) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    fail("no \"" + text + "\" on " + pty.name() + " within " + GUARD + "; it showed: " + seen);
                }
                int n;
                try {
                    n = pty.master().read(buf, 0, buf.length, Duration.ofNanos(left));
                } catch (StreamTimeoutException e) {
                    continue;
                } catch (StreamsException e) {
                    if (e.errno() == Errno.EIO) {
                        fail("hang-up before \"" + text + "\"; it showed: " + seen);
                    }
                    throw e;
                }
                if (n < 0) {
                    fail("end before \"" + text + "\"; it showed: " + seen);
                }
                seen.append(new String(buf, 0, n, StandardCharsets.ISO_8859_1));
            }
            return seen.toString();
        }

        /** Everything until the hang-up, through the pty's input stream. */
        String toEnd() throws Exception {
            seen.append(new String(pty.inputStream().readAllBytes(), StandardCharsets.ISO_8859_1));
            return seen.toString();
        }

        void type(String s) throws StreamsException {
            pty.master().writeFully(s.getBytes(StandardCharsets.US_ASCII));
        }
    }

    private static int exit(TerminalProcess p) throws InterruptedException {
        assertTrue(p.waitFor(GUARD.toMillis(), TimeUnit.MILLISECONDS), "still running: " + p);
        return p.exitValue();
    }

    @Test
    @EnabledIf(STARTS)
    void ttyPrintsTheSubsidiarysName() throws Exception {
        try (Pty pty = Pty.open()) {
            assertTrue(pty.name().startsWith("/dev/pts/"), pty.name());
            TerminalProcess p = pty.start(List.of("tty"));
            String out = new Screen(pty).toEnd();
            assertEquals(pty.name() + "\r\n", out);
            assertEquals(0, exit(p));
        }
    }

    @Test
    @EnabledIf(STARTS)
    void sttySizePrintsWhatWasSet() throws Exception {
        try (Pty pty = Pty.open()) {
            pty.setWindowSize(new WindowSize(33, 101, 640, 480));
            assertEquals(new WindowSize(33, 101, 640, 480), pty.windowSize());
            TerminalProcess p = pty.start(List.of("stty", "size"));
            assertEquals("33 101\r\n", new Screen(pty).toEnd());
            assertEquals(0, exit(p));
        }
    }

    @Test
    @EnabledIf(STARTS)
    void aResizeReachesTheCommandAsSigwinch() throws Exception {
        try (Pty pty = Pty.open()) {
            pty.setWindowSize(WindowSize.of(24, 80));
            // wait, unlike sleep, returns as soon as a trapped signal comes (POSIX, wait).
            TerminalProcess p = pty.start(List.of("sh", "-c",
                "trap 'echo winch $(stty size)' WINCH; echo ready; while :; do sleep 5 & wait $!; done"));
            Screen s = new Screen(pty);
            s.until("ready");
            pty.setWindowSize(WindowSize.of(50, 132));
            s.until("winch 50 132");
            assertTrue(p.isAlive());
        }
    }

    @Test
    @EnabledIf(STARTS)
    void sttyMinusEchoStopsTheEcho() throws Exception {
        try (Pty pty = Pty.open()) {
            assertTrue(pty.modes().contains(TerminalMode.ECHO), "a new terminal echoes: " + pty.modes());
            pty.start(List.of("sh"));
            Screen s = new Screen(pty);
            s.type("stty -echo; echo $((40 + 2))x\n");
            s.until("42x");
            assertFalse(pty.modes().contains(TerminalMode.ECHO), "stty -echo, seen from the master");
            s.type("echo $((50 + 5))y\n");
            String out = s.until("55y");
            assertFalse(out.contains("echo $((50 + 5))y"), "the line was echoed after stty -echo: " + out);
            assertTrue(out.contains("echo $((40 + 2))x"), "the line before was echoed: " + out);
        }
    }

    @Test
    @EnabledIf(STARTS)
    void readGetsALineAndEchoOffFromJavaStopsItsEcho() throws Exception {
        try (Pty pty = Pty.open()) {
            TerminalProcess p = pty.start(List.of("sh", "-c", "read a; echo \"got:$a\"; read b; echo \"got:$b\""));
            Screen s = new Screen(pty);
            s.type("hello\n");
            assertEquals("hello\r\ngot:hello\r\n", s.until("got:hello\r\n"));
            pty.setEcho(false);
            s.type("quiet\n");
            assertEquals("hello\r\ngot:hello\r\ngot:quiet\r\n", s.toEnd());
            assertEquals(0, exit(p));
        }
    }

    @Test
    @EnabledIf(STARTS)
    void rawModeTurnsEveryModeOffAndInputArrivesAsTyped() throws Exception {
        try (Pty pty = Pty.open()) {
            pty.makeRaw();
            assertEquals(EnumSet.noneOf(TerminalMode.class), pty.modes());
            pty.setModes(EnumSet.of(TerminalMode.SIGNALS));
            assertEquals(EnumSet.of(TerminalMode.SIGNALS), pty.modes());
            pty.makeRaw();
            // Raw: no line editing, no CR to NL: dd gets the three bytes as they are.
            TerminalProcess p = pty.start(List.of("sh", "-c", "dd bs=1 count=3 2>/dev/null | od -An -c"));
            Screen s = new Screen(pty);
            s.type("a\rb");
            String out = s.toEnd();
            assertTrue(out.replace(" ", "").contains("a\\rb"), "raw input: " + out);
            assertEquals(0, exit(p));
        }
    }

    /**
     * Leaving canonical mode without raw mode gives reads of one byte, and
     * coming back to it from raw mode ends input at ^D again. On illumos MIN
     * and TIME share the slots of EOF and EOL (sys/termios.h: VMIN and VEOF
     * 4, VTIME and VEOL 5), which the shim rewrites at each switch
     * (s4j_tty_set_modes); without that the first read would wait for 4
     * bytes and ^D would be text.
     */
    @Test
    @EnabledIf(STARTS)
    void switchingCanonicalModeKeepsOneByteReadsAndTheEndOfInputKey() throws Exception {
        try (Pty pty = Pty.open()) {
            pty.setModes(EnumSet.of(TerminalMode.SIGNALS, TerminalMode.OUTPUT_PROCESSING));
            TerminalProcess p = pty.start(List.of("sh", "-c",
                "echo ready; dd bs=1 count=1 2>/dev/null | od -An -c; echo done"));
            Screen s = new Screen(pty);
            s.until("ready");
            s.type("x");
            assertTrue(s.until("done").contains("x"), "the byte typed");
            assertEquals(0, exit(p));
        }
        try (Pty pty = Pty.open()) {
            pty.makeRaw();
            pty.setModes(EnumSet.allOf(TerminalMode.class));
            TerminalProcess p = pty.start(List.of("sh", "-c", "echo ready; cat >/dev/null; echo done"));
            Screen s = new Screen(pty);
            s.until("ready");
            s.type("line\n\u0004");     // ^D on an empty line ends cat's input
            s.until("done");
            assertEquals(0, exit(p));
        }
    }

    @Test
    @EnabledIf(STARTS)
    void theExitStatusComesBackAndASignalEndsTheCommand() throws Exception {
        try (Pty pty = Pty.open()) {
            TerminalProcess p = pty.start(List.of("sh", "-c", "exit 7"));
            assertEquals(7, exit(p));
            assertThrows(IllegalStateException.class, () -> pty.start(List.of("true")), "one command per pty");
        }
        try (Pty pty = Pty.open()) {
            TerminalProcess p = pty.start(List.of("sh", "-c", "echo ready; sleep 100"));
            assertThrows(IllegalThreadStateException.class, p::exitValue);
            new Screen(pty).until("ready");
            assertTrue(p.signal(Signal.TERM));
            assertEquals(128 + 15, exit(p), "SIGTERM, as a shell reports it");
            assertFalse(p.signal(Signal.TERM), "nothing is sent once it is reaped");
            assertFalse(p.isAlive());
            assertTrue(p.onExit().isDone());
        }
    }

    @Test
    @EnabledIf(STARTS)
    void controlCInterruptsTheForegroundGroup() throws Exception {
        try (Pty pty = Pty.open()) {
            TerminalProcess p = pty.start(List.of("sh", "-c", "echo ready; exec sleep 100"));
            Screen s = new Screen(pty);
            s.until("ready");
            // The terminal is the session's controlling one: ^C typed sends SIGINT to its foreground group.
            s.type("\u0003");
            assertEquals(128 + 2, exit(p));
        }
    }

    @Test
    @EnabledIf(STARTS)
    void theCommandGetsOnlyTheTerminal() throws Exception {
        try (Pty pty = Pty.open()) {
            // No exec after "ready": an exec's loader opens its libraries (fd 3) for an instant,
            // which a look at /proc could catch. The shell is the command, waiting in read.
            TerminalProcess p = pty.start(List.of("sh", "-c", "echo ready; read line"));
            new Screen(pty).until("ready");
            Path fds = Path.of("/proc/" + p.pid() + "/fd");
            Assumptions.assumeTrue(Files.isDirectory(fds), "no /proc here to look at its descriptors");
            // What each is: the fd link on Linux, /proc/PID/path/N on illumos.
            Path links = Files.isSymbolicLink(fds.resolve("0")) ? fds : Path.of("/proc/" + p.pid() + "/path");
            java.util.Map<String, String> got = new java.util.TreeMap<>();
            try (java.util.stream.Stream<Path> l = Files.list(fds)) {
                for (Path f : (Iterable<Path>) l::iterator) {
                    String n = f.getFileName().toString();
                    got.put(n, Files.readSymbolicLink(links.resolve(n)).toString());
                }
            }
            String dev = Files.readSymbolicLink(links.resolve("0")).toString();
            assertTrue(dev.equals(pty.name()) || Path.of(pty.name()).toRealPath().toString().equals(dev),
                "stdin is the terminal: " + dev);
            assertEquals(java.util.Map.of("0", dev, "1", dev, "2", dev), got,
                "the terminal as stdin, stdout and stderr, and nothing else");
            Process ps = new ProcessBuilder("ps", "-o", "sid=", "-o", "pgid=", "-p", Long.toString(p.pid()))
                .redirectErrorStream(true).start();
            String ids = new String(ps.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).trim();
            assertTrue(ps.waitFor(GUARD.toMillis(), TimeUnit.MILLISECONDS));
            assertEquals(List.of(Long.toString(p.pid()), Long.toString(p.pid())), List.of(ids.split("\\s+")),
                "its own session and process group (ps: sid, pgid): " + ids);
            assertTrue(p.signal(Signal.KILL));
            assertEquals(128 + 9, exit(p));
        }
    }

    @Test
    @EnabledIf(STARTS)
    void closingEndsACommandThatIgnoresTheHangUp() throws Exception {
        TerminalProcess p;
        try (Pty pty = Pty.open()) {
            p = pty.start(List.of("sh", "-c", "trap '' HUP; echo ready; while :; do sleep 5; done"));
            new Screen(pty).until("ready");
        }
        assertFalse(p.isAlive(), "close returns once the command is reaped");
        assertEquals(128 + 9, p.exitValue(), "SIGKILL after the grace");
        TerminalProcess q;
        try (Pty pty = Pty.open()) {
            q = pty.start(List.of("sh", "-c", "echo ready; sleep 100"));
            new Screen(pty).until("ready");
        }
        assertEquals(128 + 1, q.exitValue(), "the hang-up's SIGHUP ended it");
    }

    @Test
    @EnabledIf(STARTS)
    void theMastersEndAfterTheCommandIsItsLastOutputThenEio() throws Exception {
        try (Pty pty = Pty.open()) {
            TerminalProcess p = pty.start(List.of("sh", "-c", "printf last"));
            assertEquals(0, exit(p));
            assertEquals("last", new Screen(pty).toEnd());
            assertEquals(-1, pty.inputStream().read(), "the end stays");
        }
    }

    @Test
    @EnabledIf(STARTS)
    void badInputIsRefusedWithClearErrors() throws Exception {
        try (Pty pty = Pty.open()) {
            NoSuchFileException e = assertThrows(NoSuchFileException.class,
                () -> pty.start(List.of("no-such-command-s4j")));
            assertTrue(e.getMessage().contains("no-such-command-s4j"), e.getMessage());
            assertThrows(NoSuchFileException.class, () -> pty.start(List.of("/nonexistent/cmd")));
            assertThrows(IllegalArgumentException.class, () -> pty.start(List.of()));
            assertThrows(IllegalArgumentException.class, () -> WindowSize.of(-1, 80));
            assertThrows(IllegalArgumentException.class, () -> WindowSize.of(24, 65536));
            assertTrue(pty.subsidiary().isOpen(), "held until a command runs");
            pty.start(List.of("true"));
            assertThrows(IllegalStateException.class, pty::subsidiary);
        }
        Pty closed = Pty.open();
        closed.close();
        closed.close();
        assertThrows(IllegalStateException.class, () -> closed.start(List.of("true")));
        StreamClosedException c = assertThrows(StreamClosedException.class, closed::windowSize);
        assertTrue(c.getMessage().contains("TIOCGWINSZ"), c.getMessage());
    }

    @Test
    @EnabledIf(STARTS)
    void noDescriptorLeaksOverAThousandPtys() throws Exception {
        TestSupport.Descriptors before = TestSupport.Descriptors.now();
        for (int i = 0; i < 1000; i++) {
            try (Pty pty = Pty.open()) {
                pty.setWindowSize(WindowSize.of(24, 80));
            }
        }
        for (int i = 0; i < 20; i++) {
            try (Pty pty = Pty.open()) {
                assertEquals(0, exit(pty.start(List.of("true"))));
            }
        }
        TestSupport.assertClosedSince(before, GUARD, Path.of("/dev/pts"), Path.of("/dev/ptmx"));
    }
}
