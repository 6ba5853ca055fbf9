package org.streams4j.cli;

import static org.streams4j.cli.CheckSupport.closeNow;
import static org.streams4j.cli.CheckSupport.expect;
import static org.streams4j.cli.CheckSupport.readExactly;
import static org.streams4j.cli.CheckSupport.serveInBackground;
import static org.streams4j.cli.SelftestChecks.EVENT_CLIENTS;
import static org.streams4j.cli.SelftestChecks.IO_TIMEOUT;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.streams4j.Connection;
import org.streams4j.ConnldClient;
import org.streams4j.ConnldOptions;
import org.streams4j.ConnldServer;
import org.streams4j.Errno;
import org.streams4j.PeerCredentials;
import org.streams4j.Platform;
import org.streams4j.Streams;
import org.streams4j.StreamsException;

/**
 * The selftest's checks of a connld server: concurrent clients, event
 * loops, peer credentials, the attach point's mode, the allow list, close
 * and fdetach, and the errors of a bind.
 */
final class ServerChecks {
    private final Path dir;
    private final int clients;

    ServerChecks(Path dir, int clients) {
        this.dir = dir;
        this.clients = clients;
    }

    String concurrentClients() throws Exception {
        Path path = dir.resolve("echo");
        AtomicInteger open = new AtomicInteger();
        AtomicInteger most = new AtomicInteger();
        AtomicInteger served = new AtomicInteger();
        ConnldOptions opts = ConnldOptions.builder().threads(clients).build();
        try (ConnldServer server = ConnldServer.bind(path, opts)) {
            Thread loop = serveInBackground(server, c -> {
                int now = open.incrementAndGet();
                most.accumulateAndGet(now, Math::max);
                served.incrementAndGet();
                try {
                    ServeCommand.echo(c);
                } finally {
                    open.decrementAndGet();
                }
            });
            CountDownLatch allConnected = new CountDownLatch(clients);
            CountDownLatch allEchoed = new CountDownLatch(clients);
            ExecutorService pool = Executors.newFixedThreadPool(clients,
                Cli.daemons("selftest-client-%d"));
            try {
                List<Future<String>> results = new ArrayList<>();
                for (int i = 0; i < clients; i++) {
                    int n = i;
                    results.add(pool.submit(() -> {
                        try (Connection c = ConnldClient.connect(path, IO_TIMEOUT)) {
                            allConnected.countDown();
                            expect(allConnected.await(IO_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS),
                                "not all clients got connected at once");
                            byte[] msg = ("client " + n + " of " + clients + "\n").getBytes(StandardCharsets.US_ASCII);
                            c.writeFully(msg);
                            byte[] back = readExactly(c.fd(), msg.length);
                            expect(Arrays.equals(msg, back), "client " + n + " got someone else's data");
                            allEchoed.countDown();      // keep every connection open until all are served
                            expect(allEchoed.await(IO_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS),
                                "not all clients were served at once");
                            return "ok";
                        }
                    }));
                }
                for (Future<String> r : results) {
                    r.get(IO_TIMEOUT.toMillis() * 2, TimeUnit.MILLISECONDS);
                }
            } finally {
                pool.shutdownNow();
            }
            closeNow(server);
            loop.join(IO_TIMEOUT.toMillis());
        }
        expect(served.get() == clients, "server handled " + served.get() + " connections for " + clients + " clients");
        expect(most.get() == clients, "at most " + most.get() + " of " + clients + " connections were open at once");
        return clients + " private connections, " + most.get() + " open at once, each got its own echo";
    }

    /** serveEvents: EVENT_CLIENTS connections held at once by 2 loop threads, each waiting on its share. */
    String eventLoops() throws Exception {
        Path path = dir.resolve("events");
        Set<String> loopThreads = ConcurrentHashMap.newKeySet();
        AtomicInteger held = new AtomicInteger();
        ConnldOptions opts = ConnldOptions.builder().loops(2).build();
        ConnldServer.EventHandler echo = new ConnldServer.EventHandler() {
            @Override
            public void opened(Connection c) {
                held.incrementAndGet();
            }

            @Override
            public boolean readable(Connection c) throws StreamsException {
                loopThreads.add(Thread.currentThread().getName());
                byte[] b = new byte[256];
                int n = c.read(b, 0, b.length);
                if (n < 0) {
                    return false;
                }
                c.writeFully(b, 0, n);
                return true;
            }

            @Override
            public void closed(Connection c) {
                held.decrementAndGet();
            }
        };
        List<Connection> conns = new ArrayList<>();
        try (ConnldServer server = ConnldServer.bind(path, opts)) {
            Thread loop = serveInBackground(server, "serveEvents", () -> server.serveEvents(echo));
            try {
                for (int i = 0; i < EVENT_CLIENTS; i++) {
                    conns.add(ConnldClient.connect(path, IO_TIMEOUT));
                }
                for (int i = 0; i < EVENT_CLIENTS; i++) {
                    conns.get(i).writeFully(String.format("client %04d", i).getBytes(StandardCharsets.US_ASCII));
                }
                for (int i = 0; i < EVENT_CLIENTS; i++) {
                    byte[] want = String.format("client %04d", i).getBytes(StandardCharsets.US_ASCII);
                    expect(Arrays.equals(want, readExactly(conns.get(i).fd(), want.length)),
                        "client " + i + " got someone else's data");
                }
                expect(held.get() == EVENT_CLIENTS, "the server held " + held.get() + " connections, not "
                    + EVENT_CLIENTS);
            } finally {
                for (Connection c : conns) {
                    c.close();
                }
            }
            closeNow(server);
            loop.join(IO_TIMEOUT.toMillis());
            expect(!loop.isAlive(), "serveEvents did not return after close");
        }
        expect(loopThreads.size() <= 2, "handlers ran on " + loopThreads.size() + " threads: " + loopThreads);
        return EVENT_CLIENTS + " held at once and echoed by " + loopThreads.size() + " loop threads";
    }

    String peerCredentials() throws Exception {
        Path path = dir.resolve("whoami");
        AtomicReference<PeerCredentials> seen = new AtomicReference<>();
        try (ConnldServer server = ConnldServer.bind(path)) {
            Thread loop = serveInBackground(server, c -> {
                seen.set(c.peer());
                c.writeFully(new byte[] {'!'});
            });
            PeerCredentials server2client;
            try (Connection c = ConnldClient.connect(path, IO_TIMEOUT)) {
                readExactly(c.fd(), 1);
                server2client = c.peer();
            }
            closeNow(server);
            loop.join(IO_TIMEOUT.toMillis());
            PeerCredentials p = seen.get();
            expect(p != null, "the server saw no credentials");
            expect(p.uid() == Platform.euid() && p.gid() == Platform.egid(), "server saw uid=" + p.uid()
                + " gid=" + p.gid() + ", this process is uid=" + Platform.euid() + " gid=" + Platform.egid());
            long me = ProcessHandle.current().pid();
            if (p.pid().isPresent()) {
                expect(p.pid().getAsInt() == me, "server saw pid " + p.pid().getAsInt() + ", this process is " + me);
            }
            expect(Platform.hasZones() == p.zone().isPresent(), Platform.hasZones()
                ? "no zone id on a platform with zones" : "a zone id on a platform without zones");
            return "server saw " + Cli.peer(p) + (p.pid().isPresent() ? " (this process)" : "")
                + "; client saw " + Cli.peer(server2client);
        }
    }

    String permissions() throws Exception {
        Path path = dir.resolve("mode");
        try (ConnldServer server = ConnldServer.bind(path, ConnldOptions.builder().mode(0640).build())) {
            expect(server.isOpen(), "closed at once");
            String perms = PosixFilePermissions.toString(Files.getPosixFilePermissions(path));
            expect("rw-r-----".equals(perms), "--mode 0640 gave " + perms);
            return "mode 0640 -> " + perms;
        }
    }

    String allowList() throws Exception {
        Path path = dir.resolve("allow");
        int other = Platform.euid() == 4242 ? 4243 : 4242;
        AtomicInteger handled = new AtomicInteger();
        ConnldOptions opts = ConnldOptions.builder().allowUids(List.of(other)).build();
        try (ConnldServer server = ConnldServer.bind(path, opts)) {
            Thread loop = serveInBackground(server, c -> handled.incrementAndGet());
            try (Connection c = ConnldClient.connect(path, IO_TIMEOUT)) {
                expect(c.fd().awaitReadable(IO_TIMEOUT), "the refused client was left hanging");
                int n;
                try {
                    n = c.read(new byte[16], 0, 16);
                } catch (StreamsException e) {
                    n = Cli.hangUp(e) ? -1 : -2;
                }
                expect(n == -1, "the refused client could read data");
            }
            closeNow(server);
            loop.join(IO_TIMEOUT.toMillis());
            expect(handled.get() == 0, "the handler ran for a refused client");
            return "allow uid " + other + " only: uid " + Platform.euid() + " was closed, never handled";
        }
    }

    String closeRemovesPath() throws Exception {
        Path path = dir.resolve("closing");
        ConnldServer server = ConnldServer.bind(path);
        expect(Files.exists(path, java.nio.file.LinkOption.NOFOLLOW_LINKS), "no attach point after bind");
        expect(Streams.isAttached(path), "nothing attached after bind");
        closeNow(server);
        expect(!Files.exists(path, java.nio.file.LinkOption.NOFOLLOW_LINKS), path + " is still there after close");
        try {
            closeNow(ConnldClient.connect(path, IO_TIMEOUT));
            throw new IllegalStateException("connected after close");
        } catch (StreamsException e) {
            expect(e.errno() == Errno.ENOENT, "connect after close: " + e.getMessage() + ", expected ENOENT");
        }
        return "bind created it, close removed it; connect then gives ENOENT";
    }

    String fdetach() throws Exception {
        if (!Platform.supportsFattach()) {
            throw new SelftestChecks.Skip("STREAMS only; on the portable backend close removes the socket (checked above)");
        }
        // bind creates the attach point itself: an empty file made beforehand
        // would be taken for a dead server's and replaced (attachPoint).
        Path path = dir.resolve("detach");
        try (ConnldServer server = ConnldServer.bind(path)) {
            expect(server.isOpen() && Streams.isAttached(path), "nothing attached after bind");
            Streams.fdetach(path);
            expect(!Streams.isAttached(path), "still attached after fdetach");
            expect(Files.isRegularFile(path, java.nio.file.LinkOption.NOFOLLOW_LINKS),
                "the file underneath is gone");
            try {
                closeNow(ConnldClient.connect(path, IO_TIMEOUT));
                throw new IllegalStateException("connected after fdetach");
            } catch (StreamsException e) {
                expect(e.getMessage().contains("no server attached"), "connect after fdetach: " + e.getMessage());
            }
        }
        // The file is the server's own, so its close removes it as on any close.
        expect(!Files.exists(path, java.nio.file.LinkOption.NOFOLLOW_LINKS),
            "close left the attach point it created after an fdetach");
        return "fdetach left the server's plain file; connect then says no server attached; close removed it";
    }

    String plainFile() throws Exception {
        Path path = dir.resolve("plain");
        Files.write(path, "not a server\n".getBytes(StandardCharsets.US_ASCII));
        String msg;
        try {
            closeNow(ConnldClient.connect(path, IO_TIMEOUT));
            throw new IllegalStateException("connect opened a plain file");
        } catch (StreamsException e) {
            expect(e.getMessage().contains("no server attached"), "connect: " + e.getMessage());
            msg = e.getMessage();
        }
        expect(Files.size(path) == 13, "the plain file was written to");
        // Both backends refuse to bind over a file with content (STREAMS:
        // attachPoint; portable: not a socket), and leave it as it was.
        try {
            closeNow(ConnldServer.bind(path));
            throw new IllegalStateException("bind took over a plain file");
        } catch (StreamsException e) {
            expect(e.errno() == Errno.EEXIST, "bind on a plain file: " + e.getMessage());
        }
        expect(Files.size(path) == 13, "bind changed the plain file");
        return msg.replace(dir.toString(), "$TMP");
    }

    String missingPath() throws Exception {
        Path missing = dir.resolve("missing");
        Path inMissingDir = dir.resolve("no-such-dir").resolve("x");
        String msg;
        try {
            closeNow(ConnldClient.connect(missing, IO_TIMEOUT));
            throw new IllegalStateException("connected to a missing path");
        } catch (StreamsException e) {
            expect(e.errno() == Errno.ENOENT, "connect: " + e.getMessage());
            msg = e.getMessage();
        }
        try {
            closeNow(ConnldServer.bind(inMissingDir));
            throw new IllegalStateException("bound in a missing directory");
        } catch (StreamsException e) {
            expect(e.errno() == Errno.ENOENT, "bind: " + e.getMessage());
        }
        return msg.replace(dir.toString(), "$TMP") + "; bind in a missing directory: ENOENT";
    }

    String busyPath() throws Exception {
        Path path = dir.resolve("busy");
        try (ConnldServer first = ConnldServer.bind(path)) {
            Thread loop = serveInBackground(first, ServeCommand::echo);
            String msg;
            try {
                closeNow(ConnldServer.bind(path, ConnldOptions.builder().probeTimeout(Duration.ofMillis(500)).build()));
                throw new IllegalStateException("a second server took a live server's path");
            } catch (StreamsException e) {
                expect(e.errno() == Errno.EBUSY, "second bind: " + e.getMessage() + ", expected EBUSY");
                msg = e.getMessage();
            }
            try (Connection c = ConnldClient.connect(path, IO_TIMEOUT)) {
                c.writeFully(new byte[] {'?'});
                expect(readExactly(c.fd(), 1)[0] == '?', "the first server no longer answers");
            }
            closeNow(first);
            loop.join(IO_TIMEOUT.toMillis());
            return msg.replace(dir.toString(), "$TMP") + "; the first server still answers";
        }
    }
}
