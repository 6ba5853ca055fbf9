package org.streams4j.cli;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.streams4j.Backend;
import org.streams4j.Connection;
import org.streams4j.ConnldOptions;
import org.streams4j.ConnldServer;
import org.streams4j.MessagePriority;
import org.streams4j.Platform;
import org.streams4j.StreamClosedException;
import org.streams4j.StreamMessage;
import org.streams4j.StreamsException;
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
        "        [--echo | --send-file FILE | --exec CMD [ARG...] | --pty CMD [ARG...]]",
    },
    description = {
        "Serve PATH: every client that opens it gets a private connection",
        "(connld on STREAMS; a listening AF_UNIX socket on the portable backend).",
        "--echo and --send-file run on event loops (epoll, event ports or poll(2)):",
        "a few threads hold every client, idle ones included; --exec and --pty run",
        "a thread per command. Logs one line per connection on stderr with the client's uid,",
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
        "  streamsctl serve /var/run/admin --allow-uid 0 --pty /bin/sh -i",
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

        @Option(names = "--pty", required = true, paramLabel = "CMD [ARG...]", hideParamSyntax = true,
            arity = "1..*",
            parameterConsumer = Cli.RestOfLine.class,
            description = {
                "Give each client a terminal of its own (a pseudo-terminal, 24x80) running CMD [ARG...] "
                    + "(no shell) as the leader of a new session, with STREAMS_PEER_* in its environment as "
                    + "for --exec: what the client sends is typed on it, what it shows is sent back "
                    + "(use streamsctl connect --raw). When CMD's side of the terminal closes the connection "
                    + "closes; when the client hangs up or the server stops the terminal hangs up (SIGHUP, "
                    + "SIGKILL 2s later).",
                "Everything after --pty belongs to the command: put it last."})
        List<String> pty;

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

    @Option(names = "--messages",
        description = "With --echo: the clients speak in messages (each one echoed back as one message, "
            + "control part and priority kept on STREAMS); on Linux the socket is SOCK_SEQPACKET, which "
            + "streamsctl connect --messages and socat's UNIX-CONNECT:PATH,type=5 speak.")
    boolean messages;

    private final AtomicBoolean stopping = new AtomicBoolean();
    private final AtomicReference<ConnldServer> server = new AtomicReference<>();
    /** --exec's commands; null without --exec. */
    private ExecSupervisor execs;
    /** --pty's terminals; null without --pty. */
    private PtySessions ptys;
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
        if (action != null && action.pty != null && (action.echo || action.sendFile != null)) {
            throw new ParameterException(spec.commandLine(),
                "--pty cannot be combined with --echo or --send-file: give one of them");
        }
        if (messages && action != null && !action.echo) {
            throw new ParameterException(spec.commandLine(), "--messages goes with --echo only");
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
            cmd.set(0, ExecSupervisor.resolve(spec.commandLine(), "--exec", cmd.get(0)));
            String name = action.exec.get(0);
            ExecSupervisor x = new ExecSupervisor(path, stopping);
            execs = x;
            handler = (c, n) -> x.exec(c, n, cmd, name);
            what = "exec " + String.join(" ", action.exec);
        } else if (action != null && action.pty != null) {
            List<String> cmd = new ArrayList<>(action.pty);
            cmd.set(0, ExecSupervisor.resolve(spec.commandLine(), "--pty", cmd.get(0)));
            String name = action.pty.get(0);
            PtySessions x = new PtySessions(path, stopping);
            ptys = x;
            handler = (c, n) -> x.run(c, n, cmd, name);
            what = "pty " + String.join(" ", action.pty);
        } else if (action != null && action.sendFile != null) {
            SendFile file = SendFile.check(action.sendFile);
            sendFile = file;
            events = new SendFileEvents(file);
            what = "send-file " + file.path();
        } else {
            events = new EchoEvents(idleTimeout, messages);
            what = "echo" + (messages ? " of messages" : "")
                + (idleTimeout == null ? "" : ", idle time-out " + Cli.human(idleTimeout));
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
            .messages(messages)
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
            if (execs != null) {
                execs.endCommands();
            }
            if (ptys != null) {
                ptys.endSessions();
            }
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
        private final boolean messages;
        private final ThreadLocal<byte[]> buffers = ThreadLocal.withInitial(() -> new byte[16384]);
        /** Room for a whole message, control part too (a loop thread's own). */
        private final ThreadLocal<StreamMessage> message = ThreadLocal.withInitial(
            () -> new StreamMessage(1024, 64 * 1024));

        EchoEvents(Duration idle, boolean messages) {
            this.idle = idle;
            this.messages = messages;
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
                if (messages) {
                    StreamMessage m = message.get();
                    if (!c.messages().receive(m)) {
                        st.ended = m.isEndOfStream();
                        return !st.ended;   // else nothing queued yet
                    }
                    st.lastNanos = System.nanoTime();
                    // One message back, as it came: its parts (a part that did not fit
                    // comes as the next message) and, on STREAMS, its priority.
                    c.messages().send(m.hasControl() ? m.control() : null, m.hasData() ? m.data() : null,
                        Platform.backend() == Backend.STREAMS ? m.priority() : MessagePriority.NORMAL);
                    return true;
                }
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
                file.send(c, number(c), path);
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


}
