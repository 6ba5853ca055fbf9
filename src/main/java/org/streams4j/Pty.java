package org.streams4j;

import java.io.Closeable;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.streams4j.internal.PtyShim;

/**
 * A pseudo-terminal: the master, which a program holds to play the user at
 * a terminal, and the subsidiary, the terminal a command runs on
 * ({@code /dev/pts/N}).
 *
 * <pre>{@code
 * try (Pty pty = Pty.open()) {
 *     pty.setWindowSize(WindowSize.of(24, 80));
 *     TerminalProcess sh = pty.start(List.of("/bin/sh"));
 *     sh.getOutputStream().write("echo $((6 * 7)); exit 3\n".getBytes(StandardCharsets.US_ASCII));
 *     String screen = new String(sh.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
 *     int status = sh.waitFor();      // 3; screen holds the echo of the line, then 42
 * }
 * }</pre>
 *
 * <p><b>Opening.</b> {@link #open()} is {@code posix_openpt},
 * {@code grantpt}, {@code unlockpt} and {@code ptsname} on the master, then
 * an open of the subsidiary (with {@code O_NOCTTY}: this process never gets
 * it as its own terminal). On illumos the subsidiary is a STREAMS device
 * that is no terminal until the modules {@code ptem}, {@code ldterm} and
 * {@code ttcompat} are pushed on it; {@code open()} pushes them unless
 * {@code ldterm} is there already (a host that autopushes them), so
 * {@code master()}'s and {@code subsidiary()}'s module stacks show the same
 * on every illumos host. On Linux nothing is pushed.
 *
 * <p><b>A command on it.</b> {@link #start} runs a command as the leader of
 * a new session whose controlling terminal is the subsidiary: its stdin,
 * stdout and stderr, and no other descriptor of this process. Once it runs,
 * this object closes its own descriptor of the subsidiary, so that the
 * master sees the hang-up when the command's side closes: from then on
 * {@link #inputStream()} ends (-1) after the last of its output, where a
 * read of {@link #master()} itself fails with EIO on Linux and returns one
 * end of stream on illumos, then blocks.
 *
 * <p><b>Closing</b> closes both descriptors: the hang-up, which sends the
 * command's session SIGHUP. A command still running
 * {@link #CLOSE_GRACE} later (one that ignores SIGHUP) gets SIGKILL, with
 * its process group, and {@code close()} returns once it has been reaped.
 *
 * <p>Terminal settings ({@link #setWindowSize}, {@link #setModes},
 * {@link #makeRaw}) may be changed before and after the start; a resize
 * sends the terminal's foreground process group SIGWINCH.
 */
public final class Pty implements Closeable {
    /** How long a command has after the hang-up of {@link #close()} before SIGKILL. */
    public static final Duration CLOSE_GRACE = Duration.ofSeconds(2);
    /** ptsname(3C) on illumos builds the name in a buffer of libc's own. */
    private static final Object NAMING = new Object();
    private static final String[] MODULES = {"ptem", "ldterm", "ttcompat"};

    private final StreamFd master;
    private final String name;
    private final Object lock = new Object();
    /** This object's descriptor of the subsidiary; null once a command runs or once closed. */
    private StreamFd subsidiary;
    private TerminalProcess process;
    private boolean closed;
    /** The hang-up was read: every stream of this pty ends there, where illumos' master would block. */
    private volatile boolean hungUp;

    private Pty(StreamFd master, String name, StreamFd subsidiary) {
        this.master = master;
        this.name = name;
        this.subsidiary = subsidiary;
    }

    /**
     * Opens a new pseudo-terminal.
     *
     * @return the pty; its master and subsidiary are open
     * @throws StreamsException when a step fails, named with its errno
     *         ({@code posix_openpt /dev/ptmx: EAGAIN} when the system has no
     *         pty left); nothing stays open
     */
    public static Pty open() throws StreamsException {
        Platform.ensureAvailability();
        int fd = PtyShim.s4j_pty_open();
        if (fd < 0) {
            throw new StreamsException("posix_openpt", "/dev/ptmx", -fd);
        }
        StreamFd master = StreamFd.adopt(fd);
        StreamFd sub = null;
        try {
            master.descriptor().call("grantpt", PtyShim::s4j_pty_grant);
            master.descriptor().call("unlockpt", PtyShim::s4j_pty_unlock);
            String name = name(master);
            master.descriptor().label("(the master of " + name + ")");
            sub = StreamFd.open(Path.of(name), StreamFd.Mode.READ_WRITE);
            sub.descriptor().label(name);
            if (Platform.backend() == Backend.STREAMS) {
                pushModules(sub);
            }
            return new Pty(master, name, sub);
        } catch (StreamsException | RuntimeException e) {
            if (sub != null) {
                sub.close();
            }
            master.close();
            throw e;
        }
    }

    /**
     * ptem, ldterm and ttcompat onto an illumos subsidiary, unless ldterm is
     * there already (autopushed, or by an earlier open of the same stream):
     * pushed twice, each would process every character twice. Pushed with
     * __I_PUSH_NOCTTY, so that a JVM that leads its session does not get
     * the terminal (s4j_pty_push).
     *
     * @return whether they were pushed
     */
    static boolean pushModules(StreamFd sub) throws StreamsException {
        if (sub.find("ldterm")) {
            return false;
        }
        for (String m : MODULES) {
            sub.descriptor().call("I_PUSH " + m, fd -> PtyShim.s4j_pty_push(fd, m));
        }
        return true;
    }

    private static String name(StreamFd master) throws StreamsException {
        byte[] buf = new byte[128];
        int n;
        synchronized (NAMING) {
            n = master.descriptor().call("ptsname", fd -> PtyShim.s4j_pty_name(fd, buf, buf.length));
        }
        return new String(buf, 0, n, StandardCharsets.UTF_8);
    }

    /**
     * The master: what is written to it is typed on the terminal, what the
     * terminal shows is read from it. Owned by this object: closed by
     * {@link #close()}.
     *
     * @return the master's descriptor
     */
    public StreamFd master() {
        return master;
    }

    /**
     * This object's descriptor of the subsidiary, for a program that puts
     * its own code on the terminal instead of {@link #start starting} a
     * command. Owned by this object.
     *
     * @return the descriptor
     * @throws IllegalStateException once a command was started (its
     *         descriptor is then closed here) or once closed
     */
    public StreamFd subsidiary() {
        synchronized (lock) {
            if (subsidiary == null) {
                throw new IllegalStateException(closed ? "the pty " + name + " is closed"
                    : "a command runs on " + name + ": this object no longer holds its subsidiary");
            }
            return subsidiary;
        }
    }

    /**
     * The subsidiary's path.
     *
     * @return e.g. {@code /dev/pts/3}
     */
    public String name() {
        return name;
    }

    /**
     * The command started on this terminal, if any.
     *
     * @return the process, or null before {@link #start}
     */
    public TerminalProcess process() {
        synchronized (lock) {
            return process;
        }
    }

    // ---- settings ------------------------------------------------------------

    /** A call on one descriptor of the terminal. */
    private interface TtyCall {
        int apply(StreamFd fd) throws StreamsException;
    }

    /**
     * A termios call (tcgetattr, tcsetattr). Linux answers them on the
     * master too (the pty driver hands them to the subsidiary's tty). On
     * illumos only the subsidiary does (ldterm and ptem answer TCGETS and
     * TCSETS; at the master, ptm hands the M_IOCTL up the subsidiary's read
     * side, whose stream head NAKs it: EINVAL): this object's subsidiary
     * while it holds one, and once a command runs, the subsidiary opened
     * again for the call (O_NOCTTY), whose close is never the stream's last
     * while the command holds its own. The window size goes through the
     * master on both: ptm passes TIOCSWINSZ to ptem, which answers it from
     * below (ptemrput, ptioc RDSIDE).
     */
    private int termios(TtyCall c) throws StreamsException {
        if (Platform.backend() != Backend.STREAMS) {
            return c.apply(master);
        }
        synchronized (lock) {
            if (subsidiary != null) {
                return c.apply(subsidiary);
            }
            if (closed) {
                throw new StreamClosedException("tcgetattr", name);
            }
        }
        try (StreamFd again = StreamFd.open(Path.of(name), StreamFd.Mode.READ_WRITE)) {
            again.descriptor().label(name);
            return c.apply(again);
        }
    }

    /**
     * The window size (TIOCGWINSZ).
     *
     * @return the size; 0 rows and columns until somebody sets one
     * @throws StreamsException when the call fails (closed: {@link StreamClosedException})
     */
    public WindowSize windowSize() throws StreamsException {
        int[] ws = new int[PtyShim.WS_COUNT];
        master.descriptor().call("TIOCGWINSZ", fd -> PtyShim.s4j_winsize_get(fd, ws));
        return new WindowSize(ws[PtyShim.WS_ROWS], ws[PtyShim.WS_COLS], ws[PtyShim.WS_XPIXEL], ws[PtyShim.WS_YPIXEL]);
    }

    /**
     * Sets the window size (TIOCSWINSZ); when it changes, the terminal sends
     * its foreground process group SIGWINCH.
     *
     * @param size the new size
     * @throws StreamsException when the call fails
     */
    public void setWindowSize(WindowSize size) throws StreamsException {
        int[] ws = new int[PtyShim.WS_COUNT];
        ws[PtyShim.WS_ROWS] = size.rows();
        ws[PtyShim.WS_COLS] = size.columns();
        ws[PtyShim.WS_XPIXEL] = size.widthPixels();
        ws[PtyShim.WS_YPIXEL] = size.heightPixels();
        master.descriptor().call("TIOCSWINSZ", fd -> PtyShim.s4j_winsize_set(fd, ws));
    }

    /**
     * The terminal modes that are on (tcgetattr).
     *
     * @return a new set
     * @throws StreamsException when the call fails
     */
    public EnumSet<TerminalMode> modes() throws StreamsException {
        return TerminalMode.of(termios(t -> TerminalMode.bits(Terminal.modes(t))));
    }

    /**
     * Turns exactly these modes on and the other {@link TerminalMode}s off,
     * at once (tcsetattr TCSANOW); settings that are not a TerminalMode stay.
     *
     * @param on the modes wanted on
     * @throws StreamsException when the call fails
     */
    public void setModes(Set<TerminalMode> on) throws StreamsException {
        EnumSet<TerminalMode> want = on.isEmpty() ? EnumSet.noneOf(TerminalMode.class) : EnumSet.copyOf(on);
        termios(t -> {
            Terminal.setModes(t, want);
            return 0;
        });
    }

    /**
     * Turns echo on or off, leaving the other modes as they are.
     *
     * @param on whether what is typed is written back
     * @throws StreamsException when a call fails
     */
    public void setEcho(boolean on) throws StreamsException {
        EnumSet<TerminalMode> m = modes();
        if (on) {
            m.add(TerminalMode.ECHO);
        } else {
            m.remove(TerminalMode.ECHO);
        }
        setModes(m);
    }

    /**
     * Raw mode, as {@code cfmakeraw} sets it: every {@link TerminalMode} off,
     * 8-bit characters, no flow control, a read returns from one byte.
     *
     * @throws StreamsException when the call fails
     */
    public void makeRaw() throws StreamsException {
        termios(t -> {
            Terminal.raw(t);
            return 0;
        });
    }

    // ---- a command -----------------------------------------------------------

    /**
     * Starts a command on this terminal with this JVM's environment.
     *
     * @param command the program (a path, or a name looked up in PATH) and its arguments
     * @return the running command
     * @throws IOException as {@link #start(List, Map)}
     */
    public TerminalProcess start(List<String> command) throws IOException {
        return start(command, System.getenv());
    }

    /**
     * Starts a command on this terminal: the leader of a new session whose
     * controlling terminal is the subsidiary (its stdin, stdout and stderr),
     * with an empty signal mask, SIGHUP, SIGINT, SIGQUIT, SIGPIPE and SIGTERM
     * at their defaults, and no other descriptor of this process. One
     * command per pty.
     *
     * @param command the program (a path, or a name looked up in the
     *        environment's PATH) and its arguments
     * @param environment the command's whole environment
     * @return the running command
     * @throws java.nio.file.NoSuchFileException when the program is not found
     * @throws UnsupportedPlatformException where posix_spawn cannot start a
     *         session (POSIX_SPAWN_SETSID: glibc before 2.26, an illumos
     *         older than its 2026 spawn.h) or where opening a terminal does
     *         not make it the controlling one (the BSDs, macOS)
     * @throws StreamsException when posix_spawn fails
     * @throws IllegalStateException when a command was started already, or once closed
     */
    public TerminalProcess start(List<String> command, Map<String, String> environment) throws IOException {
        if (command.isEmpty()) {
            throw new IllegalArgumentException("no command");
        }
        String path = resolve(command.get(0), environment.get("PATH"));
        List<String> env = new ArrayList<>();
        environment.forEach((k, v) -> env.add(k + "=" + Objects.requireNonNull(v, k)));
        synchronized (lock) {
            if (closed) {
                throw new IllegalStateException("the pty " + name + " is closed");
            }
            if (process != null) {
                throw new IllegalStateException("a command runs on " + name + " already: " + process);
            }
            int pid = master.descriptor().useQuick("posix_spawn",
                fd -> PtyShim.s4j_spawn_tty(path, command, env, name));
            if (pid == -Errno.EOPNOTSUPP) {
                throw new UnsupportedPlatformException("a command on a terminal (posix_spawn with "
                    + "POSIX_SPAWN_SETSID, opening the terminal as the session's)", path);
            }
            if (pid < 0) {
                throw new StreamsException("posix_spawn", path + " on " + name, -pid);
            }
            process = TerminalProcess.started(pid, this);
            subsidiary.close();
            subsidiary = null;
            return process;
        }
    }

    /** The program as given when it names a file; else looked up in PATH, as execvp does. */
    static String resolve(String cmd, String pathVar) throws java.nio.file.NoSuchFileException {
        if (cmd.contains("/")) {
            Path p = Path.of(cmd);
            if (!Files.isRegularFile(p) || !Files.isExecutable(p)) {
                throw new java.nio.file.NoSuchFileException(cmd, null, "no such executable file");
            }
            return cmd;
        }
        if (pathVar != null) {
            for (String dir : pathVar.split(File.pathSeparator)) {
                Path p = Path.of(dir.isEmpty() ? "." : dir, cmd);
                if (Files.isRegularFile(p) && Files.isExecutable(p)) {
                    return p.toString();
                }
            }
        }
        throw new java.nio.file.NoSuchFileException(cmd, null, "command not found in PATH");
    }

    // ---- streams -------------------------------------------------------------

    /**
     * What the terminal shows, read from the master. Its end (-1) is the
     * hang-up: once the command's side of the terminal is closed, what it
     * wrote is read first, then -1, and -1 from then on. The master itself
     * says it differently: EIO on Linux; on illumos one end of stream
     * (ptsclose sends one zero-length message), after which a read of the
     * master would block. Closing the stream leaves the pty open.
     *
     * @return a new stream
     */
    public InputStream inputStream() {
        return new InputStream() {
            @Override
            public int read() throws IOException {
                byte[] b = new byte[1];
                int n = read(b, 0, 1);
                return n < 0 ? -1 : b[0] & 0xff;
            }

            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                Objects.checkFromIndexSize(off, len, b.length);
                if (len == 0) {
                    return 0;
                }
                if (hungUp) {
                    return -1;
                }
                int n;
                try {
                    n = master.read(b, off, len);
                } catch (StreamsException e) {
                    if (e.errno() != Errno.EIO) {
                        throw e;
                    }
                    n = -1;     // Linux: every descriptor of the subsidiary is closed
                }
                if (n < 0) {
                    // illumos: one zero-length message (ptsclose), after which a read would block
                    hungUp = true;
                }
                return n;
            }

            @Override
            public int available() throws IOException {
                return hungUp ? 0 : master.available();
            }
        };
    }

    /**
     * Typing on the terminal: writes to the master. Closing the stream
     * leaves the pty open; a command reading a line sees the end of its
     * input when the EOF character (^D, 4) is typed at the start of a line.
     *
     * @return a new stream
     */
    public OutputStream outputStream() {
        return new OutputStream() {
            @Override
            public void write(int b) throws IOException {
                master.writeFully(new byte[] {(byte) b});
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                master.writeFully(b, off, len);
            }
        };
    }

    // ---- closing -------------------------------------------------------------

    /**
     * Closes the subsidiary (when still held) and the master: the hang-up.
     * A command started here that is still running {@link #CLOSE_GRACE}
     * later gets SIGKILL with its process group; close returns once it is
     * reaped (or, if it cannot be reaped, after another grace). Idempotent.
     * An interrupt shortens the wait: the command gets SIGKILL at once, and
     * the interrupt status stays set.
     */
    @Override
    public void close() {
        TerminalProcess p;
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
            if (subsidiary != null) {
                subsidiary.close();
                subsidiary = null;
            }
            p = process;
        }
        master.close();
        if (p == null) {
            return;
        }
        boolean interrupted = false;
        try {
            if (p.waitFor(CLOSE_GRACE.toMillis(), TimeUnit.MILLISECONDS)) {
                return;
            }
        } catch (InterruptedException e) {
            interrupted = true;
        }
        try {
            p.signal(Signal.KILL);
        } catch (StreamsException e) {
            System.getLogger("org.streams4j").log(System.Logger.Level.WARNING, "close " + name + ": " + e.getMessage());
        }
        try {
            p.waitFor(CLOSE_GRACE.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            interrupted = true;
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public String toString() {
        return "Pty[" + name + (master.isOpen() ? "" : ", closed") + "]";
    }
}
