package org.streams4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.streams4j.TestSupport.Background;

/**
 * Issue 20, finding 1: a descriptor whose close never ends. A hostile local
 * user fills a loopback TCP socket's send buffer towards a peer that never
 * reads, sets {@code SO_LINGER {1, 100000}}, passes the socket to the server
 * ({@code SCM_RIGHTS} with one NUL byte) and closes its own copy: the
 * server's close of it sleeps in the kernel ({@code tcp_close},
 * {@code sk_stream_wait_close}) until the peer reads. It does so as the
 * descriptor that came with data, as one of several in one message (the
 * others the shim used to close in the receive call), and in flight in a
 * connection's queue that the server closes unread (a refused client, a
 * send-file connection). The event loops, the accept thread and
 * close()/serveEvents must carry on all the same: other clients are
 * answered, the server stops. The attacker is a Python process (portable
 * backend: SCM_RIGHTS); at the end it lets its peers go (they close with
 * data unread, a reset ends the lingering), and every descriptor this
 * process made is closed.
 */
class BlockingCloseTest {
    private static final Duration GUARD = Duration.ofSeconds(20);
    private static final Path PYTHON = Path.of("/usr/bin/python3");

    /**
     * argv: unix path, then how each connection passes its socket ("data":
     * the socket with the NUL byte; "extra": /dev/null first and the socket
     * second in one message), comma-separated.
     * Prints "sent N" per connection; on a line from stdin closes the TCP
     * peers (unread data: a reset, which ends the lingering) and prints
     * "released"; exits at end of stdin.
     */
    private static final String ATTACKER = String.join("\n",
        "import os, select, socket, struct, sys, threading",
        "path, hows = sys.argv[1], sys.argv[2].split(',')",
        "count = len(hows)",
        "lst = socket.socket()",
        "lst.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)",     // a small window, soon shut
        "lst.bind(('127.0.0.1', 0))",
        "lst.listen(count)",
        "peers, conns = [], []",
        "null = os.open('/dev/null', os.O_RDONLY)",
        "for i in range(count):",
        "    t = socket.socket()",
        "    t.connect(lst.getsockname())",
        "    p, _ = lst.accept()",
        "    peers.append(p)",
        "    t.setblocking(False)",
        "    while True:",       // until the peer's window is shut and the send buffer full
        "        try:",
        "            while True:",
        "                t.send(b'x' * 65536)",
        "        except BlockingIOError:",
        "            pass",
        "        if select.select([], [t], [], 0.05)[1] == []:",
        "            break",
        "    t.setblocking(True)",
        "    t.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 100000))",
        "    u = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)",
        "    u.connect(path)",
        "    fds = [null, t.fileno()] if hows[i] == 'extra' else [t.fileno()]",
        "    socket.send_fds(u, [b'\\0'], fds)",
        // Its own copy closed on a thread of its own: when the server has already closed its
        // copy, this close is the last one and lingers, which must not stop the attacker.
        "    threading.Thread(target=os.close, args=(t.detach(),), daemon=True).start()",
        "    conns.append(u)",
        "    print('sent', i, flush=True)",
        "sys.stdin.readline()",
        "for p in peers:",
        "    p.close()",
        "print('released', flush=True)",
        "sys.stdin.read()",
        "");

    @TempDir
    Path dir;

    /** An attacking process and what it prints. */
    private record Attacker(Process process, BufferedReader said) {
    }

    private final List<Attacker> attackers = new ArrayList<>();
    /** The descriptors before the test: the leak check looks at those the test made since. */
    private TestSupport.Descriptors before;

    @BeforeEach
    void portableOnly() throws Exception {
        Assumptions.assumeTrue(Platform.backend() == Backend.PORTABLE, "SCM_RIGHTS from a Python peer");
        Assumptions.assumeTrue(Files.isExecutable(PYTHON), "no /usr/bin/python3 to attack with");
        warmUp();
        before = TestSupport.Descriptors.now();
    }

    /**
     * A client refused once before counting: the first refusal in a JVM
     * leaves a descriptor of the JDK's open for good (not one per client).
     */
    private void warmUp() throws Exception {
        Path p = dir.resolve("warm-up");
        try (ConnldServer s = ConnldServer.bind(p, ConnldOptions.builder()
            .allowUids(List.of(Integer.MAX_VALUE - 7)).shutdownHook(false).build());
             Connection c = ConnldClient.connect(p, GUARD)) {
            assertTrue(s.accept(Duration.ZERO).isEmpty());
        }
    }

    /** Lets the attacker's peers go, so that every close the server started ends, then counts descriptors. */
    @AfterEach
    void release() throws Exception {
        if (attackers.isEmpty()) {
            return;
        }
        for (Attacker a : attackers) {
            try {
                OutputStream in = a.process().getOutputStream();
                in.write('\n');
                in.flush();
                assertEquals("released", a.said().readLine());
                in.close();
                assertTrue(a.process().waitFor(GUARD.toSeconds(), TimeUnit.SECONDS), "the attacker did not exit");
            } finally {
                a.process().destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
        // Every descriptor the test made is closed once the attackers let their peers go: the
        // sockets, pipes and files under dir, not the JVM's own (a cgroup file, a jar) around them.
        TestSupport.assertClosedSince(before, GUARD, dir);
    }

    /**
     * Starts the attacker and waits until it has passed one lingering socket
     * per entry of {@code hows}. One process per test, started before any
     * such socket is ours: a process the JVM starts while a closer closes one
     * inherits a reference across its fork, and when the closer's close is
     * not the last, its exec's close-on-exec is, which lingers in the exec,
     * and ProcessBuilder.start waits for that exec (seen: 1 in 5 runs with two
     * attackers one after the other).
     */
    private void attack(Path p, String... hows) throws Exception {
        int count = hows.length;
        Path script = dir.resolve("linger.py");
        Files.writeString(script, ATTACKER);
        Process attacker = new ProcessBuilder(PYTHON.toString(), script.toString(), p.toString(),
            String.join(",", hows)).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        BufferedReader said = new BufferedReader(new InputStreamReader(attacker.getInputStream(),
            StandardCharsets.UTF_8));
        attackers.add(new Attacker(attacker, said));
        for (int i = 0; i < count; i++) {
            assertEquals("sent " + i, said.readLine(), "the attacker's connection " + i);
        }
    }


    /** Closes the server and waits (bounded) for serveEvents to return. */
    private static void stops(ConnldServer s, Background<Void> serving) throws Exception {
        Background<Void> closing = new Background<>("close", () -> {
            s.close();
            return null;
        });
        closing.get(GUARD);
        serving.get(GUARD);
    }

    private static Background<Void> serveEvents(ConnldServer s, ConnldServer.EventHandler h) {
        return new Background<>("serveEvents", () -> {
            s.serveEvents(h);
            return null;
        });
    }

    /**
     * --echo on two event loops; four attacking connections, two with the
     * socket as the descriptor that came with the byte, two with it as the
     * second of two. Each makes the echo's read fail (a descriptor where data
     * was expected), so the loop closes that connection and the descriptors.
     * Every attacking connection is reported closed, then clients on both
     * loops are answered, and the server stops.
     */
    @Test
    void lingeringSocketsPassedToAnEchoServerStallNoLoop() throws Exception {
        Path p = dir.resolve("echo");
        CountDownLatch closed = new CountDownLatch(4);
        ConnldServer.EventHandler echo = new ConnldServer.EventHandler() {
            @Override
            public boolean readable(Connection c) throws StreamsException {
                byte[] buf = new byte[4096];
                int r;
                try {
                    r = c.read(buf, 0, buf.length);
                } catch (StreamsException e) {
                    assertEquals("EBADMSG", e.errnoName(), e.getMessage());
                    return false;   // a descriptor where data was expected: the attacker
                }
                if (r > 0) {
                    c.writeFully(buf, 0, r);
                }
                return r >= 0;
            }

            @Override
            public void closed(Connection c) {
                closed.countDown();
            }
        };
        ConnldServer s = ConnldServer.bind(p, ConnldOptions.builder().loops(2).shutdownHook(false).build());
        Background<Void> serving = serveEvents(s, echo);
        try {
            attack(p, "data", "data", "extra", "extra");
            assertTrue(closed.await(GUARD.toMillis(), TimeUnit.MILLISECONDS),
                "the attacking connections were never reported closed: the loops are stuck closing");
            for (int i = 0; i < 4; i++) {
                TestSupport.echoes(p, "client " + i, GUARD);
            }
            stops(s, serving);
        } finally {
            s.close();
        }
    }

    /**
     * A refusing policy (only a uid nobody has): the attacker's socket is in
     * flight in its connection's queue when the accept thread refuses and
     * closes it. The client after it is refused too, promptly (its read
     * sees the connection end), and the server stops.
     */
    @Test
    void aLingeringSocketInARefusedClientsQueueStallsNoAcceptThread() throws Exception {
        Path p = dir.resolve("refuse");
        ConnldServer s = ConnldServer.bind(p, ConnldOptions.builder()
            .allowUids(List.of(Integer.MAX_VALUE - 7)).shutdownHook(false).build());
        try {
            attack(p, "data");
            // Served only now: the descriptor is in the queue before the accept.
            Background<Void> serving = serveEvents(s, c -> true);
            try (Connection other = ConnldClient.connect(p, GUARD)) {
                int n;
                try {
                    n = other.read(new byte[1], 0, 1, GUARD);
                } catch (StreamTimeoutException e) {
                    fail("the client after the attacker was never answered: the accept thread is stuck");
                    return;
                } catch (StreamsException e) {
                    n = -1;     // ECONNRESET: refused
                }
                assertEquals(-1, n, "a refused client reads the end of its connection");
            }
            stops(s, serving);
        } finally {
            s.close();
        }
    }

    /**
     * A send-file style handler on one loop (pass a descriptor as the client
     * arrives, then close the connection, which the loop holds): the
     * attacker's socket is in flight in the queue of the connection closed.
     * The next client still gets its descriptor, and the server stops.
     */
    @Test
    void aLingeringSocketInASendFileConnectionsQueueStallsNoLoop() throws Exception {
        Path p = dir.resolve("sendfile");
        Path file = Files.writeString(dir.resolve("motd"), "hello\n");
        try (StreamFd motd = StreamFd.open(file, StreamFd.Mode.READ)) {
            ConnldServer.EventHandler sendFile = new ConnldServer.EventHandler() {
                @Override
                public void opened(Connection c) {
                    try {
                        c.sendFd(motd);
                    } catch (StreamsException e) {
                        // the attacker never reads: its queue may be full, no matter
                    } finally {
                        c.close();
                    }
                }

                @Override
                public boolean readable(Connection c) {
                    return false;
                }
            };
            ConnldServer s = ConnldServer.bind(p, ConnldOptions.builder().loops(1).shutdownHook(false).build());
            try {
                attack(p, "data");
                Background<Void> serving = serveEvents(s, sendFile);
                try (Connection c = ConnldClient.connect(p, GUARD);
                     ReceivedFd got = c.receiveFd(GUARD)) {
                    byte[] b = new byte[6];
                    assertEquals(6, got.fd().read(b));
                    assertEquals("hello\n", new String(b, StandardCharsets.US_ASCII));
                } catch (StreamTimeoutException e) {
                    fail("the client after the attacker got nothing: the loop is stuck closing");
                }
                stops(s, serving);
            } finally {
                s.close();
            }
        }
    }

    /**
     * A received descriptor closed by a handler: {@code serve} with one
     * handler thread, whose handler takes the attacker's socket with
     * receiveFd and closes it. The close is on one of the library's threads
     * (Closer.onLibraryThread), so it goes to a closer thread and the handler
     * thread is free at once: the next client, which needs that one thread,
     * is answered. (Closed on a thread of the caller's own, the same close
     * would be made there, as the JDK's channels close.)
     */
    @Test
    void aLingeringSocketReceivedAndClosedByAHandlerStallsNoHandlerThread() throws Exception {
        Path p = dir.resolve("take");
        CountDownLatch taken = new CountDownLatch(1);
        ConnldServer s = ConnldServer.bind(p, ConnldOptions.builder().threads(1).shutdownHook(false).build());
        Background<Void> serving = new Background<>("serve", () -> {
            s.serve(c -> {
                ReceivedFd r;
                try {
                    r = c.receiveFd(GUARD);
                } catch (StreamsException e) {
                    // Data, not a descriptor (kept for the read): an echo client.
                    byte[] buf = new byte[4096];
                    for (int n; (n = c.read(buf, 0, buf.length)) > 0; ) {
                        c.writeFully(buf, 0, n);
                    }
                    return;
                }
                r.close();
                taken.countDown();
            });
            return null;
        });
        try {
            attack(p, "data");
            assertTrue(taken.await(GUARD.toMillis(), TimeUnit.MILLISECONDS), "the handler took the socket");
            TestSupport.echoes(p, "after the attacker", GUARD);
            stops(s, serving);
        } finally {
            s.close();
        }
    }
}
