package org.streams4j.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.streams4j.Platform;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code streamsctl selftest}: the library's contract, checked on this host
 * with nothing but this jar, in a temporary directory that is removed after.
 */
@Command(name = "selftest",
    header = "Check the streams4j contract on this host; PASS/FAIL/SKIP per check.",
    description = {
        "Check the streams4j contract on this host: pipes, descriptor passing, a",
        "connld server with concurrent clients, 200 clients on event loops",
        "(serveEvents), peer credentials, detach and clean-up, the error paths, and",
        "the module operations (STREAMS) or their refusal (portable backend).",
        "Prints PASS, FAIL or SKIP per check; exits 1 if any check fails.",
        "With --json: one JSON object on one line, {\"backend\":..., \"checks\":",
        "[{\"check\":..., \"result\":\"PASS\", \"detail\":...}, ...], \"passed\":N,",
        "\"failed\":N, \"skipped\":N}.",
    })
final class SelftestCommand implements Callable<Integer> {
    @Option(names = "--clients", paramLabel = "N", defaultValue = "8",
        description = "Concurrent clients for the connld check (default: ${DEFAULT-VALUE}).")
    int clients;

    @Option(names = "--timeout", paramLabel = "DUR", defaultValue = "20s", converter = Cli.DurationConverter.class,
        description = "Time one check may take before it counts as failed (default: ${DEFAULT-VALUE}).")
    Duration checkTimeout;

    @Option(names = "--json", description = "Print the host and the results as one JSON object instead of the table.")
    boolean json;

    /** The rows, for --json. */
    private final List<Map<String, Object>> results = new ArrayList<>();

    private final PrintStream out = System.out;
    private Path dir;
    /** Held so that its level outlives garbage collection. */
    private java.util.logging.Logger quiet;

    @Override
    public Integer call() throws Exception {
        if (clients < 1) {
            throw new Cli.Failure("selftest: --clients must be at least 1");
        }
        if (!Platform.isAvailable()) {
            return unavailable();
        }
        Map<String, Object> host = new LinkedHashMap<>();
        host.put("backend", Platform.backend().description());
        host.put("system", System.getProperty("os.name") + " " + System.getProperty("os.version") + " "
            + System.getProperty("os.arch"));
        host.put("java", System.getProperty("java.version") + " (" + System.getProperty("java.vm.name") + ")");
        host.put("binding", Platform.nativeBinding());
        host.put("uid", Platform.euid());
        host.put("gid", Platform.egid());
        host.put("pid", ProcessHandle.current().pid());
        dir = tempDir();
        if (!json) {
            out.println("streamsctl selftest: the streams4j contract on this host");
            out.printf("  backend  %s%n", host.get("backend"));
            out.printf("  system   %s%n", host.get("system"));
            out.printf("  java     %s%n", host.get("java"));
            out.printf("  binding  %s%n", host.get("binding"));
            out.printf("  process  uid=%d gid=%d pid=%d%n", Platform.euid(), Platform.egid(),
                ProcessHandle.current().pid());
            out.printf("  temp     %s (removed afterwards)%n%n", Cli.escape(dir.toString()));
            out.printf("  %-6s %-36s %s%n", "RESULT", "CHECK", "DETAIL");
            out.flush();
        }

        // The checks provoke what the library logs as warnings (a refused client).
        quiet = java.util.logging.Logger.getLogger("org.streams4j.connld");
        if (!StreamsCtl.debug) {
            quiet.setLevel(java.util.logging.Level.SEVERE);
        }
        int[] count = new int[3];   // pass, fail, skip
        ExecutorService runner = Executors.newCachedThreadPool(
            Cli.daemons("selftest-%d"));
        try {
            for (SelftestChecks.Named c : new SelftestChecks(dir, clients).all()) {
                row(runner, count, c.name(), c.check());
            }
        } finally {
            runner.shutdownNow();
            deleteTree(dir);
        }
        int total = count[0] + count[1] + count[2];
        if (json) {
            host.put("checks", results);
            host.put("passed", count[0]);
            host.put("failed", count[1]);
            host.put("skipped", count[2]);
            host.put("temp_left_behind", Files.exists(dir) ? dir.toString() : null);
            out.println(Json.of(host));
        } else {
            out.printf("%n%d checks: %d passed, %d failed, %d skipped%s%n", total, count[0], count[1], count[2],
                Files.exists(dir) ? "; could not remove " + dir : "");
        }
        out.flush();
        return count[1] > 0 ? 1 : 0;
    }

    /** No native library: the header, one FAIL row saying why, exit 1. */
    private int unavailable() {
        out.println("streamsctl selftest: the streams4j contract on this host");
        out.printf("  backend  %s%n", Cli.platformLine());
        out.printf("  system   %s %s %s%n", System.getProperty("os.name"), System.getProperty("os.version"),
            System.getProperty("os.arch"));
        out.printf("  java     %s (%s)%n%n", System.getProperty("java.version"), System.getProperty("java.vm.name"));
        out.printf("  %-6s %-36s %s%n", "RESULT", "CHECK", "DETAIL");
        out.printf("  %-6s %-36s %s%n", "FAIL", "native library loads",
            Cli.unavailable());
        out.printf("%n1 check: 0 passed, 1 failed, 0 skipped (no other check can run without it)%n");
        out.flush();
        return 1;
    }

    private void row(ExecutorService runner, int[] count, String name, SelftestChecks.Check check) {
        String result;
        String detail;
        Future<String> f = runner.submit(check::run);
        try {
            detail = f.get(checkTimeout.toMillis(), TimeUnit.MILLISECONDS);
            result = "PASS";
            count[0]++;
        } catch (TimeoutException e) {
            f.cancel(true);
            result = "FAIL";
            detail = "no result within " + checkTimeout.toMillis() + "ms";
            count[1]++;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            result = "FAIL";
            detail = "interrupted";
            count[1]++;
        } catch (ExecutionException e) {
            Throwable t = e.getCause();
            if (t instanceof SelftestChecks.Skip) {
                result = "SKIP";
                detail = t.getMessage();
                count[2]++;
            } else {
                result = "FAIL";
                detail = StreamsCtl.describe(t);
                count[1]++;
                if (StreamsCtl.debug) {
                    t.printStackTrace();
                }
            }
        }
        if (json) {
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("check", name);
            r.put("result", result);
            r.put("detail", detail == null ? "" : detail);
            results.add(r);
            return;
        }
        out.printf("  %-6s %-36s %s%n", result, name, detail == null ? "" : Cli.escape(detail));
        out.flush();
    }

    private static Path tempDir() throws IOException {
        Path base = Path.of(System.getProperty("java.io.tmpdir"));
        // AF_UNIX paths are short (104 to 108 bytes): keep the directory short.
        if (base.toString().length() > 60 && Files.isDirectory(Path.of("/tmp"))) {
            base = Path.of("/tmp");
        }
        return Files.createTempDirectory(base, "s4j-selftest-");
    }

    static void deleteTree(Path root) {
        if (root == null || !Files.exists(root)) {
            return;
        }
        try {
            Files.walkFileTree(root, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    Files.deleteIfExists(file);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path d, IOException exc) throws IOException {
                    Files.deleteIfExists(d);
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            // reported by the summary line
        }
    }
}
