package org.streams4j.cli;

import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import org.streams4j.Connection;
import org.streams4j.ConnldClient;
import org.streams4j.Errno;
import org.streams4j.ReceivedFd;
import org.streams4j.StreamsException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code streamsctl connect PATH}: a client, like {@code cat} on a connld path but checked. */
@Command(name = "connect",
    header = "Connect to PATH: stdin to the server, the server to stdout (or --receive-fd).",
    sortOptions = false,
    description = {
        "Connect to the server at PATH: copy stdin to it and what it sends to stdout.",
        "After stdin ends, keeps printing until the server closes or nothing arrived for --linger.",
        "A path with no server behind it (a plain file, a dead server's socket) is an error,",
        "never a file written to.",
    },
    footer = {
        "",
        "Durations: 500ms, 2s, 1.5s, 1m (a bare number is seconds).",
        "",
        "Examples:",
        "  echo hello | streamsctl connect /tmp/echo",
        "  streamsctl connect /tmp/motd --receive-fd",
    })
final class ConnectCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "PATH", description = "The path a server is serving.")
    Path path;

    @Option(names = "--timeout", paramLabel = "DUR", converter = Cli.DurationConverter.class,
        description = "Give up when the server has not accepted within DUR (with --receive-fd: "
            + "also when no descriptor arrived within DUR). Default: wait.")
    Duration timeout;

    @Option(names = "--linger", paramLabel = "DUR", defaultValue = "1s", converter = Cli.DurationConverter.class,
        description = "After stdin ends, stop when nothing arrived for DUR (default: ${DEFAULT-VALUE}).")
    Duration linger;

    @Option(names = "--receive-fd",
        description = "Receive one descriptor from the server and copy what it reads from it to stdout.")
    boolean receiveFd;

    private volatile boolean stdinEnded;
    private volatile long stdinEndedAt;     // System.nanoTime() when stdinEnded was set

    @Override
    public Integer call() throws Exception {
        OutputStream out = new FileOutputStream(FileDescriptor.out);
        try (Connection c = timeout == null ? ConnldClient.connect(path) : ConnldClient.connect(path, timeout)) {
            if (receiveFd) {
                return receive(c, out);
            }
            Thread pump = new Thread(() -> fromStdin(c), "streamsctl-stdin");
            pump.setDaemon(true);
            pump.start();
            copyToStdout(c, out);
        }
        return 0;
    }

    private int receive(Connection c, OutputStream out) throws IOException {
        if (timeout != null && !c.fd().awaitReadable(timeout)) {
            throw new StreamsException("receiveFd", path.toString(), Errno.ETIMEDOUT,
                "no descriptor within " + timeout.toMillis() + "ms");
        }
        ReceivedFd got;
        try {
            got = c.receiveFd();
        } catch (StreamsException e) {
            if (e.errno() == Errno.EBADMSG) {
                throw new StreamsException("receiveFd", path.toString(), Errno.EBADMSG,
                    "the server sent data, not a descriptor; connect without --receive-fd");
            }
            if (Cli.hangUp(e) || e.errno() == Errno.ECONNRESET) {
                throw new StreamsException("receiveFd", path.toString(), e.errno(),
                    "the server closed the connection without passing a descriptor");
            }
            throw e;
        }
        try (got; InputStream in = got.inputStream()) {
            byte[] buf = new byte[65536];
            int n;
            while ((n = in.read(buf)) > 0) {
                if (!write(out, buf, n)) {
                    break;
                }
            }
        }
        return 0;
    }

    private void copyToStdout(Connection c, OutputStream out) throws StreamsException {
        byte[] buf = new byte[65536];
        long lastData = System.nanoTime();
        Duration tick = Duration.ofMillis(200);
        while (true) {
            Duration wait = tick;
            if (stdinEnded) {
                long ended = stdinEndedAt;
                long since = ended - lastData > 0 ? ended : lastData;
                long left = linger.toNanos() - (System.nanoTime() - since);
                if (left <= 0) {
                    return;
                }
                wait = Duration.ofNanos(Math.min(left, tick.toNanos()));
            }
            if (!c.fd().awaitReadable(wait)) {
                continue;
            }
            int n;
            try {
                n = c.read(buf, 0, buf.length);
            } catch (StreamsException e) {
                if (e.errno() == Errno.EBADMSG) {
                    throw new StreamsException("read", path.toString(), Errno.EBADMSG,
                        "the server passed a descriptor; use --receive-fd");
                }
                if (Cli.hangUp(e)) {
                    return;     // the server closed, possibly before reading all we sent
                }
                throw e;
            }
            if (n < 0) {
                return;
            }
            lastData = System.nanoTime();
            if (!write(out, buf, n)) {
                return;
            }
        }
    }

    /** stdout, unbuffered; false when nobody reads it any more. */
    private static boolean write(OutputStream out, byte[] buf, int n) {
        try {
            out.write(buf, 0, n);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private void fromStdin(Connection c) {
        byte[] buf = new byte[65536];
        try (InputStream in = new FileInputStream(FileDescriptor.in)) {
            int n;
            while ((n = in.read(buf)) > 0) {
                c.writeFully(buf, 0, n);
            }
        } catch (IOException e) {
            // the server closed (EPIPE) or stdin failed: either way, nothing more to send
        } finally {
            stdinEndedAt = System.nanoTime();
            stdinEnded = true;
        }
    }
}
