package org.streams4j.cli;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.streams4j.Connection;
import org.streams4j.ConnldOptions;
import org.streams4j.ConnldServer;
import org.streams4j.FileType;
import org.streams4j.PeerCredentials;
import org.streams4j.Platform;
import org.streams4j.StreamClosedException;
import org.streams4j.StreamFd;
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
        "streamsctl serve PATH [--mode OCTAL] [--max-clients N]",
        "        [--allow-uid LIST] [--allow-gid LIST] [--allow-zone LIST]",
        "        [--echo | --send-file FILE | --exec CMD [ARG...]]",
    },
    description = {
        "Serve PATH: every client that opens it gets a private connection",
        "(connld on STREAMS; a listening AF_UNIX socket on the portable backend).",
        "Logs one line per connection on stderr with the client's uid, gid, pid and zone.",
        "SIGINT or SIGTERM stops accepting, detaches, removes an attach point it created and exits 0.",
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
        description = "Close a connection whose client takes none of what is written to it for this long "
            + "(e.g. 30s; default: never).")
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
                    + "STREAMS_PEER_ZONE (when known) in its environment.",
                "Everything after --exec belongs to the command: put it last."})
        List<String> exec;

        @Option(names = "--send-file", required = true, paramLabel = "FILE",
            description = "Open FILE for reading once per client, pass the descriptor, close the connection.")
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
        description = "Connections handled at once; more wait their turn (default: ${DEFAULT-VALUE}).")
    int maxClients;

    private final AtomicBoolean stopping = new AtomicBoolean();
    private final AtomicReference<ConnldServer> server = new AtomicReference<>();
    private final Set<Connection> active = ConcurrentHashMap.newKeySet();
    private final Set<Process> children = ConcurrentHashMap.newKeySet();
    private final AtomicInteger seq = new AtomicInteger();

    @Override
    public Integer call() throws Exception {
        if (maxClients < 1) {
            throw new ParameterException(spec.commandLine(),
                "--max-clients must be at least 1: " + maxClients);
        }
        if (writeTimeout != null && writeTimeout.isZero()) {
            throw new ParameterException(spec.commandLine(), "--write-timeout must be more than 0: " + writeTimeout);
        }
        if (action != null && action.exec != null && (action.echo || action.sendFile != null)) {
            throw new ParameterException(spec.commandLine(),
                "--exec cannot be combined with --echo or --send-file: give one of them");
        }
        ConnldServer.Handler handler;
        String what;
        if (action != null && action.exec != null) {
            List<String> cmd = new ArrayList<>(action.exec);
            cmd.set(0, resolve(cmd.get(0)));
            handler = c -> exec(c, cmd);
            what = "exec " + String.join(" ", action.exec);
        } else if (action != null && action.sendFile != null) {
            Path file = action.sendFile;
            try (StreamFd f = StreamFd.open(file, StreamFd.Mode.READ)) {
                if (f.fileType() == FileType.DIRECTORY) {
                    throw new Cli.Failure("serve: --send-file " + file + ": is a directory");
                }
            }
            handler = c -> sendFile(c, file);
            what = "send-file " + file;
        } else {
            handler = ServeCommand::echo;
            what = "echo";
        }

        if (!allowZones.isEmpty() && !Platform.hasZones()) {
            Cli.note("warning: --allow-zone on a platform without zones: every client will be refused");
        }
        Thread main = Thread.currentThread();
        String signals = Signals.onStop(sig -> stop(main, sig));
        ConnldOptions options = ConnldOptions.builder()
            .mode(mode)
            .writeTimeout(writeTimeout)
            .allowUids(allowUids)
            .allowGids(allowGids)
            .allowZones(allowZones)
            .threads(maxClients)
            .shutdownHook(true)
            .build();
        ConnldServer s = ConnldServer.bind(path, options);
        server.set(s);
        if (stopping.get()) {
            s.close();
        }
        Cli.note("serving " + path + ": " + what + ", mode " + String.format("%04o", mode)
            + ", " + maxClients + " at once, " + Platform.backend().name().toLowerCase(java.util.Locale.ROOT)
            + " backend" + (signals.isEmpty() ? "" : "; " + signals + " stops"));
        try {
            s.serve(c -> {
                active.add(c);
                try {
                    synchronized (seq) {    // numbered in the order logged
                        Cli.note(path + ": connection " + seq.incrementAndGet() + " from " + Cli.peer(c.peer()));
                    }
                    handler.handle(c);
                } finally {
                    active.remove(c);
                }
            });
        } catch (StreamsException e) {
            if (!stopping.get()) {
                throw e;
            }
        } finally {
            s.close();
            for (Process p : children) {
                p.destroy();
            }
            for (Connection c : active) {
                c.close();
            }
        }
        Thread.interrupted();   // a stop request may have interrupted this thread
        Cli.note("stopped serving " + path);
        return 0;
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

    static void echo(Connection c) throws StreamsException {
        byte[] buf = new byte[16384];
        try {
            int n;
            while ((n = c.read(buf, 0, buf.length)) > 0) {
                c.writeFully(buf, 0, n);
            }
        } catch (StreamClosedException e) {
            // the server is stopping
        } catch (StreamsException e) {
            if (!Cli.hangUp(e)) {
                throw e;
            }
        }
    }

    private static void sendFile(Connection c, Path file) throws StreamsException {
        try (StreamFd f = StreamFd.open(file, StreamFd.Mode.READ)) {
            c.sendFd(f);
        } catch (StreamsException e) {
            Cli.error(e.getMessage());
        }
    }

    private void exec(Connection c, List<String> cmd) throws InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(cmd);
        Map<String, String> env = pb.environment();
        env.keySet().removeIf(k -> k.startsWith("STREAMS_PEER_"));
        PeerCredentials p = c.peer();
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
        pb.redirectError(ProcessBuilder.Redirect.INHERIT);
        Process proc;
        try {
            proc = pb.start();
        } catch (IOException e) {
            Cli.error("exec " + cmd.get(0) + ": " + e.getMessage());
            return;
        }
        children.add(proc);
        try {
            Thread in = new Thread(() -> toProcess(c, proc), "streamsctl-exec-stdin");
            in.setDaemon(true);
            in.start();
            byte[] buf = new byte[16384];
            try (InputStream out = proc.getInputStream()) {
                int n;
                while ((n = out.read(buf)) > 0) {
                    c.writeFully(buf, 0, n);
                }
            } catch (StreamsException e) {
                proc.destroy();     // the client is gone: nobody reads the rest
            } catch (IOException e) {
                // the process's stdout went away
            }
            if (StreamsCtl.debug) {
                proc.onExit().thenAccept(x -> Cli.note(path + ": " + cmd.get(0) + " exited " + x.exitValue()));
            }
        } finally {
            children.remove(proc);
        }
    }

    /** The client's data to the process's stdin, which is closed when the client's data ends. */
    private static void toProcess(Connection c, Process proc) {
        byte[] buf = new byte[16384];
        try (OutputStream in = proc.getOutputStream()) {
            int n;
            while ((n = c.read(buf, 0, buf.length)) > 0) {
                in.write(buf, 0, n);
                in.flush();
            }
        } catch (IOException e) {
            // the client hung up, the connection was closed, or the process closed its stdin
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
