package org.streams4j.cli;

import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.streams4j.Backend;
import org.streams4j.Connection;
import org.streams4j.ConnldClient;
import org.streams4j.Errno;
import org.streams4j.FileType;
import org.streams4j.Platform;
import org.streams4j.StreamFd;
import org.streams4j.Streams;
import org.streams4j.StreamsException;
import org.streams4j.internal.PortableShim;
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
        "a refusal means a dead server's socket, a full queue a live server.",
        "An unattached FIFO or character device is opened (non-blocking) to look.",
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
            rows.forEach((k, v) -> sb.append(String.format("%-10s %s%n", k, v)));
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
                int fd = Shim.s4j_open(p, Shim.O_READ | Shim.O_NONBLOCK, 0);
                if (fd < 0) {
                    rows.put("stream", "unknown: " + new StreamsException("open", p, -fd).getMessage());
                    return;
                }
                try (StreamFd s = StreamFd.adopt(fd)) {
                    streamRows(rows, s);
                }
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
     * Asks the kernel whether a server listens (Linux sock_diag: no connection
     * at all); else connects to the socket, for at most {@code timeout}: only
     * a refusal (ECONNREFUSED) means that nobody listens. A full queue makes
     * connect wait, which means a server holds the socket; EACCES says nothing
     * either way.
     */
    private static String probeSocket(Path path, Duration timeout) throws StreamsException {
        if (PortableShim.s4j_unix_listening(path.toString()) == 1) {
            return "attached (a server listens on this socket)";
        }
        try (Connection c = ConnldClient.connect(path, timeout)) {
            return "attached (a server accepts connections on this socket)";
        } catch (StreamsException e) {
            int n = e.errno();
            if (n == Errno.ECONNREFUSED) {
                return "none (nobody accepts on this socket: a dead server's)";
            }
            if (n == Errno.ETIMEDOUT) {
                return "attached (a server listens but did not accept within " + Cli.human(timeout)
                    + ": its queue is full)";
            }
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
        }
    }

    private static void streamRows(Map<String, String> rows, StreamFd s) throws StreamsException {
        if (!s.isStream()) {
            rows.put("stream", "no");
            return;
        }
        rows.put("stream", "yes");
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
