package org.streams4j.bench;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.streams4j.StreamFd;
import org.streams4j.StreamsException;

/** What every column shares: the sizes of the work and small helpers. */
final class Bench {
    /** Ping-pong and connection-rate message. */
    static final int MSG = 64;
    /** Throughput write sizes: the per-call cost shows at 4 KiB, the per-byte cost at 1 MiB. */
    static final int[] CHUNKS = {4 * 1024, 64 * 1024, 1024 * 1024};
    /** Descriptors passed per acknowledgement (bounds what is in flight). */
    static final int FD_BATCH = 32;
    static final String NULL_DEVICE = "/dev/null";

    private Bench() {
    }

    /** Fills the buffer's remaining space; false at end of stream. */
    static boolean readFully(StreamFd fd, ByteBuffer b) throws StreamsException {
        while (b.hasRemaining()) {
            if (fd.read(b) < 0) {
                return false;
            }
        }
        return true;
    }

    static void writeFully(StreamFd fd, ByteBuffer b) throws StreamsException {
        while (b.hasRemaining()) {
            fd.write(b);
        }
    }

    static boolean readFully(ByteChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            if (ch.read(b) < 0) {
                return false;
            }
        }
        return true;
    }

    static void writeFully(ByteChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }

    /** JDK 21's {@code Thread.ofVirtual().factory()}, or null on a JDK without virtual threads. */
    static java.util.concurrent.ThreadFactory virtualThreads() {
        try {
            Object builder = Thread.class.getMethod("ofVirtual").invoke(null);
            return (java.util.concurrent.ThreadFactory) Class.forName("java.lang.Thread$Builder")
                .getMethod("factory").invoke(builder);
        } catch (NoSuchMethodException | ClassNotFoundException e) {
            return null;
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }

    static ByteBuffer message() {
        ByteBuffer b = ByteBuffer.allocateDirect(MSG);
        while (b.hasRemaining()) {
            b.put((byte) 'x');
        }
        return b.clear();
    }

    /** A fresh directory for a socket or an attach point; short, for sun_path. */
    static Path tempDir() throws IOException {
        return Files.createTempDirectory(Path.of(System.getProperty("java.io.tmpdir")), "s4jb");
    }

    static void deleteTree(Path dir) {
        if (dir == null) {
            return;
        }
        try (var s = Files.walk(dir)) {
            s.sorted((a, b) -> b.getNameCount() - a.getNameCount()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    // left for the OS to clean
                }
            });
        } catch (IOException e) {
            // nothing to delete
        }
    }

    @FunctionalInterface
    interface Body {
        void run() throws Exception;
    }

    /**
     * The other end of a benchmark (echo, sink, accept loop) on its own
     * thread. It ends when its end is closed; a failure is reported by join.
     */
    static final class Background {
        private final Thread thread;
        private volatile Throwable failure;

        private Background(String name, Body body) {
            thread = new Thread(() -> {
                try {
                    body.run();
                } catch (Throwable t) {
                    failure = t;
                }
            }, "bench-" + name);
            thread.setDaemon(true);
        }

        static Background start(String name, Body body) {
            Background b = new Background(name, body);
            b.thread.start();
            return b;
        }

        /** Waits (at most ten seconds) for the thread; rethrows what it failed with. */
        void join() throws Exception {
            thread.join(TimeUnit.SECONDS.toMillis(10));
            if (thread.isAlive()) {
                throw new IllegalStateException(thread.getName() + " did not stop");
            }
            if (failure != null) {
                throw new IllegalStateException(thread.getName() + " failed", failure);
            }
        }
    }
}
