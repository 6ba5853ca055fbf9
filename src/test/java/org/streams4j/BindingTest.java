package org.streams4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.streams4j.testsupport.BindingMain;
import org.streams4j.testsupport.Tool;

/**
 * The data-path binding (Platform.nativeBinding): JNA on JDK 17 to 21, FFM
 * downcalls on JDK 22+ when native access is enabled and the JDK 22 classes
 * are there, and the system property streams4j.binding overriding it. Child
 * JVMs run BindingMain, which also moves bytes and a descriptor through the
 * binding it chose.
 */
class BindingTest {
    private static final int FEATURE = Runtime.version().feature();

    @TempDir
    Path dir;

    /** The build says which binding its tests must run on (pom.xml: jna, or ffm under the jdk22 profile). */
    @Test
    void theTestsRunOnTheBindingThisBuildExpects() {
        String want = System.getProperty("streams4j.expect.binding", "jna");
        String line = Platform.nativeBinding();
        assertEquals(want, line.startsWith("FFM") ? "ffm" : "jna", line);
    }

    @Test
    void askedForJnaAChildJvmUsesJnaAndSaysWhy() throws Exception {
        Tool.Run r = child("--enable-native-access=ALL-UNNAMED", "-Dstreams4j.binding=jna");
        assertEquals(0, r.exit(), r.err());
        assertEquals("JNA " + com.sun.jna.Native.VERSION + " (streams4j.binding=jna)\nhello true\n", r.out());
    }

    @Test
    void withoutNativeAccessAChildJvmUsesJnaAndNamesTheFlag() throws Exception {
        Tool.Run r = child();
        assertEquals(0, r.exit(), r.err());
        String first = r.out().lines().findFirst().orElse("");
        if (FEATURE < 22) {
            assertEquals("JNA " + com.sun.jna.Native.VERSION + " (FFM downcalls need JDK 22 or later; this is "
                + FEATURE + ")", first);
        } else if (FEATURE < 24) {
            assertEquals("JNA " + com.sun.jna.Native.VERSION + " (native access is not enabled for the class path:"
                + " run java with --enable-native-access=ALL-UNNAMED)", first);
        } else {
            // JDK 24+ (JEP 472): JNA's System.load is itself restricted. Without the flag the JVM warns
            // once, naming JNA, and then grants the class path (JNA's module and ours) native access,
            // so FFM adds no second warning and is used where the jar has it.
            assertTrue(r.err().contains("java.lang.System::load has been called by com.sun.jna.Native"), r.err());
            assertEquals(1, r.err().lines().filter(l -> l.contains("A restricted method")).count(), r.err());
            if ("ffm".equals(System.getProperty("streams4j.expect.binding"))) {
                assertEquals("FFM downcalls (JDK " + FEATURE + ")", first);
            }
        }
        assertTrue(r.out().endsWith("hello true\n"), r.out());
    }

    @Test
    void withNativeAccessAChildJvmTakesWhatThisBuildExpects() throws Exception {
        Tool.Run r = child("--enable-native-access=ALL-UNNAMED", "-Dstreams4j.binding=ffm");
        assertEquals(0, r.exit(), r.err());
        String first = r.out().lines().findFirst().orElse("");
        if ("ffm".equals(System.getProperty("streams4j.expect.binding"))) {
            assertEquals("FFM downcalls (JDK " + FEATURE + ")", first);
            assertEquals("", r.err());
        } else {
            assertTrue(first.startsWith("JNA "), first);
            // asked for ffm and given JNA: said once, as a warning
            assertTrue(r.err().contains("streams4j.binding=ffm: JNA is used"), r.err());
        }
        assertTrue(r.out().endsWith("hello true\n"), r.out());
    }

    private Tool.Run child(String... jvmArgs) throws Exception {
        List<String> args = new ArrayList<>(List.of(jvmArgs));
        args.add("-cp");
        args.add(System.getProperty("java.class.path"));
        args.add(BindingMain.class.getName());
        return Tool.run(dir, "java", args);
    }
}
