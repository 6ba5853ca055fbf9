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
 * <pre>
 *   Scale jdk-server PATH N      the same protocol, as a Java developer would write it
 *                                without streams4j: one thread, a Selector over
 *                                UnixDomainSocketAddress channels (accept and echo)
 *   Scale jdk-client PATH N SWEEPS   the client with SocketChannel
 *   Scale vt-server PATH N       streams4j, a virtual thread per connection (JDK 21+): one
 *                                virtual thread accepts, each connection's echoes block
 *                                (and park) on a virtual thread of its own
 *   Scale jdk-vt-server PATH N   the same with the JDK's blocking ServerSocketChannel and
 *                                SocketChannel on virtual threads
 * </pre>
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
        } else if (args.length == 3 && args[0].equals("vt-server")) {
            vtServer(Path.of(args[1]), Integer.parseInt(args[2]));
        } else if (args.length == 3 && args[0].equals("jdk-vt-server")) {
            jdkVtServer(Path.of(args[1]), Integer.parseInt(args[2]));
        } else if (args.length == 3 && args[0].equals("jdk-server")) {
            jdkServer(Path.of(args[1]), Integer.parseInt(args[2]));
        } else if (args.length == 4 && args[0].equals("jdk-client")) {
            jdkClient(Path.of(args[1]), Integer.parseInt(args[2]), Integer.parseInt(args[3]));
        } else {
            System.err.println("usage: Scale server PATH N [LOOPS] | Scale client PATH N SWEEPS"
                + " | Scale jdk-server PATH N | Scale jdk-client PATH N SWEEPS | Scale vt-server PATH N"
                + " | Scale jdk-vt-server PATH N");
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

    private static java.util.concurrent.ThreadFactory virtual() {
        java.util.concurrent.ThreadFactory f = Bench.virtualThreads();
        if (f == null) {
            throw new IllegalStateException("virtual threads need JDK 21 or later");
        }
        return f;
    }

    /** Prints "accepted N" once n connections came, then waits for stdin to close. */
    private static void announceThenWait(CountDownLatch accepted, int n) throws Exception {
        accepted.await();
        System.out.println("accepted " + n);
        System.out.flush();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.US_ASCII));
        while (in.readLine() != null) {
            // until the harness closes our stdin
        }
    }

    private static void vtServer(Path path, int n) throws Exception {
        java.util.concurrent.ThreadFactory vt = virtual();
        CountDownLatch accepted = new CountDownLatch(n);
        try (ConnldServer server = ConnldServer.bind(path, ConnldOptions.builder().backlog(512).build())) {
            vt.newThread(() -> {
                while (server.isOpen()) {
                    Connection c;
                    try {
                        c = server.accept();
                    } catch (StreamsException e) {
                        return;
                    }
                    accepted.countDown();
                    vt.newThread(() -> {
                        try (c) {
                            ByteBuffer b = ByteBuffer.allocateDirect(MSG);
                            while (readFully(c.fd(), b.clear())) {
                                writeFully(c.fd(), b.flip());
                            }
                        } catch (StreamsException e) {
                            // the client or the server went
                        }
                    }).start();
                }
            }).start();
            System.out.println("listening");
            System.out.flush();
            announceThenWait(accepted, n);
        }
    }

    private static void jdkVtServer(Path path, int n) throws Exception {
        java.util.concurrent.ThreadFactory vt = virtual();
        CountDownLatch accepted = new CountDownLatch(n);
        java.nio.channels.ServerSocketChannel listener =
            java.nio.channels.ServerSocketChannel.open(java.net.StandardProtocolFamily.UNIX);
        listener.bind(java.net.UnixDomainSocketAddress.of(path), 512);
        vt.newThread(() -> {
            while (listener.isOpen()) {
                java.nio.channels.SocketChannel c;
                try {
                    c = listener.accept();
                } catch (java.io.IOException e) {
                    return;
                }
                accepted.countDown();
                vt.newThread(() -> {
                    try (c) {
                        ByteBuffer b = ByteBuffer.allocateDirect(MSG);
                        while (readFully(c, b.clear())) {
                            writeFully(c, b.flip());
                        }
                    } catch (java.io.IOException e) {
                        // the client or the server went
                    }
                }).start();
            }
        }).start();
        System.out.println("listening");
        System.out.flush();
        announceThenWait(accepted, n);
        listener.close();
        java.nio.file.Files.deleteIfExists(path);
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
        ByteBuffer answer = ByteBuffer.allocateDirect(MSG);
        for (int k = 0; k < sweeps; k++) {
            long t0 = System.nanoTime();
            for (Connection c : conns) {
                // The request and the read of its answer in one call.
                if (c.fd().exchange(b.clear(), answer.clear()) < 0 || !readFully(c.fd(), answer)) {
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

    // ---- the JDK column: java.nio.channels on UnixDomainSocketAddress ---------------

    private static void jdkServer(Path path, int n) throws Exception {
        java.nio.channels.ServerSocketChannel listener =
            java.nio.channels.ServerSocketChannel.open(java.net.StandardProtocolFamily.UNIX);
        listener.bind(java.net.UnixDomainSocketAddress.of(path), 128);
        listener.configureBlocking(false);
        java.nio.channels.Selector selector = java.nio.channels.Selector.open();
        listener.register(selector, java.nio.channels.SelectionKey.OP_ACCEPT);
        int[] accepted = {0};
        Thread loop = new Thread(() -> {
            ByteBuffer b = ByteBuffer.allocateDirect(MSG);
            try {
                while (selector.isOpen()) {
                    selector.select(k -> {
                        try {
                            if (k.isAcceptable()) {
                                java.nio.channels.SocketChannel c;
                                while ((c = listener.accept()) != null) {
                                    c.configureBlocking(false);
                                    c.register(selector, java.nio.channels.SelectionKey.OP_READ);
                                    if (++accepted[0] == n) {
                                        System.out.println("accepted " + n);
                                        System.out.flush();
                                    }
                                }
                                return;
                            }
                            java.nio.channels.SocketChannel c = (java.nio.channels.SocketChannel) k.channel();
                            b.clear();
                            if (c.read(b) < 0) {
                                k.cancel();
                                c.close();
                                return;
                            }
                            b.flip();
                            while (b.hasRemaining()) {
                                c.write(b);   // 64 bytes into an idle socket: never short here
                            }
                        } catch (java.io.IOException e) {
                            k.cancel();
                            try {
                                k.channel().close();
                            } catch (java.io.IOException ignored) {
                                // closing anyway
                            }
                        }
                    });
                }
            } catch (java.io.IOException | java.nio.channels.ClosedSelectorException e) {
                // closed at the end
            }
        }, "selector");
        loop.setDaemon(true);
        loop.start();
        System.out.println("listening");
        System.out.flush();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.US_ASCII));
        while (in.readLine() != null) {
            // until the harness closes our stdin
        }
        selector.close();
        listener.close();
        java.nio.file.Files.deleteIfExists(path);
    }

    private static void jdkClient(Path path, int n, int sweeps) throws Exception {
        java.nio.channels.SocketChannel[] conns = new java.nio.channels.SocketChannel[n];
        java.net.UnixDomainSocketAddress a = java.net.UnixDomainSocketAddress.of(path);
        for (int i = 0; i < n; i++) {
            conns[i] = java.nio.channels.SocketChannel.open(a);
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
            for (java.nio.channels.SocketChannel c : conns) {
                b.clear();
                while (b.hasRemaining()) {
                    c.write(b);
                }
                b.clear();
                while (b.hasRemaining()) {
                    if (c.read(b) < 0) {
                        throw new IllegalStateException("the server is gone");
                    }
                }
            }
            System.out.printf("sweep_ms %.3f%n", (System.nanoTime() - t0) / 1e6);
            System.out.flush();
        }
        while (in.readLine() != null) {
            // connections stay open until the harness has measured the server
        }
        for (java.nio.channels.SocketChannel c : conns) {
            c.close();
        }
    }
}
