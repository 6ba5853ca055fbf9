package org.streams4j.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.util.Properties;
import java.util.concurrent.Callable;
import org.streams4j.Platform;
import org.streams4j.StreamsException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.IVersionProvider;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/**
 * {@code streamsctl}: the sysadmin's command for streams4j. Serves a path
 * (echo, a command per connection, or a file's descriptor), connects to one,
 * shows what a path or descriptor is, pushes and pops modules, detaches, and
 * checks the library's contract on this host ({@code selftest}).
 *
 * <p>Exit status: 0 success, 1 failure, 2 usage error. Every error is one
 * line on stderr, {@code streamsctl: fattach /x: EBUSY (already attached)};
 * {@code --debug} adds the stack trace and the library's debug log.
 */
@Command(name = "streamsctl",
    scope = ScopeType.INHERIT,
    mixinStandardHelpOptions = true,
    versionProvider = StreamsCtl.Version.class,
    sortOptions = false,
    usageHelpAutoWidth = true,
    subcommands = {
        ServeCommand.class,
        ConnectCommand.class,
        InfoCommand.class,
        PushCommand.class,
        PopCommand.class,
        ListCommand.class,
        DetachCommand.class,
        SelftestCommand.class,
        CommandLine.HelpCommand.class,
    },
    description = {
        "STREAMS from the command line: connld servers, clients, descriptor passing, module stacks.",
        "On illumos and Solaris it uses STREAMS (pipe, connld, fattach, streamio ioctls);",
        "elsewhere the portable AF_UNIX backend with the same contract.",
    },
    exitCodeListHeading = "%nExit status:%n",
    exitCodeList = {
        "0:success",
        "1:failure (one line on stderr says what failed and why)",
        "2:usage error",
    })
public final class StreamsCtl implements Callable<Integer> {
    /** Set by {@code --debug} on any command. */
    static volatile boolean debug;

    @Spec
    CommandSpec spec;

    @Option(names = "--debug", scope = ScopeType.INHERIT,
        description = "Print stack traces and the library's debug log on stderr.")
    void setDebug(boolean on) {
        debug = on;
        Cli.configureLogging(on);
    }

    /** Runs streamsctl and exits with its status. */
    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs streamsctl; returns the exit status instead of exiting. */
    public static int run(String... args) {
        Cli.configureLogging(false);
        if (!Platform.isAvailable() && needsTheShim(args)) {
            // One line and exit 1, for every command: no class-loading traces.
            try {
                Platform.ensureAvailability();
            } catch (UnsatisfiedLinkError e) {
                return failure(e);
            }
        }
        CommandLine cl = commandLine();
        return cl.execute(args);
    }

    /**
     * Whether the command line runs a command that needs the native library:
     * all but help, version, usage errors without a command, and selftest
     * (which reports the missing library as its FAIL row).
     */
    private static boolean needsTheShim(String[] args) {
        String command = null;
        for (String a : args) {
            if (a.equals("-h") || a.equals("--help") || a.equals("-V") || a.equals("--version")) {
                return false;
            }
            if (command == null && !a.startsWith("-")) {
                command = a;
            }
        }
        return command != null && !command.equals("selftest") && !command.equals("help");
    }

    static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new StreamsCtl());
        cl.registerConverter(java.nio.file.Path.class, new Cli.PathConverter());
        cl.setParameterExceptionHandler(StreamsCtl::usageError);
        cl.setExecutionExceptionHandler((ex, cmd, parseResult) -> failure(ex));
        cl.setOut(new PrintWriter(System.out, true));
        cl.setErr(new PrintWriter(System.err, true));
        return cl;
    }

    @Override
    public Integer call() {
        throw new ParameterException(spec.commandLine(),
            "missing command: serve, connect, info, push, pop, list, detach or selftest");
    }

    /** A usage error: one line, exit 2. */
    private static int usageError(ParameterException ex, String[] args) {
        String name = ex.getCommandLine().getCommandSpec().qualifiedName();
        String msg = oneLine(ex.getMessage());
        if (msg.startsWith("Error: ")) {
            msg = msg.substring("Error: ".length());
        }
        if (!msg.isEmpty() && Character.isUpperCase(msg.charAt(0))
            && (msg.length() == 1 || !Character.isUpperCase(msg.charAt(1)))) {
            msg = Character.toLowerCase(msg.charAt(0)) + msg.substring(1);
        }
        Cli.error(msg + " (see '" + name + " --help')");
        if (debug) {
            ex.printStackTrace();
        }
        return CommandLine.ExitCode.USAGE;
    }

    /** A failure while running: one line, exit 1. */
    static int failure(Throwable ex) {
        Cli.error(describe(ex));
        if (debug) {
            ex.printStackTrace();
        }
        return CommandLine.ExitCode.SOFTWARE;
    }

    /** The one line that says what went wrong, without the exception's class where it adds nothing. */
    static String describe(Throwable ex) {
        Throwable t = ex;
        while ((t instanceof UncheckedIOException || t instanceof CommandLine.ExecutionException)
            && t.getCause() != null) {
            t = t.getCause();
        }
        if (t instanceof StreamsException || t instanceof Cli.Failure) {
            return oneLine(t.getMessage());
        }
        if (t instanceof NoSuchFileException e) {
            return e.getFile() + ": no such file or directory";
        }
        if (t instanceof AccessDeniedException e) {
            return e.getFile() + ": permission denied";
        }
        if (t instanceof FileSystemException e) {
            return oneLine(e.getMessage());
        }
        if (t instanceof UnsatisfiedLinkError && !Platform.isAvailable()) {
            return oneLine(t.getMessage());
        }
        if (t instanceof UnsatisfiedLinkError || t instanceof NoClassDefFoundError) {
            return "cannot load the streams4j native library: " + oneLine(String.valueOf(t.getMessage()));
        }
        if (t instanceof IOException && t.getMessage() != null) {
            return oneLine(t.getMessage());
        }
        String m = t.getMessage();
        return t.getClass().getSimpleName() + (m != null ? ": " + oneLine(m) : "")
            + (debug ? "" : " (run with --debug for the stack trace)");
    }

    private static String oneLine(String s) {
        if (s == null) {
            return "";
        }
        return s.strip();     // Cli.error prints what is left of line breaks escaped
    }

    /** {@code streamsctl 0.1.0-SNAPSHOT} and the backend. */
    static final class Version implements IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = "dev";
            try (InputStream in = StreamsCtl.class.getResourceAsStream(
                "/META-INF/maven/org.streams4j/streams4j/pom.properties")) {
                if (in != null) {
                    Properties p = new Properties();
                    p.load(in);
                    v = p.getProperty("version", v);
                }
            } catch (IOException e) {
                // keep "dev"
            }
            return new String[] {
                "streamsctl " + v,
                "backend: " + Cli.platformLine(),
            };
        }
    }
}
