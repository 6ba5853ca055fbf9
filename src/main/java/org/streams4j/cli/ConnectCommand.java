package org.streams4j.cli;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import org.streams4j.Backend;
import org.streams4j.Connection;
import org.streams4j.ConnldClient;
import org.streams4j.Errno;
import org.streams4j.Platform;
import org.streams4j.ReadMode;
import org.streams4j.ReceivedFd;
import org.streams4j.StreamMessage;
import org.streams4j.StreamFd;
import org.streams4j.StreamsException;
import org.streams4j.Terminal;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code streamsctl connect PATH}: a client, like {@code cat} on a connld path but checked. */
@Command(name = "connect",
    header = "Connect to PATH: stdin to the server, the server to stdout (or --receive-fd).",
    sortOptions = false,
    description = {
        "Connect to the server at PATH: copy stdin to it and what it sends to stdout.",
        "At the end of stdin, tell the server that input has ended (shutdown(SHUT_WR)",
        "on a socket; on STREAMS a zero-length message, which a reader takes as end",
        "of file), then print what it sends until it closes the connection.",
        "Exit 1 with one line on stderr when the server closed without sending",
        "anything (it refused this client, say), sent nothing within --timeout after",
        "the end of input, or closed before all of the input was sent.",
        "A path with no server behind it (a plain file, a dead server's socket) is",
        "an error, never a file written to.",
        "With --messages each line of stdin is sent as one message (without its",
        "newline; an empty line sends nothing) and each message received is printed",
        "as one line; the end of input is not signalled (a zero-length message is",
        "data on STREAMS), so connect stops --linger after the last answer.",
        "With --raw (for a server's terminal, serve --pty) stdin is put in raw mode",
        "when it is a terminal, so that every key goes to the server as typed (^C",
        "included) and the remote terminal does the echo; its settings come back",
        "at the end. The end of stdin is not signalled, and connect runs until the",
        "server closes the connection (the command on the terminal exited).",
    },
    footer = {
        "",
        "Durations: 500ms, 2s, 1.5s, 1m (a bare number is seconds).",
        "",
        "Examples:",
        "  echo hello | streamsctl connect /tmp/echo",
        "  printf 'hello world\\n' | streamsctl connect /tmp/wc      # served by: serve /tmp/wc --exec wc -c",
        "  streamsctl connect /tmp/motd --receive-fd",
        "  printf 'one\\ntwo\\n' | streamsctl connect /tmp/msgs --messages  # served by: serve /tmp/msgs --echo --messages",
        "  streamsctl connect /var/run/admin --raw                # served by: serve /var/run/admin --pty /bin/sh -i",
    })
final class ConnectCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "PATH", description = "The path a server is serving.")
    Path path;

    @Option(names = "--timeout", paramLabel = "DUR", defaultValue = "10s", converter = Cli.DurationConverter.class,
        description = "Give up (exit 1) when the server has not accepted within DUR, or has sent nothing "
            + "within DUR after the end of input (with --receive-fd: no descriptor within DUR). "
            + "Default: ${DEFAULT-VALUE}.")
    Duration timeout;

    @Option(names = "--linger", paramLabel = "DUR", defaultValue = "1s", converter = Cli.DurationConverter.class,
        description = "Once input has ended and the server has answered, stop (exit 0) when nothing more "
            + "arrived for DUR though the server keeps the connection open (default: ${DEFAULT-VALUE}).")
    Duration linger;

    @Option(names = "--receive-fd",
        description = "Receive one descriptor from the server and copy what it reads from it to stdout. "
            + "--timeout then covers the whole command: connecting, the descriptor, and reading it to its end.")
    boolean receiveFd;

    @Option(names = "--max-bytes", paramLabel = "SIZE", defaultValue = "64m", converter = Cli.SizeConverter.class,
        description = "With --receive-fd: copy at most SIZE bytes (e.g. 4096, 512k, 64m, 1g) of what the "
            + "descriptor gives, then exit 1 saying so (a server may pass /dev/zero). Default: ${DEFAULT-VALUE}.")
    long maxBytes;

    @Option(names = "--messages",
        description = "Speak in messages: each line of stdin is one message, each message received is "
            + "printed as one line (its data part; a part larger than 64 KiB is printed as it comes, the line "
            + "ended by its last part). On Linux the server must serve messages (SOCK_SEQPACKET); on STREAMS "
            + "a message carries at most PIPE_BUF (5,120) bytes.")
    boolean messages;

    @Option(names = "--raw",
        description = "A remote terminal (serve --pty): stdin in raw mode while connected when it is a "
            + "terminal (restored at the end), its end not signalled; runs until the server closes.")
    boolean raw;

    /** Set by the stdin pump: System.nanoTime() at the end of input, 0 before. */
    private volatile long stdinEndedAt;
    /** Set by the stdin pump when input could not all be sent: why (the server closed, stdin failed). */
    private volatile String inputLost;
    private final Object pumpDone = new Object();

    @Override
    public Integer call() throws Exception {
        if (timeout.isZero() || linger.isZero()) {
            throw new Cli.Failure("connect: --timeout and --linger must be longer than zero");
        }
        if (messages && receiveFd) {
            throw new ParameterException(spec.commandLine(), "--messages and --receive-fd cannot be combined");
        }
        if (raw && (messages || receiveFd)) {
            throw new ParameterException(spec.commandLine(), "--raw cannot be combined with --messages or --receive-fd");
        }
        OutputStream out = new FileOutputStream(FileDescriptor.out);
        long deadline = System.nanoTime() + timeout.toNanos();
        try (Connection c = ConnldClient.connect(path, timeout)) {
            if (receiveFd) {
                return receive(c, out, deadline);
            }
            if (messages && Platform.backend() == Backend.PORTABLE
                && c.messages().readOptions().mode() == ReadMode.BYTE_STREAM) {
                throw failure("the server does not speak in messages (a SOCK_STREAM socket: serve it with"
                    + " --messages), or connect without --messages");
            }
            if (raw) {
                return remoteTerminal(c, out);
            }
            Cli.startDaemon("streamsctl-stdin", () -> fromStdin(c));
            copyToStdout(c, out);
        }
        return 0;
    }

    /**
     * --raw: stdin (raw while connected, when a terminal) to the server and
     * the server to stdout until the server closes; the terminal's settings
     * put back at the end, by a shutdown hook too (SIGTERM).
     */
    private int remoteTerminal(Connection c, OutputStream out) throws StreamsException {
        StreamFd in = StreamFd.duplicate(FileDescriptor.in);
        Terminal.Saved saved = Terminal.isTerminal(in) ? Terminal.makeRaw(in) : null;
        Thread restore = new Thread(() -> restore(saved), "streamsctl-restore-terminal");
        if (saved != null) {
            Runtime.getRuntime().addShutdownHook(restore);
        }
        try {
            Cli.startDaemon("streamsctl-stdin", () -> typing(c, in));
            byte[] buf = new byte[65536];
            for (;;) {
                int n;
                try {
                    n = c.read(buf, 0, buf.length);
                } catch (StreamsException e) {
                    if (!Cli.hangUp(e)) {
                        throw e;
                    }
                    n = -1;
                }
                if (n < 0 || !write(out, buf, n)) {
                    return 0;
                }
            }
        } finally {
            if (saved != null) {
                restore(saved);
                try {
                    Runtime.getRuntime().removeShutdownHook(restore);
                } catch (IllegalStateException shuttingDown) {
                    // the hook runs anyway
                }
            }
            in.close();
        }
    }

    private static void restore(Terminal.Saved saved) {
        try {
            if (saved != null) {
                saved.restore();
            }
        } catch (StreamsException e) {
            Cli.note("warning: the terminal's settings could not be put back (" + e.getMessage() + "): run stty sane");
        }
    }

    /** --raw's stdin to the server as it comes; its end is not signalled. */
    private static void typing(Connection c, StreamFd in) {
        byte[] buf = new byte[8192];
        try {
            for (int n; (n = in.read(buf, 0, buf.length)) > 0; ) {
                c.writeFully(buf, 0, n);
            }
        } catch (StreamsException e) {
            // the server closed, or stdin failed: the session ends with the server's close
        }
    }

    /**
     * One descriptor from the server, then what it reads to stdout, all
     * before {@code deadline} (the --timeout from the start of the command)
     * and at most --max-bytes of it: the server chooses what it passes, a
     * pipe it keeps open or /dev/zero among them. Every read waits in poll
     * for what is left of the time, never in read itself.
     */
    private int receive(Connection c, OutputStream out, long deadline) throws IOException {
        if (!c.fd().awaitReadable(left(deadline))) {
            throw new StreamsException("receiveFd", path.toString(), Errno.ETIMEDOUT,
                "no descriptor within " + Cli.human(timeout));
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
        try (got) {
            byte[] buf = new byte[65536];
            long copied = 0;
            while (true) {
                Duration left = left(deadline);
                if (left.isZero() || !got.fd().awaitReadable(left)) {
                    throw failure("the passed descriptor did not end within " + Cli.human(timeout)
                        + " (--timeout covers the whole command with --receive-fd); " + copied + " bytes copied");
                }
                int want = (int) Math.min(buf.length, maxBytes - copied + 1);
                int n = got.fd().read(buf, 0, want);
                if (n <= 0) {
                    return 0;
                }
                boolean over = copied + n > maxBytes;
                int keep = over ? (int) (maxBytes - copied) : n;
                if (keep > 0 && !write(out, buf, keep)) {
                    return 0;       // nobody reads stdout any more
                }
                copied += keep;
                if (over) {
                    throw failure("stopped after " + copied + " bytes of the passed descriptor (--max-bytes "
                        + Cli.size(maxBytes) + ")");
                }
            }
        }
    }

    /** What is left until {@code deadline}, zero once it passed. */
    private static Duration left(long deadline) {
        return Duration.ofNanos(Math.max(0, deadline - System.nanoTime()));
    }

    /**
     * The server's data to stdout until it closes; after the end of input at
     * most --timeout for its first byte, then --linger between bytes.
     */
    private void copyToStdout(Connection c, OutputStream out) throws StreamsException {
        byte[] buf = new byte[65536];
        StreamMessage m = messages ? new StreamMessage(1024, buf.length - 1) : null;
        long received = 0;
        long lastData = 0;
        long tick = Duration.ofMillis(200).toNanos();
        while (true) {
            long wait = tick;
            long ended = stdinEndedAt;
            if (ended != 0) {
                long from = received == 0 ? ended : Math.max(ended, lastData);
                long left = (received == 0 ? timeout : linger).toNanos() - (System.nanoTime() - from);
                if (left <= 0) {
                    if (received == 0) {
                        throw failure("no answer within " + Cli.human(timeout)
                            + " after the end of input (is the server busy?)");
                    }
                    if (inputLost != null) {
                        throw failure("not all of the input was sent: " + inputLost);
                    }
                    return;     // answered, and quiet since: the server keeps the connection open
                }
                wait = Math.min(left, tick);
            }
            if (!c.fd().awaitReadable(Duration.ofNanos(wait))) {
                continue;
            }
            int n;
            try {
                if (m != null) {
                    if (!c.messages().receive(m)) {
                        n = -1;
                    } else {
                        // The data part as one line (a part that did not fit comes next, the
                        // line ended by the last one); a control part has no line of its own.
                        n = m.hasData() ? m.data().remaining() : 0;
                        m.data().get(buf, 0, n);
                        if (m.hasData() && !m.moreData()) {
                            buf[n++] = '\n';
                        }
                    }
                } else {
                    n = c.read(buf, 0, buf.length);
                }
            } catch (StreamsException e) {
                if (e.errno() == Errno.EBADMSG) {
                    throw new StreamsException("read", path.toString(), Errno.EBADMSG,
                        "the server passed a descriptor; use --receive-fd");
                }
                if (!Cli.hangUp(e)) {
                    throw e;
                }
                n = -1;
            }
            if (n < 0) {
                closedByServer(received);
                return;
            }
            received += n;
            lastData = System.nanoTime();
            if (!write(out, buf, n)) {
                return;     // nobody reads stdout any more
            }
        }
    }

    /** The server closed: fine when it answered and got all of the input. */
    private void closedByServer(long received) throws StreamsException {
        if (received == 0) {
            throw failure("the server closed the connection without answering (refused by its allow list?)");
        }
        if (stdinEndedAt == 0) {
            // Input may still be coming: give it --linger to end or to fail on the closed connection.
            long deadline = System.nanoTime() + linger.toNanos();
            synchronized (pumpDone) {
                while (stdinEndedAt == 0) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) {
                        break;
                    }
                    try {
                        java.util.concurrent.TimeUnit.NANOSECONDS.timedWait(pumpDone, left);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        break;
                    }
                }
            }
        }
        if (inputLost != null) {
            throw failure("not all of the input was sent: " + inputLost);
        }
    }

    private Cli.Failure failure(String why) {
        return new Cli.Failure("connect " + path + ": " + why);
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

    /**
     * stdin to the server; at its end, the end of input is signalled
     * (StreamFd.shutdownOutput), except with --messages.
     */
    private void fromStdin(Connection c) {
        try (InputStream in = new BufferedInputStream(new FileInputStream(FileDescriptor.in), 65536)) {
            if (messages) {
                linesToMessages(in, c);
            } else {
                byte[] buf = new byte[65536];
                int n;
                while ((n = in.read(buf)) > 0) {
                    c.writeFully(buf, 0, n);
                }
                c.fd().shutdownOutput();
            }
        } catch (StreamsException e) {
            inputLost = Cli.hangUp(e) ? "the server closed the connection before it had read all of it ("
                + e.errnoName() + ")" : e.getMessage();
        } catch (IOException e) {
            inputLost = "reading stdin: " + e.getMessage();
        } finally {
            synchronized (pumpDone) {
                stdinEndedAt = System.nanoTime();
                pumpDone.notifyAll();
            }
        }
    }

    /**
     * One message per line, its newline left off; empty lines are skipped (on
     * a SOCK_SEQPACKET socket a zero-length message reads as the end). The
     * end of input is not signalled: shutdownOutput would be a zero-length
     * message on STREAMS, which a message reader takes as data.
     */
    private static void linesToMessages(InputStream in, Connection c) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int b;
        do {
            b = in.read();
            if (b != '\n' && b >= 0) {
                line.write(b);
            } else if (line.size() > 0) {
                c.messages().send(line.toByteArray());
                line.reset();
            }
        } while (b >= 0);
    }
}
