package org.streams4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.streams4j.testsupport.RequiresBackend;

/**
 * Paths no server or client can use: empty, with a NUL, longer than the
 * platform allows. Each is one clear error naming the operation, the path
 * and the errno; nothing is created and no descriptor is left open.
 */
class PathInputTest {
    private static final Duration GUARD = TestSupport.guard(Duration.ofSeconds(10));

    @TempDir
    Path dir;

    @Test
    void anEmptyPathIsRefusedByBindAndConnect() throws Exception {
        assertThrows(StreamsException.class, () -> ConnldClient.connect(Path.of("")));     // classes loaded
        TestSupport.Descriptors before = TestSupport.Descriptors.now();
        StreamsException b = assertThrows(StreamsException.class, () -> ConnldServer.bind(Path.of("")));
        assertEquals("bind: EINVAL (an empty path)", b.getMessage());
        for (Duration t : new Duration[] {null, GUARD}) {
            StreamsException c = assertThrows(StreamsException.class, () -> {
                if (t == null) {
                    ConnldClient.connect(Path.of(""));
                } else {
                    ConnldClient.connect(Path.of(""), t);
                }
            });
            assertEquals("connect: EINVAL (an empty path)", c.getMessage());
            assertEquals("connect", c.operation());
            assertEquals("", c.target());
        }
        TestSupport.assertClosedSince(before, GUARD, dir);
    }

    @Test
    void aNulNeverReachesTheKernelCutShort() throws Exception {
        // java.nio refuses a NUL in a Path on every Unix...
        assertThrows(InvalidPathException.class, () -> Path.of(dir + "/a\0b"));
        // ...and the layer under the public API refuses it too, so a name that C
        // would cut short at the NUL (here: the directory itself) is never used.
        StreamsException e = assertThrows(StreamsException.class, () -> Transport.Place.of(dir + "\0evil"));
        assertEquals("bind", e.operation());
        assertEquals("EINVAL", e.errnoName());
        assertTrue(e.getMessage().endsWith("(a NUL in the path)"), e.getMessage());
        assertTrue(e.getMessage().contains("\\0evil"), "the NUL is shown, not printed: " + e.getMessage());
        StreamsException c = assertThrows(StreamsException.class, () -> Transport.checkPath("connect", "x\0y"));
        assertEquals("connect x\\0y: EINVAL (a NUL in the path)", c.getMessage());
    }

    /** Portable: AF_UNIX's sun_path (108 bytes on Linux, 104 on the BSDs and macOS) is the limit, and is named. */
    @Test
    @RequiresBackend(Backend.PORTABLE)
    void aSocketPathLongerThanSunPathNamesTheLimit() throws Exception {
        int limit = System.getProperty("os.name").equals("Linux") ? 108 : 104;
        Path sub = dir;
        while (sub.toString().length() < limit + 20) {
            sub = sub.resolve("d123456789");
        }
        Files.createDirectories(sub);
        Path p = sub.resolve("s");
        TestSupport.Descriptors before = TestSupport.Descriptors.now();
        StreamsException b = assertThrows(StreamsException.class, () -> ConnldServer.bind(p));
        assertEquals("bind " + p + ": ENAMETOOLONG (an AF_UNIX socket path must be shorter than " + limit
            + " bytes)", b.getMessage());
        assertFalse(Files.exists(p, LinkOption.NOFOLLOW_LINKS), "nothing left at the path");
        StreamsException c = assertThrows(StreamsException.class, () -> ConnldClient.connect(p));
        assertEquals("connect " + p + ": ENAMETOOLONG (an AF_UNIX socket path must be shorter than " + limit
            + " bytes)", c.getMessage());
        StreamsException ct = assertThrows(StreamsException.class, () -> ConnldClient.connect(p, GUARD));
        assertEquals(c.getMessage(), ct.getMessage());
        TestSupport.assertClosedSince(before, GUARD, dir);
        // One byte under the limit binds and serves.
        Path fits = dir;
        while (fits.toString().length() < limit - 12) {
            fits = fits.resolve("x");
        }
        Files.createDirectories(fits);
        Path ok = fits.resolve("s".repeat(limit - 2 - fits.toString().length()));
        assertEquals(limit - 1, ok.toString().length());
        try (ConnldServer s = ConnldServer.bind(ok); Connection conn = ConnldClient.connect(ok, GUARD)) {
            assertTrue(conn.isOpen());
        }
    }

    /** A name longer than NAME_MAX or a path longer than PATH_MAX: ENAMETOOLONG from the kernel, both backends. */
    @Test
    void aPathLongerThanTheFileSystemAllowsIsENAMETOOLONG() throws Exception {
        Path longName = dir.resolve("n".repeat(300));
        assertThrows(StreamsException.class, () -> ConnldServer.bind(longName));     // classes loaded
        TestSupport.Descriptors before = TestSupport.Descriptors.now();
        for (Path p : new Path[] {longName, Path.of("/" + "p/".repeat(3000) + "x")}) {
            StreamsException b = assertThrows(StreamsException.class, () -> ConnldServer.bind(p));
            assertEquals("ENAMETOOLONG", b.errnoName(), b.getMessage());
            assertTrue(b.getMessage().startsWith("bind " + p + ": ENAMETOOLONG"), b.getMessage());
            StreamsException c = assertThrows(StreamsException.class, () -> ConnldClient.connect(p, GUARD));
            assertEquals("ENAMETOOLONG", c.errnoName(), c.getMessage());
            assertTrue(c.getMessage().startsWith("connect " + p + ": ENAMETOOLONG"), c.getMessage());
        }
        TestSupport.assertClosedSince(before, GUARD, dir);
    }

    /** STREAMS: an attach point's path has no sun_path limit: a path of 200 bytes serves. */
    @Test
    @RequiresBackend(Backend.STREAMS)
    void aStreamsAttachPointHasNoSocketPathLimit() throws Exception {
        Path sub = dir;
        while (sub.toString().length() < 200) {
            sub = sub.resolve("d123456789");
        }
        Files.createDirectories(sub);
        Path p = sub.resolve("s");
        try (ConnldServer s = ConnldServer.bind(p)) {
            ConnldServer.Handler h = org.streams4j.testsupport.ConnldEchoServerMain::echo;
            try (var serving = org.streams4j.testsupport.ConnldEchoServerMain.serveInBackground(s, h);
                 Connection c = ConnldClient.connect(p, GUARD)) {
                org.streams4j.testsupport.ConnldEchoServerMain.writeLine(c, "long");
                assertEquals("long", org.streams4j.testsupport.ConnldEchoServerMain.readLine(c));
            }
        }
    }
}
