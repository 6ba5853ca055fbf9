package org.streams4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.EnumSet;
import java.util.OptionalInt;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * ConnldOptions' mode (int and PosixFilePermission set), its allow lists with
 * supplementary groups, and nonsense values refused where they are set.
 */
class ConnldOptionsTest {
    @TempDir
    Path dir;

    @Test
    void aDecimalModeIsRefusedNamingWhatItWouldHaveBeen() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
            () -> ConnldOptions.builder().mode(600));
        assertTrue(e.getMessage().contains("01130") && e.getMessage().contains("0777"), e.getMessage());
        for (int bad : new int[] {01000, 02600, 04600, 07777, -1, 01777}) {
            assertThrows(IllegalArgumentException.class, () -> ConnldOptions.builder().mode(bad),
                Integer.toOctalString(bad));
        }
        assertEquals(0777, ConnldOptions.builder().mode(0777).build().mode());
        assertEquals(0, ConnldOptions.builder().mode(0).build().mode());
    }

    @Test
    void everyPosixPermissionMapsToItsBit() {
        int[] bits = {0400, 0200, 0100, 040, 020, 010, 04, 02, 01};
        PosixFilePermission[] all = PosixFilePermission.values();
        assertEquals(bits.length, all.length);
        for (int i = 0; i < all.length; i++) {
            assertEquals(bits[i], ConnldOptions.builder().mode(EnumSet.of(all[i])).build().mode(), all[i].name());
        }
        assertEquals(0640, ConnldOptions.builder()
            .mode(PosixFilePermissions.fromString("rw-r-----")).build().mode());
        assertEquals(0, ConnldOptions.builder().mode(Set.of()).build().mode());
    }

    @Test
    void theAttachPointGetsThePermissionSetItWasGiven() throws Exception {
        Set<PosixFilePermission> perms = PosixFilePermissions.fromString("rw-rw----");
        Path p = dir.resolve("perm-set");
        try (ConnldServer s = ConnldServer.bind(p, ConnldOptions.builder().mode(perms).build())) {
            assertEquals(0660, s.options().mode());
            assertEquals(perms, Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS));
        }
    }

    @Test
    void anAllowedSupplementaryGroupAdmitsAClient() {
        ConnldOptions o = ConnldOptions.builder().allowGids(Set.of(4343)).build();
        PeerCredentials member = new PeerCredentials(1000, 1000, OptionalInt.of(77), OptionalInt.empty(),
            Set.of(24, 4343));
        PeerCredentials primary = new PeerCredentials(1000, 4343, -1, -1);
        PeerCredentials outsider = new PeerCredentials(1000, 1000, OptionalInt.empty(), OptionalInt.empty(),
            Set.of(24, 27));
        assertTrue(o.allows(member));
        assertTrue(o.allows(primary));
        assertFalse(o.allows(outsider));
        assertTrue(member.inGroup(4343) && primary.inGroup(4343) && !outsider.inGroup(4343));
        // the uid list still has its say
        ConnldOptions both = ConnldOptions.builder().allowGids(Set.of(4343)).allowUids(Set.of(0)).build();
        assertFalse(both.allows(member));
    }

    @Test
    void peerCredentialsIsAValue() {
        PeerCredentials a = new PeerCredentials(5, 6, OptionalInt.of(7), OptionalInt.empty(), Set.of(9, 8));
        PeerCredentials b = new PeerCredentials(5, 6, 7, -1).withGroups(Set.of(8, 9));
        assertEquals(a, b);
        assertEquals(a.hashCode(), b.hashCode());
        assertEquals("uid=5 gid=6 pid=7 groups=8,9", a.toString());
        assertEquals("uid=5 gid=6 zone=0", new PeerCredentials(5, 6, -1, 0).toString());
        assertThrows(UnsupportedOperationException.class, () -> a.groups().add(1));
    }

    // ---- issue 13 item 10: nonsense options fail where they are set, with a message that names them

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

    @Test
    void idleTimeoutMustBePositiveOrNone() {
        assertThrows(IllegalArgumentException.class, () -> ConnldOptions.builder().idleTimeout(Duration.ZERO));
        assertThrows(IllegalArgumentException.class, () -> ConnldOptions.builder().idleTimeout(Duration.ofSeconds(-1)));
        assertNull(ConnldOptions.builder().idleTimeout(null).build().idleTimeout());
        assertNull(ConnldOptions.defaults().idleTimeout());
        assertEquals(Duration.ofMinutes(5), ConnldOptions.builder().idleTimeout(Duration.ofMinutes(5)).build().idleTimeout());
    }

    @Test
    void optionsRefuseZeroLoopsAndZeroConnections() {
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(
            IllegalArgumentException.class, () -> ConnldOptions.builder().loops(0));
        assertNotNull(e.getMessage());
        org.junit.jupiter.api.Assertions.assertThrows(
            IllegalArgumentException.class, () -> ConnldOptions.builder().maxConnections(0));
    }
}
