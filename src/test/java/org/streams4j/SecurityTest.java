package org.streams4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;
import org.streams4j.internal.FileStat;
import org.streams4j.testsupport.RequiresBackend;
import org.streams4j.testsupport.Swapper;

/**
 * Attacks on a server that binds in a directory others can write, as a
 * hostile local user would make them, on whichever backend this host has.
 * The attacker is a separate process; when the suite runs as root it runs
 * as nobody, as a real attacker would.
 */
class SecurityTest {
    private static final int ROUNDS = 200;
    private static final int PROBE_ROUNDS = 2000;

    @TempDir
    Path base;

    /**
     * Security hole 1: bind, then chmod by name. A swapper renames a link to
     * a victim file over the path (and over every directory the server makes
     * beside it) while the server binds 200 times with mode 0666: the
     * victim's mode and content never change.
     */
    @Test
    void aSwapperNeverGetsTheServersModeOntoAnotherFile() throws Exception {
        Files.setPosixFilePermissions(base, PosixFilePermissions.fromString("rwx--x--x"));
        Path shared = Files.createDirectory(base.resolve("shared"));
        Files.setPosixFilePermissions(shared, PosixFilePermissions.fromString("rwxrwxrwx"));
        Path vault = Files.createDirectory(base.resolve("vault"));
        Path victim = Files.writeString(vault.resolve("secret"), "secret\n");
        Files.setPosixFilePermissions(victim, PosixFilePermissions.fromString("rw-------"));
        FileStat before = FileStat.ofPath(victim.toString());

        Process swapper = startSwapper(shared, "sock", victim);
        int bound = 0;
        List<String> refused = new ArrayList<>();
        try {
            for (int i = 0; i < ROUNDS; i++) {
                try (ConnldServer s = ConnldServer.bind(shared.resolve("sock"),
                    ConnldOptions.builder().mode(0666).probeTimeout(java.time.Duration.ofMillis(200)).build())) {
                    bound++;
                } catch (StreamsException e) {
                    refused.add(e.errnoName());
                }
                FileStat now = FileStat.ofPath(victim.toString());
                assertEquals(0600, now.perm(), "round " + i + ": the victim's mode changed");
                assertEquals(before.ctimeNs(), now.ctimeNs(), "round " + i + ": the victim was changed");
            }
        } finally {
            swapper.destroyForcibly().waitFor(TestSupport.guard(Duration.ofSeconds(10)).toMillis(), TimeUnit.MILLISECONDS);
        }
        assertEquals("secret\n", Files.readString(victim));
        assertEquals(ROUNDS, bound + refused.size());
        System.out.println("SecurityTest: " + ROUNDS + " binds against a swapper: " + bound + " bound, "
            + refused.size() + " refused " + summary(refused) + "; victim mode 0600, unchanged");
    }

    /**
     * Two servers binding one path at once, 200 times: one wins, the other is
     * told the path is served (or that it changed under it), and the winner's
     * file has the winner's mode, never the loser's.
     */
    @Test
    void twoServersBindingAtOnceNeverMixTheirModes() throws Exception {
        Path p = base.resolve("race");
        for (int i = 0; i < ROUNDS; i++) {
            bindTwoAtOnce(p, i);
            assertTrue(Files.notExists(p, java.nio.file.LinkOption.NOFOLLOW_LINKS), "round " + i + ": left " + p);
        }
    }

    /**
     * Two servers bind p at once (modes 0600 and 0666): exactly one wins, the
     * path has its mode and is live; both are closed again.
     */
    private static void bindTwoAtOnce(Path p, int i) throws Exception {
        CountDownLatch go = new CountDownLatch(1);
        AtomicReference<ConnldServer> a = new AtomicReference<>();
        AtomicReference<ConnldServer> b = new AtomicReference<>();
        Thread ta = binder(p, 0600, go, a);
        Thread tb = binder(p, 0666, go, b);
        go.countDown();
        ta.join();
        tb.join();
        ConnldServer winner = a.get() != null ? a.get() : b.get();
        try {
            assertTrue(a.get() == null || b.get() == null, "round " + i + ": both servers bound " + p);
            assertTrue(winner != null, "round " + i + ": neither server bound " + p);
            int want = winner == a.get() ? 0600 : 0666;
            assertEquals(want, FileStat.ofPath(p.toString()).perm() & 0777, "round " + i);
            assertTrue(Streams.isAttached(p), "round " + i + ": the winner's socket is not at " + p);
        } finally {
            if (a.get() != null) {
                a.get().close();
            }
            if (b.get() != null) {
                b.get().close();
            }
        }
    }

    /**
     * The probe of a dead server's socket (bind over a stale socket, info,
     * Streams.isAttached) connects, sock_diag having found nobody listening.
     * connect(2) follows a link: a swapper that exchanges the dead socket
     * with a link to a socket in a directory only root can reach made a root
     * probe connect there, as root (a --exec server behind it would run its
     * command for "uid 0"): 231 of 2,000 probes did. 2,000 probes (bind's
     * is the same call) against the swapper: the socket behind the link
     * never sees a connection.
     */
    @Test
    @EnabledOnOs(OS.LINUX)
    void theProbeNeverConnectsWhereASwappedInLinkLeads() throws Exception {
        Path shared = shared();
        Path vault = vault();
        java.util.concurrent.atomic.AtomicInteger reached = new java.util.concurrent.atomic.AtomicInteger();
        Path sock = shared.resolve("sock");
        try (ConnldServer victim = ConnldServer.bind(vault.resolve("v.sock"), ConnldOptions.builder().build())) {
            countConnections(victim, reached);
            deadSocket(sock);
            Process swapper = startSwapper(shared, "sock", vault.resolve("v.sock"));
            List<String> seen = new ArrayList<>();
            try {
                for (int i = 0; i < PROBE_ROUNDS; i++) {
                    try {
                        seen.add(Streams.isAttached(sock) ? "live" : "not live");
                    } catch (StreamsException e) {
                        seen.add(e.errnoName());
                    }
                }
            } finally {
                swapper.destroyForcibly().waitFor(TestSupport.guard(Duration.ofSeconds(10)).toMillis(), TimeUnit.MILLISECONDS);
            }
            Thread.sleep(200);
            System.out.println("SecurityTest: " + PROBE_ROUNDS + " probes of a dead socket against a swapper: "
                + summary(seen)
                + "; connections behind the link: " + reached.get());
            assertEquals(0, reached.get(), "a probe connected through a link swapped in for the dead socket");
        }
    }

    /**
     * The server's private directory traded for another of its user's
     * directories (mode 0700, so it passes the owner and mode checks) between
     * mkdir and open: bind then fails there (EADDRINUSE: a file "s" is in
     * it), and the clean-up unlinked "s" in that directory, a file the
     * attacker may not touch. 200 binds against the swapper: the file keeps
     * both its links.
     */
    @Test
    @EnabledOnOs(OS.LINUX)
    void aTradedPrivateDirectoryKeepsItsFiles() throws Exception {
        Path shared = shared();
        Path keep = Files.createDirectory(shared.resolve("keep"));
        Files.setPosixFilePermissions(keep, PosixFilePermissions.fromString("rwx------"));
        Path file = Files.writeString(keep.resolve("s"), "mine\n");
        Path vault = vault();
        Files.createLink(vault.resolve("s"), file);     // the file, whichever name keep has now
        Process swapper = startTool("swapper", base, "-d", shared.toString(), "keep");
        List<String> refused = new ArrayList<>();
        try {
            for (int i = 0; i < ROUNDS; i++) {
                try (ConnldServer s = ConnldServer.bind(shared.resolve("sock"), ConnldOptions.builder().build())) {
                    refused.add("bound");
                } catch (StreamsException e) {
                    refused.add(e.errnoName());
                }
                assertEquals(2L, FileStat.ofPath(vault.resolve("s").toString()).nlink(),
                    "round " + i + ": the server unlinked a file in a directory traded for its own");
            }
        } finally {
            swapper.destroyForcibly().waitFor(TestSupport.guard(Duration.ofSeconds(10)).toMillis(), TimeUnit.MILLISECONDS);
        }
        System.out.println("SecurityTest: " + ROUNDS + " binds against a directory trader: " + summary(refused)
            + "; the traded directory's file kept");
        assertEquals("mine\n", Files.readString(vault.resolve("s")));
    }

    /**
     * Issue 20, finding 3: {@code streamsctl info} on a dead socket that a
     * swapper exchanges (renameat2 RENAME_EXCHANGE) with a link to a root-only
     * server's socket. info looked by name and connected by name, following
     * the link: root's info reported "attached" and the server behind the link
     * got a connection from uid 0 (an --exec server runs its command for it).
     * 200 runs against the swapper: info never reports "attached" and the
     * server behind the link never sees a connection.
     */
    @Test
    @EnabledOnOs(OS.LINUX)
    void infoNeverConnectsWhereASwappedInLinkLeads() throws Exception {
        Path shared = shared();
        Path vault = vault();
        java.util.concurrent.atomic.AtomicInteger reached = new java.util.concurrent.atomic.AtomicInteger();
        Path sock = shared.resolve("sock");
        try (ConnldServer victim = ConnldServer.bind(vault.resolve("v.sock"), ConnldOptions.builder().build())) {
            countConnections(victim, reached);
            deadSocket(sock);
            Process swapper = startSwapper(shared, "sock", vault.resolve("v.sock"));
            List<String> seen = new ArrayList<>();
            int attached = 0;
            try {
                for (int i = 0; i < ROUNDS; i++) {
                    org.streams4j.cli.InProcess.Result r = org.streams4j.cli.InProcess.run("info", sock.toString(),
                        "--timeout", "1s");
                    String server = r.out().lines().filter(l -> l.startsWith("server ")).findFirst()
                        .orElse("exit " + r.exit() + " " + r.err().strip());
                    if (server.contains("attached") && !server.contains("none")) {
                        attached++;
                    }
                    seen.add(server.replaceAll("\\(.*", "").strip());
                }
            } finally {
                swapper.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
            Thread.sleep(200);
            System.out.println("SecurityTest: " + ROUNDS + " info runs on a dead socket against a swapper: "
                + summary(seen) + "; reported attached: " + attached + "; connections behind the link: "
                + reached.get());
            assertEquals(0, reached.get(), "info connected through a link swapped in for the dead socket");
            assertEquals(0, attached, "info reported the server behind a swapped-in link as attached");
        }
    }

    /**
     * Issue 20, finding 4: root runs {@code streamsctl detach shared/att/sock}
     * while a swapper exchanges the attacker's directory att with a link to a
     * root-only directory holding a regular file named sock. detach looked
     * (lstat: a socket) and then deleted by name, through the link: root's
     * file went. 200 runs against the swapper: the file is never removed.
     */
    @Test
    @EnabledOnOs(OS.LINUX)
    void detachNeverRemovesWhatASwappedInDirectoryLinkLeadsTo() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(Platform.backend() == Backend.PORTABLE,
            "detach removes a socket on the portable backend only");
        Path shared = shared();
        Path vault = vault();
        Path att = Files.createDirectory(shared.resolve("att"));
        Files.setPosixFilePermissions(att, PosixFilePermissions.fromString("rwxrwxrwx"));
        Path victim = vault.resolve("sock");
        // The attacker's directory, whatever name it has at the moment: its socket is made through it.
        int attFd = org.streams4j.internal.Shim.s4j_open(att.toString(),
            org.streams4j.internal.Shim.O_READ | org.streams4j.internal.Shim.O_DIRECTORY, 0);
        assertTrue(attFd >= 0, "open " + att);
        Path held = Path.of("/proc/self/fd/" + attFd + "/sock");
        Process swapper = startSwapper(shared, "att", vault);
        List<String> seen = new ArrayList<>();
        int removed = 0;
        try {
            for (int i = 0; i < ROUNDS; i++) {
                if (!Files.exists(victim, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                    Files.writeString(victim, "root's\n");
                }
                if (!Files.exists(held, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                    deadSocket(held);
                }
                org.streams4j.cli.InProcess.Result r = org.streams4j.cli.InProcess.run("detach",
                    att.resolve("sock").toString());
                seen.add(r.exit() == 0 ? "detached" : r.err().replaceAll("^streamsctl: detach \\S+: ", "")
                    .replaceAll(" \\(.*", "").strip());
                if (!Files.isRegularFile(victim, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                    removed++;
                }
            }
        } finally {
            swapper.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            org.streams4j.internal.Shim.s4j_close(attFd);
        }
        System.out.println("SecurityTest: " + ROUNDS + " detach runs against a directory swapper: " + summary(seen)
            + "; root's file removed in " + removed);
        assertEquals(0, removed, "detach removed a file through a directory link swapped in");
    }

    /** base/shared, mode 0777: a directory the attacker may write (base is 0711). */
    private Path shared() throws java.io.IOException {
        Files.setPosixFilePermissions(base, PosixFilePermissions.fromString("rwx--x--x"));
        Path shared = Files.createDirectory(base.resolve("shared"));
        Files.setPosixFilePermissions(shared, PosixFilePermissions.fromString("rwxrwxrwx"));
        return shared;
    }

    /** base/vault, mode 0700: only the server's user may reach into it. */
    private Path vault() throws java.io.IOException {
        Path vault = Files.createDirectory(base.resolve("vault"));
        Files.setPosixFilePermissions(vault, PosixFilePermissions.fromString("rwx------"));
        return vault;
    }

    /** A socket file nobody listens on (bound, then closed). */
    /** Serves {@code victim} on a daemon thread, counting every connection it gets, until it closes. */
    private static void countConnections(ConnldServer victim, java.util.concurrent.atomic.AtomicInteger reached) {
        Thread serving = new Thread(() -> {
            try {
                victim.serve(c -> reached.incrementAndGet());
            } catch (StreamsException e) {
                // closed
            }
        });
        serving.setDaemon(true);
        serving.start();
    }

    private static void deadSocket(Path p) {
        try (java.nio.channels.ServerSocketChannel ch =
                 java.nio.channels.ServerSocketChannel.open(java.net.StandardProtocolFamily.UNIX)) {
            ch.bind(java.net.UnixDomainSocketAddress.of(p));
        } catch (java.io.IOException e) {
            // the swapper took the name meanwhile: the next round makes another
        }
    }

    /**
     * Two servers replacing the same dead socket at once, 200 times: each
     * probes it dead and removes it only if it still is that socket, so one
     * wins, the other is told the path is served, and the path holds the
     * winner's socket with the winner's mode (portable backend: a socket).
     */
    @Test
    @RequiresBackend(Backend.PORTABLE)  // a socket file is the portable backend's
    void twoServersReplacingOneDeadSocketAtOnceLeaveOneWinner() throws Exception {
        Path p = base.resolve("stale");
        for (int i = 0; i < ROUNDS; i++) {
            deadSocket(p);
            bindTwoAtOnce(p, i);
        }
    }

    private static Thread binder(Path p, int mode, CountDownLatch go, AtomicReference<ConnldServer> out) {
        Thread t = new Thread(() -> {
            try {
                go.await();
                out.set(ConnldServer.bind(p, ConnldOptions.builder().mode(mode).build()));
            } catch (StreamsException e) {
                if (e.errno() != Errno.EBUSY && e.errno() != Errno.EAGAIN) {
                    throw new AssertionError("unexpected: " + e.getMessage(), e);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        t.start();
        return t;
    }

    private static String summary(List<String> names) {
        java.util.Map<String, Integer> m = new java.util.TreeMap<>();
        names.forEach(n -> m.merge(n, 1, Integer::sum));
        return m.toString();
    }

    /**
     * The swapper as another user: nobody when this runs as root, else this
     * user. On Linux with a C compiler, src/test/c/swapper.c (renameat2
     * RENAME_EXCHANGE in a tight loop: it won 6 of 25 binds against the old
     * chmod by name); else the Java twin in testsupport.Swapper.
     */
    static Process startSwapper(Path dir, String name, Path victim) throws Exception {
        List<String> cmd = new ArrayList<>();
        if (Platform.euid() == 0 && Files.isExecutable(Path.of("/usr/bin/setpriv"))) {
            cmd.addAll(List.of("/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"));
        }
        Path c = compiled("swapper", dir.getParent());
        if (c != null) {
            cmd.add(c.toString());
        } else {
            cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
            cmd.addAll(List.of("-Xshare:auto", "-cp", testClasses(), Swapper.class.getName()));
        }
        cmd.addAll(List.of(dir.toString(), name, victim.toString()));
        return started(cmd);
    }

    /** src/test/c/TOOL.c, built into {@code where}, run as another user (see startSwapper); Linux with cc only. */
    static Process startTool(String tool, Path where, String... args) throws Exception {
        List<String> cmd = new ArrayList<>();
        if (Platform.euid() == 0 && Files.isExecutable(Path.of("/usr/bin/setpriv"))) {
            cmd.addAll(List.of("/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"));
        }
        Path c = compiled(tool, where);
        org.junit.jupiter.api.Assumptions.assumeTrue(c != null, "no C compiler for src/test/c/" + tool + ".c");
        cmd.add(c.toString());
        cmd.addAll(List.of(args));
        return started(cmd);
    }

    private static Process started(List<String> cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        String line = r.readLine();
        assertEquals("ready", line, "the swapper did not start: " + cmd);
        Thread drain = new Thread(() -> {
            try {
                while (r.readLine() != null) {
                    // keep its output flowing
                }
            } catch (java.io.IOException e) {
                // it was killed
            }
        });
        drain.setDaemon(true);
        drain.start();
        return p;
    }

    /** src/test/c/TOOL.c built with cc into {@code where} (Linux only), or null. */
    private static Path compiled(String tool, Path where) throws Exception {
        Path src = Path.of("src", "test", "c", tool + ".c");
        if (!"Linux".equals(System.getProperty("os.name")) || !Files.isRegularFile(src)) {
            return null;
        }
        Path out = where.resolve(tool);
        Process cc = new ProcessBuilder("cc", "-O2", "-o", out.toString(), src.toString())
            .redirectErrorStream(true).start();
        String log = new String(cc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!cc.waitFor(TestSupport.guard(Duration.ofSeconds(60)).toMillis(), TimeUnit.MILLISECONDS) || cc.exitValue() != 0) {
            System.out.println("SecurityTest: no C " + tool + " (" + log.strip() + ")");
            return null;
        }
        return out;
    }

    /** The directory of the compiled tests (the swapper needs nothing else). */
    private static String testClasses() throws Exception {
        return Path.of(Swapper.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
    }
}
