package org.streams4j.bench;

import com.pty4j.PtyProcess;
import com.pty4j.PtyProcessBuilder;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.Map;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.streams4j.Pty;
import org.streams4j.TerminalProcess;

/**
 * The pty_true row (issue 26): open a pseudo-terminal, run {@code /bin/true}
 * on it, wait for its exit, read the terminal to its end and close it.
 * {@code impl} picks the column: {@code streams4j} ({@link Pty#open()},
 * {@link Pty#start}), {@code pty4j} (JetBrains' {@link PtyProcessBuilder},
 * a comparison only) or {@code jdk}, the same command through
 * {@link ProcessBuilder} with pipes and no terminal, the baseline of what a
 * process start costs this JVM. BenchMain runs it in SingleShotTime: one
 * invocation is {@link #OPS} operations.
 */
public class PtyBench {
    static final String STREAMS4J = "streams4j";
    static final String PTY4J = "pty4j";
    static final String JDK = ChannelBench.JDK;
    /** Operations per measured invocation. */
    static final int OPS = 200;
    /** Warm-up invocations of {@link #OPS} operations each, per fork. */
    static final int WARMUPS = 2;
    static final String TRUE = "/bin/true";
    /** Descriptors a trial may leave behind before it counts as a leak (JVM and JMH noise). */
    private static final int LEAK_SLACK = 8;

    @State(Scope.Thread)
    public static class Column {
        @Param({STREAMS4J, PTY4J, JDK})
        String impl;
        final List<String> command = List.of(TRUE);
        final String[] commandArray = {TRUE};
        Map<String, String> env;
        int fdsAtStart;

        @Setup(Level.Trial)
        public void setup() {
            env = System.getenv();
            fdsAtStart = openDescriptors();
        }

        /** Fails the trial when it leaked descriptors (a pty or a pipe per operation would show here). */
        @TearDown(Level.Trial)
        public void tearDown() {
            int now = openDescriptors();
            if (fdsAtStart >= 0 && now - fdsAtStart > LEAK_SLACK) {
                throw new IllegalStateException(impl + ": " + (now - fdsAtStart) + " more descriptors open after the"
                    + " trial (" + fdsAtStart + " -> " + now + ")");
            }
        }
    }

    /** This process's open descriptors (/proc/self/fd, /dev/fd), or -1 where neither lists them. */
    static int openDescriptors() {
        for (String dir : new String[] {"/proc/self/fd", "/dev/fd"}) {
            String[] l = new File(dir).list();
            if (l != null) {
                return l.length;
            }
        }
        return -1;
    }

    @Benchmark
    @OperationsPerInvocation(OPS)
    public void ptyTrue(Column c) throws Exception {
        for (int i = 0; i < OPS; i++) {
            int status = switch (c.impl) {
                case STREAMS4J -> streams4j(c.command);
                case PTY4J -> pty4j(c.commandArray, c.env);
                case JDK -> jdk(c.command);
                default -> throw new IllegalArgumentException(c.impl);
            };
            if (status != 0) {
                throw new IllegalStateException(c.impl + ": " + TRUE + " exited " + status);
            }
        }
    }

    /** streams4j: the pty, the command on it, its exit, the terminal read to the hang-up, the close. */
    static int streams4j(List<String> command) throws IOException, InterruptedException {
        try (Pty pty = Pty.open()) {
            TerminalProcess p = pty.start(command);
            int status = p.waitFor();
            pty.inputStream().readAllBytes();
            return status;
        }
    }

    /**
     * pty4j: the same. Closing the input stream closes the pty (master and
     * pty4j's wake-up pipe); the output stream closes the same one again
     * (a no-op), as pty4j's PtyProcess says a caller should. No
     * {@code destroy()}: after the exit it would only send SIGTERM to the
     * pid's process group (killpg), which is reaped by then.
     */
    static int pty4j(String[] command, Map<String, String> env) throws IOException, InterruptedException {
        PtyProcess p = new PtyProcessBuilder(command).setEnvironment(env).start();
        int status = p.waitFor();
        InputStream in = p.getInputStream();
        in.readAllBytes();
        in.close();
        p.getOutputStream().close();
        p.getErrorStream().close();
        return status;
    }

    /** The baseline without a terminal: ProcessBuilder, its output read to the end, its pipes closed. */
    static int jdk(List<String> command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).start();
        int status = p.waitFor();
        try (InputStream in = p.getInputStream()) {
            in.readAllBytes();
        }
        p.getOutputStream().close();
        p.getErrorStream().close();
        return status;
    }

    /**
     * Null when pty4j runs {@code /bin/true} here (its native library for
     * this OS and architecture, extracted from its jar); else why not.
     */
    static String pty4jProblem() {
        try {
            int status = pty4j(new String[] {TRUE}, System.getenv());
            return status == 0 ? null : TRUE + " exited " + status + " under pty4j";
        } catch (Exception | LinkageError e) {
            return "pty4j does not run here: " + e;
        }
    }
}
