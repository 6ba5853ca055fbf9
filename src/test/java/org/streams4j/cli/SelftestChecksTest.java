package org.streams4j.cli;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.streams4j.Platform;

/**
 * {@code streamsctl selftest}'s checks, each run as a test of its own (as
 * junixsocket's selftest runs its real tests): a check that fails here fails
 * in the command too, and a SKIP is a skipped test.
 */
class SelftestChecksTest {
    /** What the command gives a check by default (--timeout 20s), with room for a slow machine. */
    private static final Duration GUARD = Duration.ofSeconds(60);

    @TestFactory
    Stream<DynamicTest> everyCheckOfTheSelftest() throws Exception {
        Assumptions.assumeTrue(Platform.isAvailable(), "no native library");
        // AF_UNIX paths are short: a directory under /tmp, removed when the last check ran.
        Path dir = Files.createTempDirectory(Path.of("/tmp"), "s4j-checks-");
        SelftestChecks checks = new SelftestChecks(dir, 8);
        Stream<DynamicTest> tests = checks.all().stream().map(c -> DynamicTest.dynamicTest(c.name(), () -> {
            String detail = assertTimeoutPreemptively(GUARD, () -> {
                try {
                    return c.check().run();
                } catch (SelftestChecks.Skip s) {
                    Assumptions.abort(s.getMessage());
                    return null;
                }
            }, c.name());
            assertNotNull(detail, c.name() + " said nothing of what it saw");
            assertFalse(detail.isBlank(), c.name() + " said nothing of what it saw");
        }));
        return tests.onClose(() -> SelftestCommand.deleteTree(dir));
    }
}
