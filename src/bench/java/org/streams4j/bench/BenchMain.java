package org.streams4j.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.math.BigDecimal;
import java.math.MathContext;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import org.streams4j.Backend;
import org.streams4j.ConnldOptions;
import org.streams4j.Platform;

/**
 * Runs every column of every metric in one process, one after the other,
 * prints the table and writes results.json. Started by {@code scripts/bench}:
 * <pre>
 *   BenchMain [--quick] [--c PATH_TO_s4jbench] [--out results.json] [--only m1,m2]
 * </pre>
 * Metrics: pingpong, message, throughput, connect, fdpass, scale, pty_true. Columns: streams4j
 * (JMH, {@link S4jBench}), c ({@code s4jbench}), and on the portable backend
 * jdk and junixsocket ({@link ChannelBench}; no jdk descriptor passing; scale
 * has a jdk column, a Selector server in {@link Scale}, and no junixsocket).
 * pty_true ({@link PtyBench}) has streams4j, pty4j and, as its jdk column,
 * {@link ProcessBuilder} without a terminal; no C column.
 */
public final class BenchMain {
    static final String S4J = "streams4j";
    static final String C = "c";
    static final String JDK = ChannelBench.JDK;
    static final String JUNIX = ChannelBench.JUNIXSOCKET;
    /** pty_true's comparison column only: JetBrains' pty4j. */
    static final String PTY4J = PtyBench.PTY4J;
    static final List<String> COLUMNS = List.of(S4J, C, JDK, JUNIX, PTY4J);
    static final List<String> ALL = List.of("pingpong", "message", "throughput", "connect", "fdpass", "scale",
        "pty_true");
    static final int SCALE_CONNECTIONS = 1000;
    static final int SCALE_MANY = 10_000;

    /**
     * How long each measurement runs. Every column is measured once per round,
     * rounds interleave the columns (in a rotating order) and a column's value
     * is the median over rounds: drift on a shared machine hits all columns
     * alike. One round of a JMH column is one fork; the C column runs the same
     * warm-up and measurement time. Ping-pong has rounds of its own: on one
     * CPU ({@code pingpongRounds}) and unpinned ({@code twoCpuRounds}).
     */
    record Settings(String label, int rounds, int warmups, int warmupMs, int iterations, int iterationMs,
                    long bytes, int byteWarmups, int byteIterations, int scaleRounds, int sweeps,
                    int pingpongRounds, int twoCpuRounds) {
    }

    static final Settings FULL = new Settings("full", 5, 2, 800, 3, 800, 1L << 30, 3, 5, 3, 5, 5, 3);
    static final Settings QUICK = new Settings("quick", 3, 2, 400, 3, 400, 256L << 20, 6, 5, 2, 3, 5, 3);

    /** One row of the table. */
    static final class Metric {
        final String name;
        final String unit;
        final boolean lowerIsBetter;
        final Double target;
        /** Per column, the median over rounds. */
        final Map<String, Double> values = new LinkedHashMap<>();
        /** Per column, each round's value. */
        final Map<String, List<Double>> rounds = new LinkedHashMap<>();

        Metric(String name, String unit, boolean lowerIsBetter, Double target) {
            this.name = name;
            this.unit = unit;
            this.lowerIsBetter = lowerIsBetter;
            this.target = target;
        }

        /** streams4j's cost relative to C: time per operation, so above 1 is slower than C. */
        Double ratio() {
            return ratio(C);
        }

        /**
         * streams4j's cost relative to {@code other}'s, from the medians: time
         * over time, for rates the other's rate over streams4j's; above 1 is
         * slower. Null when either is missing.
         */
        Double ratio(String other) {
            Double s = values.get(S4J);
            Double o = values.get(other);
            if (s == null || o == null || s == 0 || o == 0) {
                return null;
            }
            return lowerIsBetter ? s / o : o / s;
        }

        /** {min, max} of a column's rounds, or null. */
        double[] range(String col) {
            List<Double> r = rounds.get(col);
            if (r == null || r.isEmpty() || r.contains(null)) {
                return null;
            }
            return new double[] {Collections.min(r), Collections.max(r)};
        }

        /**
         * streams4j against {@code other}: "level" when the two columns'
         * rounds overlap (min-max), else "ahead" or "behind" with
         * {@link #ratio(String)}; null when either column is missing.
         */
        Verdict verdict(String other) {
            double[] s = range(S4J);
            double[] o = range(other);
            Double ratio = ratio(other);
            if (s == null || o == null || ratio == null) {
                return null;
            }
            boolean overlap = s[0] <= o[1] && o[0] <= s[1];
            return new Verdict(overlap ? "level" : ratio < 1 ? "ahead" : "behind", ratio);
        }
    }

    /** streams4j against another column: level, ahead or behind, and the cost ratio of the medians. */
    record Verdict(String word, double ratio) {
        @Override
        public String toString() {
            return word + String.format(Locale.ROOT, " %.2f", ratio);
        }
    }

    /** The columns streams4j is compared with, in the table's order. */
    static final List<String> COMPARED = List.of(C, JDK, JUNIX, PTY4J);

    /** One column's measurement in one round: metric name to value. */
    @FunctionalInterface
    interface Measure {
        Map<String, Double> run(String column) throws Exception;
    }

    private final Settings settings;
    private final Path cBinary;
    private final Path jmhLogs;
    private final boolean portable;
    private final Set<String> columns = new LinkedHashSet<>();
    private final List<Metric> metrics = new ArrayList<>();
    private final Map<String, String> notes = new LinkedHashMap<>();
    private int jmhRuns;
    private double loadAtStart;
    private double loadAtEnd;

    private BenchMain(Settings settings, Path cBinary, Path jmhLogs) {
        this.settings = settings;
        this.cBinary = cBinary;
        this.jmhLogs = jmhLogs;
        this.portable = Platform.backend() == Backend.PORTABLE;
        columns.add(S4J);
        columns.add(C);
        if (portable) {
            columns.add(JDK);
            if (junixsocketWorks()) {
                columns.add(JUNIX);
            } else {
                notes.put(JUNIX, "junixsocket has no native library for this platform");
            }
        }
    }

    private static boolean junixsocketWorks() {
        try {
            return org.newsclub.net.unix.AFUNIXSocket.isSupported();
        } catch (LinkageError e) {
            return false;
        }
    }

    public static void main(String[] args) throws Exception {
        Settings settings = FULL;
        Path cBinary = Path.of("target/bench/s4jbench");
        Path out = Path.of("target/bench/results.json");
        List<String> only = ALL;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--quick" -> settings = QUICK;
                case "--c" -> cBinary = Path.of(args[++i]);
                case "--out" -> out = Path.of(args[++i]);
                case "--only" -> only = Arrays.asList(args[++i].split(","));
                default -> {
                    System.err.println("usage: BenchMain [--quick] [--c s4jbench] [--out results.json]"
                        + " [--only " + String.join(",", ALL) + "]");
                    System.exit(2);
                }
            }
        }
        for (String m : only) {
            if (!ALL.contains(m)) {
                System.err.println("no metric " + m + "; there are " + ALL);
                System.exit(2);
            }
        }
        Path logs = out.toAbsolutePath().getParent().resolve("jmh");
        Bench.deleteTree(logs);     // JMH's own output of this run only
        Files.createDirectories(logs);
        BenchMain b = new BenchMain(settings, cBinary, logs);
        long t0 = System.nanoTime();
        b.say("streams4j benchmarks, " + settings.label() + " run: " + Platform.describe()
            + ", " + Runtime.getRuntime().availableProcessors() + " CPUs, JDK "
            + System.getProperty("java.vm.version") + ", binding " + Platform.nativeBinding() + "; columns " + b.columns);
        b.loadAtStart = load();
        b.say(String.format(Locale.ROOT, "load average %.2f: other work on this machine skews every column", b.loadAtStart));
        for (String m : only) {
            switch (m) {
                case "pingpong" -> b.pingpong();
                case "message" -> b.message();
                case "throughput" -> b.throughput();
                case "connect" -> b.connect();
                case "fdpass" -> b.fdpass();
                case "scale" -> b.scale();
                case "pty_true" -> b.ptyTrue();
                default -> throw new IllegalStateException(m);
            }
        }
        b.loadAtEnd = load();
        b.say(String.format(Locale.ROOT, "done in %.0f s; load average %.2f", (System.nanoTime() - t0) / 1e9,
            b.loadAtEnd));
        System.out.println();
        System.out.print(b.table());
        Files.writeString(out, b.json());
        System.out.println("\nwrote " + out);
        if (only.contains("scale")) {
            Path svg = Path.of("docs/bench/scale.svg");
            if (Files.isDirectory(svg.getParent())) {
                ScaleChart.write(out, svg);
                System.out.println("wrote " + svg + " from " + out);
            }
        }
    }

    /** The one-minute load average (Linux, illumos, macOS), or -1. */
    private static double load() {
        return java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
    }

    private void say(String s) {
        System.out.println("[bench] " + s);
        System.out.flush();
    }

    private Metric metric(String name, String unit, boolean lowerIsBetter, Double target) {
        Metric m = new Metric(name, unit, lowerIsBetter, target);
        metrics.add(m);
        return m;
    }

    // ---- the metrics ------------------------------------------------------------

    /** Runs {@code m} for each column in each round and files the medians under {@code rows}. */
    private void rounds(List<String> cols, Measure m, Metric... rows) throws Exception {
        rounds(settings.rounds(), cols, m, rows);
    }

    private void rounds(int count, List<String> cols, Measure m, Metric... rows) throws Exception {
        for (int r = 0; r < count; r++) {
            for (int i = 0; i < cols.size(); i++) {
                String col = cols.get((i + r) % cols.size());
                say(rows[0].name + " " + col + ", round " + (r + 1) + "/" + count);
                Map<String, Double> got = m.run(col);
                for (Metric row : rows) {
                    row.rounds.computeIfAbsent(col, k -> new ArrayList<>()).add(got.get(row.name));
                }
            }
        }
        for (Metric row : rows) {
            for (String col : cols) {
                row.values.put(col, median(row.rounds.get(col).stream().mapToDouble(Double::doubleValue).toArray()));
            }
        }
    }

    private int warmupMs() {
        return settings.warmups() * settings.warmupMs();
    }

    private int measureMs() {
        return settings.iterations() * settings.iterationMs();
    }

    /**
     * Ping-pong, every column confined to one CPU where taskset allows
     * ({@link #pin}): both threads share it, so a round trip is the software
     * path (the system calls and the switches between the two threads on one
     * CPU), the same for every column. Unpinned, the scheduler puts the two threads on one
     * CPU or on two, and on two each message pays the wake-up of an idle CPU,
     * a lottery larger than the differences between columns; that figure
     * stays in the table as pingpong_64B_2cpu, for reference.
     */
    private void pingpong() throws Exception {
        Pin pin = pin();
        Metric median = metric("pingpong_64B", "us", true, 1.3);
        Metric p99 = metric("pingpong_64B_p99", "us", true, null);
        List<String> cols = present(S4J, C, JDK, JUNIX);
        String how = "Median and p99 of all round trips of a round (JMH SampleTime; C times each one)";
        if (pin.pinned()) {
            say("ping-pong on CPU " + pin.cpu() + " for every column: " + String.join(" ", pin.prefix())
                + " (JMH forks through " + pin.jvm() + ")");
            notes.put("pingpong_pinned", "yes, CPU " + pin.cpu() + " (" + String.join(" ", pin.prefix()) + ")");
            notes.put("pingpong", "pingpong_64B and pingpong_64B_p99: every column confined to CPU " + pin.cpu()
                + " (taskset; the JMH forks through a wrapper that execs java under taskset, the C program"
                + " under taskset), so both threads share one CPU and a round trip is the system calls and"
                + " the switches between the two threads on it. A JVM confined to one CPU sees availableProcessors() = 1 and"
                + " picks SerialGC, the same for all three JVM columns. " + how + ", median over "
                + settings.pingpongRounds() + " rounds. pingpong_64B_2cpu: the same unpinned, median over "
                + settings.twoCpuRounds() + " rounds; where the scheduler puts the two threads decides it"
                + " (one CPU or two; on two, every message pays a cross-CPU wake-up)");
        } else {
            say("ping-pong unpinned: " + pin.why());
            notes.put("pingpong_pinned", "no: " + pin.why());
            notes.put("pingpong", "pingpong_64B and pingpong_64B_p99 unpinned (" + pin.why() + "): the"
                + " scheduler puts the two threads on one CPU or two, and on two every message pays a"
                + " cross-CPU wake-up, so the row varies with placement more than between columns. " + how
                + ", median over " + settings.pingpongRounds() + " rounds. No pingpong_64B_2cpu row:"
                + " it would be the same measurement");
        }
        rounds(settings.pingpongRounds(), cols, col -> pingpongRound(col, pin, median.name, p99.name),
            median, p99);
        if (pin.pinned()) {
            Metric spread = metric("pingpong_64B_2cpu", "us", true, null);
            rounds(settings.twoCpuRounds(), cols, col -> pingpongRound(col, Pin.NONE, spread.name, null),
                spread);
        }
    }

    /**
     * A 64-byte message and its echo (issue 25): streams4j's
     * {@code messages().send} and {@code receive} against C making the same
     * calls, {@code putmsg}/{@code getmsg} on a STREAMS pipe and
     * {@code send}/{@code recv} on a SOCK_SEQPACKET socketpair elsewhere.
     * Pinned as ping-pong is. The JDK and junixsocket have no column: the
     * JDK has no SOCK_SEQPACKET, and no Java library has STREAMS messages.
     */
    private void message() throws Exception {
        Pin pin = pin();
        Metric median = metric("message_64B", "us", true, 1.3);
        Metric p99 = metric("message_64B_p99", "us", true, null);
        notes.put("message", "message_64B: one 64-byte message and its echo as a message, "
            + (portable ? "send/recv on an AF_UNIX SOCK_SEQPACKET socketpair (StreamPipe.openMessages)"
                : "putmsg/getmsg on a STREAMS pipe")
            + (pin.pinned() ? ", both threads on CPU " + pin.cpu() : ", unpinned (" + pin.why() + ")")
            + "; median and p99 of a round's round trips, median over " + settings.pingpongRounds()
            + " rounds. No JDK or junixsocket column: neither has STREAMS messages or SOCK_SEQPACKET pairs");
        rounds(settings.pingpongRounds(), present(S4J, C), col -> {
            if (col.equals(C)) {
                Map<String, Double> c = runC(pin.prefix(), "message", Integer.toString(warmupMs()),
                    Integer.toString(measureMs()));
                return Map.of(median.name, c.get("median_us"), p99.name, c.get("p99_us"));
            }
            RunResult r = jmh(col, "message", pin.jvm(), Mode.SampleTime, TimeUnit.MICROSECONDS, Map.of());
            return Map.of(median.name, r.getPrimaryResult().getStatistics().getPercentile(50),
                p99.name, r.getPrimaryResult().getStatistics().getPercentile(99));
        }, median, p99);
    }

    /** One column's ping-pong: its median (and p99, unless {@code p99} is null) under those names. */
    private Map<String, Double> pingpongRound(String col, Pin pin, String median, String p99) throws Exception {
        double m;
        double p;
        if (col.equals(C)) {
            Map<String, Double> c = runC(pin.prefix(), "pingpong", Integer.toString(warmupMs()),
                Integer.toString(measureMs()));
            m = c.get("median_us");
            p = c.get("p99_us");
        } else {
            RunResult r = jmh(col, "pingpong", pin.jvm(), Mode.SampleTime, TimeUnit.MICROSECONDS, Map.of());
            m = r.getPrimaryResult().getStatistics().getPercentile(50);
            p = r.getPrimaryResult().getStatistics().getPercentile(99);
        }
        return p99 == null ? Map.of(median, m) : Map.of(median, m, p99, p);
    }

    /**
     * Where the pinned ping-pong runs: a CPU, the command prefix that confines
     * a process to it and a JVM wrapper for JMH forks that uses the prefix; or
     * ({@code cpu} -1) why it runs unpinned.
     */
    record Pin(int cpu, List<String> prefix, String jvm, String why) {
        static final Pin NONE = new Pin(-1, List.of(), null, "not asked");

        boolean pinned() {
            return cpu >= 0;
        }
    }

    /**
     * Pins with taskset (util-linux) to the first CPU this process may run on
     * (Cpus_allowed_list of /proc/self/status), through a wrapper written
     * next to results.json. Elsewhere (illumos has pbind, no taskset) or when
     * taskset fails: unpinned, with the reason.
     */
    private Pin pin() throws IOException, InterruptedException {
        if (pin == null) {
            pin = findPin();
        }
        return pin;
    }

    /** Where this run pins, found once (ping-pong and scale both ask). */
    private Pin pin;

    private Pin findPin() throws IOException, InterruptedException {
        Path taskset = onPath("taskset");
        if (taskset == null) {
            return unpinned("no taskset on PATH");
        }
        Path status = Path.of("/proc/self/status");
        Integer cpu = null;
        if (Files.isReadable(status)) {
            for (String line : Files.readAllLines(status, StandardCharsets.US_ASCII)) {
                if (line.startsWith("Cpus_allowed_list:")) {
                    cpu = Integer.valueOf(line.substring(line.indexOf(':') + 1).trim().split("[-,]")[0]);
                }
            }
        }
        if (cpu == null) {
            return unpinned("no Cpus_allowed_list in /proc/self/status");
        }
        List<String> prefix = List.of(taskset.toString(), "-c", Integer.toString(cpu));
        Process p = new ProcessBuilder(with(prefix, "true")).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
            return unpinned(String.join(" ", prefix) + " true failed: " + out);
        }
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Path wrapper = jmhLogs.getParent().resolve("java-cpu" + cpu);
        Files.writeString(wrapper, "#!/bin/sh\n"
            + "# Written by BenchMain: a JMH fork of the pinned ping-pong row, on CPU " + cpu + ".\n"
            + "exec " + shellQuote(taskset.toString()) + " -c " + cpu + " " + shellQuote(java) + " \"$@\"\n");
        if (!wrapper.toFile().setExecutable(true)) {
            return unpinned("cannot make " + wrapper + " executable");
        }
        return new Pin(cpu, prefix, wrapper.toAbsolutePath().toString(), null);
    }

    private static Pin unpinned(String why) {
        return new Pin(-1, List.of(), null, why);
    }

    /** The first executable {@code name} in the directories of PATH, or null. */
    private static Path onPath(String name) {
        String path = System.getenv("PATH");
        if (path == null) {
            return null;
        }
        for (String dir : path.split(java.io.File.pathSeparator)) {
            Path f = Path.of(dir.isEmpty() ? "." : dir, name);
            if (Files.isRegularFile(f) && Files.isExecutable(f)) {
                return f.toAbsolutePath();
            }
        }
        return null;
    }

    private static String shellQuote(String s) {
        return "'" + s.replace("'", "'\\''") + "'";
    }

    /**
     * Throughput at each of {@link Bench#CHUNKS} bytes per write (and per
     * read): at 4 KiB the cost per call dominates, at 1 MiB the cost per
     * byte. The 64 KiB row keeps the name {@code throughput}, as in earlier
     * runs' results.json.
     */
    private void throughput() throws Exception {
        long bytes = settings.bytes();
        String size = bytes >= 1L << 30 ? (bytes >> 30) + " GiB" : (bytes >> 20) + " MiB";
        List<String> names = new ArrayList<>();
        for (int chunk : Bench.CHUNKS) {
            String name = chunk == 64 * 1024 ? "throughput" : "throughput_" + sizeName(chunk);
            names.add(name + " " + sizeName(chunk));
            Metric m = metric(name, "MiB/s", false, 1.1);
            rounds(present(S4J, C, JDK, JUNIX), col -> {
                if (col.equals(C)) {
                    Map<String, Double> c = runC("throughput", Long.toString(bytes),
                        Integer.toString(settings.byteWarmups()), Integer.toString(settings.byteIterations()),
                        Integer.toString(chunk));
                    return Map.of(m.name, c.get("median_mibs"));
                }
                RunResult r = jmh(col, "throughput", Mode.SingleShotTime, TimeUnit.SECONDS,
                    Map.of("bytes", Long.toString(bytes), "chunkBytes", Integer.toString(chunk)));
                return Map.of(m.name, bytes / 1048576.0 / r.getPrimaryResult().getStatistics().getPercentile(50));
            }, m);
        }
        notes.put("throughput", size + " one way per operation (then a one-byte acknowledgement), in writes"
            + " (and reads) of the row's size: " + String.join(", ", names) + "; median of "
            + settings.byteIterations() + " operations per round");
    }

    /** 4096 to "4KiB", 1048576 to "1MiB". */
    private static String sizeName(int bytes) {
        return bytes % (1 << 20) == 0 ? (bytes >> 20) + "MiB" : bytes % 1024 == 0 ? (bytes >> 10) + "KiB"
            : bytes + "B";
    }

    private void connect() throws Exception {
        Metric m = metric("connection_rate", "conn/s", false, 1.5);
        rounds(present(S4J, C, JDK, JUNIX), col -> {
            if (col.equals(C)) {
                Path dir = Bench.tempDir();
                try {
                    Map<String, Double> c = runC("connect", dir.resolve("c").toString(),
                        Integer.toString(settings.warmups()), Integer.toString(settings.iterations()),
                        Integer.toString(settings.iterationMs()));
                    return Map.of(m.name, c.get("median_per_s"));
                } finally {
                    Bench.deleteTree(dir);
                }
            }
            RunResult r = jmh(col, "connect", Mode.Throughput, TimeUnit.SECONDS, Map.of());
            return Map.of(m.name, r.getPrimaryResult().getStatistics().getPercentile(50));
        }, m);
    }

    private void fdpass() throws Exception {
        Metric m = metric("descriptor_passing", "passes/s", false, 1.5);
        notes.put("descriptor_passing", "batches of " + Bench.FD_BATCH + " passes of /dev/null, each"
            + " batch acknowledged by the receiver, which closes every descriptor it gets; the JDK cannot"
            + " pass descriptors");
        rounds(present(S4J, C, JUNIX), col -> {
            if (col.equals(C)) {
                Map<String, Double> c = runC("fdpass", Integer.toString(settings.warmups()),
                    Integer.toString(settings.iterations()), Integer.toString(settings.iterationMs()));
                return Map.of(m.name, c.get("median_per_s"));
            }
            RunResult r = jmh(col, "fdpass", Mode.Throughput, TimeUnit.SECONDS, Map.of());
            return Map.of(m.name, r.getPrimaryResult().getStatistics().getPercentile(50));
        }, m);
    }

    /**
     * Open a pty, run {@code /bin/true} on it until it exited and the pty is
     * closed (issue 26): streams4j's {@code Pty} against JetBrains' pty4j,
     * and {@link ProcessBuilder} without a terminal (the jdk column) as the
     * cost of a process start alone. One round is one JMH fork per column:
     * {@link PtyBench#WARMUPS} warm-up invocations, then measured ones, each
     * {@link PtyBench#OPS} operations; the round's value is their median.
     * pty4j's column is there when pty4j runs here; the jdk column on every
     * backend (on illumos too, where it has no socket rows).
     */
    private void ptyTrue() throws Exception {
        Metric m = metric("pty_true", "ms", true, null);
        columns.add(JDK);
        String problem = PtyBench.pty4jProblem();
        if (problem == null) {
            columns.add(PTY4J);
        } else {
            say(problem);
            notes.put(PTY4J, problem);
        }
        int iterations = settings.byteIterations();
        notes.put("pty_true", "open a pty, start /bin/true on it, wait for its exit, read the terminal to its end,"
            + " close: streams4j Pty.open, start, waitFor, inputStream().readAllBytes(), close (posix_spawn with"
            + " POSIX_SPAWN_SETSID); pty4j PtyProcessBuilder(/bin/true).setEnvironment(System.getenv()).start(),"
            + " waitFor, getInputStream().readAllBytes(), its streams closed (its own native fork and exec);"
            + " jdk: ProcessBuilder(/bin/true).start(), waitFor, stdout read, its pipes closed, no terminal."
            + " Time per operation; each round one fork per column, " + PtyBench.WARMUPS + " warm-up and "
            + iterations + " measured invocations of " + PtyBench.OPS + " operations, the round's value their"
            + " median; median over " + settings.rounds() + " rounds. No C column");
        rounds(present(S4J, PTY4J, JDK), col -> {
            RunResult r = jmh(PtyBench.class.getName(), col, "ptyTrue", null, Mode.SingleShotTime,
                TimeUnit.MILLISECONDS, PtyBench.WARMUPS, iterations, Map.of("impl", col));
            return Map.of(m.name, r.getPrimaryResult().getStatistics().getPercentile(50));
        }, m);
    }

    /** Sweeps a scale client makes first, for the JIT, and the harness does not count. */
    private static final int WARM_SWEEPS = 2;

    private void scale() throws Exception {
        // The event-loop server first: it is what a server holding many idle
        // clients should use (JDK column: a Selector). Then the
        // thread-per-connection server at 1,000, for comparison.
        int loops = ConnldOptions.defaults().loops();
        List<String> cols = present(S4J, C, JDK);
        List<String> loopArgs = List.of(Integer.toString(loops));
        Pin pin = pin();
        scaleRows(SCALE_CONNECTIONS, cols, loopArgs, pin);
        long limit = ((com.sun.management.UnixOperatingSystemMXBean)
            ManagementFactory.getOperatingSystemMXBean()).getMaxFileDescriptorCount();
        String big = "";
        if (limit >= SCALE_MANY + 512) {
            scaleRows(SCALE_MANY, cols, loopArgs, pin);
            big = " and " + SCALE_MANY;
        } else {
            String why = "scale_" + SCALE_MANY + " skipped: the descriptor limit is " + limit
                + ", under " + (SCALE_MANY + 512) + " (scripts/bench raises ulimit -n where it may)";
            say(why);
            notes.put("scale_" + SCALE_MANY, why);
        }
        scale(SCALE_CONNECTIONS, "_thread_per_conn", present(S4J, C), List.of(), Pin.NONE,
            "scale_" + SCALE_CONNECTIONS + "_thread_per_conn_sweep", true);
        // A virtual thread per connection (JDK 21+): streams4j's blocking calls
        // park; the JDK's blocking channels on virtual threads beside it.
        int vn = limit >= SCALE_MANY + 512 ? SCALE_MANY : SCALE_CONNECTIONS;
        if (Bench.virtualThreads() != null) {
            scale(vn, "_vthread_per_conn", present(S4J, JDK), List.of(), Pin.NONE,
                "scale_" + vn + "_vthread_per_conn_sweep", true);
            notes.put("scale_vthread_per_conn", "scale_" + vn + "_vthread_per_conn_*: one virtual thread accepts and"
                + " one virtual thread per connection echoes with blocking calls: streams4j's read and write"
                + " (which park), the JDK's blocking ServerSocketChannel and SocketChannel; unpinned");
        } else {
            notes.put("scale_vthread_per_conn", "skipped: no virtual threads on JDK " + Runtime.version().feature());
        }
        notes.put("scale", "server RSS and thread count (ps) after the sweeps; sweep = one 64-byte round trip"
            + " on each of " + SCALE_CONNECTIONS + big + " connections, client in the same language, median of "
            + settings.sweeps() + " sweeps after " + WARM_SWEEPS + " not counted (JIT warm-up). scale_N_*: streams4j ConnldServer.serveEvents with " + loops
            + " event loops (epoll on Linux, event ports on illumos); C: the same design, " + loops
            + " pthreads on epoll / event ports; JDK: one thread with a java.nio Selector over"
            + " UnixDomainSocketAddress channels. scale_1000_thread_per_conn_*: one thread per connection"
            + " (ConnldServer.serve; pthreads)");
        if (pin.pinned()) {
            notes.put("scale_pinned", "scale_N_sweep: server and client both confined to CPU " + pin.cpu() + " ("
                + String.join(" ", pin.prefix()) + "), so a round trip is the software path (system calls and"
                + " the switches between client and loop on one CPU), as for ping-pong; the streams4j and C servers"
                + " run 1 loop, what ConnldOptions.defaults() picks on one processor (unpinned: " + loops + "). scale_N_sweep_2cpu, scale_N_rss, scale_N_threads and the thread-per-connection"
                + " rows: unpinned, where a sweep is mostly wake-ups of an idle CPU (tens of µs each in this VM)");
        } else {
            notes.put("scale_pinned", "no: " + pin.why());
        }
    }

    /**
     * The event-loop rows at {@code n} connections: RSS, threads and a sweep
     * unpinned, then, where taskset allows, the sweep with server and client
     * on one CPU (scale_N_sweep; the unpinned one becomes scale_N_sweep_2cpu).
     */
    private void scaleRows(int n, List<String> cols, List<String> loopArgs, Pin pin) throws Exception {
        String name = "scale_" + n + "_sweep";
        scale(n, "", cols, loopArgs, Pin.NONE, pin.pinned() ? name + "_2cpu" : name, true);
        if (pin.pinned()) {
            // One loop: what ConnldOptions.defaults() picks on one processor (the JDK's Selector
            // server is one thread anyway), for the C twin too.
            scale(n, "", cols, List.of("1"), pin, name, false);
        }
    }

    private void scale(int n, String suffix, List<String> cols, List<String> serverArgs, Pin pin, String sweepName,
        boolean usage) throws Exception {
        Metric rss = usage ? metric("scale_" + n + suffix + "_rss", "MiB", true, null) : null;
        Metric threads = usage ? metric("scale_" + n + suffix + "_threads", "threads", true, null) : null;
        Metric sweep = metric(sweepName, "ms", true, null);
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String cp = System.getProperty("java.class.path");
        String sweeps = Integer.toString(WARM_SWEEPS + settings.sweeps());
        // The binding options scripts/bench gave this JVM (native access, streams4j.binding).
        List<String> jvm = new ArrayList<>(pin.prefix());
        jvm.add(java);
        for (String arg : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (arg.startsWith("--enable-native-access") || arg.startsWith("-Dstreams4j.binding")) {
                jvm.add(arg);
            }
        }
        jvm.addAll(List.of("-cp", cp, Scale.class.getName()));
        boolean virtual = suffix.equals("_vthread_per_conn");
        Map<String, List<String>> servers = virtual ? Map.of(
            S4J, with(jvm, "vt-server", "PATH", "N"),
            JDK, with(jvm, "jdk-vt-server", "PATH", "N")) : Map.of(
            S4J, with(jvm, "server", "PATH", "N", "LOOPS"),
            C, with(with(pin.prefix(), cBinary.toString(), "scale-server"), "PATH", "N", "LOOPS"),
            JDK, with(jvm, "jdk-server", "PATH", "N"));
        Map<String, List<String>> clients = Map.of(
            S4J, with(jvm, "client"),
            C, with(pin.prefix(), cBinary.toString(), "scale-client"),
            JDK, with(jvm, "jdk-client"));
        rounds(settings.scaleRounds(), cols, col -> {
            Path dir = Bench.tempDir();
            try {
                String path = dir.resolve("s").toString();
                List<String> server = new ArrayList<>();
                for (String a : servers.get(col)) {
                    switch (a) {
                        case "PATH" -> server.add(path);
                        case "N" -> server.add(Integer.toString(n));
                        case "LOOPS" -> server.addAll(serverArgs);
                        default -> server.add(a);
                    }
                }
                double[] r = scaleRun(server, with(clients.get(col), path, Integer.toString(n), sweeps), n);
                return usage ? Map.of(rss.name, r[0], threads.name, r[1], sweep.name, r[2])
                    : Map.of(sweep.name, r[2]);
            } finally {
                Bench.deleteTree(dir);
            }
        }, usage ? new Metric[] {rss, threads, sweep} : new Metric[] {sweep});
    }

    private static List<String> with(List<String> cmd, String... more) {
        List<String> l = new ArrayList<>(cmd);
        l.addAll(Arrays.asList(more));
        return l;
    }

    /** {rss MiB, threads, median sweep ms} of one server/client pair. */
    private double[] scaleRun(List<String> serverCmd, List<String> clientCmd, int n) throws Exception {
        Process server = new ProcessBuilder(serverCmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        Process client = null;
        try {
            BufferedReader sout = reader(server);
            expect(sout, "listening", server);
            client = new ProcessBuilder(clientCmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
            BufferedReader cout = reader(client);
            expect(cout, "connected " + n, client);
            expect(sout, "accepted " + n, server);
            Thread.sleep(500);      // idle
            OutputStream go = client.getOutputStream();
            go.write("go\n".getBytes(StandardCharsets.US_ASCII));
            go.flush();
            List<Double> sweeps = new ArrayList<>();
            for (int i = 0; i < WARM_SWEEPS + settings.sweeps(); i++) {
                String line = cout.readLine();
                if (line == null || !line.startsWith("sweep_ms ")) {
                    throw new IllegalStateException("scale client said: " + line);
                }
                if (i >= WARM_SWEEPS) {
                    sweeps.add(Double.parseDouble(line.substring(9)));
                }
            }
            double[] usage = processUsage(server.pid());
            go.close();
            if (!client.waitFor(30, TimeUnit.SECONDS)) {
                throw new IllegalStateException("the scale client did not exit");
            }
            double[] s = sweeps.stream().mapToDouble(Double::doubleValue).toArray();
            say(String.format(Locale.ROOT, "  rss %.1f MiB, %d threads, sweeps %s ms", usage[0],
                (int) usage[1], sweeps));
            return new double[] {usage[0], usage[1], median(s)};
        } finally {
            if (client != null) {
                client.destroy();
            }
            server.getOutputStream().close();
            if (!server.waitFor(30, TimeUnit.SECONDS)) {
                server.destroyForcibly();
            }
        }
    }

    private static BufferedReader reader(Process p) {
        return new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.US_ASCII));
    }

    private static void expect(BufferedReader r, String want, Process p) throws IOException {
        String line = r.readLine();
        if (!want.equals(line)) {
            throw new IllegalStateException(p.info().command().orElse("?") + " said " + line
                + ", not " + want);
        }
    }

    /** {RSS in MiB, threads} from ps(1): the same numbers on Linux and illumos. */
    private static double[] processUsage(long pid) throws Exception {
        Process ps = new ProcessBuilder("ps", "-o", "rss=", "-o", "nlwp=", "-p", Long.toString(pid))
            .redirectErrorStream(true).start();
        String out = new String(ps.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).trim();
        ps.waitFor(10, TimeUnit.SECONDS);
        String[] f = out.split("\\s+");
        if (f.length != 2) {
            throw new IllegalStateException("ps said: " + out);
        }
        return new double[] {Long.parseLong(f[0]) / 1024.0, Long.parseLong(f[1])};
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }

    // ---- running the columns -------------------------------------------------------

    /** Those of {@code cols} that this run has. */
    private List<String> present(String... cols) {
        List<String> l = new ArrayList<>();
        for (String c : cols) {
            if (columns.contains(c)) {
                l.add(c);
            }
        }
        return l;
    }

    private RunResult jmh(String column, String method, Mode mode, TimeUnit unit, Map<String, String> params)
        throws RunnerException {
        return jmh(column, method, null, mode, unit, params);
    }

    /** One fork of a JMH benchmark; {@code jvm}, when not null, is the java command the fork runs. */
    private RunResult jmh(String column, String method, String jvm, Mode mode, TimeUnit unit,
                          Map<String, String> params) throws RunnerException {
        boolean single = mode == Mode.SingleShotTime;
        String cls = column.equals(S4J) ? S4jBench.class.getName() : ChannelBench.class.getName();
        Map<String, String> all = new LinkedHashMap<>();
        if (!column.equals(S4J)) {
            all.put("impl", column);
        }
        all.putAll(params);
        return jmh(cls, column, method, jvm, mode, unit, single ? settings.byteWarmups() : settings.warmups(),
            single ? settings.byteIterations() : settings.iterations(), all);
    }

    /** One fork of {@code cls.method} with these iterations and parameters (impl among them when it has one). */
    private RunResult jmh(String cls, String column, String method, String jvm, Mode mode, TimeUnit unit,
                          int warmups, int iterations, Map<String, String> params) throws RunnerException {
        boolean single = mode == Mode.SingleShotTime;
        ChainedOptionsBuilder o = new OptionsBuilder()
            .include("^" + Pattern.quote(cls + "." + method) + "$")
            .mode(mode)
            .timeUnit(unit)
            .forks(1)
            .warmupIterations(warmups)
            .measurementIterations(iterations)
            .shouldFailOnError(true)
            .output(jmhLogs.resolve(method + (jvm == null ? "" : "-pinned") + "-" + column + "-" + (++jmhRuns)
                + ".txt").toString());
        if (jvm != null) {
            o.jvm(jvm);
        }
        if (!single) {
            o.warmupTime(TimeValue.milliseconds(settings.warmupMs()))
                .measurementTime(TimeValue.milliseconds(settings.iterationMs()));
        }
        params.forEach(o::param);
        Collection<RunResult> results = new Runner(o.build()).run();
        if (results.size() != 1) {
            throw new IllegalStateException(method + " " + column + ": " + results.size() + " results");
        }
        return results.iterator().next();
    }

    /** Runs s4jbench and parses its one line: NAME key=value ... */
    private Map<String, Double> runC(String... args) throws Exception {
        return runC(List.of(), args);
    }

    /** The same, the command after {@code prefix} (taskset -c CPU, or nothing). */
    private Map<String, Double> runC(List<String> prefix, String... args) throws Exception {
        List<String> cmd = with(with(prefix, cBinary.toString()), args);
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).trim();
        if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0) {
            throw new IllegalStateException(String.join(" ", cmd) + " failed: " + out);
        }
        Map<String, Double> m = new HashMap<>();
        for (String f : out.split("\\s+")) {
            int eq = f.indexOf('=');
            if (eq > 0) {
                m.put(f.substring(0, eq), Double.parseDouble(f.substring(eq + 1)));
            }
        }
        return m;
    }

    // ---- reporting --------------------------------------------------------------------

    private static String fmt(Double v) {
        if (v == null) {
            return "-";
        }
        double a = Math.abs(v);
        return String.format(Locale.ROOT, a >= 1000 ? "%.0f" : a >= 100 ? "%.1f" : a >= 10 ? "%.2f" : "%.3f", v);
    }

    private static String header(String col) {
        return col.equals(C) ? "C" : col.equals(JDK) ? "JDK" : col;
    }

    /** A column's cell: the median, then the rounds' min-max when there was more than one round. */
    private static String cell(Metric m, String col) {
        Double v = m.values.get(col);
        if (v == null) {
            return "-";
        }
        double[] r = m.range(col);
        if (r == null || m.rounds.get(col).size() < 2) {
            return fmt(v);
        }
        return fmt(v) + " (" + fmt(r[0]) + "-" + fmt(r[1]) + ")";
    }

    String table() {
        StringBuilder sb = new StringBuilder();
        List<String> cols = new ArrayList<>(columns);
        List<String> vs = new ArrayList<>();
        for (String c : COMPARED) {
            if (columns.contains(c)) {
                vs.add(c);
            }
        }
        int w = metrics.stream().mapToInt(m -> m.name.length()).max().orElse(0);
        String nameFormat = "%-" + Math.max(20, w) + "s %-9s";
        int cw = 12;
        for (Metric m : metrics) {
            for (String c : cols) {
                cw = Math.max(cw, cell(m, c).length());
            }
        }
        String cellFormat = " %" + cw + "s";
        String head = String.format(Locale.ROOT, nameFormat, "metric", "unit");
        for (String c : cols) {
            head += String.format(Locale.ROOT, cellFormat, header(c));
        }
        head += String.format(Locale.ROOT, " %8s %7s", "s4j/C", "target");
        for (String c : vs) {
            head += String.format(Locale.ROOT, " %-13s", "vs " + header(c));
        }
        sb.append(head).append('\n').append("-".repeat(head.length())).append('\n');
        for (Metric m : metrics) {
            sb.append(String.format(Locale.ROOT, nameFormat, m.name, m.unit));
            for (String c : cols) {
                sb.append(String.format(Locale.ROOT, cellFormat, cell(m, c)));
            }
            Double r = m.ratio();
            sb.append(String.format(Locale.ROOT, " %8s %7s", r == null ? "-" : String.format(Locale.ROOT, "%.2f", r),
                m.target == null ? "" : "<= " + m.target));
            for (String c : vs) {
                Verdict v = m.verdict(c);
                sb.append(String.format(Locale.ROOT, " %-13s", v == null ? "-" : v.toString()));
            }
            sb.append('\n');
        }
        sb.append("\nEach cell: the median over rounds (min-max of the rounds).\n"
            + "s4j/C: streams4j's cost relative to C per operation (time ratio; for rates C/streams4j);"
            + " lower is better, 1.00 = as fast as C.\n"
            + "vs C, vs JDK, vs junixsocket, vs pty4j: \"level\" when the two columns' rounds overlap (min-max), else"
            + " \"ahead\" or \"behind\"; the figure is streams4j's cost relative to the other's from the medians,"
            + " as s4j/C (below 1 is faster).\n");
        notes.forEach((k, v) -> sb.append(k).append(": ").append(v).append('\n'));
        return sb.toString();
    }

    String json() {
        StringBuilder sb = new StringBuilder();
        sb.append("{\n  \"backend\": \"").append(Platform.backend().name().toLowerCase(Locale.ROOT)).append("\",\n");
        sb.append("  \"run\": \"").append(settings.label()).append("\",\n");
        sb.append("  \"rounds\": ").append(settings.rounds()).append(",\n");
        sb.append("  \"platform\": \"").append(esc(Platform.describe())).append("\",\n");
        sb.append("  \"cpus\": ").append(Runtime.getRuntime().availableProcessors()).append(",\n");
        sb.append("  \"jdk\": \"").append(esc(System.getProperty("java.vm.version"))).append("\",\n");
        sb.append("  \"binding\": \"").append(esc(Platform.nativeBinding())).append("\",\n");
        sb.append("  \"load_average\": [").append(num(loadAtStart)).append(", ").append(num(loadAtEnd)).append("],\n");
        sb.append("  \"notes\": {");
        List<String> ns = new ArrayList<>();
        notes.forEach((k, v) -> ns.add("\"" + esc(k) + "\": \"" + esc(v) + "\""));
        sb.append(String.join(", ", ns)).append("},\n");
        sb.append("  \"metrics\": [\n");
        List<String> rows = new ArrayList<>();
        for (Metric m : metrics) {
            StringBuilder r = new StringBuilder();
            r.append("    {\"name\": \"").append(m.name).append("\", \"unit\": \"").append(esc(m.unit))
                .append("\", \"lower_is_better\": ").append(m.lowerIsBetter);
            for (String c : COLUMNS) {
                Double v = m.values.get(c);
                if (v != null) {
                    r.append(", \"").append(c).append("\": ").append(num(v));
                }
            }
            Double ratio = m.ratio();
            if (ratio != null) {
                r.append(", \"ratio_streams4j_c\": ").append(num(ratio));
            }
            if (m.target != null) {
                r.append(", \"target_ratio\": ").append(num(m.target));
            }
            List<String> spread = new ArrayList<>();
            for (String c : COLUMNS) {
                double[] range = m.range(c);
                if (range != null) {
                    spread.add("\"" + c + "\": [" + num(range[0]) + ", " + num(range[1]) + "]");
                }
            }
            r.append(", \"spread\": {").append(String.join(", ", spread)).append('}');
            List<String> verdicts = new ArrayList<>();
            for (String c : COMPARED) {
                Verdict v = m.verdict(c);
                if (v != null) {
                    verdicts.add("\"" + c + "\": {\"verdict\": \"" + v.word() + "\", \"cost_ratio\": "
                        + num(v.ratio()) + "}");
                }
            }
            r.append(", \"verdicts\": {").append(String.join(", ", verdicts)).append('}');
            List<String> rs = new ArrayList<>();
            m.rounds.forEach((c, l) -> rs.add("\"" + c + "\": ["
                + String.join(", ", l.stream().map(BenchMain::num).toList()) + "]"));
            r.append(", \"rounds\": {").append(String.join(", ", rs)).append('}');
            rows.add(r.append('}').toString());
        }
        sb.append(String.join(",\n", rows)).append("\n  ]\n}\n");
        return sb.toString();
    }

    private static String num(double v) {
        return new BigDecimal(v).round(new MathContext(6)).stripTrailingZeros().toPlainString();
    }

    private static String esc(String s) {
        return s.replace("\\", "\\\\").replace("\"", "\\\"");
    }
}
