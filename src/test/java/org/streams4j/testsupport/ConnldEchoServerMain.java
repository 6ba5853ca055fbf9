package org.streams4j.testsupport;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.streams4j.ConnldOptions;
import org.streams4j.ConnldServer;
import org.streams4j.Connection;
import org.streams4j.StreamsException;

/**
 * A connld echo server in a process of its own, for tests that need a server
 * they can kill:
 *
 * <pre>java -cp CLASSPATH org.streams4j.testsupport.ConnldEchoServerMain PATH [noaccept] [hook] [threads=N]</pre>
 *
 * Binds PATH with the default options, prints {@code READY <pid>} and then
 * echoes every connection until it is killed ({@code noaccept}: binds, prints
 * READY and never accepts; {@code hook}: with {@link ConnldOptions#shutdownHook()};
 * {@code threads=N}: N handler threads). It exits (System.exit 0) by itself when
 * its standard input reaches end of file, so that a test JVM that dies leaves
 * no server behind.
 *
 * <p>Also holds the small helpers the connld tests share: the echo handler,
 * line I/O over a {@link Connection}, and a serve loop on a thread of its
 * own ({@link Serving}). {@link Child} runs a main class such as this one in
 * a JVM of its own.
 */
public final class ConnldEchoServerMain {
    private ConnldEchoServerMain() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            usage();
        }
        boolean accept = true;
        ConnldOptions.Builder options = ConnldOptions.builder();
        for (String a : List.of(args).subList(1, args.length)) {
            if (a.equals("noaccept")) {
                accept = false;
            } else if (a.equals("hook")) {
                options.shutdownHook(true);
            } else if (a.startsWith("threads=")) {
                options.threads(Integer.parseInt(a.substring("threads=".length())));
            } else {
                usage();
            }
        }
        exitAtEndOfStdin();
        ConnldServer server = ConnldServer.bind(Path.of(args[0]), options.build());
        System.out.println("READY " + ProcessHandle.current().pid());
        System.out.flush();
        if (!accept) {
            Thread.sleep(Long.MAX_VALUE);
        }
        server.serve(ConnldEchoServerMain::echo);
    }

    private static void usage() {
        System.err.println("usage: ConnldEchoServerMain PATH [noaccept] [hook] [threads=N]");
        System.exit(2);
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

        /** Closes the server; fails if serve does not return within 10 s (scaled) or returned by failing. */
        @Override
        public void close() {
            server.close();
            try {
                thread.join(TimeScale.guardMillis(10_000));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted while waiting for serve on " + server.path(), e);
            }
            if (thread.isAlive()) {
                throw new AssertionError("serve on " + server.path() + " did not return within "
                    + TimeScale.guard(Duration.ofSeconds(10)) + " of close()");
            }
            if (failure != null) {
                throw new AssertionError("serve on " + server.path() + " failed", failure);
            }
        }
    }
}
