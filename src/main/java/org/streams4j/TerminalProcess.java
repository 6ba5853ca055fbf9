package org.streams4j;

import java.io.InputStream;
import java.io.OutputStream;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.streams4j.internal.ProcessShim;

/**
 * A command running on a {@link Pty} ({@link Pty#start}): the leader of a
 * session of its own whose controlling terminal is the pty's subsidiary, so
 * that its process group is the terminal's foreground group and gets what the
 * terminal sends (SIGINT from ^C, SIGWINCH on a resize, SIGHUP on the hang-up).
 *
 * <p>It is a {@link Process}: {@link #getInputStream()} reads what the
 * terminal shows (the command's output and the terminal's echo, stdout and
 * stderr together) and ends at the hang-up; {@link #getOutputStream()} types;
 * {@link #getErrorStream()} is empty. Its exit status is the command's, or
 * 128 plus the number of the signal that ended it, as a shell reports it.
 *
 * <p>It is reaped exactly once, by a daemon thread of the library's that
 * waits for it, and until then its pid, which is also its process group's id,
 * cannot be reused: {@link #signal} only ever reaches this command's group.
 */
public final class TerminalProcess extends Process {
    private final int pid;
    private final Pty pty;
    private final CompletableFuture<Integer> exit = new CompletableFuture<>();
    /** Guards reaped: a signal is sent only while the pid is still this process's. */
    private final Object lock = new Object();
    private boolean reaped;

    private TerminalProcess(int pid, Pty pty) {
        this.pid = pid;
        this.pty = pty;
    }

    /** A process just spawned: its reaper starts now. */
    static TerminalProcess started(int pid, Pty pty) {
        TerminalProcess p = new TerminalProcess(pid, pty);
        Threads.daemon("streams4j-pty-reaper-" + pid, p::reap).start();
        return p;
    }

    /** Waits for the exit without reaping (WNOWAIT), then reaps under the lock. */
    private void reap() {
        int r = ProcessShim.s4j_waitpid(pid, ProcessShim.WAIT_NOREAP);
        synchronized (lock) {
            int status = ProcessShim.s4j_waitpid(pid, 0);
            reaped = true;
            if (status >= 0) {
                exit.complete(status);
            } else {
                // ECHILD: somebody else reaped it (a SIGCHLD set to SIG_IGN reaps at once).
                exit.completeExceptionally(new StreamsException("waitpid", "pid " + pid, r < 0 ? -r : -status));
            }
        }
    }

    /**
     * The command's process id, which is also its session's and its process
     * group's id.
     *
     * @return the pid
     */
    @Override
    public long pid() {
        return pid;
    }

    /**
     * Sends a signal to the command's process group: the command and what it
     * started in that group. Nothing is sent once the command has been
     * reaped, so a pid reused by another process is never signalled.
     *
     * @param signal what to send
     * @return false when the command had already ended (nothing was sent)
     * @throws StreamsException when kill(2) fails (EPERM)
     */
    public boolean signal(Signal signal) throws StreamsException {
        synchronized (lock) {
            if (reaped) {
                return false;
            }
            int r = ProcessShim.s4j_kill(-pid, signal.shim);
            if (r == -Errno.ESRCH) {
                return false;       // nobody left in the group; the reaper is about to run
            }
            if (r < 0) {
                throw new StreamsException("kill " + signal, "process group " + pid, -r);
            }
            return true;
        }
    }

    /**
     * What the terminal shows: the pty's {@link Pty#inputStream()}.
     *
     * @return the stream, shared by every caller
     */
    @Override
    public InputStream getInputStream() {
        return pty.inputStream();
    }

    /**
     * What is typed on the terminal: the pty's {@link Pty#outputStream()}.
     *
     * @return the stream
     */
    @Override
    public OutputStream getOutputStream() {
        return pty.outputStream();
    }

    /**
     * Empty: a terminal has one output, which {@link #getInputStream()} reads.
     *
     * @return an empty stream
     */
    @Override
    public InputStream getErrorStream() {
        return InputStream.nullInputStream();
    }

    @Override
    public int waitFor() throws InterruptedException {
        try {
            return exit.get();
        } catch (ExecutionException e) {
            throw new IllegalStateException("pid " + pid + " could not be waited for", e.getCause());
        }
    }

    @Override
    public boolean waitFor(long timeout, TimeUnit unit) throws InterruptedException {
        try {
            exit.get(timeout, unit);
            return true;
        } catch (TimeoutException e) {
            return false;
        } catch (ExecutionException e) {
            return true;
        }
    }

    /**
     * The exit status: the command's, or 128 + the signal that ended it.
     *
     * @throws IllegalThreadStateException while it runs
     */
    @Override
    public int exitValue() {
        if (!exit.isDone()) {
            throw new IllegalThreadStateException("pid " + pid + " has not exited");
        }
        return exit.join();
    }

    @Override
    public boolean isAlive() {
        return !exit.isDone();
    }

    /** SIGTERM to the process group. */
    @Override
    public void destroy() {
        try {
            signal(Signal.TERM);
        } catch (StreamsException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
    }

    /** SIGKILL to the process group. */
    @Override
    public TerminalProcess destroyForcibly() {
        try {
            signal(Signal.KILL);
        } catch (StreamsException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
        return this;
    }

    /** @return true: {@link #destroy()} sends SIGTERM, which the command may handle */
    @Override
    public boolean supportsNormalTermination() {
        return true;
    }

    @Override
    public CompletableFuture<Process> onExit() {
        return exit.handle((s, e) -> (Process) this);
    }

    @Override
    public String toString() {
        return "TerminalProcess[pid " + pid + " on " + pty.name()
            + (!exit.isDone() ? ", running" : exit.isCompletedExceptionally() ? ", reaped elsewhere"
                : ", exited " + exit.join()) + "]";
    }
}
