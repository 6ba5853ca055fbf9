package org.streams4j.cli;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import org.streams4j.Connection;
import org.streams4j.Pty;
import org.streams4j.Signal;
import org.streams4j.StreamsException;
import org.streams4j.TerminalProcess;
import org.streams4j.UnsupportedPlatformException;
import org.streams4j.WindowSize;

/**
 * {@code serve --pty}: each client gets a terminal of its own running the
 * command, its bytes typed on the terminal and the terminal's screen sent
 * back. The session ends when the command's side hangs up (it exited: the
 * connection is then closed after the last of its output), when the client
 * hangs up, or when the server stops; each of the last two closes the pty,
 * which hangs up the command (SIGHUP, SIGKILL {@link Pty#CLOSE_GRACE} later).
 */
final class PtySessions {
    /** The size a terminal starts with: a client has no way to say its own (no protocol is made up here). */
    static final WindowSize SIZE = WindowSize.of(24, 80);

    private final Path path;
    private final AtomicBoolean stopping;
    /** The sessions running: each terminal and its command. */
    private final Map<Pty, TerminalProcess> open = new ConcurrentHashMap<>();

    PtySessions(Path path, AtomicBoolean stopping) {
        this.path = path;
        this.stopping = stopping;
    }

    /** One client's session, on the serve thread of its connection. */
    void run(Connection c, int n, List<String> cmd, String name) {
        try (Pty pty = Pty.open()) {
            pty.setWindowSize(SIZE);
            TerminalProcess p;
            try {
                p = pty.start(cmd, ExecSupervisor.environmentMap(c.peer()));
            } catch (UnsupportedPlatformException e) {
                Cli.error(path + ": connection " + n + ": " + e.getMessage());
                return;
            }
            open.put(pty, p);
            try {
                if (stopping.get()) {
                    return;
                }
                Thread screen = new Thread(() -> screen(pty, c), "streamsctl-pty-" + n);
                screen.setDaemon(true);
                screen.start();
                String end = typing(c, pty);
                if (end != null) {
                    Cli.note(path + ": connection " + n + ": " + end + "; hanging up " + name
                        + " on " + pty.name());
                }
                pty.close();            // the hang-up; SIGKILL after the grace
                joinQuietly(screen);
                if (StreamsCtl.debug && !p.isAlive()) {
                    Cli.note(path + ": connection " + n + ": " + name + " exited " + p.exitValue());
                }
            } finally {
                synchronized (open) {
                    open.remove(pty);
                    open.notifyAll();
                }
            }
        } catch (IOException e) {
            Cli.error(path + ": connection " + n + ": " + e.getMessage());
        }
    }

    /** Client to terminal until the client's end (why), or null when the session ended otherwise. */
    private String typing(Connection c, Pty pty) {
        byte[] buf = new byte[8192];
        try {
            for (;;) {
                int r = c.read(buf, 0, buf.length);
                if (r < 0) {
                    return stopping.get() ? "the server stops" : "the client hung up";
                }
                pty.master().writeFully(buf, 0, r);
            }
        } catch (StreamsException e) {
            if (stopping.get()) {
                return "the server stops";
            }
            // The connection closed under this read by screen() (the command ended),
            // or the master refused the bytes after the command's side closed.
            return c.isOpen() && !Cli.hangUp(e) && pty.master().isOpen() ? "failed: " + e.getMessage() : null;
        }
    }

    /** Terminal to client until the hang-up (the command's side closed), then the connection closed. */
    private static void screen(Pty pty, Connection c) {
        byte[] buf = new byte[8192];
        try {
            InputStream in = pty.inputStream();
            for (int r; (r = in.read(buf)) >= 0; ) {
                c.writeFully(buf, 0, r);
            }
        } catch (IOException e) {
            // the client left, or the pty was closed under this read: the session ends either way
        } finally {
            c.close();      // wakes typing()'s read
        }
    }

    private static void joinQuietly(Thread t) {
        try {
            t.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * On a stop: every terminal hung up at once; each session's own close
     * then ends its command (SIGKILL after the grace), which this waits for
     * before the JVM exits.
     */
    void endSessions() {
        for (Pty pty : open.keySet()) {
            pty.master().close();
        }
        Cli.awaitEnd(open, open::isEmpty, Pty.CLOSE_GRACE);
        // A session still open past its grace (a slow machine): its command gets
        // SIGKILL from here, before the JVM exits (sent only while unreaped).
        for (TerminalProcess p : open.values()) {
            try {
                p.signal(Signal.KILL);
            } catch (StreamsException e) {
                Cli.error(path + ": " + e.getMessage());
            }
        }
    }
}
