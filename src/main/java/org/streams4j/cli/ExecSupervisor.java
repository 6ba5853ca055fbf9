package org.streams4j.cli;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.streams4j.Connection;
import org.streams4j.PeerCredentials;
import org.streams4j.PollEvent;
import org.streams4j.StreamsException;
import org.streams4j.internal.ProcessShim;
import picocli.CommandLine;
import picocli.CommandLine.ParameterException;

/**
 * {@code serve --exec}: one command per connection, each in a process group
 * of its own, watched until it exits, its client hangs up or the server
 * stops, and then ended (SIGTERM to the group, SIGKILL after
 * {@link ProcessGroup#GRACE}); on a stop every group at once.
 */
final class ExecSupervisor {
    private final Path path;
    private final AtomicBoolean stopping;
    private final Set<ProcessGroup> children = ConcurrentHashMap.newKeySet();
    /** exec() calls still running, with children as their monitor. */
    private int execsRunning;

    /**
     * @param path what the server serves, for the log lines
     * @param stopping set when the server stops
     */
    ExecSupervisor(Path path, AtomicBoolean stopping) {
        this.path = path;
        this.stopping = stopping;
    }

    /**
     * Runs CMD with the connection as its stdin and stdout until it exits,
     * the client hangs up (POLLHUP on the connection: a half-close is not a
     * hang-up) or the server stops; then ends its process group.
     */
    void exec(Connection c, int n, List<String> cmd, String name) {
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
                Set<PollEvent> r = c.fd().poll(EnumSet.noneOf(PollEvent.class), tick);
                if (r.contains(PollEvent.HANG_UP) || r.contains(PollEvent.ERROR)
                    || r.contains(PollEvent.INVALID)) {
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
        List<String> out = new ArrayList<>();
        environmentMap(p).forEach((k, v) -> out.add(k + "=" + v));
        return out;
    }

    /** {@link #environment} as a map: what serve --pty hands Pty.start. */
    static Map<String, String> environmentMap(PeerCredentials p) {
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
        return env;
    }

    /**
     * On a stop: SIGTERM to every command's group at once; their handlers see
     * the stop and end them (SIGKILL after the grace period); whatever is
     * left after that is killed here, before the JVM exits.
     */
    void endCommands() {
        for (ProcessGroup g : children) {
            g.signal(ProcessShim.SIG_TERM);
        }
        Cli.awaitEnd(children, () -> execsRunning == 0, ProcessGroup.GRACE);
        for (ProcessGroup g : children) {
            g.killAndReap();
        }
    }

    /** CMD as given when it names a file; else looked up in PATH, like a shell would. */
    static String resolve(CommandLine cl, String option, String cmd) {
        if (cmd.contains("/")) {
            Path p = Path.of(cmd);
            if (!Files.isRegularFile(p) || !Files.isExecutable(p)) {
                throw new ParameterException(cl,
                    option + ": " + cmd + ": no such executable file");
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
        throw new ParameterException(cl, option + ": " + cmd + ": command not found in PATH");
    }
}
