package org.streams4j.cli;

import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.streams4j.Backend;
import org.streams4j.Errno;
import org.streams4j.FileType;
import org.streams4j.Platform;
import org.streams4j.QueuedMessages;
import org.streams4j.ReadMode;
import org.streams4j.ReadOptions;
import org.streams4j.StreamMessages;
import org.streams4j.WriteOption;
import org.streams4j.StreamFd;
import org.streams4j.Streams;
import org.streams4j.StreamsException;
import org.streams4j.internal.FileStat;
import org.streams4j.internal.Shim;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code streamsctl info PATH | --fd N}: what is there, as STREAMS sees it. */
@Command(name = "info",
    header = "Show what PATH or fd N is: stream or not, server attached, modules, backend.",
    sortOptions = false,
    description = {
        "Show what PATH or descriptor N is: its file type, whether it is a stream,",
        "whether a server is attached, the module stack (STREAMS only), the backend.",
        "No server sees this command where the kernel can tell: on STREAMS a path",
        "with a stream attached is known from statvfs (namefs) and never opened",
        "(opening it would connect); on Linux the kernel lists the sockets that",
        "listen (sock_diag). Only a socket nobody is listed on (on macOS and the",
        "BSDs, any socket) is connected to, within --timeout, and closed at once:",
        "a refusal means a dead server's socket, a full queue a live server. The",
        "connect goes to the socket file looked at (on Linux through the descriptor",
        "held on it), never through a link put there since.",
        "An unattached FIFO or character device is opened (non-blocking, not",
        "through a link, for at most --timeout) and reported on only if it is the",
        "file looked at.",
    },
    footer = {
        "",
        "Examples:",
        "  streamsctl info /tmp/echo",
        "  streamsctl info --json /tmp/echo",
        "  streamsctl info --fd 0 < /dev/tty",
    })
final class InfoCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", arity = "0..1", paramLabel = "PATH", description = "A path.")
    Path path;

    @Option(names = "--fd", paramLabel = "N",
        description = "A descriptor this command inherited, e.g. --fd 0 < /dev/x.")
    Integer fd;

    @Option(names = "--json",
        description = "One JSON object on one line: the same rows, keys with _ for spaces (file_type).")
    boolean json;

    @Option(names = "--timeout", paramLabel = "DUR", defaultValue = "2s", converter = Cli.DurationConverter.class,
        description = "How long a probe may take (a server whose queue is full never answers; "
            + "default: ${DEFAULT-VALUE}).")
    Duration timeout;

    @Override
    public Integer call() throws Exception {
        if ((path == null) == (fd == null)) {
            throw new ParameterException(spec.commandLine(), "give either PATH or --fd N");
        }
        Map<String, String> rows = new LinkedHashMap<>();
        if (timeout.isZero() || timeout.isNegative()) {
            throw new ParameterException(spec.commandLine(), "--timeout must be longer than zero");
        }
        if (fd != null) {
            describeFd(rows, fd);
        } else {
            describePath(rows, path, timeout);
        }
        rows.put("backend", Platform.describe());
        StringBuilder sb = new StringBuilder();
        if (json) {
            Map<String, String> keyed = new LinkedHashMap<>();
            rows.forEach((k, v) -> keyed.put(Json.key(k), v));
            sb.append(Json.of(keyed)).append(System.lineSeparator());
        } else {
            // One row a line whatever a name holds: Cli.escape, as for every text output of a path.
            rows.forEach((k, v) -> sb.append(String.format("%-10s %s%n", k, Cli.escape(v))));
        }
        System.out.print(sb);
        System.out.flush();
        return 0;
    }

    private static void describePath(Map<String, String> rows, Path path, Duration timeout) throws StreamsException {
        String p = path.toString();
        int type = Shim.s4j_path_type(p);
        if (type < 0) {
            throw new StreamsException("info", p, -type);
        }
        rows.put("path", p);
        rows.put("file type", Cli.fileType(type));
        if (Platform.backend() == Backend.STREAMS) {
            boolean attached = Streams.isAttached(path);    // statvfs: asks namefs, never the server
            if (attached && type != Shim.FT_FIFO && type != Shim.FT_CHAR) {
                // namefs also carries fattach-ed doors (S_IFDOOR): no stream, no connld server.
                rows.put("stream", "no (attached with fattach, but not a stream: a door?)");
                rows.put("server", "none (not a stream)");
                return;
            }
            if (attached) {
                rows.put("stream", "yes (attached with fattach)");
                rows.put("server", "attached");
                rows.put("modules", "not looked at: opening an attached path connects to its server");
                return;
            }
            rows.put("server", "none attached");
            if (type == Shim.FT_CHAR || type == Shim.FT_FIFO) {
                lookInside(rows, p, timeout);
            } else {
                rows.put("stream", "no");
            }
            return;
        }
        rows.put("stream", "no (the portable backend has no STREAMS)");
        if (type == Shim.FT_SOCKET) {
            rows.put("server", probeSocket(path, timeout));
        } else {
            rows.put("server", "none attached");
        }
        rows.put("modules", "not supported on this platform");
    }

    /**
     * The stream rows of an unattached FIFO or character device, read on a
     * descriptor that is checked to be the very file looked at. The open
     * ({@code O_NONBLOCK|O_NOFOLLOW}: {@code vn_openat} refuses a link with
     * ELOOP before {@code VOP_OPEN}) is by name, and a connld pipe attached
     * there since the check (its owner may fattach over it) turns it into a
     * connect: the open then sleeps in {@code fifo_stropen} and
     * {@code fifo_connld} until that server's {@code I_RECVFD}, which
     * O_NONBLOCK does not cut short (docs/ILLUMOS-NOTES.md). So it runs on a
     * thread of its own for at most {@code timeout}; a descriptor it gets
     * after that is closed by that thread. What it opened is {@code fstat}-ed
     * and must be the file {@code lstat} saw (device and inode; a namefs
     * node or a connld pipe is neither), and {@code isastream} and
     * {@code I_LIST} are asked of that held descriptor only.
     */
    private static void lookInside(Map<String, String> rows, String p, Duration timeout) throws StreamsException {
        FileStat looked = FileStat.ofPath(p);
        if (!looked.ok()) {
            throw new StreamsException("info", p, looked.errno());
        }
        Opener opener = new Opener(p);
        Cli.startDaemon("streamsctl-info-open", opener);
        int fd = opener.await(timeout);
        if (fd == Opener.GAVE_UP) {
            rows.put("server", "attached since the check? (the open did not return within "
                + Cli.human(timeout) + ": a connld server holds it)");
            rows.put("stream", "unknown");
            return;
        }
        if (fd < 0) {
            rows.put("stream", "unknown: " + new StreamsException("open", p, -fd).getMessage());
            return;
        }
        try (StreamFd s = StreamFd.adopt(fd)) {
            FileStat held = FileStat.of(fd);
            if (!held.sameFile(looked)) {
                rows.put("server", "changed since the check (what the open reached is not the "
                    + Cli.fileType(looked.type()) + " looked at: attached meanwhile?)");
                rows.put("stream", "unknown");
                return;
            }
            streamRows(rows, s);
        }
    }

    /** One open by name on a thread of its own; the descriptor, or closed if the caller gave up first. */
    private static final class Opener implements Runnable {
        static final int GAVE_UP = Integer.MIN_VALUE;
        private final String path;
        private int fd = GAVE_UP;
        private boolean done;
        private boolean abandoned;

        Opener(String path) {
            this.path = path;
        }

        @Override
        public void run() {
            int r = Shim.s4j_open(path, Shim.O_READ | Shim.O_NONBLOCK | Shim.O_NOFOLLOW, 0);
            synchronized (this) {
                if (abandoned) {
                    if (r >= 0) {
                        Shim.s4j_close(r);
                    }
                    return;
                }
                fd = r;
                done = true;
                notifyAll();
            }
        }

        synchronized int await(Duration timeout) {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (!done) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    abandoned = true;
                    return GAVE_UP;
                }
                try {
                    java.util.concurrent.TimeUnit.NANOSECONDS.timedWait(this, left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    abandoned = true;
                    return GAVE_UP;
                }
            }
            return fd;
        }
    }

    /**
     * Whether a server listens on the socket, asked of the library's probe
     * ({@link Streams#isAttached(Path, Duration)}, what bind asks before it
     * replaces a dead socket): Linux sock_diag first, which no server sees;
     * else a connect within {@code timeout} to the very file looked at
     * (O_PATH|O_NOFOLLOW, then /proc/self/fd/N), never by name, which would
     * follow a link swapped in after the look. A refusal means nobody
     * listens; a full queue, a server that is there; EACCES says nothing.
     */
    private static String probeSocket(Path path, Duration timeout) throws StreamsException {
        try {
            return Streams.isAttached(path, timeout)
                ? "attached (a server listens on this socket)"
                : "none (nobody accepts on this socket: a dead server's)";
        } catch (StreamsException e) {
            int n = e.errno();
            if (n == Errno.EACCES || n == Errno.EPERM) {
                return "unknown: this user may not connect to it (" + e.errnoName()
                    + "), so whether a server listens cannot be told";
            }
            throw e;
        }
    }

    private static void describeFd(Map<String, String> rows, int n) throws StreamsException {
        StreamFd fd = Cli.inherited("info", n);
        FileType type = fd.fileType();
        rows.put("fd", Integer.toString(n));
        rows.put("file type", type.description());
        if (type == FileType.SOCKET || Platform.backend() == Backend.STREAMS) {
            try {
                rows.put("peer", Cli.peer(fd.peerCredentials()));
            } catch (StreamsException e) {
                // not connected, or not a pipe: no peer to show
            }
        }
        if (Platform.backend() == Backend.STREAMS) {
            streamRows(rows, fd);
        } else {
            rows.put("stream", "no (the portable backend has no STREAMS)");
            rows.put("modules", "not supported on this platform");
            if (type == FileType.SOCKET) {
                ReadOptions o = fd.messages().readOptions();
                rows.put("messages", o.mode() == ReadMode.MESSAGE_DISCARD
                    ? "kept (SOCK_SEQPACKET: a read takes one message, the rest of it discarded)"
                    : "no (a byte stream)");
            }
        }
    }

    /** I_GRDOPT as streamio(4I) names it, and what it means. */
    static String readOptions(ReadOptions o) {
        String mode;
        switch (o.mode()) {
            case MESSAGE_DISCARD:
                mode = "RMSGD (a read takes one message, the rest discarded)";
                break;
            case MESSAGE_NONDISCARD:
                mode = "RMSGN (a read takes one message, the rest kept)";
                break;
            default:
                mode = "RNORM (a byte stream)";
                break;
        }
        String control;
        switch (o.control()) {
            case AS_DATA:
                control = "RPROTDAT (a control part is read as data)";
                break;
            case DISCARD:
                control = "RPROTDIS (a control part is discarded)";
                break;
            default:
                control = "RPROTNORM (a control part fails a read: EBADMSG)";
                break;
        }
        return mode + ", " + control;
    }

    private static void messageRows(Map<String, String> rows, StreamFd s) throws StreamsException {
        StreamMessages m = s.messages();
        rows.put("read options", readOptions(m.readOptions()));
        java.util.Set<WriteOption> w = m.writeOptions();
        rows.put("write options", w.isEmpty() ? "(none)" : (w.contains(WriteOption.SEND_ZERO) ? "SNDZERO" : "")
            + (w.size() == 2 ? " " : "") + (w.contains(WriteOption.SEND_SIGPIPE) ? "SNDPIPE" : ""));
        QueuedMessages q = m.queued();
        rows.put("queued", q.messages() == 0 ? "nothing" : q.messages() + (q.messages() == 1 ? " message" : " messages")
            + ", the first with " + q.firstDataBytes() + " data bytes");
    }

    private static void streamRows(Map<String, String> rows, StreamFd s) throws StreamsException {
        if (!s.isStream()) {
            rows.put("stream", "no");
            return;
        }
        rows.put("stream", "yes");
        messageRows(rows, s);
        try {
            List<String> mods = s.list();
            // A pipe or FIFO has no driver at the bottom of its stack.
            String order = s.fileType() == FileType.FIFO ? "  (topmost first)" : "  (topmost first, driver last)";
            rows.put("modules", mods.isEmpty() ? "(none)" : String.join(" ", mods) + order);
        } catch (StreamsException e) {
            if (e.errno() != Errno.EINVAL) {
                throw e;
            }
            rows.put("modules", "(none)");
        }
    }
}
