package org.streams4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.streams4j.Backend;
import org.streams4j.Platform;

/**
 * streamsctl as a user runs it: every test spawns the real launcher,
 * {@code scripts/streamsctl}, which runs this build's classes through
 * {@code STREAMS4J_CLASSPATH} (the shaded jar does not exist yet when
 * {@code mvn verify} runs the tests).
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class StreamsCtlTest {
    private static final Path ROOT = Path.of(System.getProperty("basedir", System.getProperty("user.dir")))
        .toAbsolutePath();
    private static final Path LAUNCHER = ROOT.resolve("scripts/streamsctl");
    private static final Path DEMO = ROOT.resolve("scripts/demo");
    private static final String CLASS_PATH =
        System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    private static final Duration RUN_TIMEOUT = Duration.ofSeconds(30);

    @TempDir
    Path tmp;

    private final List<Process> started = new ArrayList<>();

    @AfterEach
    void killLeftovers() {
        for (Process p : started) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        }
    }

    // ---- serve and connect --------------------------------------------------------

    @Test
    void echoServesConcurrentClientsLogsTheirCredentialsAndStopsOnSigterm() throws Exception {
        Path path = tmp.resolve("echo");
        Server server = serve(path, "--echo", "--max-clients", "4");
        List<Launched> clients = new ArrayList<>();
        for (int i = 1; i <= 3; i++) {
            clients.add(launch("hello from client " + i + "\n", "connect", path.toString(), "--linger", "500ms"));
        }
        for (int i = 1; i <= 3; i++) {
            Result r = clients.get(i - 1).await();
            assertEquals(0, r.exit, r.toString());
            assertEquals("hello from client " + i + "\n", r.out, r.toString());
            assertEquals("", r.err, r.toString());
        }
        List<String> log = server.log();
        for (Launched c : clients) {
            String expected = ": connection ";
            String who = "uid=" + Platform.euid() + " gid=" + Platform.egid() + " pid=" + c.process.pid() + " zone=";
            assertTrue(log.stream().anyMatch(l -> l.contains(expected) && l.contains(who)),
                "no log line with " + who + " in " + log);
        }
        server.stop("TERM");
        assertFalse(Files.exists(path, LinkOption.NOFOLLOW_LINKS), "the socket was left behind");
    }

    @Test
    void sigintStopsTheServerWithStatusZero() throws Exception {
        Path path = tmp.resolve("int");
        Server server = serve(path);
        assertTrue(server.log().get(0).contains("SIGINT"), server.log().toString());
        server.stop("INT");
        assertFalse(Files.exists(path, LinkOption.NOFOLLOW_LINKS), "the socket was left behind");
    }

    @Test
    void execGivesTheCommandThePeerCredentialsInItsEnvironment() throws Exception {
        Path path = tmp.resolve("env");
        // A spoofed value in the server's own environment must not reach the command.
        Server server = serve(path, Map.of("STREAMS_PEER_ZONE", "spoofed", "STREAMS_PEER_UID", "spoofed"),
            "--exec", "env");
        Launched client = launch("", "connect", path.toString());
        Result r = client.await();
        assertEquals(0, r.exit, r.toString());
        List<String> env = Arrays.asList(r.out.split("\n"));
        assertTrue(env.contains("STREAMS_PEER_UID=" + Platform.euid()), r.out);
        assertTrue(env.contains("STREAMS_PEER_GID=" + Platform.egid()), r.out);
        assertTrue(env.contains("STREAMS_PEER_PID=" + client.process.pid()), r.out);
        List<String> zone = env.stream().filter(l -> l.startsWith("STREAMS_PEER_ZONE=")).collect(Collectors.toList());
        if (Platform.hasZones()) {
            assertEquals(1, zone.size(), r.out);
            assertTrue(zone.get(0).matches("STREAMS_PEER_ZONE=\\d+"), r.out);
        } else {
            assertEquals(List.of(), zone, "a zone where the platform reports none");
        }
        server.stop("TERM");
    }

    @Test
    void execPassesClientDataThroughTheCommandAndNeverToAShell() throws Exception {
        Path path = tmp.resolve("cat");
        Path marker = tmp.resolve("pwned");
        Server server = serve(path, "--exec", "cat");
        String data = "$(touch " + marker + ")\n`touch " + marker + "`; touch " + marker + "\n";
        Result r = launch(data, "connect", path.toString(), "--linger", "500ms").await();
        assertEquals(0, r.exit, r.toString());
        assertEquals(data, r.out);
        assertFalse(Files.exists(marker), "client data reached a shell");
        server.stop("TERM");
    }

    @Test
    void sendFilePassesADescriptorThatConnectReceiveFdReads() throws Exception {
        Path path = tmp.resolve("file");
        Path file = tmp.resolve("motd");
        String content = "a file opened by the server, read by the client\nline two\n";
        Files.writeString(file, content);
        Server server = serve(path, "--send-file", file.toString());
        Result r = launch("", "connect", path.toString(), "--receive-fd", "--timeout", "10s").await();
        assertEquals(0, r.exit, r.toString());
        assertEquals(content, r.out);
        assertEquals("", r.err);
        server.stop("TERM");
    }

    @Test
    void aSecondServeOnABusyPathFailsWithOneLineAndTheFirstKeepsServing() throws Exception {
        Path path = tmp.resolve("busy");
        Server server = serve(path, "--echo");
        Result busy = launch("", "serve", path.toString(), "--echo").await();
        assertOneLineError(busy, 1, "EBUSY", path.toString());
        Result r = launch("still here\n", "connect", path.toString(), "--linger", "500ms").await();
        assertEquals("still here\n", r.out, r.toString());
        server.stop("TERM");
    }

    // ---- info, detach, help ---------------------------------------------------------

    @Test
    void infoDescribesAServedPathAPlainFileAndADescriptor() throws Exception {
        Path path = tmp.resolve("info");
        Path plain = tmp.resolve("plain");
        Files.writeString(plain, "x");
        Server server = serve(path, "--echo");
        Launched served = launch("", "info", path.toString());
        Launched file = launch("", "info", plain.toString());
        Launched fd = launch("", "info", "--fd", "0");
        Result r = served.await();
        assertEquals(0, r.exit, r.toString());
        assertTrue(r.out.contains("server     attached"), r.out);
        assertTrue(r.out.contains("backend"), r.out);
        r = file.await();
        assertEquals(0, r.exit, r.toString());
        assertTrue(r.out.contains("regular file"), r.out);
        assertTrue(r.out.contains("stream     no"), r.out);
        assertTrue(r.out.contains("none attached"), r.out);
        r = fd.await();
        assertEquals(0, r.exit, r.toString());
        assertTrue(r.out.contains("fd         0"), r.out);
        server.stop("TERM");
    }

    @Test
    void detachRemovesTheAttachmentButLeavesTheServerRunning() throws Exception {
        Path path = tmp.resolve("detach");
        Server server = serve(path, "--echo");
        Result r = launch("", "detach", path.toString()).await();
        if (Platform.backend() == Backend.PORTABLE) {
            assertEquals(0, r.exit, r.toString());
            assertTrue(r.err.contains("detached " + path), r.err);
            assertFalse(Files.exists(path, LinkOption.NOFOLLOW_LINKS), "the socket is still there");
        } else {
            // serve created the attach point: fdetach leaves the plain file it attached over.
            assertEquals(0, r.exit, r.toString());
            assertTrue(Files.isRegularFile(path), "fdetach should leave the underlying file");
        }
        assertTrue(server.process.isAlive(), "detach stopped the server");
        Result again = launch("", "connect", path.toString()).await();
        assertTrue(again.exit == 1, again.toString());
        server.stop("TERM");
    }

    @TestFactory
    Stream<DynamicTest> everyCommandHasHelp() {
        List<String> commands = List.of("serve", "connect", "info", "push", "pop", "list", "detach", "selftest");
        List<Launched> runs = new ArrayList<>();
        runs.add(launch("", "--help"));
        for (String c : commands) {
            runs.add(launch("", c, "--help"));
        }
        List<String> names = new ArrayList<>(List.of("streamsctl --help"));
        commands.forEach(c -> names.add("streamsctl " + c + " --help"));
        return Stream.iterate(0, i -> i + 1).limit(runs.size()).map(i -> DynamicTest.dynamicTest(names.get(i), () -> {
            Result r = runs.get(i).await();
            assertEquals(0, r.exit, r.toString());
            assertTrue(r.out.contains("Usage: streamsctl"), r.out);
            assertEquals("", r.err);
        }));
    }

    // ---- bad input: one clear line, exit 1 or 2 --------------------------------------------

    @TestFactory
    Stream<DynamicTest> badInputGivesOneLineAndExit1Or2() throws IOException {
        Path plain = tmp.resolve("plain-file");
        Files.writeString(plain, "not a server\n");
        String missingDir = tmp.resolve("no-such-dir").resolve("sock").toString();
        String sock = tmp.resolve("sock").toString();
        boolean portable = Platform.backend() == Backend.PORTABLE;
        List<Case> cases = new ArrayList<>(List.of(
            new Case("serve in a missing directory", 1, List.of("ENOENT", missingDir),
                "serve", missingDir, "--echo"),
            new Case("connect to a missing directory", 1, List.of("ENOENT"), "connect", missingDir),
            new Case("connect to a plain file", 1, List.of("no server attached", plain.toString()),
                "connect", plain.toString()),
            new Case("mode not octal", 2, List.of("--mode", "'0900'", "octal"), "serve", sock, "--mode", "0900"),
            new Case("mode not a number", 2, List.of("--mode", "'rw'", "octal"), "serve", sock, "--mode", "rw"),
            new Case("mode out of range", 2, List.of("--mode", "'17777'", "out of range"),
                "serve", sock, "--mode", "17777"),
            new Case("module name over 8 characters", 2, List.of("module name", "'ldterm123'", "8"),
                "push", "ldterm123", "--fd", "0"),
            new Case("--fd not open (list)", 1, List.of("list fd 1017", "EBADF"), "list", "--fd", "1017"),
            new Case("--fd not open (push)", 1, List.of("push fd 1017", "EBADF"), "push", "ldterm", "--fd", "1017"),
            new Case("--fd not open (info)", 1, List.of("info fd 1017", "EBADF"), "info", "--fd", "1017"),
            new Case("--exec without a command", 2, List.of("--exec needs a command"), "serve", sock, "--exec"),
            new Case("--exec of a missing command", 2, List.of("no-such-command-4711", "not found"),
                "serve", sock, "--exec", "no-such-command-4711"),
            new Case("--send-file of a missing file", 1, List.of("ENOENT", "nonexistent"),
                "serve", sock, "--send-file", tmp.resolve("nonexistent").toString()),
            new Case("two actions", 2, List.of("--echo", "--send-file"),
                "serve", sock, "--echo", "--send-file", plain.toString()),
            new Case("bad duration", 2, List.of("--linger", "'soon'", "duration"),
                "connect", sock, "--linger", "soon"),
            new Case("unknown command", 2, List.of("'frobnicate'"), "frobnicate"),
            new Case("missing PATH", 2, List.of("PATH"), "serve"),
            new Case("no command", 2, List.of("missing command"))));
        // Write time-out and paths (issue 14).
        cases.addAll(List.of(
            new Case("--write-timeout 0", 2, List.of("--write-timeout", "more than 0"),
                "serve", sock, "--echo", "--write-timeout", "0"),
            new Case("--write-timeout not a duration", 2, List.of("--write-timeout", "'soon'", "duration"),
                "serve", sock, "--echo", "--write-timeout", "soon"),
            new Case("serve an empty path", 1, List.of("bind", "EINVAL", "an empty path"), "serve", "", "--echo"),
            new Case("connect to an empty path", 1, List.of("connect", "EINVAL", "an empty path"), "connect", "")));
        if (portable) {
            cases.add(new Case("push on Linux", 1, List.of("push fd 0", "not supported on this platform"),
                "push", "ldterm", "--fd", "0"));
            cases.add(new Case("pop on Linux", 1, List.of("pop fd 0", "not supported on this platform"),
                "pop", "--fd", "0"));
            cases.add(new Case("list on Linux", 1, List.of("list fd 0", "not supported on this platform"),
                "list", "--fd", "0"));
            cases.add(new Case("detach of a plain file", 1, List.of("EINVAL", "nothing is attached"),
                "detach", plain.toString()));
        }
        // Start them all, then check each: JVMs start in parallel.
        List<Launched> runs = cases.stream().map(c -> launch("", c.args)).collect(Collectors.toList());
        return Stream.iterate(0, i -> i + 1).limit(cases.size()).map(i -> DynamicTest.dynamicTest(cases.get(i).name,
            () -> {
                Result r = runs.get(i).await();
                assertOneLineError(r, cases.get(i).exit, cases.get(i).keywords.toArray(new String[0]));
                assertEquals("", r.out, "nothing on stdout");
            }));
    }

    // ---- selftest and the demo --------------------------------------------------------

    @Test
    void selftestPassesAndPrintsATable() throws Exception {
        Result r = launch("", "selftest").await();
        assertEquals(0, r.exit, r.toString());
        assertTrue(r.out.contains("backend  " + Platform.backend().description()), r.out);
        assertTrue(r.out.contains("system   " + System.getProperty("os.name")), r.out);
        List<String> rows = Arrays.stream(r.out.split("\n"))
            .filter(l -> l.matches("  (PASS|FAIL|SKIP) +.*")).collect(Collectors.toList());
        assertTrue(rows.size() >= 12, "too few checks: " + r.out);
        assertTrue(rows.stream().noneMatch(l -> l.startsWith("  FAIL")), r.out);
        for (String check : List.of("pipe round trip", "descriptor passing", "concurrent clients",
            "peer credentials", "close removes the path", "error: plain file", "error: missing path",
            "error: busy path")) {
            assertTrue(rows.stream().anyMatch(l -> l.startsWith("  PASS") && l.contains(check)),
                check + " did not pass: " + r.out);
        }
        assertTrue(r.out.contains(" 0 failed"), r.out);
        assertEquals("", r.err);
    }

    @Test
    void demoRunsEndToEnd() throws Exception {
        ProcessBuilder pb = new ProcessBuilder(DEMO.toString());
        environment(pb);
        Result r = new Launched(start(pb), "").await(Duration.ofSeconds(60));
        assertEquals(0, r.exit, r.toString());
        for (int i = 1; i <= 3; i++) {
            assertTrue(r.out.contains("got back: hello from client " + i), r.out);
        }
        assertTrue(r.out.contains("uid=" + Platform.euid() + " gid=" + Platform.egid()), r.out);
        assertTrue(r.out.contains("server exited 0"), r.out);
    }

    // ---- plumbing ---------------------------------------------------------------------

    private static void assertOneLineError(Result r, int exit, String... keywords) {
        assertEquals(exit, r.exit, r.toString());
        List<String> lines = r.err.lines().collect(Collectors.toList());
        assertEquals(1, lines.size(), "exactly one line on stderr: " + r);
        String line = lines.get(0);
        assertTrue(line.startsWith("streamsctl: "), line);
        assertFalse(line.contains("Exception") || line.contains("\tat "), line);
        for (String k : keywords) {
            assertTrue(line.contains(k), "'" + k + "' missing from: " + line);
        }
    }

    private record Case(String name, int exit, List<String> keywords, String... args) {
    }

    private record Result(int exit, String out, String err) {
        @Override
        public String toString() {
            return "exit " + exit + "\n--- stdout\n" + out + "--- stderr\n" + err;
        }
    }

    private static void environment(ProcessBuilder pb) {
        Map<String, String> env = pb.environment();
        env.put("STREAMS4J_CLASSPATH", CLASS_PATH);
        env.put("JAVA_HOME", System.getProperty("java.home"));
        env.remove("STREAMS4J_JAR");
        // Each would add a "Picked up ..." line to stderr.
        env.remove("JAVA_TOOL_OPTIONS");
        env.remove("JDK_JAVA_OPTIONS");
        env.remove("_JAVA_OPTIONS");
    }

    private Process start(ProcessBuilder pb) {
        try {
            Process p = pb.start();
            synchronized (started) {
                started.add(p);
            }
            return p;
        } catch (IOException e) {
            throw new AssertionError("cannot start " + pb.command(), e);
        }
    }

    /** Runs scripts/streamsctl ARGS with STDIN as its standard input. */
    private Launched launch(String stdin, String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(LAUNCHER.toString());
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(tmp.toFile());
        environment(pb);
        return new Launched(start(pb), stdin);
    }

    /** A started process whose output is collected in the background. */
    private static final class Launched {
        final Process process;
        final CompletableFuture<String> out;
        final CompletableFuture<String> err;

        Launched(Process p, String stdin) {
            this.process = p;
            this.out = CompletableFuture.supplyAsync(() -> drain(p.getInputStream()));
            this.err = CompletableFuture.supplyAsync(() -> drain(p.getErrorStream()));
            try (OutputStream in = p.getOutputStream()) {
                in.write(stdin.getBytes(StandardCharsets.UTF_8));
            } catch (IOException e) {
                // the process did not read its stdin: fine
            }
        }

        Result await() throws Exception {
            return await(RUN_TIMEOUT);
        }

        Result await(Duration timeout) throws Exception {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly();
                fail("still running after " + timeout.toSeconds() + "s: " + process.info().commandLine().orElse("?")
                    + "\n--- stdout\n" + out.getNow("") + "--- stderr\n" + err.getNow(""));
            }
            return new Result(process.exitValue(), out.get(5, TimeUnit.SECONDS), err.get(5, TimeUnit.SECONDS));
        }

        private static String drain(java.io.InputStream in) {
            try {
                return new String(in.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                return "";
            }
        }
    }

    // ---- a server in the background -------------------------------------------------

    private Server serve(Path path, String... options) throws Exception {
        return serve(path, Map.of(), options);
    }

    private Server serve(Path path, Map<String, String> extraEnv, String... options) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(LAUNCHER.toString(), "serve", path.toString()));
        cmd.addAll(List.of(options));
        Path log = Files.createTempFile(tmp, "serve", ".log");
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(tmp.toFile())
            .redirectErrorStream(false)
            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .redirectError(log.toFile())
            .redirectInput(ProcessBuilder.Redirect.PIPE);
        environment(pb);
        pb.environment().putAll(extraEnv);
        Server s = new Server(start(pb), path, log);
        s.awaitReady();
        return s;
    }

    private static final class Server {
        final Process process;
        final Path path;
        final Path logFile;

        Server(Process process, Path path, Path logFile) {
            this.process = process;
            this.path = path;
            this.logFile = logFile;
        }

        List<String> log() throws IOException {
            return Files.readAllLines(logFile);
        }

        void awaitReady() throws Exception {
            long deadline = System.nanoTime() + RUN_TIMEOUT.toNanos();
            while (System.nanoTime() < deadline) {
                if (log().stream().anyMatch(l -> l.startsWith("streamsctl: serving " + path))) {
                    return;
                }
                if (!process.isAlive()) {
                    fail("serve exited " + process.exitValue() + ": " + log());
                }
                Thread.sleep(50);
            }
            fail("serve did not start: " + log());
        }

        /** Sends the signal; the server must exit 0 having said it stopped. */
        void stop(String signal) throws Exception {
            Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(process.pid())).start();
            assertEquals(0, kill.waitFor(), "kill -" + signal);
            assertTrue(process.waitFor(RUN_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS),
                "serve still running after SIG" + signal + ": " + log());
            assertEquals(0, process.exitValue(), "exit status after SIG" + signal + ": " + log());
            assertTrue(log().stream().anyMatch(l -> l.equals("streamsctl: stopped serving " + path)), log().toString());
        }
    }
}
