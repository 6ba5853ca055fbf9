package org.streams4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.time.Duration;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;
import org.streams4j.testsupport.ConnldClientMain;
import org.streams4j.testsupport.ConnldEchoServerMain;
import org.streams4j.testsupport.ConnldEchoServerMain.Serving;

/**
 * Supplementary groups in PeerCredentials (SO_PEERGROUPS on Linux) and an
 * allow list admitting a client for a group it is only a supplementary
 * member of: real client processes started under {@code setpriv --groups}.
 */
@EnabledOnOs(OS.LINUX)
@SuppressWarnings("try") // a serving server is a resource its try block need not name
class SupplementaryGroupsTest {
    private static final Path SETPRIV = Path.of("/usr/bin/setpriv");

    @TempDir
    Path dir;

    /** The supplementary groups of this process, from /proc/self/status. */
    private static Set<Integer> ownGroups() throws IOException {
        for (String l : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (l.startsWith("Groups:")) {
                String v = l.substring("Groups:".length()).trim();
                return v.isEmpty() ? Set.of()
                    : Arrays.stream(v.split("\\s+")).map(Integer::valueOf).collect(Collectors.toSet());
            }
        }
        throw new AssertionError("no Groups: line in /proc/self/status");
    }

    @Test
    void thePeerOfASocketpairHasThisProcesssGroups() throws Exception {
        try (StreamPipe p = StreamPipe.open()) {
            PeerCredentials c = p.first().peerCredentials();
            assertEquals(Platform.euid(), c.uid());
            assertEquals(ownGroups(), c.groups());
        }
    }

    private static void assumeSetpriv() {
        assumeTrue(Platform.euid() == 0 && Files.isExecutable(SETPRIV),
            "needs root and setpriv(1) to start a client with other supplementary groups");
    }

    /** {@code setpriv --groups G java -cp CP ConnldClientMain path token}; returns its exit status. */
    private static int client(String groups, Path path, String token) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(SETPRIV.toString(), "--groups", groups,
            Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
            "-cp", System.getProperty("java.class.path"),
            ConnldClientMain.class.getName(), path.toString(), token));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(TestSupport.guard(Duration.ofSeconds(60)).toMillis(), TimeUnit.MILLISECONDS), "client still running");
        System.out.println("client --groups " + groups + ": " + new String(out, StandardCharsets.UTF_8).trim());
        return p.exitValue();
    }

    @Test
    void aServerSeesTheClientsSupplementaryGroupsAndAdmitsByThem() throws Exception {
        assumeSetpriv();
        Path p = dir.resolve("groups");
        ConcurrentLinkedQueue<PeerCredentials> seen = new ConcurrentLinkedQueue<>();
        ConnldOptions options = ConnldOptions.builder().allowGids(Set.of(4343)).build();
        try (Serving s = ConnldEchoServerMain.serveInBackground(ConnldServer.bind(p, options), c -> {
            seen.add(c.peer());
            ConnldEchoServerMain.echo(c);
        })) {
            assertEquals(0, client("4242,4343", p, "member"), "a member of 4343 (gid 0) is served");
            PeerCredentials who = seen.peek();
            assertEquals(0, who.gid(), "the effective gid is not the allowed one");
            assertEquals(new HashSet<>(List.of(4242, 4343)), who.groups());
            assertTrue(client("4242", p, "outsider") != 0, "a client outside 4343 is refused");
            assertEquals(1, seen.size(), "the handler saw only the member");
        }
    }

    /** {@code [setpriv --groups G] scripts/streamsctl ARGS}, run from the test class path. */
    private static ProcessBuilder streamsctl(String groups, String... args) {
        Path root = Path.of(System.getProperty("basedir", System.getProperty("user.dir"))).toAbsolutePath();
        List<String> cmd = new ArrayList<>();
        if (groups != null) {
            cmd.addAll(List.of(SETPRIV.toString(), "--groups", groups));
        }
        cmd.add(root.resolve("scripts/streamsctl").toString());
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().put("STREAMS4J_CLASSPATH",
            System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")));
        pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        pb.environment().remove("JAVA_TOOL_OPTIONS");
        return pb;
    }

    private static String run(ProcessBuilder pb, String stdin) throws Exception {
        Process p = pb.redirectErrorStream(true).start();
        try (var in = p.getOutputStream()) {
            in.write(stdin.getBytes(StandardCharsets.UTF_8));
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(TestSupport.guard(Duration.ofSeconds(60)).toMillis(), TimeUnit.MILLISECONDS), "streamsctl still running");
        return p.exitValue() + " " + out.trim();
    }

    @Test
    void streamsctlServeAllowGidAdmitsASupplementaryMember() throws Exception {
        assumeSetpriv();
        Path p = dir.resolve("cli-groups");
        Path log = dir.resolve("serve.log");
        Process server = streamsctl(null, "serve", p.toString(), "--echo", "--allow-gid", "4343")
            .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            long deadline = System.nanoTime() + TestSupport.guard(Duration.ofSeconds(60)).toNanos();
            while (!Files.readString(log).contains("serving " + p)) {
                assertTrue(server.isAlive() && System.nanoTime() < deadline, "serve did not start: "
                    + Files.readString(log));
                Thread.sleep(50);
            }
            assertEquals("0 hello", run(streamsctl("4242,4343", "connect", p.toString()), "hello\n"));
            String refused = run(streamsctl("4242", "connect", p.toString()), "hello\n");
            assertTrue(!refused.startsWith("0 ") || !refused.contains("hello"), "an outsider was echoed: " + refused);
        } finally {
            server.destroy();
            server.waitFor(TestSupport.guard(Duration.ofSeconds(30)).toMillis(), TimeUnit.MILLISECONDS);
        }
        String serveLog = Files.readString(log);
        assertTrue(serveLog.contains("groups=4242,4343"), serveLog);
        assertTrue(serveLog.contains("refused a client"), serveLog);
    }
}
