package org.streams4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;
import org.streams4j.testsupport.RequiresBackend;

/**
 * Everywhere but illumos/Solaris the portable AF_UNIX backend is live: STREAMS-only
 * operations must fail loudly, never do nothing.
 */
@RequiresBackend(Backend.PORTABLE)
class PortableBackendTest {
    @TempDir
    Path dir;

    @BeforeEach
    void portableBackendIsLive() {
        assertEquals(Backend.PORTABLE, Platform.backend(), Platform.describe());
        assertFalse(Platform.supportsModules());
        assertFalse(Platform.supportsFattach());
        assertFalse(Platform.hasZones());
    }

    private static UnsupportedPlatformException assertUnsupported(String op, String target, Executable call) {
        UnsupportedPlatformException e = assertThrows(UnsupportedPlatformException.class, call, op);
        assertInstanceOf(StreamsException.class, e);
        assertTrue(e.getMessage().contains("not supported on this platform"), e.getMessage());
        assertTrue(e.getMessage().startsWith(op + " " + target + ": "), e.getMessage());
        assertEquals(op, e.operation());
        assertEquals(target, e.target());
        return e;
    }

    @Test
    void moduleOperationsAreNotSupported() throws Exception {
        try (StreamPipe p = StreamPipe.open()) {
            StreamFd fd = p.second();
            assertUnsupported("push", fd.name(), () -> fd.push("connld"));
            assertUnsupported("pop", fd.name(), fd::pop);
            assertUnsupported("look", fd.name(), fd::look);
            assertUnsupported("find", fd.name(), () -> fd.find("connld"));
            assertUnsupported("list", fd.name(), fd::list);
            // Nothing happened to the pipe.
            p.first().writeFully(TestSupport.ascii("ok"));
            assertEquals("ok", TestSupport.readString(fd, 2));
        }
    }

    @Test
    void fattachAndFdetachAreNotSupported() throws Exception {
        Path path = dir.resolve("attach-here");
        Files.createFile(path);
        try (StreamPipe p = StreamPipe.open()) {
            assertUnsupported("fattach", path.toString(), () -> Streams.fattach(p.second(), path));
            assertUnsupported("fattach", path.toString(), () -> Streams.attach(p.second(), path));
            assertUnsupported("fdetach", path.toString(), () -> Streams.fdetach(path));
        }
        assertTrue(Files.isRegularFile(path), "the path is untouched");
    }

    @Test
    void nothingIsAStream() throws Exception {
        Path file = dir.resolve("plain");
        Files.writeString(file, "plain");
        try (StreamPipe p = StreamPipe.open(); StreamFd f = StreamFd.open(file, StreamFd.Mode.READ)) {
            assertFalse(p.first().isStream());
            assertFalse(p.second().isStream());
            assertFalse(f.isStream());
            assertEquals(FileType.SOCKET, p.first().fileType(), "the portable pipe is a socketpair");
        }
    }

    @Test
    void isAttachedIsFalseWithoutAListeningSocket() throws Exception {
        Path file = dir.resolve("plain");
        Files.writeString(file, "plain");
        assertFalse(Streams.isAttached(file));
        assertFalse(Streams.isAttached(dir.resolve("missing")));
        assertFalse(Streams.isAttached(file.resolve("below-a-file")));
        assertFalse(Streams.isAttached(dir));
    }

    @Test
    void peerCredentialsOfAPipeAreOurOwn() throws Exception {
        try (StreamPipe p = StreamPipe.open()) {
            PeerCredentials c = p.first().peerCredentials();
            assertEquals(Platform.euid(), c.uid());
            assertEquals(Platform.egid(), c.gid());
            assertTrue(c.zone().isEmpty(), "no zones here");
            if (OS.LINUX.isCurrentOs()) {
                assertEquals(ProcessHandle.current().pid(), c.pid().orElseThrow());
            }
        }
    }
}
