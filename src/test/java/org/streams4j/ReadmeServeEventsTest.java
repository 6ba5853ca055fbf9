package org.streams4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.streams4j.TestSupport.readExactly;

import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;
import org.junit.jupiter.api.io.TempDir;

/**
 * README's {@code serveEvents} examples, as written: each {@code java}
 * block that starts with {@code server.serveEvents(} is compiled (javac of
 * this JDK, against the classes under test) and served with the default two
 * loops to clients in parallel, whose echoes must come back exactly. Before
 * issue 21 the example shared one {@code buf} between loops: 3 to 10 wrong
 * echoes in 1,600.
 */
class ReadmeServeEventsTest {
    private static final Duration GUARD = Duration.ofSeconds(60);
    private static final Pattern BLOCK = Pattern.compile("```java\n(server\\.serveEvents\\(.*?)```", Pattern.DOTALL);

    @TempDir
    Path dir;

    static List<String> examples() throws Exception {
        String readme = Files.readString(Path.of("README.md"));
        List<String> out = new ArrayList<>();
        for (Matcher m = BLOCK.matcher(readme); m.find(); ) {
            out.add(m.group(1));
        }
        return out;
    }

    /** Compiles README block i as the body of {@code static void serve(ConnldServer server)}. */
    private Method compile(String block, int i) throws Exception {
        return compile(block, "Example" + i, "serve", "ConnldServer server").getMethod("serve", ConnldServer.class);
    }

    /** Compiles {@code block} as the body of {@code static void method(params)} in class readme.name. */
    private Class<?> compile(String block, String name, String method, String params) throws Exception {
        Path src = dir.resolve("src/readme/" + name + ".java");
        Files.createDirectories(src.getParent());
        Files.writeString(src, "package readme;\n"
            + "import static java.nio.charset.StandardCharsets.UTF_8;\n"
            + "import java.nio.ByteBuffer;\n"
            + "import java.nio.file.Path;\n"
            + "import java.time.Duration;\n"
            + "import java.util.EnumSet;\n"
            + "import java.util.List;\n"
            + "import org.streams4j.*;\n"
            + "public final class " + name + " {\n"
            + "    public static void " + method + "(" + params + ") throws Exception {\n"
            + block
            + "    }\n}\n");
        Path classes = dir.resolve("classes");
        Files.createDirectories(classes);
        // javac of this JDK, as a process (the tests run as a module that does not read java.compiler)
        String cp = System.getProperty("java.class.path", "") + java.io.File.pathSeparator
            + System.getProperty("jdk.module.path", "");
        Process javac = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "javac").toString(),
            "-Xlint:all", "-Werror", "-d", classes.toString(), "-cp", cp, src.toString())
            .redirectErrorStream(true).start();
        String err = new String(javac.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(javac.waitFor(GUARD.toSeconds(), java.util.concurrent.TimeUnit.SECONDS), "javac finished");
        assertEquals(0, javac.exitValue(), "README example " + name + " compiles as written:\n" + block + "\n" + err);
        URLClassLoader loader = new URLClassLoader(new URL[] {classes.toUri().toURL()}, getClass().getClassLoader());
        return loader.loadClass("readme." + name);
    }

    /**
     * Every other {@code java} block of README compiles as written (the body
     * of a method that may throw), with the imports a reader would add: the
     * API overview's server, client and descriptor passing among them.
     */
    @Test
    void everyOtherJavaBlockCompiles() throws Exception {
        String readme = Files.readString(Path.of("README.md"));
        Matcher m = Pattern.compile("```java\n(.*?)```", Pattern.DOTALL).matcher(readme);
        int compiled = 0;
        for (int i = 0; m.find(); i++) {
            if (!m.group(1).startsWith("server.serveEvents(")) {
                compile(m.group(1), "Other" + i, "example", "");
                compiled++;
            }
        }
        assertTrue(compiled >= 1, "the API overview's block");
    }

    /**
     * README's message server (the lp shape: one request, one answer, each
     * one message) runs as written on this host's backend, at a path of the
     * test's own, and prints the answer.
     */
    @Test
    void theMessageExampleAnswersOneMessageWithOne() throws Exception {
        String readme = Files.readString(Path.of("README.md"));
        Matcher m = Pattern.compile("```java\n(ConnldServer server = .*?messages\\(true\\).*?)```", Pattern.DOTALL)
            .matcher(readme);
        assertTrue(m.find(), "README has the message server");
        String block = m.group(1).replace("Path.of(\"/run/myapp/requests\")",
            "Path.of(\"" + dir.resolve("requests") + "\")");
        Method example = compile(block, "Messages", "example", "").getMethod("example");
        java.io.PrintStream out = System.out;
        java.io.ByteArrayOutputStream printed = new java.io.ByteArrayOutputStream();
        System.setOut(new java.io.PrintStream(printed, true, StandardCharsets.UTF_8));
        try {
            example.invoke(null);
        } finally {
            System.setOut(out);
        }
        String text = printed.toString(StandardCharsets.UTF_8);
        assertTrue(text.lines().anyMatch("done print /etc/motd"::equals), text);
    }

    /**
     * README's pty example runs as written: the shell on the terminal reads
     * the typed line, answers 42 and exits 3, and the screen ends at the
     * hang-up.
     */
    @Test
    @EnabledIf(PtyTest.STARTS)
    void thePtyExampleRunsAShellOnATerminal() throws Exception {
        String readme = Files.readString(Path.of("README.md"));
        Matcher m = Pattern.compile("```java\n(try \\(Pty pty = .*?)```", Pattern.DOTALL).matcher(readme);
        assertTrue(m.find(), "README has the pty example");
        Method example = compile(m.group(1), "Terminal", "example", "").getMethod("example");
        java.io.PrintStream out = System.out;
        java.io.ByteArrayOutputStream printed = new java.io.ByteArrayOutputStream();
        System.setOut(new java.io.PrintStream(printed, true, StandardCharsets.UTF_8));
        try {
            example.invoke(null);
        } finally {
            System.setOut(out);
        }
        String text = printed.toString(StandardCharsets.UTF_8);
        assertTrue(text.contains("echo $((6 * 7)); exit 3\r\n"), "the echo of the typed line: " + text);
        assertTrue(text.contains("42\r\n"), "the answer: " + text);
        assertTrue(text.lines().anyMatch("exit 3"::equals), text);
    }

    @Test
    void theReadmeHasBothServeEventsExamples() throws Exception {
        assertEquals(2, examples().size(), "the echo and the Frames.lines examples");
    }

    @Test
    void theEchoExampleEchoesEveryByteWithTwoLoopsAndManyClients() throws Exception {
        String block = examples().get(0);
        assertTrue(block.contains("opened"), "the buffer is made per connection");
        Method serve = compile(block, 0);
        // Two loops whatever this machine has (the default is one per CPU, up to 4: one when the
        // whole JVM is pinned to a CPU), so that connections are served by two loops at once.
        ConnldServer server = ConnldServer.bind(dir.resolve("echo"), ConnldOptions.builder().loops(2).build());
        Thread t = new Thread(() -> {
            try {
                serve.invoke(null, server);
            } catch (ReflectiveOperationException e) {
                throw new AssertionError(e);
            }
        }, "readme echo");
        t.setDaemon(true);
        t.start();
        ExecutorService pool = Executors.newFixedThreadPool(16);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int k = 0; k < 16; k++) {
                int seed = k;
                done.add(pool.submit(() -> {
                    try (Connection c = ConnldClient.connect(server.path())) {
                        for (int round = 0; round < 100; round++) {
                            byte[] msg = WritePathTest.pattern(1 + (seed * 997 + round * 131) % 20_000, seed + round);
                            c.writeFully(msg);
                            assertArrayEquals(msg, readExactly(c.fd(), msg.length), "echo " + seed + "/" + round);
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get(GUARD.toSeconds(), java.util.concurrent.TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
            server.close();
            t.join(GUARD.toMillis());
        }
    }

    @Test
    void theLinesExampleAnswersWholeLinesHoweverTheyArrive() throws Exception {
        Method serve = compile(examples().get(1), 1);
        ConnldServer server = ConnldServer.bind(dir.resolve("lines"));
        Thread t = new Thread(() -> {
            try {
                serve.invoke(null, server);
            } catch (ReflectiveOperationException e) {
                throw new AssertionError(e);
            }
        }, "readme lines");
        t.setDaemon(true);
        t.start();
        try (Connection c = ConnldClient.connect(server.path())) {
            // One line in three pieces, then two lines in one write.
            c.writeFully("hel".getBytes(StandardCharsets.UTF_8));
            Thread.sleep(20);
            c.writeFully("lo wor".getBytes(StandardCharsets.UTF_8));
            Thread.sleep(20);
            c.writeFully("ld\r\nsecond\nthird\n".getBytes(StandardCharsets.UTF_8));
            byte[] want = "echo:hello world\necho:second\necho:third\n".getBytes(StandardCharsets.UTF_8);
            assertEquals(new String(want, StandardCharsets.UTF_8),
                new String(readExactly(c.fd(), want.length), StandardCharsets.UTF_8));
        } finally {
            server.close();
            t.join(GUARD.toMillis());
        }
    }
}
