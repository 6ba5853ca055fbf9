package org.streams4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.streams4j.testsupport.Async;
import org.streams4j.testsupport.RequiresBackend;

/**
 * STREAMS: the server's getpeerucred on a connld pipe carries the client's
 * supplementary groups (ucred_getgroups; cred2ucred copies the opener's
 * cr_groups), and allowGids admits the client for one of them.
 */
@RequiresBackend(Backend.STREAMS)
class StreamsGroupsTest {
    @TempDir
    Path dir;

    /** {@code id -G}: the effective gid and the supplementary groups of this process. */
    private static Set<Integer> idG() throws Exception {
        Process p = new ProcessBuilder("/usr/bin/id", "-G").start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).trim();
        assertTrue(p.waitFor(TestSupport.guard(Duration.ofSeconds(30)).toMillis(), TimeUnit.MILLISECONDS));
        return Arrays.stream(out.split("\\s+")).map(Integer::valueOf).collect(Collectors.toSet());
    }

    @Test
    void aConnldServerSeesTheClientsSupplementaryGroups() throws Exception {
        Set<Integer> mine = idG();
        Path p = dir.resolve("groups");
        try (ConnldServer s = ConnldServer.bind(p)) {
            CompletableFuture<Connection> client = CompletableFuture.supplyAsync(() -> {
                try {
                    return ConnldClient.connect(p);
                } catch (StreamsException e) {
                    throw new IllegalStateException(e);
                }
            }, Async.EACH);
            try (Connection c = s.accept(TestSupport.guard(Duration.ofSeconds(10))).orElseThrow();
                 Connection other = client.get(TestSupport.guard(Duration.ofSeconds(10)).toMillis(), TimeUnit.MILLISECONDS)) {
                Set<Integer> seen = c.peer().groups();
                Set<Integer> expected = new HashSet<>(seen);
                expected.add(Platform.egid());
                assertEquals(mine, expected, "id -G versus the egid and ucred_getgroups: " + c.peer());
                assertTrue(other.isOpen());
            }
        }
    }
}
