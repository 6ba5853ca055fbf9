package org.streams4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.jna.Native;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.jar.JarFile;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.streams4j.testsupport.Tool;
import org.streams4j.testsupport.Tool.Run;

/**
 * A consumer project, offline: {@code src/it/consumer} compiled with the
 * JDK's javac against the packaged jar (and JNA, its only dependency), then
 * run on the class path and on the module path. Runs in {@code mvn verify}
 * (failsafe, after {@code package}).
 */
class ConsumerIT {
    private static final Path ROOT = Path.of(System.getProperty("basedir", System.getProperty("user.dir")))
        .toAbsolutePath();
    private static final Path SOURCES = ROOT.resolve("src/it/consumer");

    @TempDir
    static Path tmp;

    private static String jar;
    private static String jna;
    /** The library's other runtime dependency, as a user's build would put it beside. */
    private static String lang;

    @BeforeAll
    static void artifacts() throws Exception {
        jar = System.getProperty("streams4j.jar");
        assertTrue(jar != null && Files.isRegularFile(Path.of(jar)), "streams4j.jar=" + jar);
        jna = Path.of(Native.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
        lang = Path.of(org.apache.commons.lang3.Validate.class.getProtectionDomain().getCodeSource().getLocation()
            .toURI()).toString();
    }

    private static Run run(String tool, String... args) throws Exception {
        Run r = Tool.run(tmp, tool, List.of(args));
        System.out.println("$ " + tool + " " + String.join(" ", args) + "\n" + r.out() + r.err());
        return r;
    }

    private static String path(String... entries) {
        return String.join(File.pathSeparator, entries);
    }

    @Test
    void theJarIsAModuleThatExportsTheApiOnly() throws Exception {
        try (JarFile j = new JarFile(jar)) {
            assertTrue(j.getEntry("module-info.class") != null, "module-info.class in " + jar);
            assertTrue(j.getEntry("META-INF/LICENSE") != null, "LICENSE in " + jar);
            assertTrue(j.getEntry("META-INF/NOTICE") != null, "NOTICE in " + jar);
        }
        Run d = run("jar", "--describe-module", "--file", jar);
        assertEquals(0, d.exit(), d.toString());
        assertTrue(d.out().contains("exports org.streams4j\n"), d.out());
        assertTrue(d.out().contains("requires com.sun.jna"), d.out());
        assertTrue(d.out().contains("requires org.apache.commons.lang3"), d.out());
        assertTrue(d.out().contains("contains org.streams4j.internal"), d.out());
        assertTrue(!d.out().contains("exports org.streams4j.internal"), d.out());
    }

    @Test
    void onTheClassPath() throws Exception {
        Path out = tmp.resolve("cp-classes");
        Run javac = run("javac", "-d", out.toString(), "-cp", path(jar, jna, lang),
            SOURCES.resolve("consumer/Main.java").toString());
        assertEquals(0, javac.exit(), javac.toString());
        Run r = run("java", "--enable-native-access=ALL-UNNAMED", "-cp", path(out.toString(), jar, jna, lang),
            "consumer.Main", tmp.resolve("cp-sock").toString());
        assertEquals(0, r.exit(), r.toString());
        assertTrue(r.out().startsWith("echo:hello\n"), r.out());
        assertTrue(r.out().contains("consumer module null, streams4j module null"), r.out());
        assertBinding(r);
        assertEquals("", r.err(), "no warnings on the class path with native access granted");
    }

    @Test
    void onTheModulePath() throws Exception {
        Path out = tmp.resolve("mp-classes");
        Run javac = run("javac", "-d", out.toString(), "--module-path", path(jar, jna, lang),
            SOURCES.resolve("module-info.java").toString(), SOURCES.resolve("consumer/Main.java").toString());
        assertEquals(0, javac.exit(), javac.toString());
        // README: on the module path JNA and streams4j each need native access.
        Run r = run("java", "--enable-native-access=com.sun.jna,org.streams4j",
            "--module-path", path(out.toString(), jar, jna, lang), "-m", "consumer/consumer.Main",
            tmp.resolve("mp-sock").toString());
        assertEquals(0, r.exit(), r.toString());
        assertTrue(r.out().startsWith("echo:hello\n"), r.out());
        assertTrue(r.out().contains("consumer module consumer, streams4j module org.streams4j"), r.out());
        assertBinding(r);
        assertEquals("", r.err(), "no warnings on the module path");
    }

    /**
     * The jar's binding: FFM downcalls when it was built with a JDK 22+ (a
     * multi-release jar, run here on that JDK), else JNA.
     */
    private static void assertBinding(Run r) {
        String want = "ffm".equals(System.getProperty("streams4j.expect.binding")) ? "binding FFM downcalls ("
            : "binding JNA ";
        assertTrue(r.out().contains("\n" + want), r.out());
    }

    @Test
    void theInternalPackageIsNotReachableOnTheModulePath() throws Exception {
        Run javac = run("javac", "-d", tmp.resolve("internal-classes").toString(), "--module-path", path(jar, jna, lang),
            SOURCES.resolve("module-info.java").toString(), SOURCES.resolve("consumer/Main.java").toString(),
            SOURCES.resolve("Internal.java").toString());
        assertNotEquals(0, javac.exit(), javac.toString());
        assertTrue(javac.err().contains("package org.streams4j.internal is not visible")
            || javac.err().contains("does not export org.streams4j.internal"), javac.err());
    }
}
