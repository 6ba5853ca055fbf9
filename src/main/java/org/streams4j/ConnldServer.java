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
    private final AtomicBoolean closed = new AtomicBoolean();
    /** The accept, one at a time or in a loop. */
    private final Acceptor acceptor;
    private final Thread hook;
    /** The serve calls under way, the server's threads, the wait for the end. */
    private final Lifecycle life;

    private ConnldServer(Path path, ConnldOptions options, Transport.Endpoint endpoint) {
        this.path = path;
        this.name = path.toString();
        this.options = options;
        this.endpoint = endpoint;
        this.acceptor = new Acceptor(name, options, endpoint, closed, this::close);
        this.life = new Lifecycle(name, options, closed);
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
        return acceptor.accept(null).orElseThrow();
    }

    /**
     * Like {@link #accept()}, giving up after {@code timeout} with an empty result.
     *
     * @param timeout how long to wait
     * @return the client's connection, or empty when none came in time
     * @throws StreamsException {@link StreamClosedException} when the server is closed meanwhile
     */
    public Optional<Connection> accept(Duration timeout) throws StreamsException {
        return acceptor.accept(timeout);
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
     * credentials; a client that left is a DEBUG line.
     *
     * <p>After {@link #close()} it closes every connection still being
     * handled (a handler blocked in a read or write gets
     * {@link StreamClosedException}) and returns once every handler has
     * returned, as {@link #serveEvents} returns once its loops have closed
     * theirs. {@link #start(Handler)} runs it on a thread of its own.
     *
     * @param handler what serves each connection
     * @throws StreamsException when accepting fails for good
     */
    public void serve(Handler handler) throws StreamsException {
        life.begin();
        try {
            servePool(handler);
        } finally {
            life.end();
        }
    }

    private void servePool(Handler handler) throws StreamsException {
        int threads = options.threads();
        Semaphore slots = new Semaphore(threads);
        AtomicInteger seq = new AtomicInteger();
        ExecutorService pool = new ThreadPoolExecutor(threads, threads, 30, TimeUnit.SECONDS,
            new LinkedBlockingQueue<>(), r -> life.newThread(r, "streams4j-conn-" + seq.incrementAndGet()));
        ((ThreadPoolExecutor) pool).allowCoreThreadTimeOut(true);
        // The connections being handled, closed when the server stops so that every handler ends.
        java.util.Set<Connection> live = java.util.concurrent.ConcurrentHashMap.newKeySet();
        WriteWatchdog watchdog = options.writeTimeout() == null ? null
            : new WriteWatchdog(name, options.writeTimeout());
        Shares shares = new Shares(options.maxConnectionsPerUid());
        try {
            life.acceptLoop(slots, acceptor, shares, c -> pool.execute(() -> {
                live.add(c);
                if (closed.get()) {
                    c.close();      // stopped meanwhile: the sweep below may have missed it
                }
                if (watchdog != null) {
                    watchdog.add(c);
                }
                try {
                    handler.handle(c);
                } catch (Throwable t) {
                    // Any failure, an Error too: this connection ends, the pool thread and
                    // the accept loop go on.
                    HandlerLog.failed(name, "handle", c, t);
                } finally {
                    if (watchdog != null) {
                        watchdog.remove(c);
                    }
                    c.close();      // after the log line, which may still ask for the client's credentials
                    live.remove(c);
                    shares.give(c);
                    slots.release();
                }
            }));
        } finally {
            // Every handler ends: a read or write it is blocked in fails with
            // StreamClosedException once its connection is closed.
            pool.shutdown();
            for (Connection c : live) {
                c.close();
            }
            awaitQuietly(pool);
            if (watchdog != null) {
                watchdog.stop();
            }
        }
    }

    /** Waits for the handlers to return; an interrupt stops the wait and stays set. */
    private static void awaitQuietly(ExecutorService pool) {
        try {
            while (!pool.awaitTermination(1, TimeUnit.MINUTES)) {
                LOG.log(Level.DEBUG, "serve: waiting for handlers that do not return after their connection closed");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Runs {@link #serve(Handler)} on a thread of its own (the options'
     * {@link ConnldOptions#threadFactory()}, or a daemon thread) and returns
     * at once. {@link #close()} stops it; {@link #awaitTermination(Duration)}
     * waits for its end. When accepting fails for good, the failure is logged
     * at ERROR and the server closed.
     *
     * @param handler what serves each connection
     * @return this server
     * @throws StreamClosedException when the server is closed already
     */
    public ConnldServer start(Handler handler) throws StreamsException {
        life.start("serve", () -> servePool(handler), this::close);
        return this;
    }

    /**
     * Runs {@link #serveEvents(EventHandler)} on a thread of its own and
     * returns at once; as {@link #start(Handler)}.
     *
     * @param handler what the loops call for each connection
     * @return this server
     * @throws StreamClosedException when the server is closed already
     */
    public ConnldServer startEvents(EventHandler handler) throws StreamsException {
        life.start("serveEvents", () -> serveLoops(handler), this::close);
        return this;
    }

    /**
     * Waits until the server is closed and every {@link #serve},
     * {@link #serveEvents}, {@link #start} and {@link #startEvents} on it has
     * ended: handlers returned, connections closed, loops stopped.
     *
     * @param timeout how long to wait at most
     * @return true when it has ended, false when the time ran out first
     * @throws InterruptedException when interrupted while waiting
     */
    public boolean awaitTermination(Duration timeout) throws InterruptedException {
        return life.awaitTermination(timeout);
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
         * Its place among {@link ConnldOptions#maxConnections()} (and its uid's
         * share) is free again by then.
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
        life.begin();
        try {
            serveLoops(handler);
        } finally {
            life.end();
        }
    }

    private void serveLoops(EventHandler handler) throws StreamsException {
        int n = options.loops();
        Semaphore slots = new Semaphore(options.maxConnections());
        EventLoop[] loops = new EventLoop[n];
        Thread[] threads = new Thread[n];
        Shares shares = new Shares(options.maxConnectionsPerUid());
        try {
            for (int i = 0; i < n; i++) {
                loops[i] = new EventLoop(name, handler, c -> {
                    shares.give(c);
                    slots.release();
                }, this::close, options.idleTimeout(), options.writeTimeout());
                threads[i] = life.newThread(loops[i], "streams4j-loop-" + (i + 1) + " " + name);
                threads[i].start();
            }
            life.acceptLoop(slots, acceptor, shares, c -> {
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
        life.closed();
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
