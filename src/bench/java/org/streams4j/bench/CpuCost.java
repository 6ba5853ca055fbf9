package org.streams4j.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.streams4j.StreamFd;
import org.streams4j.StreamPipe;

/**
 * Diagnostics, not in the table: CPU time of one thread (so that other work
 * on a shared machine matters less than in wall-clock time) for one round
 * trip's worth of calls with no wake-up: end a sends 64 bytes and takes the
 * 64 that are waiting for it, then end b does the same. Variants alternate
 * round by round; medians over rounds.
 * <pre>
 *   java -cp ... org.streams4j.bench.CpuCost [ROUNDS [OPS]]
 * </pre>
 * s4j: StreamFd write then read (two calls into the shim per side);
 * s4j-exchange: StreamFd.exchange (one); raw-*: the same JNA calls with no
 * Java layer around them, through JNA; hot-*: the same through HotCalls, the
 * binding StreamFd uses (FFM downcalls on JDK 22+ with native access, else
 * JNA; the first line printed says which); jna-*: JNA calls that make no
 * system call (the price of the binding alone: the shim answers EINVAL at
 * once); jdk:
 * SocketChannel write then read.
 */
public final class CpuCost {
    private CpuCost() {
    }

    interface Step {
        void run() throws Exception;
    }

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 15;
        int ops = args.length > 1 ? Integer.parseInt(args[1]) : 100_000;
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        StreamPipe pipe = StreamPipe.open();
        StreamFd a = pipe.first();
        StreamFd b = pipe.second();
        ChannelBench.Pair jdk = new ChannelBench.Pair(ChannelBench.JDK);
        ByteBuffer outA = Bench.message();
        ByteBuffer inA = ByteBuffer.allocateDirect(Bench.MSG);
        ByteBuffer outB = Bench.message();
        ByteBuffer inB = ByteBuffer.allocateDirect(Bench.MSG);
        // Prime: one message waiting at a, so every read below finds its data.
        Bench.writeFully(b, outB.clear());
        jdk.b.write(outB.clear());
        Map<String, Step> steps = new LinkedHashMap<>();
        steps.put("s4j", () -> {
            Bench.writeFully(a, outA.clear());
            Bench.readFully(a, inA.clear());
            Bench.writeFully(b, outB.clear());
            Bench.readFully(b, inB.clear());
        });
        steps.put("s4j-exchange", () -> {
            a.exchange(outA.clear(), inA.clear());
            b.exchange(outB.clear(), inB.clear());
        });
        long scratch = org.streams4j.internal.Shim.address(ByteBuffer.allocateDirect(64));
        long oa = org.streams4j.internal.Shim.address(outA);
        long ia = org.streams4j.internal.Shim.address(inA);
        int fa = a.fd();
        int fb = b.fd();
        steps.put("raw-exchange", () -> {
            org.streams4j.internal.Shim.s4j_exchange(fa, oa, 0, 64, ia, 0, 64, scratch + 8, scratch);
            org.streams4j.internal.Shim.s4j_exchange(fb, oa, 0, 64, ia, 0, 64, scratch + 8, scratch);
        });
        org.streams4j.internal.HotCalls hot = org.streams4j.internal.HotCalls.INSTANCE;
        steps.put("hot-exchange", () -> {
            hot.exchange(fa, oa, 0, 64, ia, 0, 64, scratch + 8, scratch);
            hot.exchange(fb, oa, 0, 64, ia, 0, 64, scratch + 8, scratch);
        });
        steps.put("hot-2-calls-5-args", () -> {
            hot.evCtl(-1, 9, -1, 0, 0L);
            hot.evCtl(-1, 9, -1, 0, 0L);
        });
        steps.put("raw-write-recv", () -> {
            org.streams4j.internal.Shim.s4j_write(fa, oa, 0, 64);
            org.streams4j.internal.Shim.s4j_recv(fa, ia, 0, 64, scratch);
            org.streams4j.internal.Shim.s4j_write(fb, oa, 0, 64);
            org.streams4j.internal.Shim.s4j_recv(fb, ia, 0, 64, scratch);
        });
        steps.put("jna-4-calls-0-args", () -> {
            org.streams4j.internal.Shim.s4j_backend();
            org.streams4j.internal.Shim.s4j_backend();
            org.streams4j.internal.Shim.s4j_backend();
            org.streams4j.internal.Shim.s4j_backend();
        });
        steps.put("jna-2-calls-5-args", () -> {
            org.streams4j.internal.Shim.s4j_ev_ctl(-1, 9, -1, 0, 0L);
            org.streams4j.internal.Shim.s4j_ev_ctl(-1, 9, -1, 0, 0L);
        });
        steps.put("jdk", () -> {
            Bench.writeFully(jdk.a, outA.clear());
            Bench.readFully(jdk.a, inA.clear());
            Bench.writeFully(jdk.b, outB.clear());
            Bench.readFully(jdk.b, inB.clear());
        });
        List<String> names = new ArrayList<>(steps.keySet());
        Map<String, double[]> ns = new LinkedHashMap<>();
        names.forEach(n -> ns.put(n, new double[rounds]));
        for (int r = -2; r < rounds; r++) {        // two rounds of warm-up
            for (int i = 0; i < names.size(); i++) {
                String name = names.get((i + Math.max(r, 0)) % names.size());
                Step s = steps.get(name);
                long t0 = mx.getCurrentThreadCpuTime();
                for (int k = 0; k < ops; k++) {
                    s.run();
                }
                long t = mx.getCurrentThreadCpuTime() - t0;
                if (r >= 0) {
                    ns.get(name)[r] = (double) t / ops;
                }
            }
        }
        System.out.println("binding: " + org.streams4j.Platform.nativeBinding());
        double base = median(ns.get("jdk"));
        for (String n : names) {
            double m = median(ns.get(n));
            System.out.printf(Locale.ROOT, "%-14s %8.0f ns CPU per round trip (4 system calls)  %.3f x jdk%n",
                n, m, m / base);
        }
        pipe.close();
        jdk.close();
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }
}
