package org.streams4j.cli;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.streams4j.Connection;
import org.streams4j.Errno;
import org.streams4j.ConnldOptions;
import org.streams4j.ConnldServer;
import org.streams4j.PeerCredentials;
import org.streams4j.Platform;
import org.streams4j.StreamClosedException;
import org.streams4j.StreamFd;
import org.streams4j.StreamsException;
import org.streams4j.internal.FileStat;
import org.streams4j.internal.ProcessShim;
import org.streams4j.internal.Shim;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code streamsctl serve PATH}: a connld server (an AF_UNIX listener on the portable backend). */
@Command(name = "serve",
    header = "Serve PATH: a private connection per client; echo, a command, or a file descriptor.",
    sortOptions = false,
    customSynopsis = {
        "streamsctl serve PATH [--mode OCTAL] [--max-clients N] [--max-clients-per-uid N]",
        "        [--idle-timeout DUR]",
        "        [--write-timeout DUR] [--allow-uid LIST] [--allow-gid LIST]",
        "        [--allow-zone LIST]",
        "        [--echo | --send-file FILE | --exec CMD [ARG...]]",
    },
    description = {
        "Serve PATH: every client that opens it gets a private connection",
        "(connld on STREAMS; a listening AF_UNIX socket on the portable backend).",
        "--echo and --send-file run on event loops (epoll, event ports or poll(2)):",
        "a few threads hold every client, idle ones included; --exec runs a thread",
        "per command. Logs one line per connection on stderr with the client's uid,",
        "gid, pid, zone and groups.",
        "SIGINT, SIGTERM or SIGHUP stops accepting, ends every --exec command",
        "(SIGTERM to its process group, SIGKILL 2s later), detaches, removes an",
        "attach point it created and exits 0.",
    },
    footer = {
        "",
        "Examples:",
        "  streamsctl serve /tmp/echo --echo",
        "  streamsctl serve /var/run/whoami --mode 0666 --exec /usr/bin/id",
        "  streamsctl serve /tmp/motd --allow-uid 0,101 --send-file /etc/motd",
    })
final class ServeCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "PATH",
        description = "Where to serve. Created if missing (and removed again on exit).")
    Path path;

    @Option(names = "--mode", paramLabel = "OCTAL", defaultValue = "0600",
        converter = Cli.ModeConverter.class,
        description = "Permission bits of the attach point or socket, i.e. who may connect "
            + "(default: ${DEFAULT-VALUE}).")
    int mode;

    @Option(names = "--write-timeout", paramLabel = "DUR", converter = Cli.DurationConverter.class,
        description = "Close a connection whose client takes none of what is written to it for this long, "
            + "whatever it sends meanwhile (e.g. 30s; on Linux what it leaves unread counts, an --exec "
            + "command's output too, and the command is then ended; default: never).")
    Duration writeTimeout;

    @ArgGroup(exclusive = true, multiplicity = "0..1", heading = "What each connection gets (default --echo):%n")
    Action action;

    static final class Action {
        @Option(names = "--echo", required = true, description = "Echo back what the client sends.")
        boolean echo;

        @Option(names = "--exec", required = true, paramLabel = "CMD [ARG...]", hideParamSyntax = true,
            arity = "1..*",
            parameterConsumer = Cli.RestOfLine.class,
            description = {
                "Run CMD [ARG...] (no shell) per connection with the connection as its stdin and "
                    + "stdout, and STREAMS_PEER_UID, STREAMS_PEER_GID, STREAMS_PEER_PID and "
                    + "STREAMS_PEER_ZONE (when known) in its environment, in a process group of its own: "
                    + "when the client hangs up or the server stops, the group gets SIGTERM, and SIGKILL "
                    + "2s later.",
                "Everything after --exec belongs to the command: put it last."})
        List<String> exec;

        @Option(names = "--send-file", required = true, paramLabel = "FILE",
            description = "Pass each client a descriptor of FILE, open for reading, and close the connection. "
                + "FILE must be a regular file (not a symbolic link); for each client it is opened again "
                + "through the descriptor held since start-up (never by name where /proc/self/fd exists) "
                + "and passed only if FILE still names that file (device and inode).")
        Path sendFile;
    }

    @Option(names = "--allow-uid", paramLabel = "LIST", split = ",", converter = Cli.UidConverter.class,
        description = "Serve only these client uids (numbers or user names, comma-separated).")
    List<Integer> allowUids = new ArrayList<>();

    @Option(names = "--allow-gid", paramLabel = "LIST", split = ",", converter = Cli.GidConverter.class,
        description = "Serve only these client gids (numbers or group names, comma-separated).")
    List<Integer> allowGids = new ArrayList<>();

    @Option(names = "--allow-zone", paramLabel = "LIST", split = ",", converter = Cli.ZoneConverter.class,
        description = "Serve only clients in these zone ids (illumos; a client whose zone is unknown is refused).")
    List<Integer> allowZones = new ArrayList<>();

    @Option(names = "--max-clients", paramLabel = "N", defaultValue = "64",
        description = "Clients held at once (with --exec: commands running at once); more wait to be "
            + "accepted (default: ${DEFAULT-VALUE}).")
    int maxClients;

    @Option(names = "--max-clients-per-uid", paramLabel = "N", defaultValue = "0",
        description = "Clients one uid may hold at once: a client whose uid holds N already is refused "
            + "(its connection closed, logged), so that one user cannot take every --max-clients slot "
            + "(default: 0, no share).")
    int maxClientsPerUid;

    @Option(names = "--idle-timeout", paramLabel = "DUR", converter = Cli.DurationConverter.class,
        description = "With --echo: the event loop closes a connection that sent nothing, and took nothing "
            + "of what was queued for it, for DUR (checked a few times per DUR), so that idle clients "
            + "cannot hold every slot; ignored with a warning otherwise (default: no limit).")
    Duration idleTimeout;

    private final AtomicBoolean stopping = new AtomicBoolean();
    private final AtomicReference<ConnldServer> server = new AtomicReference<>();
    private final Set<ProcessGroup> children = ConcurrentHashMap.newKeySet();
    /** --exec handlers still running, with this as their monitor. */
    private int execsRunning;
    private final AtomicInteger seq = new AtomicInteger();
    /** --send-file's FILE, held open while serving. */
    private SendFile sendFile;

    @Override
    public Integer call() throws Exception {
        if (maxClients < 1) {
            throw new ParameterException(spec.commandLine(),
                "--max-clients must be at least 1: " + maxClients);
        }
        if (maxClientsPerUid < 0) {
            throw new ParameterException(spec.commandLine(),
                "--max-clients-per-uid must be 0 (no share) or more: " + maxClientsPerUid);
        }
        if (writeTimeout != null && writeTimeout.isZero()) {
            throw new ParameterException(spec.commandLine(), "--write-timeout must be more than 0: " + writeTimeout);
        }
        if (action != null && action.exec != null && (action.echo || action.sendFile != null)) {
            throw new ParameterException(spec.commandLine(),
                "--exec cannot be combined with --echo or --send-file: give one of them");
        }
        if (idleTimeout != null && (idleTimeout.isZero() || idleTimeout.isNegative())) {
            throw new ParameterException(spec.commandLine(), "--idle-timeout must be longer than zero");
        }
        String what;
        boolean exec = action != null && action.exec != null;
        Handler handler = null;
        ConnldServer.EventHandler events = null;
        if (exec) {
            List<String> cmd = new ArrayList<>(action.exec);
            cmd.set(0, resolve(cmd.get(0)));
            String name = action.exec.get(0);
            handler = (c, n) -> exec(c, n, cmd, name);
            what = "exec " + String.join(" ", action.exec);
        } else if (action != null && action.sendFile != null) {
            SendFile file = SendFile.check(action.sendFile);
            sendFile = file;
            events = new SendFileEvents(file);
            what = "send-file " + file.path();
        } else {
            events = new EchoEvents(idleTimeout);
            what = "echo" + (idleTimeout == null ? "" : ", idle time-out " + Cli.human(idleTimeout));
        }

        if (idleTimeout != null && action != null && !action.echo) {
            // --send-file never waits for its client; an --exec command reads the connection itself.
            Cli.note("warning: --idle-timeout applies to --echo only; ignored");
        }
        if (!allowZones.isEmpty() && !Platform.hasZones()) {
            Cli.note("warning: --allow-zone on a platform without zones: every client will be refused");
        }
        Thread main = Thread.currentThread();
        String signals = Signals.onStop(sig -> stop(main, sig));
        // --echo and --send-file run on event loops (serveEvents): a few threads
        // hold every client, idle ones included; --exec has a thread per
        // command, which reads and writes the connection itself.
        ConnldOptions.Builder b = ConnldOptions.builder()
            .mode(mode)
            .writeTimeout(writeTimeout)
            .allowUids(allowUids)
            .allowGids(allowGids)
            .allowZones(allowZones)
            .threads(maxClients)
            .maxConnections(maxClients)
            .maxConnectionsPerUid(maxClientsPerUid)
            .shutdownHook(true);
        if (events instanceof EchoEvents) {
            b.idleTimeout(idleTimeout);
        }
        ConnldServer s = ConnldServer.bind(path, b.build());
        server.set(s);
        if (stopping.get()) {
            s.close();
        }
        Cli.note("serving " + path + ": " + what + ", mode " + String.format("%04o", mode)
            + ", " + maxClients + " at once, " + Platform.backend().name().toLowerCase(java.util.Locale.ROOT)
            + " backend" + (signals.isEmpty() ? "" : "; " + signals + " stops"));
        try {
            if (events != null) {
                s.serveEvents(events);
            } else {
                Handler h = handler;
                s.serve(c -> {
                    // An --exec connection is not closed under its handler: the
                    // command has its number, and the handler ends it on a stop.
                    h.handle(c, number(c));
                });
            }
        } catch (StreamsException e) {
            if (!stopping.get()) {
                throw e;
            }
        } finally {
            s.close();
            endCommands();
            if (sendFile != null) {
                sendFile.held().close();
            }
        }
        Thread.interrupted();   // a stop request may have interrupted this thread
        Cli.note("stopped serving " + path);
        return 0;
    }

    /** The next connection number, logged with the client's credentials. */
    private int number(Connection c) {
        synchronized (seq) {    // numbered in the order logged
            int n = seq.incrementAndGet();
            Cli.note(path + ": connection " + n + " from " + Cli.peer(c.peer()));
            return n;
        }
    }

    /** A connection's state on the event loop: its number and when it last sent something. */
    private static final class State {
        final int n;
        long lastNanos = System.nanoTime();
        boolean ended;

        State(int n) {
            this.n = n;
        }
    }

    /**
     * --echo on an event loop: what a client sends comes back; a write the
     * connection cannot take whole is queued by the loop (a client that reads
     * slowly holds up only itself); an idle client is closed by the loop.
     */
    private final class EchoEvents implements ConnldServer.EventHandler {
        private final Duration idle;
        private final ThreadLocal<byte[]> buffers = ThreadLocal.withInitial(() -> new byte[16384]);

        EchoEvents(Duration idle) {
            this.idle = idle;
        }

        @Override
        public void opened(Connection c) {
            c.attach(new State(number(c)));
        }

        @Override
        public boolean readable(Connection c) throws StreamsException {
            State st = (State) c.attachment();
            byte[] buf = buffers.get();
            try {
                int r = c.read(buf, 0, buf.length);
                if (r < 0) {
                    st.ended = true;
                    return false;
                }
                if (r > 0) {
                    st.lastNanos = System.nanoTime();
                    c.writeFully(buf, 0, r);
                }
                return true;
            } catch (StreamsException e) {
                if (Cli.hangUp(e) || e instanceof StreamClosedException) {
                    st.ended = true;
                    return false;
                }
                throw e;
            }
        }

        @Override
        public void closed(Connection c) {
            State st = (State) c.attachment();
            // Closed by the loop, not by the client nor a stop, after a quiet
            // spell: the idle time-out (the loop's clock runs a little ahead).
            if (st != null && !st.ended && idle != null && !stopping.get()
                && System.nanoTime() - st.lastNanos >= idle.toNanos() / 2) {
                Cli.note(path + ": connection " + st.n + ": nothing received for " + Cli.human(idle) + "; closed");
            }
        }
    }

    /** --send-file on an event loop: the descriptor is passed as the client arrives, then the connection closed. */
    private final class SendFileEvents implements ConnldServer.EventHandler {
        private final SendFile file;

        SendFileEvents(SendFile file) {
            this.file = file;
        }

        @Override
        public void opened(Connection c) throws StreamsException {
            try {
                sendFile(c, number(c), file);
            } finally {
                c.close();
            }
        }

        @Override
        public boolean readable(Connection c) {
            return false;
        }
    }

    /** From a signal: stop accepting; serve() returns on the main thread. */
    private void stop(Thread main, String signal) {
        if (!stopping.compareAndSet(false, true)) {
            return;
        }
        Cli.note(signal + ": stopping");
        ConnldServer s = server.get();
        if (s != null) {
            s.close();
        }
        main.interrupt();   // wakes serve() if it waits for a free slot
    }

    // ---- handlers ---------------------------------------------------------------

    /** One connection, numbered as logged. */
    @FunctionalInterface
    private interface Handler {
        void handle(Connection c, int n) throws Exception;
    }

    /** Echoes on this thread until end of input or a stop (the selftest's blocking echo). */
    static void echo(Connection c) throws StreamsException {
        byte[] buf = new byte[16384];
        try {
            int r;
            while ((r = c.read(buf, 0, buf.length)) > 0) {
                c.writeFully(buf, 0, r);
            }
        } catch (StreamClosedException e) {
            // the server is stopping
        } catch (StreamsException e) {
            if (!Cli.hangUp(e)) {
                throw e;
            }
        }
    }

    /**
     * The --send-file FILE as it was at start-up: its path, its identity and
     * a descriptor held on it for the server's lifetime.
     */
    record SendFile(Path path, long dev, long ino, StreamFd held) {
        private static final int FLAGS = Shim.O_READ | Shim.O_NOFOLLOW | Shim.O_NONBLOCK;
        /** Linux and illumos: /proc/self/fd/N opens the very file N holds, not a path. */
        private static final boolean PROC_FD = Files.isDirectory(Path.of("/proc/self/fd"));

        /**
         * Opens FILE without following a link and without blocking (a FIFO
         * would wait for a writer): it must be a regular file. Fails before
         * "serving" otherwise.
         */
        static SendFile check(Path file) throws StreamsException {
            String p = file.toString();
            int fd = Shim.s4j_open(p, FLAGS, 0);
            if (fd < 0) {
                if (Shim.s4j_path_type(p) == Shim.FT_SYMLINK) {
                    throw new Cli.Failure("serve: --send-file " + p
                        + ": a symbolic link; give the file it leads to");
                }
                throw new StreamsException("open", p, -fd);
            }
            StreamFd held = StreamFd.adopt(fd);
            boolean ok = false;
            try {
                FileStat st = FileStat.of(fd);
                if (!st.ok()) {
                    throw new StreamsException("fstat", p, st.errno());
                }
                if (st.type() != Shim.FT_REGULAR) {
                    throw new Cli.Failure("serve: --send-file " + p + ": a " + Cli.fileType(st.type())
                        + ", not a regular file");
                }
                ok = true;
                return new SendFile(file, st.dev(), st.ino(), held);
            } finally {
                if (!ok) {
                    held.close();
                }
            }
        }

        /**
         * A new descriptor of FILE (an offset of its own) if the path still
         * names the regular file seen at start-up; else null and {@code
         * why[0]} says what is there instead.
         *
         * <p>The path is only looked at (lstat), never opened, where
         * /proc/self/fd is: the new descriptor is opened through the one held
         * since start-up (Linux: the magic link leads to that inode; illumos:
         * propen opens the real vnode of a PR_FD node, regular files only).
         * An open by name goes wherever the name leads at that moment: on
         * illumos into a connld stream someone fattach-ed there, where open
         * sleeps until that someone's I_RECVFD (fifo_connld), O_NONBLOCK or
         * not, holding the serving loop.
         */
        StreamFd reopen(String[] why) {
            String p = path.toString();
            FileStat at = FileStat.ofPath(p);
            if (!same(at)) {
                why[0] = describe(p, at);
                return null;
            }
            // held is closed only after serveEvents has joined every loop thread.
            int fd = PROC_FD
                ? held.isOpen() ? Shim.s4j_open("/proc/self/fd/" + held.fd(), Shim.O_READ | Shim.O_NONBLOCK, 0)
                    : -Errno.EBADF
                : Shim.s4j_open(p, FLAGS, 0);
            if (fd < 0) {
                why[0] = Shim.s4j_path_type(p) == Shim.FT_SYMLINK ? p + " is a symbolic link now"
                    : new StreamsException("open", p, -fd).getMessage();
                return null;
            }
            StreamFd f = StreamFd.adopt(fd);
            FileStat st = FileStat.of(fd);
            if (same(st) && Shim.s4j_set_nonblocking(fd, 0) == 0) {
                return f;
            }
            f.close();
            why[0] = describe(p, st);
            return null;
        }

        private boolean same(FileStat st) {
            return st.ok() && st.type() == Shim.FT_REGULAR && st.dev() == dev && st.ino() == ino;
        }

        private String describe(String p, FileStat st) {
            return !st.ok() ? new StreamsException("stat", p, st.errno()).getMessage()
                : st.type() != Shim.FT_REGULAR ? p + " is a " + Cli.fileType(st.type()) + " now"
                : p + " is another file now (device " + st.dev() + " inode " + st.ino() + ", was "
                    + dev + " " + ino + ")";
        }
    }

    /** Passes FILE if it is still the file seen at start-up; otherwise refuses this client with a log line. */
    private void sendFile(Connection c, int n, SendFile file) throws StreamsException {
        String[] why = new String[1];
        try (StreamFd f = file.reopen(why)) {
            if (f == null) {
                Cli.note(path + ": connection " + n + ": refused: " + why[0]
                    + ", not the regular file served at start-up; nothing sent");
                return;
            }
            c.sendFd(f);
        } catch (StreamsException e) {
            if (!Cli.hangUp(e)) {
                Cli.error(e.getMessage());
            }
        }
    }

    /**
     * Runs CMD with the connection as its stdin and stdout until it exits,
     * the client hangs up (POLLHUP on the connection: a half-close is not a
     * hang-up) or the server stops; then ends its process group.
     */
    private void exec(Connection c, int n, List<String> cmd, String name) {
        synchronized (children) {
            execsRunning++;
        }
        try {
            ProcessGroup g;
            try {
                g = ProcessGroup.spawn(cmd.get(0), cmd, environment(c.peer()), c.fd().fd());
            } catch (StreamsException e) {
                Cli.error(e.getMessage());
                return;
            }
            children.add(g);
            try {
                String end = watch(c, g);
                if (end != null) {
                    Cli.note(path + ": connection " + n + ": " + end + "; SIGTERM to " + name
                        + " (process group " + g.pid + ")");
                }
                int status = g.terminate();
                if (StreamsCtl.debug) {
                    Cli.note(path + ": connection " + n + ": " + name + " exited " + status);
                }
            } finally {
                children.remove(g);
            }
        } finally {
            synchronized (children) {
                execsRunning--;
                children.notifyAll();
            }
        }
    }

    /** Until the command exits (null), the client hangs up or the server stops (why). */
    private String watch(Connection c, ProcessGroup g) {
        Duration tick = Duration.ofMillis(50);
        while (!g.exited()) {
            if (stopping.get()) {
                return "the server stops";
            }
            try {
                // No events asked: poll still reports a hang-up, never data. A socket
                // says POLLHUP only when both directions are shut (a client's
                // half-close is not a hang-up); an illumos pipe when the other end is
                // closed: fifo_poll (fast mode) and strpoll (STRHUP) set it whatever
                // was asked, and a zero-length message does not.
                java.util.Set<org.streams4j.PollEvent> r = c.fd().poll(
                    java.util.EnumSet.noneOf(org.streams4j.PollEvent.class), tick);
                if (r.contains(org.streams4j.PollEvent.HANG_UP) || r.contains(org.streams4j.PollEvent.ERROR)
                    || r.contains(org.streams4j.PollEvent.INVALID)) {
                    return "the client hung up";
                }
            } catch (StreamsException e) {
                return "the connection failed (" + e.errnoName() + ")";
            }
        }
        return null;
    }

    /** The server's environment without STREAMS_PEER_*, then the client's credentials. */
    private static List<String> environment(PeerCredentials p) {
        Map<String, String> env = new TreeMap<>(System.getenv());
        env.keySet().removeIf(k -> k.startsWith("STREAMS_PEER_"));
        if (p != null) {
            if (p.uid() >= 0) {
                env.put("STREAMS_PEER_UID", Integer.toString(p.uid()));
            }
            if (p.gid() >= 0) {
                env.put("STREAMS_PEER_GID", Integer.toString(p.gid()));
            }
            p.pid().ifPresent(v -> env.put("STREAMS_PEER_PID", Integer.toString(v)));
            p.zone().ifPresent(v -> env.put("STREAMS_PEER_ZONE", Integer.toString(v)));
        }
        List<String> out = new ArrayList<>(env.size());
        env.forEach((k, v) -> out.add(k + "=" + v));
        return out;
    }

    /**
     * On a stop: SIGTERM to every command's group at once; their handlers see
     * the stop and end them (SIGKILL after the grace period); whatever is
     * left after that is killed here, before the JVM exits.
     */
    private void endCommands() {
        for (ProcessGroup g : children) {
            g.signal(ProcessShim.SIG_TERM);
        }
        long deadline = System.nanoTime() + ProcessGroup.GRACE.toNanos() + 1_000_000_000L;
        synchronized (children) {
            while (execsRunning > 0) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    break;
                }
                try {
                    TimeUnit.NANOSECONDS.timedWait(children, left);
                } catch (InterruptedException e) {
                    break;      // a second signal: kill at once
                }
            }
        }
        for (ProcessGroup g : children) {
            g.killAndReap();
        }
    }

    /** CMD as given when it names a file; else looked up in PATH, like a shell would. */
    private String resolve(String cmd) {
        if (cmd.contains("/")) {
            Path p = Path.of(cmd);
            if (!Files.isRegularFile(p) || !Files.isExecutable(p)) {
                throw new ParameterException(spec.commandLine(),
                    "--exec: " + cmd + ": no such executable file");
            }
            return cmd;
        }
        String pathVar = System.getenv("PATH");
        if (pathVar != null) {
            for (String dir : pathVar.split(File.pathSeparator)) {
                Path p = Path.of(dir.isEmpty() ? "." : dir, cmd);
                if (Files.isRegularFile(p) && Files.isExecutable(p)) {
                    return p.toString();
                }
            }
        }
        throw new ParameterException(spec.commandLine(), "--exec: " + cmd + ": command not found in PATH");
    }
}
