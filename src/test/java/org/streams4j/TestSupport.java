package org.streams4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;

/** Small helpers shared by the tests; nothing here stands in for the kernel. */
final class TestSupport {
    private TestSupport() {
    }

    static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    static String ascii(byte[] b, int off, int len) {
        return new String(b, off, len, StandardCharsets.US_ASCII);
    }

    /** Reads exactly n bytes (several reads if the descriptor returns fewer); fails at end of stream. */
    static byte[] readExactly(StreamFd fd, int n) throws StreamsException {
        byte[] b = new byte[n];
        int got = 0;
        while (got < n) {
            int r = fd.read(b, got, n - got);
            if (r < 0) {
                fail("end of stream after " + got + " of " + n + " bytes on " + fd.name());
            }
            got += r;
        }
        return b;
    }

    /**
     * One round trip on a connection to an echo server: writes {@code text},
     * reads its echo back with reads bounded by {@code guard} (a failure, never
     * a wait for ever).
     */
    static void echoRound(Connection c, String text, Duration guard) throws StreamsException {
        byte[] b = ascii(text);
        c.writeFully(b);
        byte[] back = new byte[b.length];
        int got = 0;
        while (got < b.length) {
            int n = c.read(back, got, b.length - got, guard);
            assertTrue(n > 0, "end of stream before the echo of " + text);
            got += n;
        }
        assertEquals(text, ascii(back, 0, back.length));
    }

    /** {@link #echoRound} on a new connection to the echo server at {@code p}. */
    static void echoes(Path p, String text, Duration guard) throws StreamsException {
        try (Connection c = ConnldClient.connect(p, guard)) {
            echoRound(c, text, guard);
        }
    }

    static String readString(StreamFd fd, int n) throws StreamsException {
        byte[] b = readExactly(fd, n);
        return ascii(b, 0, b.length);
    }

    /** Makes {@code w} non-blocking and writes until the queue is full (EAGAIN); returns the bytes queued. */
    static long fillUntilFull(StreamFd w) throws StreamsException {
        assertEquals(0, w.descriptor().use("fcntl", n -> org.streams4j.internal.Shim.s4j_set_nonblocking(n, 1)));
        byte[] chunk = new byte[4096];
        long queued = 0;
        while (true) {
            try {
                queued += w.write(chunk, 0, chunk.length);
            } catch (StreamsException e) {
                assertEquals("EAGAIN", e.errnoName());
                return queued;
            }
        }
    }

    /** Reads and drops exactly n bytes. */
    static void drain(StreamFd r, long n) throws StreamsException {
        byte[] sink = new byte[65536];
        long drained = 0;
        while (drained < n) {
            int got = r.read(sink, 0, (int) Math.min(sink.length, n - drained));
            if (got < 0) {
                fail("end of stream after " + drained + " of " + n + " bytes on " + r.name());
            }
            drained += got;
        }
    }

    /** Asserts that nothing is waiting to be read: no data and no descriptor. */
    static void assertNothingQueued(StreamFd fd) throws StreamsException {
        assertEquals(0, fd.available(), "bytes left on " + fd.name());
        assertTrue(!fd.awaitReadable(Duration.ZERO), "something left to read on " + fd.name());
    }

    /**
     * Asserts end of stream: readable within a generous bound (so that a descriptor
     * that wrongly stayed open fails the test instead of hanging it), then read gives -1.
     */
    static void assertEndOfStream(StreamFd fd) throws StreamsException {
        assertTrue(fd.awaitReadable(TestSupport.guard(Duration.ofSeconds(10))), "no end of stream on " + fd.name());
        assertEquals(-1, fd.read(new byte[8]), "end of stream on " + fd.name());
    }

    /** Where the kernel lists this process's open descriptors. */
    static Path fdDir() {
        Path proc = Path.of("/proc/self/fd");
        return Files.isDirectory(proc) ? proc : Path.of("/dev/fd");
    }

    /**
     * This process's open descriptors, once the closes handed to the Closer
     * (a peer's descriptors, a server's connections) are done (at most 10 s).
     */
    static long openDescriptorCount() throws IOException {
        try {
            Closer.awaitIdle(Duration.ofSeconds(10));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try (Stream<Path> s = Files.list(fdDir())) {
            return s.count();
        }
    }

    /**
     * {@code d} times the one time scale for slow machines
     * ({@link org.streams4j.testsupport.TimeScale}): the bound a test waits
     * within for something to happen, never a time-out that is the test's subject.
     */
    static Duration guard(Duration d) {
        return org.streams4j.testsupport.TimeScale.guard(d);
    }

    /**
     * The descriptors this process holds at one moment, each with what it
     * refers to. A leak check takes one before the test's work and
     * {@link #assertClosedSince} after it: it looks only at the descriptors
     * opened since that a test can have made (sockets, pipes, epoll and event
     * descriptors, files under the test's directories), not at the process's
     * total, which anything else in the JVM (class loading, the JIT, the
     * random devices) can move.
     */
    static final class Descriptors {
        private final java.util.Map<Integer, String> open;

        private Descriptors(java.util.Map<Integer, String> open) {
            this.open = open;
        }

        static Descriptors now() throws IOException {
            java.util.Map<Integer, String> m = new java.util.TreeMap<>();
            try (Stream<Path> s = Files.list(fdDir())) {
                for (Path f : (Iterable<Path>) s::iterator) {
                    int n;
                    try {
                        n = Integer.parseInt(f.getFileName().toString());
                    } catch (NumberFormatException e) {
                        continue;
                    }
                    String t = target(n);
                    if (t != null) {
                        m.put(n, t);
                    }
                }
            }
            return new Descriptors(m);
        }

        /**
         * What n refers to: the /proc/self/fd link on Linux, /proc/self/path
         * on illumos (a file's path; "?" where it names none, a socket or a
         * pipe); null when n is not open (any more).
         */
        private static String target(int n) throws IOException {
            Path link = Path.of("/proc/self/fd", Integer.toString(n));
            if (!Files.isSymbolicLink(link)) {
                link = Path.of("/proc/self/path", Integer.toString(n));
            }
            try {
                return Files.readSymbolicLink(link).toString();
            } catch (NoSuchFileException e) {
                return Files.exists(fdDir().resolve(Integer.toString(n))) ? "?" : null;
            } catch (IOException | UnsupportedOperationException e) {
                return "?";
            }
        }

        /**
         * The descriptors open now that were not open in {@code before} (or
         * now refer to something else) and that a test can have made: sockets,
         * pipes, anonymous inodes (epoll, eventfd), files under {@code dirs},
         * and whatever the platform does not name.
         */
        static java.util.Map<Integer, String> madeSince(Descriptors before, Path... dirs) throws IOException {
            java.util.Map<Integer, String> made = new java.util.TreeMap<>();
            now().open.forEach((n, t) -> {
                if (!t.equals(before.open.get(n)) && testMade(t, dirs)) {
                    made.put(n, t);
                }
            });
            return made;
        }

        private static boolean testMade(String t, Path... dirs) {
            if (t.equals("?") || t.startsWith("socket:") || t.startsWith("pipe:") || t.startsWith("anon_inode:")) {
                return true;
            }
            for (Path d : dirs) {
                if (t.startsWith(d.toAbsolutePath().toString())) {
                    return true;
                }
            }
            return false;
        }
    }

    /**
     * Asserts that every descriptor the test made since {@code before}
     * ({@link Descriptors#madeSince}) is closed again, waiting at most
     * {@code guard} (a scaled guard already): a connection that a serve loop closes after
     * its handler returned is closed on the server's thread, a little later
     * than the client sees its end. Fails naming those still open.
     */
    static void assertClosedSince(Descriptors before, Duration guard, Path... dirs)
        throws IOException, InterruptedException {
        long deadline = System.nanoTime() + guard.toNanos();
        java.util.Map<Integer, String> left = Descriptors.madeSince(before, dirs);
        while (!left.isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(10);
            left = Descriptors.madeSince(before, dirs);
        }
        assertTrue(left.isEmpty(), "descriptors made by the test still open after " + guard + ": " + left);
    }

    /**
     * What descriptor n refers to (Linux: the /proc/self/fd symlink's target),
     * or null when n is not open.
     */
    static String linuxFdTarget(int n) throws IOException {
        try {
            return Files.readSymbolicLink(Path.of("/proc/self/fd", Integer.toString(n))).toString();
        } catch (NoSuchFileException e) {
            return null;
        }
    }

    /** Runs a task on its own daemon thread; {@link #get(Duration)} returns its result or rethrows. */
    static final class Background<T> {
        private final FutureTask<T> task;
        private final Thread thread;

        Background(String name, Callable<T> c) {
            task = new FutureTask<>(c);
            thread = new Thread(task, name);
            thread.setDaemon(true);
            thread.start();
        }

        Thread thread() {
            return thread;
        }

        T get(Duration timeout) throws Exception {
            try {
                return task.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            } catch (ExecutionException e) {
                Throwable c = e.getCause();
                if (c instanceof Exception ex) {
                    throw ex;
                }
                if (c instanceof Error er) {
                    throw er;
                }
                throw e;
            } catch (TimeoutException e) {
                throw new AssertionError(thread.getName() + " did not finish within " + timeout, e);
            }
        }

        /** The exception the task ended with (fails if it returned normally). */
        Throwable failure(Duration timeout) throws InterruptedException {
            try {
                T r = task.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
                throw new AssertionError(thread.getName() + " returned " + r + " instead of failing");
            } catch (ExecutionException e) {
                return e.getCause();
            } catch (TimeoutException e) {
                throw new AssertionError(thread.getName() + " did not finish within " + timeout, e);
            }
        }
    }

    /**
     * Waits, at most {@code guard}, until thread t is inside the native call
     * {@code method} (seen in its stack), so that a test acts on a thread that
     * really blocks in the kernel. Returns early if t has finished: its own
     * result then tells what happened.
     */
    static void awaitInNative(Thread t, String method, Duration guard) throws InterruptedException {
        awaitInNative(t, guard, method);
    }

    /** {@link #awaitInNative(Thread, String, Duration)} for a thread that may block in any of several calls. */
    static void awaitInNative(Thread t, Duration guard, String... methods) throws InterruptedException {
        java.util.Set<String> wanted = java.util.Set.of(methods);
        long deadline = System.nanoTime() + guard.toNanos();
        while (System.nanoTime() < deadline) {
            for (StackTraceElement f : t.getStackTrace()) {
                if (wanted.contains(nativeName(f))) {
                    return;
                }
            }
            if (!t.isAlive()) {
                return;
            }
            Thread.sleep(5);
        }
        fail(t.getName() + " never reached " + wanted + "; state " + t.getState());
    }

    /**
     * The shim function a stack frame stands for: a JNA native method of
     * Shim is named after it ({@code s4j_recv}); an FFM downcall's topmost
     * visible frame is the HotCalls method of FfmCalls ({@code recv},
     * {@code evWait}), the downcall stub's own frames being hidden.
     */
    static String nativeName(StackTraceElement f) {
        if (!isFfmCall(f)) {
            return f.getMethodName();
        }
        StringBuilder b = new StringBuilder("s4j_");
        for (char c : f.getMethodName().toCharArray()) {
            if (Character.isUpperCase(c)) {
                b.append('_').append(Character.toLowerCase(c));
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }

    private static boolean isFfmCall(StackTraceElement f) {
        return f.getClassName().equals("org.streams4j.internal.FfmCalls") && !f.getMethodName().equals("name");
    }

    /**
     * Waits, at most {@code guard}, until thread t sits in a native call of the
     * shim (whichever: for a thread whose code may change what it waits in,
     * such as an event loop), or has finished.
     */
    static void awaitInShim(Thread t, Duration guard) throws InterruptedException {
        long deadline = System.nanoTime() + guard.toNanos();
        while (System.nanoTime() < deadline) {
            StackTraceElement[] stack = t.getStackTrace();
            if (!t.isAlive() || stack.length > 0 && (stack[0].isNativeMethod()
                && stack[0].getClassName().startsWith("org.streams4j.internal.") || isFfmCall(stack[0]))) {
                return;
            }
            Thread.sleep(5);
        }
        fail(t.getName() + " never waited in the shim; state " + t.getState());
    }

    /**
     * Connects to {@code p}, a server that never accepts (bound with backlog 0),
     * each time with time-out {@code t}, until a connect gives up: then its queue
     * is full (an AF_UNIX listener queues one; a STREAMS open waits from the
     * first). The connections that got in are added to {@code queued}, for the
     * caller to close. Each attempt that gave up leaves its open waiting until
     * the server accepts or closes.
     *
     * @return the ETIMEDOUT of the connect that gave up
     */
    static StreamsException fillQueue(Path p, Duration t, java.util.List<Connection> queued) throws StreamsException {
        for (int i = 0; i < 16; i++) {
            long t0 = System.nanoTime();
            try {
                queued.add(ConnldClient.connect(p, t));
            } catch (StreamsException e) {
                long waited = System.nanoTime() - t0;
                assertEquals("ETIMEDOUT", e.errnoName(), e.getMessage());
                assertTrue(waited >= t.toNanos(), "gave up after " + waited / 1_000_000 + " ms");
                return e;
            }
        }
        throw new AssertionError("16 connects to a server that never accepts all succeeded");
    }

    /**
     * Connects to the server at {@code p} (an echo server) as a user that the
     * path's mode applies to, sends a token and reads the echo: on this
     * process when it is not root; when it is, in a child process run as user
     * nobody (root passes any mode, so EACCES could never be seen). The
     * directories down to {@code p} must let others pass ({@link #letOthersIn}).
     *
     * @return {@code "ECHO <token>"}, or {@code "FAILED <operation> <errno> <target>"}
     */
    static String connectUnprivileged(Path p, Duration guard) throws Exception {
        String token = "unprivileged-" + System.nanoTime();
        if (Platform.euid() != 0) {
            try (Connection c = ConnldClient.connect(p, guard)) {
                org.streams4j.testsupport.ConnldEchoServerMain.writeLine(c, token);
                return "ECHO " + org.streams4j.testsupport.ConnldEchoServerMain.readLine(c);
            } catch (StreamsException e) {
                return "FAILED " + e.operation() + " " + e.errnoName() + " " + e.target();
            }
        }
        try (org.streams4j.testsupport.Child child =
                 org.streams4j.testsupport.Child.startUnprivileged(
                     org.streams4j.testsupport.ConnldClientMain.class, p.toString(), token)) {
            child.awaitExit(guard);
            return child.output().stream().filter(l -> l.startsWith("ECHO ") || l.startsWith("FAILED "))
                .findFirst().orElseThrow(() -> new AssertionError("the client as nobody said: " + child.output()));
        }
    }

    /** Lets everybody pass through (not list) {@code dir}, as /tmp's subdirectories usually do; @TempDir makes it 0700. */
    static void letOthersIn(Path dir) throws IOException {
        Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwx--x--x"));
    }

    /**
     * Records what a java.util.logging logger (where System.Logger goes) logs
     * during each test. Register it as a field:
     * {@code @RegisterExtension final LogCapture log = new LogCapture("org.streams4j.connld");}
     */
    static final class LogCapture implements org.junit.jupiter.api.extension.BeforeEachCallback,
        org.junit.jupiter.api.extension.AfterEachCallback {
        private final String name;
        /** Held here: java.util.logging keeps loggers only weakly. */
        private java.util.logging.Logger jul;
        private final java.util.List<java.util.logging.LogRecord> records = new java.util.ArrayList<>();
        private final java.util.logging.Handler capture = new java.util.logging.Handler() {
            @Override
            public void publish(java.util.logging.LogRecord r) {
                synchronized (records) {
                    records.add(r);
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };

        LogCapture(String name) {
            this.name = name;
        }

        @Override
        public void beforeEach(org.junit.jupiter.api.extension.ExtensionContext context) {
            jul = java.util.logging.Logger.getLogger(name);
            capture.setLevel(java.util.logging.Level.ALL);
            jul.addHandler(capture);
        }

        @Override
        public void afterEach(org.junit.jupiter.api.extension.ExtensionContext context) {
            jul.removeHandler(capture);
        }

        /** The records at exactly this level so far. */
        java.util.List<java.util.logging.LogRecord> at(java.util.logging.Level level) {
            synchronized (records) {
                return records.stream().filter(r -> r.getLevel() == level).toList();
            }
        }

        /** Waits (at most {@code guard}) for n records at this level; fails unless there are exactly n. */
        java.util.List<java.util.logging.LogRecord> await(java.util.logging.Level level, int n, Duration guard)
            throws InterruptedException {
            long deadline = System.nanoTime() + guard.toNanos();
            while (at(level).size() < n) {
                if (System.nanoTime() > deadline) {
                    fail("expected " + n + " " + level + " records on " + name + " within " + guard + ", got "
                        + at(level).stream().map(LogCapture::text).toList());
                }
                Thread.sleep(10);
            }
            java.util.List<java.util.logging.LogRecord> got = at(level);
            assertEquals(n, got.size(), "records: " + got.stream().map(LogCapture::text).toList());
            return got;
        }

        static String text(java.util.logging.LogRecord r) {
            return new java.util.logging.SimpleFormatter().formatMessage(r);
        }
    }

    /**
     * Collects every failure of the connld handlers a test wraps with it, and
     * fails the test after it ran when there were any: an assertion inside a
     * handler runs on a server thread, where JUnit never sees it. The wrapped
     * handler still throws, so the server does what it does with a failing
     * handler (closes that connection). Register it as a field:
     * {@code @RegisterExtension final HandlerFailures failures = new HandlerFailures();}
     */
    static final class HandlerFailures implements org.junit.jupiter.api.extension.AfterEachCallback {
        private final java.util.List<Throwable> seen = new java.util.concurrent.CopyOnWriteArrayList<>();

        ConnldServer.Handler wrap(ConnldServer.Handler h) {
            return c -> {
                try {
                    h.handle(c);
                } catch (StreamClosedException e) {
                    throw e;    // the server stopped and closed the connection under the handler
                } catch (Throwable t) {
                    seen.add(t);
                    throw t;
                }
            };
        }

        ConnldServer.EventHandler wrapEvents(ConnldServer.EventHandler h) {
            return new ConnldServer.EventHandler() {
                @Override
                public void opened(Connection c) throws Exception {
                    try {
                        h.opened(c);
                    } catch (Throwable t) {
                        seen.add(t);
                        throw t;
                    }
                }

                @Override
                public boolean readable(Connection c) throws Exception {
                    try {
                        return h.readable(c);
                    } catch (Throwable t) {
                        seen.add(t);
                        throw t;
                    }
                }

                @Override
                public void writable(Connection c) throws Exception {
                    try {
                        h.writable(c);
                    } catch (Throwable t) {
                        seen.add(t);
                        throw t;
                    }
                }

                @Override
                public void closed(Connection c) {
                    try {
                        h.closed(c);
                    } catch (Throwable t) {
                        seen.add(t);
                        throw t;
                    }
                }
            };
        }

        /** The failures so far, which no longer fail the test (for a test that makes a handler fail on purpose). */
        java.util.List<Throwable> take() {
            java.util.List<Throwable> out = java.util.List.copyOf(seen);
            seen.removeAll(out);
            return out;
        }

        /** Fails now if a handler has failed. */
        void check() {
            java.util.List<Throwable> out = take();
            if (!out.isEmpty()) {
                AssertionError e = new AssertionError(out.size() + " handler failure(s), the first: " + out.get(0),
                    out.get(0));
                out.subList(1, out.size()).forEach(e::addSuppressed);
                throw e;
            }
        }

        @Override
        public void afterEach(org.junit.jupiter.api.extension.ExtensionContext context) {
            check();
        }
    }
}
