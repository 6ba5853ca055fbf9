package org.streams4j.testsupport;

import java.time.Duration;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** Runs one of the JDK's tools (java, javac, jar) to the end and keeps what it printed. */
public final class Tool {
    private Tool() {
    }

    /** What a run gave: its exit status and its whole stdout and stderr. */
    public record Run(int exit, String out, String err) {
    }

    /**
     * {@code $JAVA_HOME/bin/TOOL ARGS} in {@code dir}, with an empty standard
     * input and without JAVA_TOOL_OPTIONS (whose "Picked up" line would go to
     * stderr); fails after two minutes.
     */
    public static Run run(Path dir, String tool, List<String> args) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", tool).toString());
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile());
        pb.environment().remove("JAVA_TOOL_OPTIONS");
        Process p = pb.start();
        p.getOutputStream().close();
        CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> read(p.getInputStream()), Async.EACH);
        CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> read(p.getErrorStream()), Async.EACH);
        if (!p.waitFor(TimeScale.guard(Duration.ofSeconds(120)).toMillis(), TimeUnit.MILLISECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("still running after 120 s: " + cmd);
        }
        return new Run(p.exitValue(), out.get(), err.get());
    }

    private static String read(InputStream in) {
        try {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }
}
