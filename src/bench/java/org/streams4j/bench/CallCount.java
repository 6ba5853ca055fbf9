package org.streams4j.bench;

/**
 * One column's operation, a fixed number of times, outside JMH, for counting
 * system calls per operation with {@code strace -f -c} (docs/BENCHMARKS.md,
 * "Calls and copies per operation"):
 * <pre>
 *   CallCount COLUMN OP WARMUP COUNT
 *     COLUMN  streams4j | jdk | junixsocket
 *     OP      pingpong | message | write4KiB | write64KiB | write1MiB | connect | fdpass
 * </pre>
 * It runs the very state and benchmark methods of {@link S4jBench} and
 * {@link ChannelBench}: setup, WARMUP operations (for the JIT), COUNT
 * operations, teardown. Two runs that differ only in COUNT, subtracted, give
 * the calls of COUNT operations without the JVM's start and the setup. A
 * writeN operation is one write of N bytes and the reads that take it (256
 * writes then the one-byte acknowledgement per benchmark invocation, so the
 * acknowledgement is 1/256 of an operation); fdpass is one descriptor pass
 * (batches of {@link Bench#FD_BATCH}); connect is the bench's: connect, a
 * 64-byte round trip, close, and the server's accept; message is one
 * 64-byte message and its echo (streams4j only: no other column has messages).
 */
public final class CallCount {
    private static final int WRITES_PER_INVOCATION = 256;

    private CallCount() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 4) {
            System.err.println("usage: CallCount streams4j|jdk|junixsocket"
                + " pingpong|message|write4KiB|write64KiB|write1MiB|connect|fdpass WARMUP COUNT");
            System.exit(2);
        }
        String col = args[0];
        String op = args[1];
        int warmup = Integer.parseInt(args[2]);
        int count = Integer.parseInt(args[3]);
        boolean s4j = col.equals(BenchMain.S4J);
        int per = 1;
        Op run;
        AutoCloseable end;
        switch (op) {
            case "pingpong" -> {
                if (s4j) {
                    S4jBench.PingPong s = new S4jBench.PingPong();
                    s.setup();
                    S4jBench b = new S4jBench();
                    run = () -> b.pingpong(s);
                    end = s::tearDown;
                } else {
                    ChannelBench.PingPong s = new ChannelBench.PingPong();
                    s.impl = col;
                    s.setup();
                    ChannelBench b = new ChannelBench();
                    run = () -> b.pingpong(s);
                    end = s::tearDown;
                }
            }
            case "message" -> {
                if (!s4j) {
                    throw new IllegalArgumentException("message is streams4j's only: " + col + " has no messages");
                }
                S4jBench.MessagePingPong s = new S4jBench.MessagePingPong();
                s.setup();
                S4jBench b = new S4jBench();
                run = () -> b.message(s);
                end = s::tearDown;
            }
            case "write4KiB", "write64KiB", "write1MiB" -> {
                int chunk = op.equals("write4KiB") ? 4096 : op.equals("write64KiB") ? 65536 : 1 << 20;
                per = WRITES_PER_INVOCATION;
                if (s4j) {
                    S4jBench.OneWay s = new S4jBench.OneWay();
                    s.bytes = (long) chunk * per;
                    s.chunkBytes = chunk;
                    s.setup();
                    S4jBench b = new S4jBench();
                    run = () -> b.throughput(s);
                    end = s::tearDown;
                } else {
                    ChannelBench.OneWay s = new ChannelBench.OneWay();
                    s.impl = col;
                    s.bytes = (long) chunk * per;
                    s.chunkBytes = chunk;
                    s.setup();
                    ChannelBench b = new ChannelBench();
                    run = () -> b.throughput(s);
                    end = s::tearDown;
                }
            }
            case "connect" -> {
                if (s4j) {
                    S4jBench.Server s = new S4jBench.Server();
                    s.setup();
                    S4jBench b = new S4jBench();
                    run = () -> b.connect(s);
                    end = s::tearDown;
                } else {
                    ChannelBench.Server s = new ChannelBench.Server();
                    s.impl = col;
                    s.setup();
                    ChannelBench b = new ChannelBench();
                    run = () -> b.connect(s);
                    end = s::tearDown;
                }
            }
            case "fdpass" -> {
                per = Bench.FD_BATCH;
                if (s4j) {
                    S4jBench.FdPass s = new S4jBench.FdPass();
                    s.setup();
                    S4jBench b = new S4jBench();
                    run = () -> b.fdpass(s);
                    end = s::tearDown;
                } else {
                    ChannelBench.FdPass s = new ChannelBench.FdPass();
                    s.impl = col;
                    s.setup();
                    ChannelBench b = new ChannelBench();
                    run = () -> b.fdpass(s);
                    end = s::tearDown;
                }
            }
            default -> throw new IllegalArgumentException("no operation " + op);
        }
        int invocations = Math.max(1, warmup / per);
        for (int i = 0; i < invocations; i++) {
            run.run();
        }
        int measured = count / per;
        long t0 = System.nanoTime();
        for (int i = 0; i < measured; i++) {
            run.run();
        }
        long ns = System.nanoTime() - t0;
        end.close();
        System.out.printf("%s %s operations=%d ns_per_op=%.0f%n", col, op, (long) measured * per,
            measured == 0 ? 0.0 : (double) ns / measured / per);
    }

    @FunctionalInterface
    private interface Op {
        void run() throws Exception;
    }
}
