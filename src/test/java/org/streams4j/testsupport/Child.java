package org.streams4j.testsupport;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** A main class running in a JVM of its own, with its output read line by line. */
public final class Child implements AutoCloseable {
    private final String what;
    private final Process process;
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final List<String> seen = new ArrayList<>();

    private Child(String what, Process process) {
        this.what = what;
        this.process = process;
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(
                new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                String l;
                while ((l = r.readLine()) != null) {
                    lines.add(l);
                }
            } catch (IOException e) {
                lines.add("(output unreadable: " + e + ")");
            }
        }, "child-output " + what);
        reader.setDaemon(true);
        reader.start();
    }

    /** Starts {@code java -cp <this class path> main args...}; stderr goes with stdout. */
    public static Child start(Class<?> main, String... args) {
        return start(List.of(), System.getProperty("java.class.path"), main, args);
    }

    /** Like {@link #start}, with options for the child's JVM before the main class ({@code -Dname=value}...). */
    public static Child startWithJvmOptions(List<String> options, Class<?> main, String... args) {
        List<String> java = javaCommand(System.getProperty("java.class.path"), main, args);
        java.addAll(1, options);
        return start(List.of(), java, main, args);
    }

    /**
     * Like {@link #start} with a shell's {@code ulimit -n LIMIT} first: a JVM that runs
     * out of descriptors early.
     */
    public static Child startWithDescriptorLimit(int limit, Class<?> main, String... args) {
        List<String> java = javaCommand(System.getProperty("java.class.path"), main, args);
        return start(List.of("/bin/sh", "-c", "ulimit -n " + limit + " && exec \"$@\"", "sh"),
            java, main, args);
    }

    /**
     * Starts the main class as user nobody (uid and gid 65534 with setpriv; this
     * process must be root), from a
     * copy of the class path that nobody can read: {@code setpriv} where there
     * is one (Linux), else {@code su nobody -c} (illumos, where nobody has a shell).
     */
    public static Child startUnprivileged(Class<?> main, String... args) {
        String cp = readableClassPath();
        if (Files.isExecutable(Path.of("/usr/bin/setpriv"))) {
            return start(List.of("/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"),
                cp, main, args);
        }
        StringBuilder line = new StringBuilder("exec");
        for (String w : javaCommand(cp, main, args)) {
            line.append(" '").append(w.replace("'", "'\\''")).append("'");
        }
        return start(List.of("su", "nobody", "-c", line.toString()), List.of(), main, args);
    }

    private static Child start(List<String> prefix, String classPath, Class<?> main, String... args) {
        return start(prefix, javaCommand(classPath, main, args), main, args);
    }

    private static Child start(List<String> prefix, List<String> java, Class<?> main, String... args) {
        List<String> cmd = new ArrayList<>(prefix);
        cmd.addAll(java);
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            return new Child(main.getSimpleName() + " " + String.join(" ", args), p);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + cmd, e);
        }
    }

    private static List<String> javaCommand(String classPath, Class<?> main, String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-XX:TieredStopAtLevel=1");
        cmd.add("-XX:+UseSerialGC");
        cmd.add("-XX:-UsePerfData");
        cmd.add("-cp");
        cmd.add(classPath);
        cmd.add(main.getName());
        cmd.addAll(List.of(args));
        return cmd;
    }

    private static String readableCopy;

    /** This JVM's class path copied once into a directory everybody can read (jars may sit under /root). */
    private static synchronized String readableClassPath() {
        if (readableCopy != null) {
            return readableCopy;
        }
        try {
            Path dir = Files.createTempDirectory("streams4j-classpath");
            List<String> entries = new ArrayList<>();
            int i = 0;
            for (String e : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
                Path from = Path.of(e);
                if (!Files.exists(from)) {
                    continue;
                }
                Path to = dir.resolve((i++) + "-" + from.getFileName());
                try (java.util.stream.Stream<Path> tree = Files.walk(from)) {
                    for (Path f : (Iterable<Path>) tree::iterator) {
                        Path t = to.resolve(from.relativize(f).toString());
                        if (Files.isDirectory(f)) {
                            Files.createDirectories(t);
                        } else {
                            Files.copy(f, t);
                        }
                        Files.setPosixFilePermissions(t, java.nio.file.attribute.PosixFilePermissions.fromString(
                            Files.isDirectory(f) ? "rwxr-xr-x" : "rw-r--r--"));
                    }
                }
                entries.add(to.toString());
            }
            Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
            Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteTree(dir)));
            readableCopy = String.join(java.io.File.pathSeparator, entries);
            return readableCopy;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot copy the class path", e);
        }
    }

    private static void deleteTree(Path dir) {
        try (java.util.stream.Stream<Path> tree = Files.walk(dir)) {
            tree.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException | RuntimeException e) {
            // a temporary copy: the system's clean-up takes what is left
        }
    }

    public Process process() {
        return process;
    }

    public long pid() {
        return process.pid();
    }

    /** The next output line starting with {@code prefix}; fails with all output so far otherwise. */
    public String awaitLine(String prefix, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            long left = deadline - System.nanoTime();
            String l = left > 0 ? lines.poll(Math.min(left, TimeUnit.MILLISECONDS.toNanos(100)),
                TimeUnit.NANOSECONDS) : null;
            if (l != null) {
                seen.add(l);
                if (l.startsWith(prefix)) {
                    return l;
                }
                continue;
            }
            if (left <= 0 || !process.isAlive() && lines.isEmpty() && exitedAndDrained()) {
                throw new AssertionError(what + ": no line starting with \"" + prefix + "\" within "
                    + timeout + (process.isAlive() ? "" : " (exited with " + process.exitValue() + ")")
                    + "; output: " + seen);
            }
        }
    }

    private boolean exitedAndDrained() throws InterruptedException {
        // The reader thread may still be moving the last lines over.
        Thread.sleep(200);
        return lines.isEmpty();
    }

    /** Waits for the process to exit and returns its status; fails after the timeout. */
    public int awaitExit(Duration timeout) throws InterruptedException {
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new AssertionError(what + " still running after " + timeout + "; output: " + output());
        }
        return process.exitValue();
    }

    /** Every line seen so far plus whatever is queued. */
    public List<String> output() {
        lines.drainTo(seen);
        return List.copyOf(seen);
    }

    /** SIGKILL (Process.destroyForcibly) and wait for the process to be gone. */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        if (!process.waitFor(TimeScale.guard(Duration.ofSeconds(30)).toMillis(), TimeUnit.MILLISECONDS)) {
            throw new AssertionError(what + " survived SIGKILL for 30 s");
        }
    }

    @Override
    public void close() {
        try {
            if (process.isAlive()) {
                kill();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while killing " + what, e);
        } finally {
            closeQuietly(process.getOutputStream());
            closeQuietly(process.getErrorStream());
            closeQuietly(process.getInputStream());
        }
    }

    private static void closeQuietly(java.io.Closeable c) {
        try {
            c.close();
        } catch (IOException e) {
            // nothing to do
        }
    }
}
