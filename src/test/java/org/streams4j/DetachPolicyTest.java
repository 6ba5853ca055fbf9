package org.streams4j;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.streams4j.internal.FileStat;

/**
 * STREAMS detach is fdetach by name, so it refuses a name that another user
 * could rename or replace between its look and fdetach's lookup
 * (StreamsTransport.renamableByOthers); the rule is plain file metadata, so
 * it is checked here on real directories.
 */
class DetachPolicyTest {
    @TempDir
    Path dir;

    private static String why(Path d, Path entry) {
        return StreamsTransport.renamableByOthers(FileStat.ofPath(d.toString()), FileStat.ofPath(entry.toString()));
    }

    @Test
    void aDirectoryOnlyThisUserMayWriteIsSafe() throws Exception {
        Path d = Files.createDirectory(dir.resolve("mine"), PosixFilePermissions.asFileAttribute(
            PosixFilePermissions.fromString("rwxr-xr-x")));
        assertNull(why(d, Files.createFile(d.resolve("x"))));
    }

    @Test
    void aDirectoryOthersMayWriteWithoutTheStickyBitIsRefused() throws Exception {
        Path d = Files.createDirectory(dir.resolve("open"));
        Files.setPosixFilePermissions(d, PosixFilePermissions.fromString("rwxrwxrwx"));
        String why = why(d, Files.createFile(d.resolve("x")));
        assertNotNull(why);
        assertTrue(why.contains("not sticky"), why);
    }

    @Test
    void inAStickyDirectoryOnlyAnotherUsersEntryIsRefused() throws Exception {
        Path d = Files.createDirectory(dir.resolve("sticky"));
        Files.setAttribute(d, "unix:mode", 01777, LinkOption.NOFOLLOW_LINKS);
        Path mine = Files.createFile(d.resolve("mine"));
        assertNull(why(d, mine), "this user's entry in a sticky directory");
        Assumptions.assumeTrue(Platform.euid() == 0, "needs root to make a file of another user's");
        Path theirs = Files.createFile(d.resolve("theirs"));
        Files.setAttribute(theirs, "unix:uid", 4242, LinkOption.NOFOLLOW_LINKS);
        String why = why(d, theirs);
        assertNotNull(why);
        assertTrue(why.contains("4242"), why);
    }

    @Test
    void anotherUsersDirectoryIsRefused() throws Exception {
        Assumptions.assumeTrue(Platform.euid() == 0, "needs root to make a directory of another user's");
        Path d = Files.createDirectory(dir.resolve("theirs"));
        Path x = Files.createFile(d.resolve("x"));
        Files.setAttribute(d, "unix:uid", 4242, LinkOption.NOFOLLOW_LINKS);
        String why = why(d, x);
        assertNotNull(why);
        assertTrue(why.contains("4242"), why);
    }
}
