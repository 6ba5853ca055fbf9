package org.streams4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * scripts/lib/jdk.sh's {@code s4j_find_jdk}, the one JDK lookup of
 * .ci/illumos-job, scripts/omnios-test, scripts/illumos-selftest and (a copy)
 * the distribution's bin/streamsctl, run against fake roots laid out as the
 * OmniOS and OpenIndiana packages lay them out (S4J_JDK_ROOT), under every
 * POSIX shell this machine has among dash, bash and ksh93 (illumos' /bin/sh).
 *
 * <p>OmniOS (omnios-build build/openjdk17: IFULL=usr/jdk/instances/openjdk17.0,
 * local.mog): link usr/jdk/openjdk17.0 to instances/openjdk17.0, the mediated
 * usr/java to jdk/openjdk17.0 and usr/bin/java to ../java/bin/java.
 * OpenIndiana (oi-userland components/runtime/openjdk-17: OPENJDK_INSTANCE
 * openjdk17.0.N): usr/jdk/openjdk17.0.N to instances/openjdk17.0.N and the
 * mediated usr/bin/java to ../jdk/instances/openjdk17.0.N/bin/java; its
 * usr/java, if any, is openjdk8's.
 */
class JdkLookupTest {
    private static final Path ROOT = Path.of(System.getProperty("basedir", System.getProperty("user.dir")))
        .toAbsolutePath();
    private static final Path LIB = ROOT.resolve("scripts/lib/jdk.sh");
    private static final Pattern BLOCK = Pattern.compile("(?s)# BEGIN s4j_find_jdk\n.*?# END s4j_find_jdk\n");

    @TempDir
    Path tmp;

    private static List<String> shells() {
        List<String> l = new ArrayList<>();
        for (String s : List.of("/bin/sh", "dash", "bash", "ksh93", "ksh")) {
            String p = s.startsWith("/") ? s : which(s);
            if (p != null && Files.isExecutable(Path.of(p)) && l.stream().noneMatch(q -> same(q, p))) {
                l.add(p);
            }
        }
        return l;
    }

    private static boolean same(String a, String b) {
        try {
            return Path.of(a).toRealPath().equals(Path.of(b).toRealPath());
        } catch (IOException e) {
            return false;
        }
    }

    private static String which(String tool) {
        for (String d : System.getenv("PATH").split(File.pathSeparator)) {
            if (!d.isEmpty() && Files.isExecutable(Path.of(d, tool))) {
                return Path.of(d, tool).toString();
            }
        }
        return null;
    }

    // ---- the layouts -------------------------------------------------------------------

    /** A JDK (or, without javac, a JRE) whose java prints version {@code version}. */
    private static Path jdk(Path dir, String version, boolean javac, boolean release) throws IOException {
        Files.createDirectories(dir.resolve("bin"));
        for (String t : javac ? List.of("java", "javac") : List.of("java")) {
            Path f = dir.resolve("bin").resolve(t);
            Files.writeString(f, "#!/bin/sh\necho 'openjdk version \"" + version + "\" 2024-04-16' >&2\n");
            Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
        if (release) {
            Files.writeString(dir.resolve("release"), "IMPLEMENTOR=\"OmniOS\"\nJAVA_VERSION=\"" + version + "\"\n");
        }
        return dir;
    }

    private static void link(Path at, String target) throws IOException {
        Files.createDirectories(at.getParent());
        Files.createSymbolicLink(at, Path.of(target));
    }

    /** runtime/java/openjdk17 on OmniOS. */
    private Path omnios(Path root) throws IOException {
        jdk(root.resolve("usr/jdk/instances/openjdk17.0"), "17.0.12", true, true);
        link(root.resolve("usr/jdk/openjdk17.0"), "instances/openjdk17.0");
        link(root.resolve("usr/java"), "jdk/openjdk17.0");
        link(root.resolve("usr/bin/java"), "../java/bin/java");
        link(root.resolve("usr/bin/javac"), "../java/bin/javac");
        return root.resolve("usr/jdk/instances/openjdk17.0").toRealPath();
    }

    /** runtime/java/openjdk17 (and openjdk8's /usr/java) on OpenIndiana. */
    private Path openindiana(Path root, boolean withJava8) throws IOException {
        jdk(root.resolve("usr/jdk/instances/openjdk17.0.4"), "17.0.4", true, true);
        link(root.resolve("usr/jdk/openjdk17.0.4"), "instances/openjdk17.0.4");
        link(root.resolve("usr/bin/java"), "../jdk/instances/openjdk17.0.4/bin/java");
        link(root.resolve("usr/bin/javac"), "../jdk/instances/openjdk17.0.4/bin/javac");
        if (withJava8) {
            jdk(root.resolve("usr/jdk/instances/openjdk1.8.0"), "1.8.0_412", true, true);
            link(root.resolve("usr/jdk/openjdk1.8.0"), "instances/openjdk1.8.0");
            link(root.resolve("usr/java"), "jdk/openjdk1.8.0");
        }
        return root.resolve("usr/jdk/instances/openjdk17.0.4").toRealPath();
    }

    // ---- running s4j_find_jdk ----------------------------------------------------------

    private record Found(int rc, String jdk, String version, String err) {
        @Override
        public String toString() {
            return "rc " + rc + ", jdk [" + jdk + "], version [" + version + "], stderr [" + err + "]";
        }
    }

    /** s4j_find_jdk TOOL under SHELL, with S4J_JDK_ROOT=root, the given PATH and JAVA_HOME (null: unset). */
    private Found find(String shell, String tool, Path root, String path, String javaHome) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(shell, "-c",
            ". \"$1\"; s4j_find_jdk \"$2\"; rc=$?; printf 'rc=%s\\njdk=%s\\nversion=%s\\nf=%s\\n' "
                + "\"$rc\" \"$s4j_jdk\" \"$s4j_jdk_version\" \"$-\"",
            "sh", LIB.toString(), tool).directory(tmp.toFile());
        Map<String, String> env = pb.environment();
        env.remove("JAVA_HOME");
        env.put("S4J_JDK_ROOT", root.toString());
        env.put("PATH", path);
        if (javaHome != null) {
            env.put("JAVA_HOME", javaHome);
        }
        Path out = tmp.resolve("find.out");
        Path err = tmp.resolve("find.err");
        Process p = pb.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail(shell + ": s4j_find_jdk still running");
        }
        Map<String, String> kv = new LinkedHashMap<>();
        for (String line : Files.readAllLines(out)) {
            int eq = line.indexOf('=');
            kv.put(line.substring(0, eq), line.substring(eq + 1));
        }
        assertFalse(kv.getOrDefault("f", "").contains("f"), shell + ": s4j_find_jdk left globbing off");
        return new Found(Integer.parseInt(kv.get("rc")), kv.get("jdk"), kv.get("version"), Files.readString(err));
    }

    private static final String TOOLS = "/usr/bin:/bin";

    private void expect(Path jdk, int version, String tool, Path root, String path, String javaHome) throws Exception {
        for (String sh : shells()) {
            Found f = find(sh, tool, root, path, javaHome);
            assertEquals(new Found(0, jdk.toString(), Integer.toString(version), ""), f, sh);
        }
    }

    private void expectNone(String tool, Path root, String path, String javaHome) throws Exception {
        for (String sh : shells()) {
            Found f = find(sh, tool, root, path, javaHome);
            assertEquals(new Found(1, "", "", ""), f, sh);
        }
    }

    // ---- the tests ---------------------------------------------------------------------

    @Test
    void omniosJdkIsFoundThroughUsrJavaThroughThePathAndByItsInstanceDirectory() throws Exception {
        Path root = tmp.resolve("omnios");
        Path jdk = omnios(root);
        Path empty = Files.createDirectories(tmp.resolve("empty-root"));
        // as installed: /usr/java (before any java on this machine's PATH)
        expect(jdk, 17, "javac", root, TOOLS, null);
        // no /usr/java: javac on the PATH, the links /usr/bin/javac -> ../java/bin/javac followed
        expect(jdk, 17, "javac", empty, root.resolve("usr/bin") + ":" + TOOLS, null);
        // neither: the glob over /usr/jdk/instances
        Files.delete(root.resolve("usr/java"));
        expect(jdk, 17, "java", root, "/nonexistent", null);
    }

    @Test
    void openIndianaSkipsJava8AtUsrJavaAndFindsOpenjdk17WithItsUpdateInTheName() throws Exception {
        Path root = tmp.resolve("oi");
        Path jdk = openindiana(root, true);
        // /usr/java is Java 8: skipped; /usr/bin/javac -> ../jdk/instances/openjdk17.0.4/bin/javac
        expect(jdk, 17, "javac", root, root.resolve("usr/bin") + ":" + TOOLS, null);
        // no PATH: the instances, 1.8.0 skipped
        expect(jdk, 17, "javac", root, "/nonexistent", null);
        Path plain = tmp.resolve("oi-no8");
        expect(openindiana(plain, false), 17, "java", plain, "/nonexistent", null);
    }

    @Test
    void theNewestInstanceWinsAndAJreIsNoJdk() throws Exception {
        Path root = tmp.resolve("two");
        jdk(root.resolve("usr/jdk/instances/openjdk17.0"), "17.0.12", true, true);
        Path jdk21 = jdk(root.resolve("usr/jdk/instances/openjdk21.0"), "21.0.4", true, false).toRealPath();
        jdk(root.resolve("usr/jdk/instances/openjdk25.0"), "25.0.1", false, true);   // a JRE only
        // 21 has no release file: its java -version says 21
        expect(jdk21, 21, "javac", root, "/nonexistent", null);
        Path jre25 = root.resolve("usr/jdk/instances/openjdk25.0").toRealPath();
        expect(jre25, 25, "java", root, "/nonexistent", null);
        // only JREs and Java 11: none
        Path old = tmp.resolve("old");
        jdk(old.resolve("usr/jdk/instances/openjdk11.0"), "11.0.22", true, true);
        jdk(old.resolve("usr/jdk/instances/openjdk17.0"), "17.0.12", false, true);
        expectNone("javac", old, "/nonexistent", null);
    }

    @Test
    void javaHomeComesFirstWhenItIsAnAbsolutePathToJava17OrNewer() throws Exception {
        Path root = tmp.resolve("omnios");
        Path omnios = omnios(root);
        Path mine = jdk(tmp.resolve("my-jdk-21"), "21.0.4", true, true).toRealPath();
        expect(mine, 21, "javac", root, TOOLS, mine.toString());
        // a JAVA_HOME that is no Java 17+ JDK, or relative, is passed over
        Path jre = jdk(tmp.resolve("my-jre"), "21.0.4", false, true);
        expect(omnios, 17, "javac", root, TOOLS, jre.toString());
        Path j11 = jdk(tmp.resolve("my-jdk-11"), "11.0.22", true, true);
        expect(omnios, 17, "javac", root, TOOLS, j11.toString());
        jdk(tmp.resolve("rel/jdk"), "21.0.4", true, true);
        expect(omnios, 17, "javac", root, TOOLS, "rel/jdk");
        expect(omnios, 17, "javac", root, TOOLS, tmp.resolve("no-such").toString());
    }

    /** A java in a relative PATH entry (".", or an empty one) is in the current directory: never used. */
    @Test
    void aRelativePathEntryIsNeverSearched() throws Exception {
        Path empty = Files.createDirectories(tmp.resolve("empty-root"));
        jdk(tmp, "21.0.4", true, true);   // bin/java, bin/javac and release where the shell runs
        expectNone("javac", empty, ".:bin::" + tmp.resolve("nonexistent"), null);
        Path root = tmp.resolve("omnios");
        Path omnios = omnios(root);
        expect(omnios, 17, "javac", empty, "bin:" + root.resolve("usr/bin") + ":" + TOOLS, null);
    }

    /** bin/streamsctl must stand alone: it carries a copy of the function, which must be the same. */
    @Test
    void theLauncherCarriesTheSameFunction() throws IOException {
        String lib = block(LIB);
        String launcher = block(ROOT.resolve("src/dist/bin/streamsctl"));
        assertEquals(lib, launcher, "src/dist/bin/streamsctl's copy of s4j_find_jdk differs from scripts/lib/jdk.sh's");
    }

    private static String block(Path file) throws IOException {
        Matcher m = BLOCK.matcher(Files.readString(file));
        assertTrue(m.find(), "no s4j_find_jdk block in " + file);
        String b = m.group();
        assertFalse(m.find(), "two s4j_find_jdk blocks in " + file);
        return b;
    }

    /** No script, workflow or document names the JDK directory that OmniOS does not have. */
    @Test
    void nothingNamesUsrJdkInstancesOpenjdk17WithoutItsInterimVersion() throws IOException {
        Pattern wrong = Pattern.compile("/usr/jdk/instances/openjdk17(?![.0-9*])");
        List<String> bad = new ArrayList<>();
        List<Path> files = new ArrayList<>(List.of(ROOT.resolve("README.md"), ROOT.resolve("CHANGELOG.md"),
            ROOT.resolve(".ci/illumos-job"), ROOT.resolve("scripts/omnios-test"), ROOT.resolve("scripts/illumos-selftest"),
            ROOT.resolve("src/dist/bin/streamsctl"), ROOT.resolve("src/dist/share/smf/streams4j-serve.xml")));
        try (Stream<Path> s = Files.list(ROOT.resolve(".github/workflows"))) {
            s.forEach(files::add);
        }
        for (Path f : files) {
            List<String> lines = Files.readAllLines(f);
            for (int i = 0; i < lines.size(); i++) {
                if (wrong.matcher(lines.get(i)).find() && !lines.get(i).contains("does not exist")) {
                    bad.add(ROOT.relativize(f) + ":" + (i + 1) + ": " + lines.get(i).strip());
                }
            }
        }
        assertEquals(List.of(), bad);
        // and the scripts that need a JDK use the one lookup
        for (String s : List.of(".ci/illumos-job", "scripts/omnios-test", "scripts/illumos-selftest")) {
            assertTrue(Files.readString(ROOT.resolve(s)).contains("scripts/lib/jdk.sh"), s + " does not use scripts/lib/jdk.sh");
        }
    }
}
