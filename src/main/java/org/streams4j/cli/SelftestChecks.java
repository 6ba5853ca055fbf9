package org.streams4j.cli;

import org.apache.commons.lang3.concurrent.BasicThreadFactory;
import java.io.IOException;
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
import org.streams4j.Backend;
import org.streams4j.Connection;
import org.streams4j.ConnldClient;
import org.streams4j.ConnldOptions;
import org.streams4j.ConnldServer;
import org.streams4j.Errno;
import org.streams4j.PeerCredentials;
import org.streams4j.Platform;
import org.streams4j.ReceivedFd;
import org.streams4j.StreamFd;
import org.streams4j.StreamPipe;
import org.streams4j.Streams;
import org.streams4j.StreamsException;
import org.streams4j.UnsupportedPlatformException;

/**
 * The checks of {@code streamsctl selftest}, apart from the command that
 * runs them and prints the table or the JSON: each returns what it saw and
 * throws when the contract is broken, or {@link Skip} when it does not apply
 * to this host. {@code SelftestChecksTest} runs the same checks under JUnit.
 */
final class SelftestChecks {
    static final Duration IO_TIMEOUT = Duration.ofSeconds(5);
    static final int EVENT_CLIENTS = 200;

    private final Path dir;
    private final int clients;

    /** A check's outcome when it does not apply to this host. */
    static final class Skip extends Exception {
        private static final long serialVersionUID = 1L;

        Skip(String why) {
            super(why);
        }
    }

    /** A check: returns what it saw, throws when the contract is broken. */
    @FunctionalInterface
    interface Check {
        String run() throws Exception;
    }

    /** A check and the name its row shows. */
    record Named(String name, Check check) {
    }

    /**
     * @param dir an empty directory the checks may use (short: AF_UNIX paths are)
     * @param clients concurrent clients for the connld check
     */
    SelftestChecks(Path dir, int clients) {
        this.dir = dir;
        this.clients = clients;
    }

    /** Every check, in the order the table shows them, for this host's backend. */
    List<Named> all() {
        boolean streams = Platform.backend() == Backend.STREAMS;
        List<Named> all = new ArrayList<>(List.of(
            new Named("pipe round trip", this::pipeRoundTrip),
            new Named("descriptor passing with uid/gid", this::descriptorPassing),
            new Named("data and descriptors keep order", this::order),
            new Named("connld server, " + clients + " concurrent clients", this::concurrentClients),
            new Named("event loops, " + EVENT_CLIENTS + " clients", this::eventLoops),
            new Named("peer credentials", this::peerCredentials),
            new Named("attach point permission bits", this::permissions),
            new Named("allow list refuses other uids", this::allowList),
            new Named("close removes the path", this::closeRemovesPath),
            new Named("fdetach", this::fdetach),
            new Named("error: plain file", this::plainFile),
            new Named("error: missing path", this::missingPath),
            new Named("error: busy path", this::busyPath),
            new Named("error: module name over 8 chars", this::longModuleName)));
        if (streams) {
            all.add(new Named("push, look, find, list, pop", this::moduleOps));
            all.add(new Named("connld pushed twice: ENXIO", this::connldTwice));
        } else {
            all.add(new Named("module ops refused (no STREAMS)", this::modulesUnsupported));
            all.add(new Named("connld pushed twice: ENXIO", () -> {
                throw new Skip("STREAMS only; the portable backend has no modules");
            }));
        }
        return all;
    }


    private String pipeRoundTrip() throws Exception {
        try (StreamPipe p = StreamPipe.open()) {
            byte[] ping = "ping from the first end".getBytes(StandardCharsets.US_ASCII);
            byte[] pong = "pong from the second".getBytes(StandardCharsets.US_ASCII);
            p.first().writeFully(ping);
            expect(Arrays.equals(ping, readExactly(p.second(), ping.length)), "second end read other bytes");
            p.second().writeFully(pong);
            expect(Arrays.equals(pong, readExactly(p.first(), pong.length)), "first end read other bytes");
            p.first().close();
            expect(p.second().awaitReadable(IO_TIMEOUT), "no end of file after the other end closed");
            expect(p.second().read(new byte[8]) == -1, "data after the other end closed");
            return ping.length + " and " + pong.length + " bytes both ways, then end of file";
        }
    }

    private String descriptorPassing() throws Exception {
        Path file = dir.resolve("passed.txt");
        byte[] content = "a file passed over a stream\n".getBytes(StandardCharsets.US_ASCII);
        Files.write(file, content);
        try (StreamPipe p = StreamPipe.open(); StreamFd f = StreamFd.open(file, StreamFd.Mode.READ)) {
            p.first().sendFd(f);
            expect(p.second().awaitReadable(IO_TIMEOUT), "nothing arrived");
            try (ReceivedFd got = p.second().receiveFd()) {
                expect(got.uid() == Platform.euid() && got.gid() == Platform.egid(),
                    "sender uid=" + got.uid() + " gid=" + got.gid() + ", expected uid=" + Platform.euid()
                        + " gid=" + Platform.egid());
                byte[] read = got.inputStream().readNBytes(content.length + 1);
                expect(Arrays.equals(content, read), "read " + read.length + " other bytes from the received file");
                return "sender uid=" + got.uid() + " gid=" + got.gid() + ", file read through the received fd";
            }
        }
    }

    private String order() throws Exception {
        Path file = dir.resolve("order.txt");
        Files.write(file, new byte[] {'x'});
        try (StreamPipe p = StreamPipe.open(); StreamFd f = StreamFd.open(file, StreamFd.Mode.READ)) {
            p.first().writeFully("data".getBytes(StandardCharsets.US_ASCII));
            p.first().sendFd(f);
            expect(p.second().awaitReadable(IO_TIMEOUT), "nothing arrived");
            try {
                closeNow(p.second().receiveFd());
                throw new IllegalStateException("receiveFd took a descriptor while data was next");
            } catch (StreamsException e) {
                expect(e.errno() == Errno.EBADMSG, "receiveFd before the data: " + e.getMessage()
                    + ", expected EBADMSG");
            }
            byte[] data = readExactly(p.second(), 4);
            expect("data".equals(new String(data, StandardCharsets.US_ASCII)), "data lost or changed");
            try (ReceivedFd got = p.second().receiveFd()) {
                expect(got.fd().isOpen(), "no descriptor after the data");
            }
            return "data, then descriptor: receiveFd EBADMSG first, nothing lost";
        }
    }

    private String concurrentClients() throws Exception {
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
                BasicThreadFactory.builder().namingPattern("selftest-client-%d").daemon(true).build());
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
    private String eventLoops() throws Exception {
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

    private String peerCredentials() throws Exception {
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

    private String permissions() throws Exception {
        Path path = dir.resolve("mode");
        try (ConnldServer server = ConnldServer.bind(path, ConnldOptions.builder().mode(0640).build())) {
            expect(server.isOpen(), "closed at once");
            String perms = PosixFilePermissions.toString(Files.getPosixFilePermissions(path));
            expect("rw-r-----".equals(perms), "--mode 0640 gave " + perms);
            return "mode 0640 -> " + perms;
        }
    }

    private String allowList() throws Exception {
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

    private String closeRemovesPath() throws Exception {
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

    private String fdetach() throws Exception {
        if (!Platform.supportsFattach()) {
            throw new Skip("STREAMS only; on the portable backend close removes the socket (checked above)");
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

    private String plainFile() throws Exception {
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

    private String missingPath() throws Exception {
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

    private String busyPath() throws Exception {
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

    private String longModuleName() throws Exception {
        try (StreamPipe p = StreamPipe.open()) {
            try {
                p.first().push("ninechars");
                throw new IllegalStateException("pushed a module with a 9-character name");
            } catch (StreamsException e) {
                expect(e.errno() == Errno.EINVAL, "push ninechars: " + e.getMessage());
                return "push ninechars: " + e.errnoName();
            }
        }
    }

    private String modulesUnsupported() throws Exception {
        List<String> refused = new ArrayList<>();
        try (StreamPipe p = StreamPipe.open()) {
            StreamFd fd = p.first();
            Check[] ops = {
                () -> {
                    fd.push("connld");
                    return "push";
                },
                () -> {
                    fd.pop();
                    return "pop";
                },
                () -> String.valueOf(fd.list()),
                () -> String.valueOf(fd.look()),
                () -> String.valueOf(fd.find("connld")),
            };
            String[] names = {"push", "pop", "list", "look", "find"};
            for (int i = 0; i < ops.length; i++) {
                try {
                    ops[i].run();
                    throw new IllegalStateException(names[i] + " did not fail on the portable backend");
                } catch (UnsupportedPlatformException e) {
                    refused.add(names[i]);
                }
            }
            expect(!fd.isStream(), "isStream() true on the portable backend");
            try {
                Streams.fdetach(dir.resolve("x"));
                throw new IllegalStateException("fdetach did not fail on the portable backend");
            } catch (UnsupportedPlatformException e) {
                refused.add("fdetach");
            }
        }
        return String.join(", ", refused) + ": EOPNOTSUPP (not supported on this platform)";
    }

    private String moduleOps() throws Exception {
        try (StreamPipe p = StreamPipe.open()) {
            StreamFd fd = p.second();
            expect(fd.isStream(), "a pipe end is not a stream");
            Path file = dir.resolve("regular");
            Files.write(file, new byte[0]);
            try (StreamFd f = StreamFd.open(file, StreamFd.Mode.READ)) {
                expect(!f.isStream(), "a regular file is a stream");
            }
            List<String> before = fd.list();
            fd.push("connld");
            expect("connld".equals(fd.look()), "I_LOOK after I_PUSH: " + fd.look());
            expect(fd.find("connld"), "I_FIND does not see connld");
            List<String> after = fd.list();
            expect(after.size() == before.size() + 1 && "connld".equals(after.get(0)),
                "I_LIST before " + before + ", after push " + after);
            fd.pop();
            expect(fd.look() == null, "I_LOOK after I_POP: " + fd.look());
            try {
                fd.pop();
                throw new IllegalStateException("I_POP with no module succeeded");
            } catch (StreamsException e) {
                expect(e.errno() == Errno.EINVAL, "I_POP with no module: " + e.getMessage());
            }
            return "pipe " + before + " -> push connld " + after + " -> pop; isastream pipe yes, file no";
        }
    }

    private String connldTwice() throws Exception {
        try (StreamPipe p = StreamPipe.open()) {
            p.second().push("connld");
            try {
                p.second().push("connld");
                throw new IllegalStateException("connld pushed twice");
            } catch (StreamsException e) {
                expect(e.errno() == Errno.ENXIO, "second push: " + e.getMessage() + ", expected ENXIO");
                return e.getMessage();
            }
        }
    }

    // ---- helpers ------------------------------------------------------------------

    private static void expect(boolean ok, String what) {
        if (!ok) {
            throw new Cli.Failure(what);
        }
    }

    private static void closeNow(java.io.Closeable c) throws IOException {
        c.close();
    }

    private static byte[] readExactly(StreamFd fd, int len) throws StreamsException {
        byte[] b = new byte[len];
        int got = 0;
        while (got < len) {
            expect(fd.awaitReadable(IO_TIMEOUT), "read " + got + " of " + len + " bytes, then nothing for "
                + IO_TIMEOUT.toSeconds() + "s");
            int n = fd.read(b, got, len - got);
            expect(n > 0, "end of file after " + got + " of " + len + " bytes");
            got += n;
        }
        return b;
    }

    private static Thread serveInBackground(ConnldServer server, ConnldServer.Handler handler) {
        return serveInBackground(server, "serve", () -> server.serve(handler));
    }

    /** How a server serves: serve or serveEvents with its handler. */
    @FunctionalInterface
    private interface ServeLoop {
        void run() throws StreamsException;
    }

    /** Runs {@code loop} on a daemon thread; a failure while the server is open is reported. */
    private static Thread serveInBackground(ConnldServer server, String what, ServeLoop loop) {
        Thread t = BasicThreadFactory.builder().namingPattern("selftest-" + what).daemon(true).build().newThread(() -> {
            try {
                loop.run();
            } catch (StreamsException e) {
                if (server.isOpen()) {
                    Cli.error("selftest: " + what + " " + server.path() + ": " + e.getMessage());
                }
            }
        });
        t.start();
        return t;
    }
}
