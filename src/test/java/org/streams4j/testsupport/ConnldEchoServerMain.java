package org.streams4j.testsupport;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.streams4j.ConnldServer;
import org.streams4j.Connection;
import org.streams4j.StreamsException;

/**
 * A connld echo server in a process of its own, for tests that need a server
 * they can kill:
 *
 * <pre>java -cp CLASSPATH org.streams4j.testsupport.ConnldEchoServerMain PATH [noaccept]</pre>
 *
 * Binds PATH with the default options, prints {@code READY <pid>} and then
 * echoes every connection until it is killed ({@code noaccept}: binds, prints
 * READY and never accepts). It exits by itself when its standard input reaches
 * end of file, so that a test JVM that dies leaves no server behind.
 *
 * <p>Also holds the small helpers the connld tests share: the echo handler,
 * line I/O over a {@link Connection}, and {@link Child} to run a main class
 * in a JVM of its own.
 */
public final class ConnldEchoServerMain {
    private ConnldEchoServerMain() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 1 || args.length > 2 || args.length == 2 && !"noaccept".equals(args[1])) {
            System.err.println("usage: ConnldEchoServerMain PATH [noaccept]");
            System.exit(2);
        }
        exitAtEndOfStdin();
        ConnldServer server = ConnldServer.bind(Path.of(args[0]));
        System.out.println("READY " + ProcessHandle.current().pid());
        System.out.flush();
        if (args.length == 2) {
            Thread.sleep(Long.MAX_VALUE);
        }
        server.serve(ConnldEchoServerMain::echo);
    }

    private static void exitAtEndOfStdin() {
        Thread t = new Thread(() -> {
            try {
                while (System.in.read() >= 0) {
                    // nothing is expected on stdin
                }
            } catch (IOException e) {
                // fall through: the parent is gone either way
            }
            System.exit(0);
        }, "stdin-watch");
        t.setDaemon(true);
        t.start();
    }

    /** Echoes everything the connection brings until end of stream. */
    public static void echo(Connection c) throws StreamsException {
        byte[] buf = new byte[64 * 1024];
        while (true) {
            int n = c.read(buf, 0, buf.length);
            if (n < 0) {
                return;
            }
            c.writeFully(buf, 0, n);
        }
    }

    /** Writes {@code line} and a newline in one write. */
    public static void writeLine(Connection c, String line) throws StreamsException {
        c.writeFully((line + "\n").getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Reads until a newline ends what has arrived and returns it without the
     * newline; null at end of stream before any byte. Bytes that arrive after
     * the newline in the same read are kept in the result, so that a reply
     * mixed with someone else's shows.
     */
    public static String readLine(Connection c) throws StreamsException {
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        byte[] buf = new byte[256];
        while (true) {
            int n = c.read(buf, 0, buf.length);
            if (n < 0) {
                if (got.size() == 0) {
                    return null;
                }
                throw new IllegalStateException("end of stream after an unfinished line: "
                    + got.toString(StandardCharsets.UTF_8));
            }
            got.write(buf, 0, n);
            if (buf[n - 1] == '\n') {
                String s = got.toString(StandardCharsets.UTF_8);
                return s.substring(0, s.length() - 1);
            }
        }
    }

    /**
     * Runs {@link ConnldServer#serve} on a daemon thread of its own.
     * {@link Serving#close()} closes the server and waits for serve to return.
     */
    public static Serving serveInBackground(ConnldServer server, ConnldServer.Handler handler) {
        return new Serving(server, () -> server.serve(handler));
    }

    /** {@link ConnldServer#serveEvents} on its own thread. */
    public static Serving serveEventsInBackground(ConnldServer server, ConnldServer.EventHandler handler) {
        return new Serving(server, () -> server.serveEvents(handler));
    }

    /** How a server serves: serve or serveEvents with its handler. */
    @FunctionalInterface
    private interface ServeLoop {
        void run() throws Exception;
    }

    /** A serve loop on its own thread. */
    public static final class Serving implements AutoCloseable {
        private final ConnldServer server;
        private final Thread thread;
        private volatile Throwable failure;

        private Serving(ConnldServer server, ServeLoop loop) {
            this.server = server;
            this.thread = new Thread(() -> {
                try {
                    loop.run();
                } catch (Throwable t) {
                    failure = t;
                }
            }, "serve " + server.path());
            thread.setDaemon(true);
            thread.start();
        }

        public ConnldServer server() {
            return server;
        }

        public Thread thread() {
            return thread;
        }

        /** Closes the server; fails if serve does not return within 10 s or returned by failing. */
        @Override
        public void close() {
            server.close();
            try {
                thread.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted while waiting for serve on " + server.path(), e);
            }
            if (thread.isAlive()) {
                throw new AssertionError("serve on " + server.path() + " did not return within 10 s of close()");
            }
            if (failure != null) {
                throw new AssertionError("serve on " + server.path() + " failed", failure);
            }
        }
    }

    /** A main class running in a JVM of its own, with its output read line by line. */
    public static final class Child implements AutoCloseable {
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
            List<String> cmd = new ArrayList<>();
            cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
            cmd.add("-XX:TieredStopAtLevel=1");
            cmd.add("-XX:+UseSerialGC");
            cmd.add("-cp");
            cmd.add(System.getProperty("java.class.path"));
            cmd.add(main.getName());
            cmd.addAll(List.of(args));
            try {
                Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
                return new Child(main.getSimpleName() + " " + String.join(" ", args), p);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot start " + cmd, e);
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
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
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
}
