package org.streams4j;

import java.io.Closeable;
import java.lang.System.Logger.Level;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.streams4j.internal.Shim;

/**
 * A server that owns a path and gets one private connection per client.
 *
 * <p>STREAMS (illumos, Solaris), as connld(4M) wants it: {@code pipe},
 * {@code I_PUSH "connld"} on one end, {@code fattach} that end to the path,
 * and {@code poll} + {@code I_RECVFD} on the other end for each client, whose
 * credentials come from {@code getpeerucred}. Portable: an AF_UNIX socket
 * listening at the path, {@code accept}, and SO_PEERCRED/getpeereid.
 *
 * <p>A busy path is probed: a server that answers, or does not answer within
 * {@link ConnldOptions#probeTimeout()}, is live and is never displaced; a dead
 * one is replaced when {@link ConnldOptions#replaceStale()} allows it. A
 * symbolic link at the path is refused.
 */
public final class ConnldServer implements Closeable {
    private static final System.Logger LOG = System.getLogger("org.streams4j.connld");
    private static final Duration POLL_SLICE = Duration.ofSeconds(1);

    static {
        // The accept loop logs when descriptors run out (EMFILE). java.util.logging's
        // formatter then wants the time-zone rules, whose first use opens a file: loaded
        // here, while a descriptor is still to be had, or that log line throws an
        // Error that ends the accept loop it reports on.
        java.time.ZonedDateTime.now(java.time.ZoneId.systemDefault());
    }

    private final Path path;
    private final String name;
    private final ConnldOptions options;
    /** The backend's side of the bound path: accepting descriptor, identity, clean-up. */
    private final Transport.Endpoint endpoint;
    private final StreamFd acceptFd;
    private final AtomicBoolean closed = new AtomicBoolean();
    /** Linux: accept(2) blocks on the listening socket (see acceptWithin). */
    private final boolean blockingAccept;
    private final java.util.concurrent.locks.ReentrantLock acceptLock = new java.util.concurrent.locks.ReentrantLock();
    /** A hint for the accepting thread: the last accept found a client without waiting. */
    private volatile boolean clientsWaiting = true;
    /** Counts accept calls made while clientsWaiting is false (a hint too; races do no harm). */
    private int acceptCalls;
    private final Thread hook;

    private ConnldServer(Path path, ConnldOptions options, Transport.Endpoint endpoint) {
        this.path = path;
        this.name = path.toString();
        this.options = options;
        this.endpoint = endpoint;
        this.acceptFd = endpoint.acceptFd();
        this.blockingAccept = endpoint.blockingAccept();
        if (options.shutdownHook()) {
            hook = new Thread(this::close, "streams4j-shutdown " + name);
            Runtime.getRuntime().addShutdownHook(hook);
        } else {
            hook = null;
        }
    }

    /**
     * Binds the path with the default options ({@link ConnldOptions#defaults()}).
     *
     * @param path where clients connect
     * @return the bound server
     * @throws StreamsException e.g. {@code bind /run/x: EBUSY} when a live server is there
     */
    public static ConnldServer bind(Path path) throws StreamsException {
        return bind(path, ConnldOptions.defaults());
    }

    /**
     * Binds the path; see the class comment for what happens when it is busy.
     * The mode is set without a race: on a descriptor (STREAMS) or inside a
     * directory only this process can write (portable), never by a name that
     * someone else could swap meanwhile.
     *
     * @param path where clients connect
     * @param options mode, allow lists, threads...
     * @return the bound server
     * @throws StreamsException e.g. {@code bind /run/x: EBUSY} when a live server is there
     */
    public static ConnldServer bind(Path path, ConnldOptions options) throws StreamsException {
        Platform.ensureAvailability();
        ConnldServer s = new ConnldServer(path, options, Transport.get().bind(path.toString(), options));
        LOG.log(Level.DEBUG, "serving {0} ({1}, mode {2})", path, Platform.backend(),
            Integer.toOctalString(options.mode()));
        return s;
    }

    // ---- accepting --------------------------------------------------------------

    /**
     * Where clients connect.
     *
     * @return the path the server was bound to
     */
    public Path path() {
        return path;
    }

    /**
     * The options the server was bound with.
     *
     * @return its options
     */
    public ConnldOptions options() {
        return options;
    }

    /**
     * Whether the server still accepts clients.
     *
     * @return false once closed
     */
    public boolean isOpen() {
        return !closed.get();
    }

    /**
     * Waits for the next allowed client. Refused clients are closed and logged, not returned.
     *
     * @return the client's connection
     * @throws StreamsException {@link StreamClosedException} when the server is closed meanwhile
     */
    public Connection accept() throws StreamsException {
        return acceptWithin(null).orElseThrow();
    }

    /**
     * Like {@link #accept()}, giving up after {@code timeout} with an empty result.
     *
     * @param timeout how long to wait
     * @return the client's connection, or empty when none came in time
     * @throws StreamsException {@link StreamClosedException} when the server is closed meanwhile
     */
    public Optional<Connection> accept(Duration timeout) throws StreamsException {
        return acceptWithin(timeout);
    }

    private Optional<Connection> acceptWithin(Duration timeout) throws StreamsException {
        if (!blockingAccept) {
            // While clients queue up, take the next one straight away (the end
            // is non-blocking); when the last try found none, poll first and
            // spare the accept that would say EAGAIN, trying straight away
            // again now and then to notice a queue.
            return acceptPolling(timeout, clientsWaiting || (++acceptCalls & 7) == 0);
        }
        // Linux: the listening socket is blocking. accept() without a time-out
        // sleeps in accept(2) itself (a wake-up straight into accept is cheaper
        // than poll and then accept: about 15 % more connections per second);
        // close() wakes it through shutdown(2). With a time-out, poll first,
        // then accept. One thread accepts at a time, so that a client poll
        // announced is still there for the accept that follows.
        if (timeout == null) {
            acceptLock.lock();
            try {
                while (true) {
                    if (closed.get()) {
                        throw new StreamClosedException("accept", name);
                    }
                    Connection c = acceptOne();
                    if (c != null) {
                        return Optional.of(c);
                    }
                }
            } finally {
                acceptLock.unlock();
            }
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        try {
            if (!acceptLock.tryLock(Math.max(0, timeout.toNanos()), TimeUnit.NANOSECONDS)) {
                return Optional.empty();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
        try {
            return acceptPolling(Duration.ofNanos(deadline - System.nanoTime()), false);
        } finally {
            acceptLock.unlock();
        }
    }

    /**
     * Polls the accepting end, and accepts once it is readable (or straight
     * away first when {@code tryFirst}, which only a non-blocking end allows).
     * Waits in slices of at most a second: close() wakes a poller by itself,
     * and the slice is a bound should a platform not do so. When the time is
     * up a client that is there already is still taken.
     */
    private Optional<Connection> acceptPolling(Duration timeout, boolean tryFirst) throws StreamsException {
        long deadline = timeout == null ? 0 : System.nanoTime() + timeout.toNanos();
        boolean polled = false;
        boolean waited = false;
        while (true) {
            if (closed.get()) {
                throw new StreamClosedException("accept", name);
            }
            if (polled || tryFirst) {
                Connection ready = acceptOne();
                if (ready != null) {
                    clientsWaiting = !polled;
                    return Optional.of(ready);
                }
                clientsWaiting = false;
            }
            tryFirst = false;
            Duration left = POLL_SLICE;
            if (timeout != null) {
                long ns = deadline - System.nanoTime();
                if (ns <= 0 && waited) {
                    return Optional.empty();
                }
                left = Duration.ofNanos(Math.max(0, Math.min(ns, POLL_SLICE.toNanos())));
            }
            waited = true;
            try {
                polled = acceptFd.poll(Shim.POLLIN, left) != 0;
            } catch (StreamClosedException e) {
                throw new StreamClosedException("accept", name);
            }
        }
    }

    /** One I_RECVFD / accept; null when nothing was there after all or the client was refused. */
    private Connection acceptOne() throws StreamsException {
        Transport.Accepted got;
        try {
            got = endpoint.accept(options.restrictsPeers() || LOG.isLoggable(Level.DEBUG));
        } catch (StreamClosedException e) {
            throw new StreamClosedException("accept", name);
        } catch (StreamsException e) {
            if (!acceptFd.isOpen()) {
                throw new StreamClosedException("accept", name);
            }
            throw new StreamsException("accept", name, e.errno());
        }
        if (got == null) {
            return null;
        }
        PeerCredentials peer = got.peer();
        if (options.restrictsPeers() && !options.allows(peer)) {
            got.fd().close();
            LOG.log(Level.WARNING, "refused a client of {0}: {1} is not allowed", name, peer);
            return null;
        }
        LOG.log(Level.DEBUG, "connection on {0} from {1}", name, peer);
        return new Connection(got.fd(), peer, got.known(), true);
    }

    // ---- serving ----------------------------------------------------------------

    /** Handles one connection; the server closes the connection when this returns. */
    @FunctionalInterface
    public interface Handler {
        /**
         * Serves one client.
         *
         * @param connection the client's connection
         * @throws Exception anything: logged, and the connection is closed
         */
        void handle(Connection connection) throws Exception;
    }

    /**
     * Runs the accept loop on this thread until {@link #close()}, handing each
     * connection to {@code handler} on a pool of {@link ConnldOptions#threads()}
     * threads. A slow client holds only its own thread. The loop survives
     * EMFILE/ENFILE (backs off, logs once per burst), EINTR and clients that
     * vanish. A handler that throws anything, an {@link Error} too, closes its
     * own connection only; the failure is logged at WARNING with the client's
     * credentials.
     *
     * @param handler what serves each connection
     * @throws StreamsException when accepting fails for good
     */
    public void serve(Handler handler) throws StreamsException {
        int threads = options.threads();
        Semaphore slots = new Semaphore(threads);
        AtomicInteger seq = new AtomicInteger();
        ExecutorService pool = new ThreadPoolExecutor(threads, threads, 30, TimeUnit.SECONDS,
            new LinkedBlockingQueue<>(), r -> {
                Thread t = new Thread(r, "streams4j-conn-" + seq.incrementAndGet());
                t.setDaemon(true);
                return t;
            });
        ((ThreadPoolExecutor) pool).allowCoreThreadTimeOut(true);
        WriteWatchdog watchdog = options.writeTimeout() == null ? null
            : new WriteWatchdog(name, options.writeTimeout());
        try {
            acceptLoop(slots, c -> pool.execute(() -> {
                if (watchdog != null) {
                    watchdog.add(c);
                }
                try {
                    handler.handle(c);
                } catch (StreamClosedException e) {
                    // closed under the handler by another thread, e.g. an application stopping
                    LOG.log(Level.DEBUG, "{0}: {1}", name, e.getMessage());
                } catch (Throwable t) {
                    // Any failure, an Error too: this connection ends, the pool thread and
                    // the accept loop go on.
                    LOG.log(Level.WARNING, name + ": the handler failed for the client " + c.peer()
                        + ", closing its connection: " + t, t);
                } finally {
                    if (watchdog != null) {
                        watchdog.remove(c);
                    }
                    c.close();      // after the log line, which may still ask for the client's credentials
                    slots.release();
                }
            }));
        } finally {
            pool.shutdown();
            if (watchdog != null) {
                watchdog.stop();
            }
        }
    }

    /**
     * {@link ConnldOptions#writeTimeout()} for {@link #serve}: a thread that
     * looks at the connections being handled a few times per time-out and
     * closes any whose write call has been blocked in the kernel that long.
     * The close wakes the blocked write (StreamFd.close), which fails, so the
     * handler's thread is free again.
     */
    private static final class WriteWatchdog implements Runnable {
        private final String name;
        private final long timeoutNanos;
        private final java.util.Set<Connection> handled = java.util.concurrent.ConcurrentHashMap.newKeySet();
        private final Thread thread;

        WriteWatchdog(String name, Duration timeout) {
            this.name = name;
            this.timeoutNanos = timeout.toNanos();
            this.thread = new Thread(this, "streams4j-write-timeout " + name);
            thread.setDaemon(true);
            thread.start();
        }

        void add(Connection c) {
            handled.add(c);
        }

        void remove(Connection c) {
            handled.remove(c);
        }

        void stop() {
            thread.interrupt();
        }

        @Override
        public void run() {
            long sliceMs = Math.max(10, Math.min(1000, timeoutNanos / 4 / 1_000_000));
            while (!Thread.currentThread().isInterrupted()) {
                try {
                    Thread.sleep(sliceMs);
                } catch (InterruptedException e) {
                    return;
                }
                long now = System.nanoTime();
                for (Connection c : handled) {
                    long since = c.fd().blockedWriteSince();
                    if (since != 0 && now - since >= timeoutNanos && c.isOpen()) {
                        LOG.log(Level.INFO, "{0}: closing the connection of {1}: a write made no progress for {2} ms",
                            name, c.peer(), (now - since) / 1_000_000);
                        c.close();
                    }
                }
            }
        }
    }

    /**
     * What {@link #serveEvents} calls, on the event-loop thread that holds the
     * connection. A loop serves many connections, so a handler must not block
     * for long: it reads what is there, answers, and returns.
     */
    public interface EventHandler {
        /**
         * A new connection (its {@link Connection#peer()} is known); may write a greeting or attach state.
         *
         * @param connection the new connection
         * @throws Exception anything: the connection is closed
         */
        default void opened(Connection connection) throws Exception {
        }

        /**
         * The connection is readable: data, a passed descriptor, or end of
         * stream (a read returns -1). One read will not block. Called again
         * while anything is left to read.
         *
         * @param connection the readable connection
         * @return false to close the connection
         * @throws Exception anything: the connection is closed
         */
        boolean readable(Connection connection) throws Exception;

        /**
         * What was queued for the connection has all been written (called
         * once each time a queue drains, never while nothing was queued): a
         * handler streaming a long answer writes its next part here, so that
         * what it holds queued stays small ({@link Connection#queued()}). Not
         * called after the connection was closed, even gracefully.
         *
         * @param connection the connection whose queue drained
         * @throws Exception anything: the connection is closed
         */
        default void writable(Connection connection) throws Exception {
        }

        /**
         * The connection has been closed: by the handler, the peer, or the server stopping.
         *
         * @param connection the closed connection
         */
        default void closed(Connection connection) {
        }
    }

    /**
     * Runs the accept loop on this thread until {@link #close()}, holding the
     * connections on {@link ConnldOptions#loops()} event-loop threads, each
     * waiting on all of its connections at once (epoll on Linux, event ports
     * on illumos and Solaris, else {@code poll(2)}): thousands of mostly idle
     * clients cost a few threads, not one each, and an event costs the same
     * however many are held. At most {@link ConnldOptions#maxConnections()}
     * are held at once; with {@link ConnldOptions#idleTimeout()} one that
     * sends nothing for that long is closed. When the server is closed the
     * loops close every connection and this method returns.
     *
     * <p>Connections held by a loop are non-blocking: a read with nothing
     * there returns 0 (an {@link Connection#inputStream()} refuses to read:
     * see {@link Frames} for whole lines), and a write the connection cannot
     * take whole is queued and written by the loop when there is room (the
     * connection is not read until then), so a client that reads slowly holds
     * up only itself. Once anything is queued every write goes behind it, of
     * whatever kind: bytes, buffers, a gathering write, a descriptor passed
     * (never waited for on the loop), the end of output. A handler returning
     * false, or {@link Connection#close()}, closes gracefully: after what is
     * queued has been written (bounded by {@link ConnldOptions#writeTimeout()}
     * and {@link ConnldOptions#idleTimeout()}); {@link Connection#abort()}
     * closes at once. What is still queued when the server closes, or a
     * time-out closes the connection, is dropped.
     * {@link EventHandler#writable} tells when a queue has drained. A handler
     * that throws anything closes its connection only, at once (logged at
     * WARNING with the peer).
     *
     * @param handler what the loops call for each connection
     * @throws StreamsException when accepting fails for good
     */
    public void serveEvents(EventHandler handler) throws StreamsException {
        int n = options.loops();
        Semaphore slots = new Semaphore(options.maxConnections());
        EventLoop[] loops = new EventLoop[n];
        Thread[] threads = new Thread[n];
        try {
            for (int i = 0; i < n; i++) {
                loops[i] = new EventLoop(name, handler, slots::release, options.idleTimeout());
                loops[i].writeTimeout(options.writeTimeout());
                threads[i] = new Thread(loops[i], "streams4j-loop-" + (i + 1) + " " + name);
                threads[i].setDaemon(true);
                threads[i].start();
            }
            acceptLoop(slots, c -> {
                EventLoop least = loops[0];
                for (EventLoop l : loops) {
                    if (!l.hasEnded() && (least.hasEnded() || l.size() < least.size())) {
                        least = l;
                    }
                }
                least.submit(c);
            });
        } finally {
            for (EventLoop l : loops) {
                if (l != null) {
                    l.stop();
                }
            }
            for (Thread t : threads) {
                if (t != null) {
                    joinQuietly(t);
                }
            }
        }
    }

    private static void joinQuietly(Thread t) {
        boolean interrupted = false;
        while (t.isAlive()) {
            try {
                t.join();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Accepts until {@link #close()}: takes a slot, accepts, hands the
     * connection on (which must release the slot when the connection ends).
     * Survives EMFILE/ENFILE (backs off, logs once per burst), EINTR and
     * clients that vanish.
     */
    private void acceptLoop(Semaphore slots, java.util.function.Consumer<Connection> dispatch)
        throws StreamsException {
        long backoffMs = 0;
        while (!closed.get()) {
            try {
                slots.acquire();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            Connection c;
            try {
                c = accept();
                backoffMs = 0;
            } catch (StreamClosedException e) {
                slots.release();
                return;
            } catch (StreamsException e) {
                slots.release();
                if (closed.get()) {
                    return;
                }
                if (e.errno() == Errno.EMFILE || e.errno() == Errno.ENFILE) {
                    long t = System.nanoTime();
                    if (backoffMs == 0) {
                        // Said once per shortage: clients served between EMFILEs do not
                        // make it a new one until a minute has passed without any.
                        boolean again = outOfFdsAt != 0 && t - outOfFdsAt < OUT_OF_FDS_QUIET;
                        LOG.log(again ? Level.DEBUG : Level.WARNING, "{0}: out of descriptors ({1}); backing off",
                            name, e.errnoName());
                    }
                    outOfFdsAt = t;
                    backoffMs = Math.min(1000, Math.max(10, backoffMs * 2));
                    StreamFd.sleepQuietly(backoffMs);
                    continue;
                }
                throw e;
            }
            try {
                dispatch.accept(c);
            } catch (RuntimeException e) {
                c.close();
                slots.release();
                throw e;
            }
        }
    }

    /** When accepting last met EMFILE/ENFILE (System.nanoTime(); 0: never); accept loop only. */
    private long outOfFdsAt;
    private static final long OUT_OF_FDS_QUIET = TimeUnit.MINUTES.toNanos(1);

    /**
     * Stops accepting and removes the attach point or socket this server put
     * at the path, if it still is its own (same device and inode). On STREAMS
     * closing the server's ends detaches exactly this server's attachment
     * (fifo_close, nm_unmountall): never another's. Idempotent.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        endpoint.close();
        if (hook != null && Thread.currentThread() != hook) {
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException e) {
                // the JVM is shutting down already
            }
        }
        LOG.log(Level.DEBUG, "closed {0}", name);
    }

    @Override
    public String toString() {
        return "ConnldServer[" + name + ", " + Platform.backend() + (isOpen() ? "" : ", closed") + "]";
    }
}
