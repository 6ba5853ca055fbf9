package org.streams4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.streams4j.internal.Shim;
import org.streams4j.testsupport.Async;

/**
 * The critical section around bind and close's removal (BindLock): on
 * STREAMS an unlink of an attached name detaches it (vn_removeat), so a look
 * followed by an unlink must never meet another of our servers attaching in
 * between. The lock is the same code on both backends, so it runs here.
 */
class BindLockTest {
    private static final Duration GUARD = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    private StreamFd openDir() throws StreamsException {
        int fd = Shim.s4j_open(dir.toString(), Shim.O_READ | Shim.O_DIRECTORY, 0);
        assertTrue(fd >= 0, "open " + dir + ": " + Errno.name(-fd));
        return StreamFd.adopt(fd);
    }

    private Path lockFile(String target) {
        return dir.resolve(BindLock.nameFor(target));
    }

    /** Two binds in one process: an open-file-description lock, not a POSIX one (which a process shares). */
    @Test
    void twoHoldersInOneProcessNeverHoldItAtOnce() throws Exception {
        AtomicInteger inside = new AtomicInteger();
        AtomicInteger most = new AtomicInteger();
        int rounds = 300;
        CountDownLatch start = new CountDownLatch(1);
        try (StreamFd d1 = openDir(); StreamFd d2 = openDir()) {
            CompletableFuture<?>[] both = new CompletableFuture<?>[2];
            StreamFd[] dirs = {d1, d2};
            for (int t = 0; t < 2; t++) {
                StreamFd d = dirs[t];
                both[t] = CompletableFuture.runAsync(() -> {
                    try {
                        start.await();
                        for (int i = 0; i < rounds; i++) {
                            try (BindLock l = BindLock.acquire(d, "bind", "x", "x", GUARD)) {
                                most.accumulateAndGet(inside.incrementAndGet(), Math::max);
                                Thread.yield();
                                inside.decrementAndGet();
                            }
                        }
                    } catch (Exception e) {
                        throw new RuntimeException(e);
                    }
                }, Async.EACH);
            }
            start.countDown();
            CompletableFuture.allOf(both).get(GUARD.toMillis() * 2, TimeUnit.MILLISECONDS);
        }
        assertEquals(1, most.get(), "two holders at once");
        assertFalse(Files.exists(lockFile("x"), LinkOption.NOFOLLOW_LINKS), "the lock file stayed");
    }

    @Test
    void aHeldLockMakesABindWaitAndFailWithEagainNamingThePath() throws Exception {
        Path p = dir.resolve("held");
        try (StreamFd d = openDir(); BindLock held = BindLock.acquire(d, "bind", p.toString(), "held", GUARD)) {
            assertTrue(Files.isRegularFile(lockFile("held"), LinkOption.NOFOLLOW_LINKS));
            try (StreamFd d2 = openDir()) {
                StreamsException e = assertThrows(StreamsException.class,
                    () -> BindLock.acquire(d2, "bind", p.toString(), "held", Duration.ofMillis(100)));
                assertEquals("EAGAIN", e.errnoName(), e.getMessage());
                assertEquals("bind", e.operation());
                assertEquals(p.toString(), e.target());
                assertTrue(e.getMessage().contains(BindLock.nameFor("held")), e.getMessage());
            }
            // A real bind waits for it (seen waiting in BindLock.acquire), then binds once it is let go.
            CompletableFuture<ConnldServer> bind = new CompletableFuture<>();
            Thread t = new Thread(() -> {
                try {
                    bind.complete(ConnldServer.bind(p));
                } catch (Throwable e) {
                    bind.completeExceptionally(e);
                }
            }, "bind " + p);
            t.setDaemon(true);
            t.start();
            awaitIn(t, "acquire");
            assertFalse(bind.isDone(), "bind went ahead while another held the path's lock: " + bind);
            assertFalse(Files.exists(p, LinkOption.NOFOLLOW_LINKS), "bind created the path while the lock was held");
            held.close();
            try (ConnldServer s = bind.get(GUARD.toMillis(), TimeUnit.MILLISECONDS)) {
                assertTrue(s.isOpen());
            }
        }
        assertFalse(Files.exists(lockFile("held"), LinkOption.NOFOLLOW_LINKS));
    }

    /** Waits until {@code t} runs inside BindLock's {@code method}. */
    private static void awaitIn(Thread t, String method) throws InterruptedException {
        long deadline = System.nanoTime() + GUARD.toNanos();
        while (true) {
            for (StackTraceElement f : t.getStackTrace()) {
                if (f.getClassName().equals(BindLock.class.getName()) && f.getMethodName().equals(method)) {
                    return;
                }
            }
            assertTrue(t.isAlive() && System.nanoTime() < deadline, t.getName() + " never waited in BindLock." + method);
            Thread.sleep(1);
        }
    }

    @Test
    void bindAndCloseLeaveNoLockFile() throws Exception {
        Path p = dir.resolve("tidy");
        try (ConnldServer s = ConnldServer.bind(p)) {
            assertFalse(Files.exists(lockFile("tidy"), LinkOption.NOFOLLOW_LINKS), "bind left its lock file");
        }
        assertFalse(Files.exists(lockFile("tidy"), LinkOption.NOFOLLOW_LINKS), "close left its lock file");
        assertFalse(Files.exists(p, LinkOption.NOFOLLOW_LINKS));
    }

    /** A server killed inside bind leaves its lock file: nobody holds it, so the next bind takes it. */
    @Test
    void aLockFileLeftByADeadServerIsTakenOverAndRemoved() throws Exception {
        Files.createFile(lockFile("crashed"));
        Path p = dir.resolve("crashed");
        try (ConnldServer s = ConnldServer.bind(p)) {
            assertTrue(s.isOpen());
        }
        assertFalse(Files.exists(lockFile("crashed"), LinkOption.NOFOLLOW_LINKS));
    }

    /** A hostile user's link at the lock name: refused, neither followed nor removed, the target untouched. */
    @Test
    void aSymbolicLinkAtTheLockNameIsRefusedAndNeverFollowed() throws Exception {
        Path victim = Files.write(dir.resolve("victim"), "keep\n".getBytes(StandardCharsets.UTF_8));
        Files.createSymbolicLink(lockFile("linked"), victim);
        Path p = dir.resolve("linked");
        StreamsException e = assertThrows(StreamsException.class, () -> ConnldServer.bind(p));
        assertEquals("bind", e.operation());
        assertEquals(p.toString(), e.target());
        assertTrue(e.getMessage().contains(BindLock.nameFor("linked")), e.getMessage());
        assertTrue(Files.isSymbolicLink(lockFile("linked")));
        assertEquals("keep\n", Files.readString(victim));
        assertFalse(Files.exists(p, LinkOption.NOFOLLOW_LINKS), "bound although refused");
    }

    @Test
    void aHardLinkAtTheLockNameIsRefused() throws Exception {
        Path victim = Files.write(dir.resolve("victim"), "keep\n".getBytes(StandardCharsets.UTF_8));
        Files.createLink(lockFile("hard"), victim);
        StreamsException e = assertThrows(StreamsException.class, () -> ConnldServer.bind(dir.resolve("hard")));
        assertEquals("EEXIST", e.errnoName(), e.getMessage());
        assertTrue(Files.exists(lockFile("hard")), "the link was removed");
        assertEquals("keep\n", Files.readString(victim));
    }

    /** Another user's file at the lock name (as root: a file given to uid 4242). */
    @Test
    void anotherUsersFileAtTheLockNameIsRefused() throws Exception {
        Assumptions.assumeTrue(Platform.euid() == 0, "needs root to make a file of another user's");
        Path lock = Files.createFile(lockFile("theirs"));
        Files.setAttribute(lock, "unix:uid", 4242, LinkOption.NOFOLLOW_LINKS);
        StreamsException e = assertThrows(StreamsException.class, () -> ConnldServer.bind(dir.resolve("theirs")));
        assertEquals("EEXIST", e.errnoName(), e.getMessage());
        assertTrue(e.getMessage().contains("not a file of this user's"), e.getMessage());
        assertEquals(4242, Files.getAttribute(lock, "unix:uid", LinkOption.NOFOLLOW_LINKS));
    }
}
