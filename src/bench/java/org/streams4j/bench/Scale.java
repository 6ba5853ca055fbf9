package org.streams4j.bench;

import static org.streams4j.bench.Bench.MSG;
import static org.streams4j.bench.Bench.readFully;
import static org.streams4j.bench.Bench.writeFully;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import org.streams4j.ConnldClient;
import org.streams4j.ConnldOptions;
import org.streams4j.ConnldServer;
import org.streams4j.Connection;
import org.streams4j.StreamsException;

/**
 * The streams4j side of the scale metric, run as two processes by BenchMain
 * with the protocol of {@code s4jbench scale-server} and {@code scale-client}:
 * <pre>
 *   Scale server PATH N [LOOPS]  prints "listening", then "accepted N"; exits when stdin closes
 *   Scale client PATH N SWEEPS   prints "connected N", waits for a line, prints "sweep_ms X" per
 *                                sweep, closes its connections when stdin closes
 * </pre>
 * The server is {@link ConnldServer#serve} with a thread per connection, or
 * with LOOPS {@link ConnldServer#serveEvents} with that many event loops and an
 * echo handler (one read, its bytes written back).
 */
public final class Scale {
    private Scale() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length == 3 && args[0].equals("server")) {
            server(Path.of(args[1]), Integer.parseInt(args[2]), 0);
        } else if (args.length == 4 && args[0].equals("server")) {
            server(Path.of(args[1]), Integer.parseInt(args[2]), Integer.parseInt(args[3]));
        } else if (args.length == 4 && args[0].equals("client")) {
            client(Path.of(args[1]), Integer.parseInt(args[2]), Integer.parseInt(args[3]));
        } else {
            System.err.println("usage: Scale server PATH N [LOOPS] | Scale client PATH N SWEEPS");
            System.exit(2);
        }
    }

    private static void server(Path path, int n, int loops) throws Exception {
        PrintStream out = System.out;
        CountDownLatch accepted = new CountDownLatch(n);
        ConnldOptions.Builder o = ConnldOptions.builder().threads(n + 16).maxConnections(n + 16);
        if (loops > 0) {
            o.loops(loops);
        }
        ConnldOptions options = o.build();
        ThreadLocal<ByteBuffer> buffers = ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(MSG));
        try (ConnldServer server = ConnldServer.bind(path, options)) {
            Thread loop = new Thread(() -> {
                try {
                    if (loops > 0) {
                        server.serveEvents(new ConnldServer.EventHandler() {
                            @Override
                            public void opened(Connection c) {
                                accepted.countDown();
                            }

                            @Override
                            public boolean readable(Connection c) throws StreamsException {
                                ByteBuffer b = buffers.get().clear();
                                if (c.read(b) < 0) {
                                    return false;
                                }
                                writeFully(c.fd(), b.flip());
                                return true;
                            }
                        });
                        return;
                    }
                    server.serve(c -> {
                        accepted.countDown();
                        ByteBuffer b = ByteBuffer.allocateDirect(MSG);
                        while (readFully(c.fd(), b.clear())) {
                            writeFully(c.fd(), b.flip());
                        }
                    });
                } catch (StreamsException e) {
                    if (server.isOpen()) {
                        e.printStackTrace();
                    }
                }
            }, "serve");
            loop.setDaemon(true);
            loop.start();
            out.println("listening");
            out.flush();
            accepted.await();
            out.println("accepted " + n);
            out.flush();
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.US_ASCII));
            while (in.readLine() != null) {
                // until the harness closes our stdin
            }
        }
    }

    private static void client(Path path, int n, int sweeps) throws Exception {
        Connection[] conns = new Connection[n];
        for (int i = 0; i < n; i++) {
            conns[i] = ConnldClient.connect(path);
        }
        System.out.println("connected " + n);
        System.out.flush();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.US_ASCII));
        if (in.readLine() == null) {
            throw new IllegalStateException("no go");
        }
        ByteBuffer b = Bench.message();
        for (int k = 0; k < sweeps; k++) {
            long t0 = System.nanoTime();
            for (Connection c : conns) {
                writeFully(c.fd(), b.clear());
                if (!readFully(c.fd(), b.clear())) {
                    throw new IllegalStateException("the server is gone");
                }
            }
            System.out.printf("sweep_ms %.3f%n", (System.nanoTime() - t0) / 1e6);
            System.out.flush();
        }
        while (in.readLine() != null) {
            // connections stay open until the harness has measured the server
        }
        for (Connection c : conns) {
            c.close();
        }
    }
}
