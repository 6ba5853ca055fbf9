package org.streams4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** errno names come from the platform's own errno.h; messages name operation, target and errno. */
class ErrorsTest {
    @TempDir
    Path dir;

    @Test
    void errnoNamesRoundTrip() {
        assertEquals("EBUSY", Errno.name(Errno.EBUSY));
        assertEquals(Errno.EBUSY, Errno.value("EBUSY"));
        assertEquals(-1, Errno.value("ENOSUCHERRNO"));
        assertEquals("errno 0", Errno.name(0));
        assertEquals("errno 100000", Errno.name(100_000));
        String[] names = {"EPERM", "ENOENT", "EINTR", "ENXIO", "EBADF", "EAGAIN", "EACCES", "EBUSY",
            "EEXIST", "ENOTDIR", "EINVAL", "ENFILE", "EMFILE", "EPIPE", "ENAMETOOLONG", "ELOOP",
            "ENOSTR", "EBADMSG", "ENOTSOCK", "EOPNOTSUPP", "EADDRINUSE", "ECONNRESET", "ENOTCONN",
            "ETIMEDOUT", "ECONNREFUSED", "ECONNABORTED",
            // illumos: what port_associate and port_getn give a number that is no port (81 there, 77 on Linux)
            "EBADFD"};
        for (String n : names) {
            int v = Errno.value(n);
            assertTrue(v > 0, n + " has a number on this platform");
            assertEquals(n, Errno.name(v));
        }
        assertNotEquals(Errno.EPIPE, Errno.ENXIO);
    }

    @Test
    void errnoMessagesAreThePlatformsInLowerCase() {
        String m = Errno.message(Errno.ENOENT);
        assertFalse(m.isEmpty());
        assertTrue(m.toLowerCase(java.util.Locale.ROOT).contains("no such file"), m);
        assertFalse(Character.isUpperCase(m.charAt(0)), m);
    }

    @Test
    void messageFormat() {
        StreamsException e = new StreamsException("fattach", "/run/x", Errno.EBUSY);
        assertEquals("fattach /run/x: EBUSY (already attached)", e.getMessage());
        assertEquals("fattach", e.operation());
        assertEquals("/run/x", e.target());
        assertEquals(Errno.EBUSY, e.errno());
        assertEquals("EBUSY", e.errnoName());

        assertEquals("write fd 7: EPIPE (the other end is closed)",
            new StreamsException("write", StreamsException.fd(7), Errno.EPIPE).getMessage());
        assertEquals("push fd 3: ENXIO (hang-up, or connld already pushed)",
            new StreamsException("push", "fd 3", Errno.ENXIO).getMessage());
        assertEquals("pipe: EMFILE (" + Errno.message(Errno.EMFILE) + ")",
            new StreamsException("pipe", "", Errno.EMFILE).getMessage());
        assertEquals("fdetach /x: EINVAL (nothing is attached there)",
            new StreamsException("fdetach", "/x", Errno.EINVAL).getMessage());
        assertEquals("open /x: ENOENT (custom)",
            new StreamsException("open", "/x", Errno.ENOENT, "custom").getMessage());

        StreamsException plain = new StreamsException("connect", "/srv/x", "no server attached at /srv/x");
        assertEquals("connect /srv/x: no server attached at /srv/x", plain.getMessage());
        assertEquals(0, plain.errno());
        assertNull(plain.errnoName());

        assertEquals("read fd 9: EBADF (closed)", new StreamClosedException("read", "fd 9").getMessage());
    }

    @Test
    void openFailureNamesThePath() {
        Path missing = dir.resolve("missing");
        StreamsException e = assertThrows(StreamsException.class,
            () -> StreamFd.open(missing, StreamFd.Mode.READ));
        assertEquals("ENOENT", e.errnoName());
        assertEquals("open " + missing + ": ENOENT (" + Errno.message(Errno.ENOENT) + ")", e.getMessage());
    }

    @Test
    void adoptRejectsNegativeNumbers() {
        assertThrows(IllegalArgumentException.class, () -> StreamFd.adopt(-1));
    }

    /** Checked before anything else, on every platform: FMNAMESZ is 8. */
    @ParameterizedTest
    @ValueSource(strings = {"ninechars", "averyverylongmodule", "", "bad\0nul", "caf\u00e9"})
    void badModuleNamesAreNamedInTheError(String module) throws Exception {
        try (StreamPipe p = StreamPipe.open()) {
            StreamsException push = assertThrows(StreamsException.class, () -> p.first().push(module));
            assertEquals("EINVAL", push.errnoName());
            assertEquals("push", push.operation());
            assertTrue(push.getMessage().contains("\"" + module + "\""), push.getMessage());
            assertTrue(push.getMessage().startsWith("push " + p.first().name() + ": EINVAL"), push.getMessage());
            StreamsException find = assertThrows(StreamsException.class, () -> p.first().find(module));
            assertEquals("EINVAL", find.errnoName());
            assertTrue(find.getMessage().contains("\"" + module + "\""), find.getMessage());
        }
    }

    @Test
    void nullModuleNameIsAnError() throws Exception {
        try (StreamPipe p = StreamPipe.open()) {
            StreamsException e = assertThrows(StreamsException.class, () -> p.first().push(null));
            assertEquals("EINVAL", e.errnoName());
        }
    }

    /** A failure can be switched on (issue 23, item 6): the enum maps to this platform's numbers and back. */
    @Test
    void aFailureCanBeSwitchedOnItsCode() throws Exception {
        for (Errno.Code c : Errno.Code.values()) {
            if (c != Errno.Code.OTHER && c.value() > 0) {
                org.junit.jupiter.api.Assertions.assertEquals(c, Errno.Code.of(c.value()), c.name());
                org.junit.jupiter.api.Assertions.assertEquals(c.name(), Errno.name(c.value()));
            }
        }
        org.junit.jupiter.api.Assertions.assertEquals(Errno.Code.OTHER, Errno.Code.of(0));
        org.junit.jupiter.api.Assertions.assertEquals(-1, Errno.Code.OTHER.value());
        StreamsException e = org.junit.jupiter.api.Assertions.assertThrows(StreamsException.class,
            () -> StreamFd.open(dir.resolve("missing"), StreamFd.Mode.READ).close());
        String what;
        switch (e.code()) {
            case ENOENT:
                what = "no such file";
                break;
            case EACCES:
                what = "not allowed";
                break;
            default:
                what = "other: " + e.errnoName();
                break;
        }
        org.junit.jupiter.api.Assertions.assertEquals("no such file", what);
    }
}
