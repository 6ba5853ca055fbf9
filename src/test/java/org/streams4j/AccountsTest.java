package org.streams4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Names through the shim's getpwnam_r/getpwuid_r/getgrnam_r/getgrgid_r,
 * checked against {@code getent} (the same nsswitch databases, another
 * program) where the host has it, and against the ids every Unix has.
 */
class AccountsTest {
    @Test
    void rootIsUidAndGidZero() throws Exception {
        assertEquals(OptionalInt.of(0), Accounts.uid("root"));
        assertEquals(Optional.of("root"), Accounts.userName(0));
        String group0 = Accounts.groupName(0).orElseThrow();
        assertTrue(group0.equals("root") || group0.equals("wheel"), group0);
        assertEquals(OptionalInt.of(0), Accounts.gid(group0));
    }

    @Test
    void unknownNamesAndIdsAreEmpty() throws Exception {
        assertEquals(OptionalInt.empty(), Accounts.uid("no-such-user-4711"));
        assertEquals(OptionalInt.empty(), Accounts.gid("no-such-group-4711"));
        assertEquals(OptionalInt.empty(), Accounts.uid(""));
        assertEquals(OptionalInt.empty(), Accounts.uid("root\0x"));
        assertEquals(Optional.empty(), Accounts.userName(2_000_000_017));
        assertEquals(Optional.empty(), Accounts.groupName(2_000_000_017));
    }

    private static List<String[]> getent(String db) throws Exception {
        Process p;
        try {
            p = new ProcessBuilder("getent", db).redirectErrorStream(false).start();
        } catch (java.io.IOException e) {
            return List.of();   // no getent here (illumos has it, macOS does not)
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor(TestSupport.guard(Duration.ofSeconds(30)).toMillis(), TimeUnit.MILLISECONDS);
        List<String[]> rows = new ArrayList<>();
        for (String l : out.split("\n")) {
            String[] f = l.split(":", -1);
            if (f.length > 2 && f[2].matches("\\d{1,9}")) {
                rows.add(f);
            }
        }
        return rows;
    }

    @Test
    void everyEntryGetentListsIsFoundBothWays() throws Exception {
        for (String[] f : getent("passwd")) {
            int id = Integer.parseInt(f[2]);
            assertEquals(OptionalInt.of(id), Accounts.uid(f[0]), f[0]);
            assertTrue(Accounts.userName(id).isPresent(), "uid " + id);
        }
        for (String[] f : getent("group")) {
            int id = Integer.parseInt(f[2]);
            assertEquals(OptionalInt.of(id), Accounts.gid(f[0]), f[0]);
            assertTrue(Accounts.groupName(id).isPresent(), "gid " + id);
        }
    }
}
