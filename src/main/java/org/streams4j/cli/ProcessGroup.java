package org.streams4j.cli;

import java.time.Duration;
import java.util.List;
import org.streams4j.Errno;
import org.streams4j.StreamsException;
import org.streams4j.internal.ProcessShim;

/**
 * A command started for one connection ({@code serve --exec}) in a process
 * group of its own, the connection as its stdin and stdout. It is signalled
 * as a group, so that what it started goes with it, and reaped exactly once.
 * Until it is reaped its pid, which is also the group's id, cannot be reused:
 * the group is only ever signalled before that.
 */
final class ProcessGroup {
    /** How long the group has after SIGTERM before SIGKILL. */
    static final Duration GRACE = Duration.ofSeconds(2);
    private static final long POLL_MS = 20;

    final int pid;
    private boolean reaped;
    private int status = -1;

    private ProcessGroup(int pid) {
        this.pid = pid;
    }

    /** posix_spawn with {@code fd} as stdin and stdout, in a new process group. */
    static ProcessGroup spawn(String path, List<String> argv, List<String> env, int fd) throws StreamsException {
        int r = ProcessShim.s4j_spawn(path, argv, env, fd);
        if (r < 0) {
            throw new StreamsException("exec", path, -r);
        }
        return new ProcessGroup(r);
    }

    /** Whether the command (the group's leader) has exited; it stays unreaped. */
    synchronized boolean exited() {
        if (reaped) {
            return true;
        }
        int r = ProcessShim.s4j_waitpid(pid, ProcessShim.WAIT_NOHANG | ProcessShim.WAIT_NOREAP);
        return r != -Errno.EAGAIN;
    }

    /** SIGTERM or SIGKILL to every process of the group; nothing once the leader is reaped. */
    synchronized void signal(int sig) {
        if (!reaped) {
            ProcessShim.s4j_kill(-pid, sig);    // ESRCH: nobody left in the group
        }
    }

    /** Waits until the leader exited or the deadline (System.nanoTime()) passed; true when it exited. */
    boolean awaitExit(long deadline) {
        while (!exited()) {
            if (System.nanoTime() - deadline >= 0) {
                return false;
            }
            try {
                Thread.sleep(POLL_MS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return exited();
            }
        }
        return true;
    }

    /**
     * Ends the group: SIGTERM to all of it (what the command left behind
     * included), up to {@link #GRACE} for the command to exit, then SIGKILL to
     * whatever is left of the group, and the command reaped.
     *
     * @return the command's exit status, 128 + signal when a signal ended it
     */
    int terminate() {
        signal(ProcessShim.SIG_TERM);
        awaitExit(System.nanoTime() + GRACE.toNanos());
        return killAndReap();
    }

    /** SIGKILL to the group (its leader still unreaped, so the id is still ours), then reaps the leader. */
    synchronized int killAndReap() {
        if (!reaped) {
            ProcessShim.s4j_kill(-pid, ProcessShim.SIG_KILL);
            int r;
            do {
                r = ProcessShim.s4j_waitpid(pid, 0);
            } while (r == -Errno.EINTR);
            status = r;
            reaped = true;
        }
        return status;
    }
}
