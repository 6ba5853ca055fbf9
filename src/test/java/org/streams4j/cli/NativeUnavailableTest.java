package org.streams4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.streams4j.testsupport.PlatformProbeMain;
import org.streams4j.testsupport.Tool;
import org.streams4j.testsupport.Tool.Run;

/**
 * The library and streamsctl on a host the jar has no shim for: the build's
 * classes copied without any {@code libstreams4j}, run in JVMs of their own
 * (JNA really fails to load it). Platform reports it; every command prints
 * one line and exits 1; selftest prints a FAIL row.
 */
class NativeUnavailableTest {
    @TempDir
    static Path tmp;

    private static String classPath;

    @BeforeAll
    static void classesWithoutTheShim() throws IOException {
        String full = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        Path classes = Path.of(PlatformProbeMain.class.getProtectionDomain().getCodeSource().getLocation().getPath())
            .resolveSibling("classes");
        Path copy = tmp.resolve("classes");
        try (Stream<Path> all = Files.walk(classes)) {
            for (Path p : (Iterable<Path>) all::iterator) {
                Path to = copy.resolve(classes.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(to);
                } else if (!p.getFileName().toString().startsWith("libstreams4j")) {
                    Files.copy(p, to, StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
        List<String> entries = new ArrayList<>();
        for (String e : full.split(File.pathSeparator)) {
            entries.add(Path.of(e).toAbsolutePath().equals(classes.toAbsolutePath()) ? copy.toString() : e);
        }
        assertTrue(entries.contains(copy.toString()), "target/classes is on the class path: " + full);
        classPath = String.join(File.pathSeparator, entries);
    }

    private static Run java(String main, String... args) throws Exception {
        // As scripts/streamsctl runs it: on JDK 24+ JNA's System.load warns without the flag.
        List<String> a = new ArrayList<>(List.of("-XX:TieredStopAtLevel=1", "--enable-native-access=ALL-UNNAMED",
            "-cp", classPath, main));
        a.addAll(List.of(args));
        return Tool.run(tmp, "java", a);
    }

    @Test
    void platformReportsTheCauseAndEntryPointsThrowItNamed() throws Exception {
        Run r = java(PlatformProbeMain.class.getName());
        assertEquals(0, r.exit(), r.toString());
        List<String> lines = r.out().lines().collect(Collectors.toList());
        assertEquals("AVAILABLE false", lines.get(0), r.toString());
        assertEquals("CAUSE java.lang.UnsatisfiedLinkError", lines.get(1), r.toString());
        assertTrue(lines.get(2).startsWith("PIPE java.lang.UnsatisfiedLinkError: streams4j native library unavailable"),
            lines.get(2));
        assertTrue(lines.get(2).contains("jna.library.path"), lines.get(2));
        assertTrue(lines.get(2).endsWith("cause is the unavailability cause"), lines.get(2));
    }

    @Test
    void everyCommandPrintsOneLineAndExits1() throws Exception {
        Path sock = tmp.resolve("sock");
        List<List<String>> commands = List.of(
            List.of("serve", sock.toString(), "--echo"),
            List.of("connect", sock.toString()),
            List.of("info", tmp.toString()),
            List.of("push", "ldterm", "--fd", "0"),
            List.of("pop", "--fd", "0"),
            List.of("list", "--fd", "0"),
            List.of("detach", sock.toString()),
            List.of("--debug", "info", tmp.toString()),
            List.of("serve", sock.toString(), "--echo", "--allow-uid", "root"));
        for (List<String> c : commands) {
            Run r = java(StreamsCtl.class.getName(), c.toArray(new String[0]));
            String what = String.join(" ", c) + ": " + r;
            assertEquals(1, r.exit(), what);
            assertEquals("", r.out(), what);
            if (!c.contains("--debug")) {
                assertEquals(1, r.err().lines().count(), what);
            }
            assertTrue(r.err().startsWith("streamsctl: streams4j native library unavailable ("), what);
        }
    }

    @Test
    void selftestPrintsAFailRow() throws Exception {
        Run r = java(StreamsCtl.class.getName(), "selftest");
        assertEquals(1, r.exit(), r.toString());
        assertTrue(r.out().lines().anyMatch(l -> l.matches("\\s+FAIL\\s+native library loads\\s+streams4j native "
            + "library unavailable.*")), r.toString());
        assertTrue(r.out().contains("1 check: 0 passed, 1 failed"), r.toString());
        assertEquals("", r.err(), r.toString());
    }

    @Test
    void helpAndVersionStillWork() throws Exception {
        Run help = java(StreamsCtl.class.getName(), "--help");
        assertEquals(0, help.exit(), help.toString());
        assertTrue(help.out().contains("serve"), help.toString());
        Run version = java(StreamsCtl.class.getName(), "--version");
        assertEquals(0, version.exit(), version.toString());
        assertTrue(version.out().contains("backend: unavailable: streams4j native library unavailable"),
            version.toString());
    }
}
