package org.streams4j.cli;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.OptionalInt;
import java.util.Stack;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.logging.ConsoleHandler;
import java.util.logging.Formatter;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.streams4j.Accounts;
import org.streams4j.Errno;
import org.streams4j.PeerCredentials;
import org.streams4j.Platform;
import org.streams4j.StreamFd;
import org.streams4j.StreamsException;
import org.streams4j.internal.Shim;
import org.apache.commons.lang3.concurrent.BasicThreadFactory;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.IParameterConsumer;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.TypeConversionException;

/** What the commands share: messages, argument converters, descriptors from the caller. */
final class Cli {
    static final String PROG = "streamsctl";

    /** The library's loggers; kept here so that their level survives garbage collection. */
    private static final Logger LIBRARY = Logger.getLogger("org.streams4j");
    private static volatile boolean loggingConfigured;

    private Cli() {
    }

    /** The command's daemon threads, made in one place; {@code pattern} is a format: %d numbers them. */
    static ThreadFactory daemons(String pattern) {
        return BasicThreadFactory.builder().namingPattern(pattern).daemon(true).build();
    }

    /** One daemon thread named {@code name}, started. */
    static Thread startDaemon(String name, Runnable r) {
        Thread t = daemons(name).newThread(r);
        t.start();
        return t;
    }

    /** A failure with a message that is the whole story: one line, exit 1. */
    static final class Failure extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Failure(String message) {
            super(message);
        }
    }

    /**
     * {@code streamsctl: message} on stderr, always one line: control
     * characters in the message (a path or module name may hold a newline or
     * an escape sequence) are printed escaped, see {@link #escape}.
     */
    static void error(String message) {
        System.err.println(PROG + ": " + escape(message));
        System.err.flush();
    }

    /**
     * Text as one line that shows what is there: backslash, newline, carriage
     * return and tab as {@code \\ \n \r \t}; other control and format
     * characters (C0, DEL, C1, bidirectional overrides, line separators, and
     * U+FFFD, which stands for bytes the JVM could not decode) as
     * {@code \x1b}, or above 0xff a backslash, u and four hex digits. Nothing read from outside can start a
     * line of its own or move the cursor.
     */
    static String escape(String s) {
        if (s == null) {
            return "null";
        }
        StringBuilder sb = null;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            String e = switch (c) {
                case '\\' -> "\\\\";
                case '\n' -> "\\n";
                case '\r' -> "\\r";
                case '\t' -> "\\t";
                default -> {
                    int t = Character.getType(c);
                    if (c == '\uFFFD' || t == Character.CONTROL || t == Character.FORMAT
                        || t == Character.LINE_SEPARATOR || t == Character.PARAGRAPH_SEPARATOR) {
                        yield c < 0x100 ? String.format("\\x%02x", (int) c) : String.format("\\u%04x", (int) c);
                    }
                    yield null;
                }
            };
            if (e != null && sb == null) {
                sb = new StringBuilder(s.length() + 16).append(s, 0, i);
            }
            if (sb != null) {
                if (e != null) {
                    sb.append(e);
                } else {
                    sb.append(c);
                }
            }
        }
        return sb == null ? s : sb.toString();
    }

    /**
     * On a stop: waits on {@code monitor}, which is notified when {@code done}
     * may have become true, until it is or {@code grace} and one second more
     * have passed; {@code done} is asked holding the monitor. The stop's own
     * interrupt of the serving thread (ServeCommand.stop) may come meanwhile:
     * it does not cut the wait short, or the JVM would exit before the grace
     * of what is being ended is over. It is kept for the caller.
     */
    static void awaitEnd(Object monitor, BooleanSupplier done, Duration grace) {
        boolean interrupted = false;
        long deadline = System.nanoTime() + grace.toNanos() + 1_000_000_000L;
        synchronized (monitor) {
            while (!done.getAsBoolean()) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    break;
                }
                try {
                    TimeUnit.NANOSECONDS.timedWait(monitor, left);
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** A progress or log line on stderr, same form as errors. */
    static void note(String message) {
        error(message);
    }

    /**
     * The library logs through System.Logger, i.e. java.util.logging: one line
     * each, {@code streamsctl: ...}, INFO and up (everything with --debug).
     */
    static synchronized void configureLogging(boolean debug) {
        if (!loggingConfigured) {
            LogManager.getLogManager().reset();
            ConsoleHandler h = new ConsoleHandler();
            h.setLevel(Level.ALL);
            h.setFormatter(new Formatter() {
                @Override
                public String format(LogRecord r) {
                    String m = formatMessage(r);
                    StringBuilder sb = new StringBuilder(PROG).append(": ");
                    if (r.getLevel().intValue() >= Level.WARNING.intValue()) {
                        sb.append(r.getLevel() == Level.SEVERE ? "error: " : "warning: ");
                    }
                    sb.append(escape(m.strip()));
                    if (r.getThrown() != null && StreamsCtl.debug) {
                        java.io.StringWriter w = new java.io.StringWriter();
                        r.getThrown().printStackTrace(new java.io.PrintWriter(w));
                        sb.append(System.lineSeparator()).append(w.toString().stripTrailing());
                    }
                    return sb.append(System.lineSeparator()).toString();
                }
            });
            Logger root = Logger.getLogger("");
            root.addHandler(h);
            root.setLevel(Level.WARNING);
            loggingConfigured = true;
        }
        LIBRARY.setLevel(debug ? Level.ALL : Level.INFO);
    }

    /** Backend and OS, or why the native library would not load. */
    static String platformLine() {
        return Platform.isAvailable() ? Platform.describe() : "unavailable: " + unavailable();
    }

    /** The one line that says why the native library did not load, or null when it did. */
    static String unavailable() {
        try {
            Platform.ensureAvailability();
            return null;
        } catch (UnsatisfiedLinkError e) {
            return e.getMessage();
        }
    }

    /**
     * {@code uid=501 gid=20 pid=4711 zone=- groups=12,20}: every field, "-" for
     * what the platform did not say (no supplementary groups read as "-" too).
     */
    static String peer(PeerCredentials p) {
        if (p == null) {
            return "uid=- gid=- pid=- zone=- groups=-";
        }
        return "uid=" + p.uid() + " gid=" + p.gid()
            + " pid=" + (p.pid().isPresent() ? Integer.toString(p.pid().getAsInt()) : "-")
            + " zone=" + (p.zone().isPresent() ? Integer.toString(p.zone().getAsInt()) : "-")
            + " groups=" + (p.groups().isEmpty() ? "-" : new java.util.TreeSet<>(p.groups()).stream()
                .map(String::valueOf).collect(java.util.stream.Collectors.joining(",")));
    }

    /** Human name of a shim file type. */
    static String fileType(int ft) {
        switch (ft) {
            case Shim.FT_REGULAR: return "regular file";
            case Shim.FT_DIRECTORY: return "directory";
            case Shim.FT_FIFO: return "FIFO";
            case Shim.FT_SOCKET: return "socket";
            case Shim.FT_CHAR: return "character device";
            case Shim.FT_BLOCK: return "block device";
            case Shim.FT_SYMLINK: return "symbolic link";
            default: return "other";
        }
    }

    /** Inherited descriptors taken by {@link #inherited}: held so that no Cleaner ever closes them. */
    private static final List<StreamFd> INHERITED = new java.util.concurrent.CopyOnWriteArrayList<>();

    /**
     * Takes a descriptor this process inherited ({@code list --fd 0 < /dev/x}),
     * after making sure it is open: {@code list fd 9: EBADF (not an open descriptor)}.
     * It is never closed: the number may as well be one the JVM opened for
     * itself (its jar, say), and the process exits soon anyway.
     */
    static StreamFd inherited(String op, int fd) throws StreamsException {
        if (fd < 0) {
            throw new Failure(op + " fd " + fd + ": not a descriptor number");
        }
        int t = Shim.s4j_file_type(fd);
        if (t < 0) {
            throw new StreamsException(op, StreamsException.fd(fd), -t);
        }
        StreamFd s = StreamFd.adopt(fd);
        INHERITED.add(s);
        return s;
    }

    // ---- converters -------------------------------------------------------------

    private static final Pattern DURATION = Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*(ms|s|m|h)?");

    /** 500ms, 2s, 1.5s, 1m, 1h; a bare number is seconds. */
    static Duration parseDuration(String s) {
        Matcher m = DURATION.matcher(s.trim().toLowerCase(Locale.ROOT));
        if (!m.matches()) {
            throw new TypeConversionException("'" + s + "' is not a duration (e.g. 500ms, 2s, 1m)");
        }
        double v = Double.parseDouble(m.group(1));
        String unit = m.group(2) == null ? "s" : m.group(2);
        double ms = switch (unit) {
            case "ms" -> v;
            case "s" -> v * 1000;
            case "m" -> v * 60_000;
            default -> v * 3_600_000;
        };
        if (ms > Integer.MAX_VALUE) {
            throw new TypeConversionException("'" + s + "' is too long a duration");
        }
        return Duration.ofMillis(Math.round(ms));
    }

    /** 500ms, 2s, 1m as given to {@link #parseDuration}. */
    static String human(Duration d) {
        long ms = d.toMillis();
        if (ms % 60_000 == 0 && ms > 0) {
            return (ms / 60_000) + "m";
        }
        return ms % 1000 == 0 ? (ms / 1000) + "s" : ms + "ms";
    }

    private static final Pattern SIZE = Pattern.compile("(\\d{1,19})\\s*([kmg]?)b?");

    /** 4096, 512k, 64m, 1g (powers of 1024); at least 1. */
    static long parseSize(String s) {
        Matcher m = SIZE.matcher(s.trim().toLowerCase(Locale.ROOT));
        if (!m.matches()) {
            throw new TypeConversionException("'" + s + "' is not a size (e.g. 4096, 512k, 64m, 1g)");
        }
        int shift = switch (m.group(2)) {
            case "k" -> 10;
            case "m" -> 20;
            case "g" -> 30;
            default -> 0;
        };
        long v;
        try {
            v = Long.parseLong(m.group(1));
        } catch (NumberFormatException e) {
            throw new TypeConversionException("'" + s + "' is too large a size");
        }
        if (v < 1) {
            throw new TypeConversionException("'" + s + "': a size must be at least 1 byte");
        }
        if (v > (Long.MAX_VALUE >> shift)) {
            throw new TypeConversionException("'" + s + "' is too large a size");
        }
        return v << shift;
    }

    /** A size as {@link #parseSize} reads it: 64m, 512k, 4097. */
    static String size(long n) {
        for (String[] u : new String[][] {{"g", "30"}, {"m", "20"}, {"k", "10"}}) {
            int shift = Integer.parseInt(u[1]);
            if (n >= (1L << shift) && n % (1L << shift) == 0) {
                return (n >> shift) + u[0];
            }
        }
        return Long.toString(n);
    }

    static final class SizeConverter implements ITypeConverter<Long> {
        @Override
        public Long convert(String value) {
            return parseSize(value);
        }
    }

    /**
     * Every path argument: refused when it cannot be what the user typed.
     * The JVM decodes the command line with {@code sun.jnu.encoding} and puts
     * U+FFFD where bytes do not decode ({@code /tmp/u\xff} under UTF-8, any
     * byte above 0x7f under the C locale), so the name that reaches the
     * system calls is another file's ({@code /tmp/u\uFFFD}, which anyone may
     * create). A path holding U+FFFD, or one the native calls' encoding
     * cannot carry back to bytes unchanged, is a usage error: nothing is
     * looked at.
     */
    static final class PathConverter implements ITypeConverter<java.nio.file.Path> {
        @Override
        public java.nio.file.Path convert(String value) {
            if (value.indexOf('\uFFFD') >= 0 || !Shim.encodable(value)) {
                throw new TypeConversionException("'" + value + "' cannot be represented: a name that is not "
                    + "valid in this locale's character set (" + System.getProperty("sun.jnu.encoding")
                    + ") reaches Java changed (bytes it cannot decode become U+FFFD), and would name another file");
            }
            try {
                return java.nio.file.Path.of(value);
            } catch (java.nio.file.InvalidPathException e) {
                throw new TypeConversionException("'" + value + "' is not a path: " + e.getReason());
            }
        }
    }

    static final class DurationConverter implements ITypeConverter<Duration> {
        @Override
        public Duration convert(String value) {
            return parseDuration(value);
        }
    }

    /**
     * Octal permission bits: 0600, 660, 0o644; at most 0777: a client needs no
     * setuid, setgid or sticky bit to connect, and root must not set them.
     */
    static final class ModeConverter implements ITypeConverter<Integer> {
        @Override
        public Integer convert(String value) {
            String s = value.trim();
            if (s.startsWith("0o") || s.startsWith("0O")) {
                s = s.substring(2);
            }
            if (s.isEmpty() || !s.matches("[0-7]+")) {
                throw new TypeConversionException("'" + value
                    + "' is not an octal mode (digits 0-7, e.g. 0600)");
            }
            long v = s.length() > 8 ? Long.MAX_VALUE : Long.parseLong(s, 8);
            if (v > 07777) {
                throw new TypeConversionException("'" + value + "' is out of range (0 to 777: permission bits only)");
            }
            if ((v & ~0777) != 0) {
                throw new TypeConversionException("'" + value + "': setuid, setgid and sticky bits "
                    + "are not allowed on an attach point (give at most 0777)");
            }
            return (int) v;
        }
    }

    /** A user id, or a user name the system's user database knows (getpwnam_r: files, LDAP, NIS...). */
    static final class UidConverter implements ITypeConverter<Integer> {
        @Override
        public Integer convert(String value) {
            return id(value, "user");
        }
    }

    /** A group id, or a group name the system's group database knows (getgrnam_r). */
    static final class GidConverter implements ITypeConverter<Integer> {
        @Override
        public Integer convert(String value) {
            return id(value, "group");
        }
    }

    /** A zone id; "global" is zone 0. */
    static final class ZoneConverter implements ITypeConverter<Integer> {
        @Override
        public Integer convert(String value) {
            String s = value.trim();
            if ("global".equals(s)) {
                return 0;
            }
            if (!s.matches("\\d{1,9}")) {
                throw new TypeConversionException("'" + value + "' is not a zone id (a number, or global)");
            }
            return Integer.parseInt(s);
        }
    }

    private static int id(String value, String what) {
        String s = value.trim();
        if (s.matches("\\d{1,10}")) {
            long v = Long.parseLong(s);
            if (v > Integer.MAX_VALUE) {
                throw new TypeConversionException("'" + value + "' is out of range for a " + what + " id");
            }
            return (int) v;
        }
        if (s.isEmpty()) {
            throw new TypeConversionException("empty " + what + " in the list");
        }
        OptionalInt id;
        try {
            id = "user".equals(what) ? Accounts.uid(s) : Accounts.gid(s);
        } catch (StreamsException e) {
            throw new TypeConversionException("cannot look up " + what + " '" + value + "': " + e.getMessage());
        }
        if (id.isEmpty()) {
            throw new TypeConversionException("unknown " + what + " '" + value
                + "' (give a number, or a name the system's " + what + " database knows)");
        }
        return id.getAsInt();
    }

    /** For {@code --exec CMD [ARG...]}: takes every argument that follows. */
    static final class RestOfLine implements IParameterConsumer {
        @Override
        public void consumeParameters(Stack<String> args, ArgSpec argSpec, CommandSpec spec) {
            if (!args.isEmpty() && "--".equals(args.peek())) {
                args.pop();
            }
            if (args.isEmpty()) {
                throw new ParameterException(spec.commandLine(),
                    "--exec needs a command: --exec CMD [ARG...] (and it must come last)");
            }
            List<String> list = new ArrayList<>();
            while (!args.isEmpty()) {
                list.add(args.pop());
            }
            argSpec.setValue(list);
        }
    }

    /** Whether an errno is one of those that mean "the other end went away". */
    static boolean hangUp(StreamsException e) {
        int n = e.errno();
        return n == Errno.EPIPE || n == Errno.ECONNRESET || n == Errno.ENXIO || n == Errno.ENOTCONN;
    }
}
