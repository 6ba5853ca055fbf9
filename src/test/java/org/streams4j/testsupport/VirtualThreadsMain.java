package org.streams4j.testsupport;

import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.streams4j.Connection;
import org.streams4j.ConnldClient;
import org.streams4j.ConnldOptions;
import org.streams4j.ConnldServer;
import org.streams4j.Platform;
import org.streams4j.StreamClosedException;
import org.streams4j.StreamMessage;
import org.streams4j.StreamFd;
import org.streams4j.StreamInterruptedException;
import org.streams4j.StreamPipe;
import org.streams4j.StreamTimeoutException;

/**
 * Issue 23, item 1: what virtual threads blocked in streams4j must do, as
 * scenarios that run in the test JVM (with its binding) and, through
 * {@link #main}, in a child JVM with another binding and two carriers. Each
 * proves parking the same way: every virtual thread that waits reaches
 * {@code WAITING} or {@code TIMED_WAITING} (a virtual thread that sleeps in
 * a native call, holding its carrier, stays {@code RUNNABLE}), and then a
 * virtual thread that is still to run does the work that wakes them, which
 * with more waiters than carriers only happens when none holds one.
 */
public final class VirtualThreadsMain {
    private static final Duration GUARD = TimeScale.guard(Duration.ofSeconds(60));

    private VirtualThreadsMain() {
    }

    /** The JDK 21 virtual thread factory, or null on a JDK without virtual threads (17). */
    public static ThreadFactory virtualFactory() {
        try {
            Method of = Thread.class.getMethod("ofVirtual");
            Object builder = of.invoke(null);
            Method factory = Class.forName("java.lang.Thread$Builder").getMethod("factory");
            return (ThreadFactory) factory.invoke(builder);
        } catch (NoSuchMethodException | ClassNotFoundException e) {
            return null;
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Every scenario, by name, as the child JVM runs them. */
    public static final List<String> SCENARIOS = List.of("readers", "acceptors", "connectors",
        "idleClients", "writerOnFullPipe", "closeAndInterrupt", "timedReadAndPoll", "receiveFd", "messages");

    /** Runs the named scenarios; prints {@code ok NAME: detail} for each, {@code FAIL ...} and exits 1 on a failure. */
    public static void main(String[] args) throws Exception {
        Path dir = Files.createTempDirectory("s4j-vt");
        try {
            System.out.println("binding " + Platform.nativeBinding());
            for (String a : args) {
                try {
                    System.out.println("ok " + a + ": " + run(a, dir, waiters()));
                } catch (Throwable e) {
                    System.out.println("FAIL " + a + ": " + e);
                    e.printStackTrace(System.out);
                    System.exit(1);
                }
            }
            System.out.println("done");
        } finally {
            try (var s = Files.walk(dir)) {
                s.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
        System.exit(0);
    }

    /**
     * How many virtual threads wait in the scenarios that have many: 1,000,
     * or fewer where the descriptor limit would not hold two descriptors
     * for each and some room (a run under {@code ulimit -n 1024}); still far
     * more than any machine's carriers.
     */
    public static int waiters() {
        java.lang.management.OperatingSystemMXBean os = java.lang.management.ManagementFactory
            .getOperatingSystemMXBean();
        if (os instanceof com.sun.management.UnixOperatingSystemMXBean) {
            com.sun.management.UnixOperatingSystemMXBean u = (com.sun.management.UnixOperatingSystemMXBean) os;
            long room = u.getMaxFileDescriptorCount() - u.getOpenFileDescriptorCount() - 256;
            return (int) Math.max(64, Math.min(1000, room / 2));
        }
        return 1000;
    }

    /** One scenario with n waiters where it has many. */
    public static String run(String name, Path dir, int n) throws Exception {
        switch (name) {
            case "readers":
                return readers(n);
            case "acceptors":
                return acceptors(dir.resolve("acceptors"), n);
            case "connectors":
                return connectors(dir.resolve("connectors"), n);
            case "idleClients":
                return idleClients(dir.resolve("idle"), n);
            case "writerOnFullPipe":
                return writerOnFullPipe();
            case "closeAndInterrupt":
                return closeAndInterrupt();
            case "timedReadAndPoll":
                return timedReadAndPoll();
            case "receiveFd":
                return receiveFd();
            case "messages":
                return messages(n);
            default:
                throw new IllegalArgumentException(name);
        }
    }

    private static ThreadFactory vt() {
        ThreadFactory f = virtualFactory();
        if (f == null) {
            throw new IllegalStateException("no virtual threads on this JDK");
        }
        return f;
    }

    /** Until every thread waits parked (WAITING or TIMED_WAITING, or has ended); fails with their states. */
    public static void awaitParked(List<Thread> threads, String what) throws InterruptedException {
        long deadline = System.nanoTime() + GUARD.toNanos();
        while (true) {
            int running = 0;
            Thread.State seen = null;
            for (Thread t : threads) {
                Thread.State s = t.getState();
                if (s != Thread.State.WAITING && s != Thread.State.TIMED_WAITING && s != Thread.State.TERMINATED) {
                    running++;
                    seen = s;
                }
            }
            if (running == 0) {
                return;
            }
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError(running + " of " + threads.size() + " virtual threads " + what
                    + " did not park within " + GUARD + " (one was " + seen + ")");
            }
            Thread.sleep(5);
        }
    }

    private static void await(CountDownLatch l, String what) throws InterruptedException {
        if (!l.await(GUARD.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new AssertionError(what + ": " + l.getCount() + " still waiting after " + GUARD);
        }
    }

    private static void check(AtomicReference<Throwable> failure) {
        Throwable e = failure.get();
        if (e != null) {
            throw new AssertionError("a virtual thread failed: " + e, e);
        }
    }

    /** n virtual threads blocked in read, each on a pipe of its own; a virtual writer then answers all of them. */
    static String readers(int n) throws Exception {
        ThreadFactory f = vt();
        List<StreamPipe> pipes = new ArrayList<>();
        List<Thread> readers = new ArrayList<>();
        CountDownLatch read = new CountDownLatch(n);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        try {
            for (int i = 0; i < n; i++) {
                StreamPipe p = StreamPipe.open();
                pipes.add(p);
                int want = i & 0x7f;
                Thread t = f.newThread(() -> {
                    try {
                        byte[] b = new byte[1];
                        int got = p.second().read(b, 0, 1);
                        if (got != 1 || b[0] != want) {
                            throw new AssertionError("read " + got + " byte(s), " + b[0] + " instead of " + want);
                        }
                        read.countDown();
                    } catch (Throwable e) {
                        failure.compareAndSet(null, e);
                    }
                });
                readers.add(t);
                t.start();
            }
            awaitParked(readers, "blocked in read");
            Thread writer = f.newThread(() -> {
                try {
                    for (int i = 0; i < n; i++) {
                        pipes.get(i).first().write(new byte[] {(byte) (i & 0x7f)}, 0, 1);
                    }
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            });
            writer.start();
            await(read, "readers");
            check(failure);
            return n + " readers parked, a virtual writer ran and each read its byte";
        } finally {
            pipes.forEach(StreamPipe::close);
        }
    }

    /** n virtual threads blocked in accept on one server; a virtual client connects n times. */
    static String acceptors(Path p, int n) throws Exception {
        ThreadFactory f = vt();
        List<Thread> acceptors = new ArrayList<>();
        ConcurrentLinkedQueue<Connection> accepted = new ConcurrentLinkedQueue<>();
        List<Connection> clients = new ArrayList<>();
        CountDownLatch done = new CountDownLatch(n);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        try (ConnldServer server = ConnldServer.bind(p)) {
            for (int i = 0; i < n; i++) {
                Thread t = f.newThread(() -> {
                    try {
                        accepted.add(server.accept());
                        done.countDown();
                    } catch (Throwable e) {
                        failure.compareAndSet(null, e);
                    }
                });
                acceptors.add(t);
                t.start();
            }
            awaitParked(acceptors, "blocked in accept");
            Thread client = f.newThread(() -> {
                try {
                    for (int i = 0; i < n; i++) {
                        Connection c = ConnldClient.connect(p);
                        synchronized (clients) {
                            clients.add(c);
                        }
                    }
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            });
            client.start();
            await(done, "acceptors");
            check(failure);
            return n + " acceptors parked, a virtual client connected " + accepted.size() + " times";
        } finally {
            accepted.forEach(Connection::close);
            synchronized (clients) {
                clients.forEach(Connection::close);
            }
        }
    }

    /**
     * A server whose handlers are virtual threads, one per connection
     * (serve() with a virtual thread factory), and n virtual clients that
     * connect without a time-out and wait, parked, for the server's byte.
     */
    static String connectors(Path p, int n) throws Exception {
        ThreadFactory f = vt();
        CountDownLatch connected = new CountDownLatch(n);
        CountDownLatch go = new CountDownLatch(1);
        CountDownLatch answered = new CountDownLatch(n);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        ConnldOptions o = ConnldOptions.builder().threads(n).threadFactory(f).backlog(n).build();
        try (ConnldServer server = ConnldServer.bind(p, o)) {
            server.start(c -> {
                go.await();
                c.write(new byte[] {42}, 0, 1);
                byte[] b = new byte[1];
                while (c.read(b, 0, 1) >= 0) {
                    // until the client closes
                }
            });
            List<Thread> clients = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                Thread t = f.newThread(() -> {
                    try (Connection c = ConnldClient.connect(p)) {
                        connected.countDown();
                        byte[] b = new byte[1];
                        if (c.read(b, 0, 1) != 1 || b[0] != 42) {
                            throw new AssertionError("no answer from the server");
                        }
                        answered.countDown();
                    } catch (Throwable e) {
                        failure.compareAndSet(null, e);
                    }
                });
                clients.add(t);
                t.start();
            }
            await(connected, "connects");
            awaitParked(clients, "waiting for the server's answer");
            go.countDown();
            await(answered, "clients");
            check(failure);
            return n + " virtual clients connected, parked in read, and were answered by virtual handlers";
        }
    }

    /**
     * The JDK 21 idiom (a virtual thread per connection): n idle clients hold
     * n handlers in read, and the server still answers one more.
     */
    static String idleClients(Path p, int n) throws Exception {
        ThreadFactory f = vt();
        List<Connection> idle = new ArrayList<>();
        List<Thread> handlers = new ArrayList<>();
        AtomicInteger handling = new AtomicInteger();
        try (ConnldServer server = ConnldServer.bind(p, ConnldOptions.builder().backlog(n).build())) {
            Thread acceptLoop = f.newThread(() -> {
                while (server.isOpen()) {
                    Connection c;
                    try {
                        c = server.accept();
                    } catch (Exception e) {
                        return;
                    }
                    Thread h = f.newThread(() -> {
                        try (c) {
                            handling.incrementAndGet();
                            byte[] b = new byte[64];
                            int r;
                            while ((r = c.read(b, 0, b.length)) > 0) {
                                c.write(b, 0, r);
                            }
                        } catch (Exception e) {
                            // the server closed it
                        }
                    });
                    synchronized (handlers) {
                        handlers.add(h);
                    }
                    h.start();
                }
            });
            acceptLoop.start();
            for (int i = 0; i < n; i++) {
                idle.add(ConnldClient.connect(p));
            }
            long deadline = System.nanoTime() + GUARD.toNanos();
            while (handling.get() < n && System.nanoTime() - deadline < 0) {
                Thread.sleep(5);
            }
            synchronized (handlers) {
                awaitParked(new ArrayList<>(handlers), "handling idle clients");
            }
            try (Connection c = ConnldClient.connect(p)) {
                c.write(new byte[] {'h', 'i'}, 0, 2);
                byte[] b = new byte[2];
                int got = 0;
                while (got < 2) {
                    int r = c.read(b, got, 2 - got, GUARD);
                    if (r < 0) {
                        throw new AssertionError("the server hung up");
                    }
                    got += r;
                }
                if (b[0] != 'h' || b[1] != 'i') {
                    throw new AssertionError("a wrong echo");
                }
            }
            return n + " idle clients held " + handling.get() + " virtual handlers parked; one more was answered";
        } finally {
            idle.forEach(Connection::close);
        }
    }

    /** A virtual writer on a full pipe parks, and all of a 1 MiB write arrives in order once the reader drains. */
    static String writerOnFullPipe() throws Exception {
        ThreadFactory f = vt();
        try (StreamPipe p = StreamPipe.open()) {
            byte[] data = new byte[1 << 20];
            for (int i = 0; i < data.length; i++) {
                data[i] = (byte) (i * 31 + (i >> 9));
            }
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread w = f.newThread(() -> {
                try {
                    p.first().writeFully(data, 0, data.length);
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            });
            w.start();
            awaitParked(List.of(w), "writing to a full pipe");
            byte[] got = new byte[data.length];
            int at = 0;
            while (at < got.length) {
                int r = p.second().read(got, at, got.length - at, GUARD);
                if (r < 0) {
                    throw new AssertionError("end of stream at " + at);
                }
                at += r;
            }
            w.join(GUARD.toMillis());
            check(failure);
            if (!java.util.Arrays.equals(data, got)) {
                throw new AssertionError("the bytes arrived changed or out of order");
            }
            return "a writer parked on a full pipe; 1 MiB arrived in order";
        }
    }

    /**
     * n virtual threads blocked in a message receive, each on a message pipe
     * of its own (SOCK_SEQPACKET on Linux), answered by a virtual sender; then
     * a virtual sender on a full message pipe parks, and every message
     * arrives whole and in order.
     */
    static String messages(int n) throws Exception {
        ThreadFactory f = vt();
        List<StreamPipe> pipes = new ArrayList<>();
        List<Thread> readers = new ArrayList<>();
        CountDownLatch got = new CountDownLatch(n);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        try {
            for (int i = 0; i < n; i++) {
                StreamPipe p = StreamPipe.openMessages();
                pipes.add(p);
                String want = "message " + i;
                Thread t = f.newThread(() -> {
                    try {
                        StreamMessage m = new StreamMessage(64);
                        if (!p.second().messages().receive(m)) {
                            throw new AssertionError("end of stream instead of " + want);
                        }
                        String text = java.nio.charset.StandardCharsets.US_ASCII.decode(m.data()).toString();
                        if (!want.equals(text)) {
                            throw new AssertionError("received " + text + " instead of " + want);
                        }
                        got.countDown();
                    } catch (Throwable e) {
                        failure.compareAndSet(null, e);
                    }
                });
                readers.add(t);
                t.start();
            }
            awaitParked(readers, "blocked in a message receive");
            Thread sender = f.newThread(() -> {
                try {
                    for (int i = 0; i < n; i++) {
                        pipes.get(i).first().messages().send(("message " + i)
                            .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                    }
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            });
            sender.start();
            await(got, "message readers");
            check(failure);
        } finally {
            pipes.forEach(StreamPipe::close);
        }
        int count = 2000;
        try (StreamPipe p = StreamPipe.openMessages()) {
            Thread w = f.newThread(() -> {
                try {
                    byte[] b = new byte[1024];
                    for (int i = 0; i < count; i++) {
                        b[0] = (byte) i;
                        b[1] = (byte) (i >> 8);
                        p.first().messages().send(b);
                    }
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            });
            w.start();
            awaitParked(List.of(w), "sending to a full message pipe");
            StreamMessage m = new StreamMessage(1024);
            for (int i = 0; i < count; i++) {
                if (!p.second().messages().receive(m, GUARD) || m.data().limit() != 1024
                    || (m.data().get(0) & 0xff | (m.data().get(1) & 0xff) << 8) != (i & 0xffff)) {
                    throw new AssertionError("message " + i + " arrived changed or out of order: " + m);
                }
            }
            w.join(GUARD.toMillis());
            check(failure);
        }
        return n + " message readers parked and each received its message; a sender parked on a full pipe and "
            + count + " messages arrived in order";
    }

    /** A close from another thread, and an interrupt, each wake a parked reader as they wake a platform thread. */
    static String closeAndInterrupt() throws Exception {
        ThreadFactory f = vt();
        try (StreamPipe p = StreamPipe.open(); StreamPipe q = StreamPipe.open()) {
            AtomicReference<Throwable> closedOne = new AtomicReference<>();
            Thread r1 = f.newThread(() -> {
                try {
                    p.second().read(new byte[1], 0, 1);
                } catch (Throwable e) {
                    closedOne.set(e);
                }
            });
            AtomicReference<Throwable> interruptedOne = new AtomicReference<>();
            AtomicReference<Boolean> stillInterrupted = new AtomicReference<>();
            Thread r2 = f.newThread(() -> {
                try {
                    q.second().read(new byte[1], 0, 1);
                } catch (Throwable e) {
                    interruptedOne.set(e);
                    stillInterrupted.set(Thread.currentThread().isInterrupted());
                }
            });
            r1.start();
            r2.start();
            awaitParked(List.of(r1, r2), "blocked in read");
            p.second().close();
            r2.interrupt();
            r1.join(GUARD.toMillis());
            r2.join(GUARD.toMillis());
            if (!(closedOne.get() instanceof StreamClosedException)
                || closedOne.get() instanceof StreamInterruptedException) {
                throw new AssertionError("the close gave " + closedOne.get());
            }
            if (!(interruptedOne.get() instanceof StreamInterruptedException) || !stillInterrupted.get()) {
                throw new AssertionError("the interrupt gave " + interruptedOne.get() + ", status " + stillInterrupted.get());
            }
            if (q.second().isOpen()) {
                throw new AssertionError("the interrupt did not close the descriptor");
            }
            return "a close gave StreamClosedException, an interrupt StreamInterruptedException and closed it";
        }
    }

    /** A timed read and a poll park (TIMED_WAITING) and give up at their time-outs; data wakes a poll. */
    static String timedReadAndPoll() throws Exception {
        ThreadFactory f = vt();
        try (StreamPipe p = StreamPipe.open()) {
            AtomicReference<Throwable> timedOut = new AtomicReference<>();
            Thread r = f.newThread(() -> {
                try {
                    p.second().read(new byte[1], 0, 1, Duration.ofMillis(300));
                } catch (Throwable e) {
                    timedOut.set(e);
                }
            });
            r.start();
            r.join(GUARD.toMillis());
            if (!(timedOut.get() instanceof StreamTimeoutException)) {
                throw new AssertionError("the timed read gave " + timedOut.get());
            }
            AtomicReference<Object> polled = new AtomicReference<>();
            Thread w = f.newThread(() -> {
                try {
                    polled.set(p.second().poll(java.util.EnumSet.of(org.streams4j.PollEvent.READABLE), null));
                } catch (Throwable e) {
                    polled.set(e);
                }
            });
            w.start();
            awaitParked(List.of(w), "in poll");
            p.first().write(new byte[] {1}, 0, 1);
            w.join(GUARD.toMillis());
            if (!String.valueOf(polled.get()).contains("READABLE")) {
                throw new AssertionError("poll gave " + polled.get());
            }
            return "a timed read timed out parked; a parked poll saw READABLE";
        }
    }

    /** A virtual thread blocked in receiveFd parks, and takes the descriptor sent. */
    static String receiveFd() throws Exception {
        ThreadFactory f = vt();
        try (StreamPipe p = StreamPipe.open(); StreamPipe passed = StreamPipe.open()) {
            AtomicReference<Object> got = new AtomicReference<>();
            Thread r = f.newThread(() -> {
                try (StreamFd fd = p.second().receiveFd().fd()) {
                    got.set(fd.isOpen());
                } catch (Throwable e) {
                    got.set(e);
                }
            });
            r.start();
            awaitParked(List.of(r), "in receiveFd");
            p.first().sendFd(passed.first());
            r.join(GUARD.toMillis());
            if (!Boolean.TRUE.equals(got.get())) {
                throw new AssertionError("receiveFd gave " + got.get());
            }
            // A parked read that a descriptor meets: EBADMSG, and the descriptor is kept for receiveFd.
            AtomicReference<Object> read = new AtomicReference<>();
            AtomicReference<Object> after = new AtomicReference<>();
            Thread r2 = f.newThread(() -> {
                try {
                    p.second().read(new byte[4], 0, 4);
                    read.set("no failure");
                } catch (Throwable e) {
                    read.set(e);
                }
                try (StreamFd fd = p.second().receiveFd().fd()) {
                    after.set(fd.isOpen());
                } catch (Throwable e) {
                    after.set(e);
                }
            });
            r2.start();
            awaitParked(List.of(r2), "in read");
            p.first().sendFd(passed.first());
            r2.join(GUARD.toMillis());
            if (!(read.get() instanceof org.streams4j.StreamsException)
                || !"EBADMSG".equals(((org.streams4j.StreamsException) read.get()).errnoName())
                || !Boolean.TRUE.equals(after.get())) {
                throw new AssertionError("a read that met a descriptor gave " + read.get() + ", then " + after.get());
            }
            return "receiveFd parked and took the descriptor; a parked read met one, EBADMSG, and it was kept";
        }
    }
}
