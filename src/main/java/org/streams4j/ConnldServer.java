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
import org.streams4j.internal.PortableShim;
import org.streams4j.internal.Shim;
import org.streams4j.internal.StreamsShim;

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
    private static final int OWNER_WRITE = 0200;

    private final Path path;
    private final String name;
    private final ConnldOptions options;
    private final StreamFd acceptFd;
    /** STREAMS: the attached end with connld on it; null on the portable backend. */
    private final StreamFd attachedFd;
    private final boolean createdPath;
    /** Portable: the (device, inode) of the socket this server bound, so that close() removes only that one. */
    private final Object socketKey;
    private final AtomicBoolean closed = new AtomicBoolean();
    /** Linux: accept(2) blocks on the listening socket (see acceptBlocking). */
    private final boolean blockingAccept;
    private final java.util.concurrent.locks.ReentrantLock acceptLock = new java.util.concurrent.locks.ReentrantLock();
    /** A hint for the accepting thread: the last accept found a client without waiting. */
    private volatile boolean clientsWaiting = true;
    /** Counts accept calls made while clientsWaiting is false (a hint too; races do no harm). */
    private int acceptCalls;
    private final Thread hook;

    private ConnldServer(Path path, ConnldOptions options, StreamFd acceptFd, StreamFd attachedFd,
                         boolean createdPath, Object socketKey) {
        this.path = path;
        this.name = path.toString();
        this.options = options;
        this.acceptFd = acceptFd;
        this.attachedFd = attachedFd;
        this.createdPath = createdPath;
        this.socketKey = socketKey;
        this.blockingAccept = attachedFd == null && Platform.closeWakesAccept();
        if (options.shutdownHook()) {
            hook = new Thread(this::close, "streams4j-shutdown " + name);
            Runtime.getRuntime().addShutdownHook(hook);
        } else {
            hook = null;
        }
    }

    public static ConnldServer bind(Path path) throws StreamsException {
        return bind(path, ConnldOptions.defaults());
    }

    /** Binds the path; see the class comment for what happens when it is busy. */
    public static ConnldServer bind(Path path, ConnldOptions options) throws StreamsException {
        String p = path.toString();
        int type = Shim.s4j_path_type(p);
        if (type == Shim.FT_SYMLINK) {
            throw new StreamsException("bind", p, Errno.ELOOP,
                "a symbolic link is there; refusing to follow it");
        }
        if (type < 0 && type != -Errno.ENOENT) {
            throw new StreamsException("bind", p, -type);
        }
        ConnldServer s = Platform.backend() == Backend.STREAMS
            ? bindStreams(path, options, type >= 0)
            : bindPortable(path, options, type);
        LOG.log(Level.DEBUG, "serving {0} ({1}, mode {2})", p, Platform.backend(),
            Integer.toOctalString(options.mode()));
        return s;
    }

    // ---- STREAMS --------------------------------------------------------------

    private static ConnldServer bindStreams(Path path, ConnldOptions options, boolean exists)
        throws StreamsException {
        String p = path.toString();
        boolean created = false;
        if (!exists) {
            int fd = Shim.s4j_open(p, Shim.O_WRITE | Shim.O_CREAT_EXCL | Shim.O_NOFOLLOW, options.mode());
            if (fd < 0) {
                throw new StreamsException("bind", p, -fd);
            }
            Shim.s4j_close(fd);
            created = true;
            // fattach(3C) wants the owner to have write permission on the path
            // (namefs nm_mount: EACCES otherwise), so a mode without it is set on
            // the attach point once attached. Exactly the mode, whatever the umask.
            int r = Shim.s4j_chmod(p, options.mode() | OWNER_WRITE);
            if (r < 0) {
                removeQuietly(p);
                throw new StreamsException("chmod", p, -r);
            }
        }
        StreamPipe pipe = null;
        try {
            pipe = StreamPipe.open();
            StreamFd receive = pipe.first();
            StreamFd attach = pipe.second();
            attach.push("connld");
            int r = attach.withFd("fattach", n -> StreamsShim.s4j_fattach(n, p));
            if (r == -Errno.EBUSY) {
                if (!staleAndReplaceable(p, options)) {
                    throw live(p);
                }
                int d = StreamsShim.s4j_fdetach(p);
                if (d < 0 && d != -Errno.EINVAL) {
                    throw new StreamsException("fdetach", p, -d);
                }
                LOG.log(Level.INFO, "replaced the stale attachment at {0}", p);
                r = attach.withFd("fattach", n -> StreamsShim.s4j_fattach(n, p));
                if (r == -Errno.EBUSY) {
                    throw live(p);
                }
            }
            if (r < 0) {
                throw new StreamsException("fattach", p, -r);
            }
            if (created && (options.mode() & OWNER_WRITE) == 0) {
                // chmod of an attached path sets the mode of the namefs node
                // (nm_setattr), which is what decides who may open it.
                int c = Shim.s4j_chmod(p, options.mode());
                if (c < 0) {
                    StreamsShim.s4j_fdetach(p);
                    throw new StreamsException("chmod", p, -c);
                }
            }
            setNonBlocking(receive);
            return new ConnldServer(path, options, receive, attach, created, null);
        } catch (StreamsException | RuntimeException e) {
            if (pipe != null) {
                pipe.close();
            }
            if (created) {
                removeQuietly(p);
            }
            throw e;
        }
    }

    /**
     * The path is busy: probe it. ENXIO means the server's end is gone (stale);
     * an answer, or no answer in time, means a live server.
     */
    private static boolean staleAndReplaceable(String p, ConnldOptions options) throws StreamsException {
        try {
            int fd = ConnldClient.openWithin(p, options.probeTimeout(), "probe");
            Shim.s4j_close(fd);
            return false;
        } catch (StreamsException e) {
            if (e.errno() == Errno.ETIMEDOUT) {
                return false;
            }
            if (e.errno() == Errno.ENXIO || e.errno() == Errno.ECONNREFUSED) {
                if (!options.replaceStale()) {
                    throw new StreamsException("bind", p, e.errno(),
                        "a dead server's attachment is there and replacing it is not allowed");
                }
                return true;
            }
            throw e;
        }
    }

    private static StreamsException live(String p) {
        return new StreamsException("bind", p, Errno.EBUSY, p + " is served by another process");
    }

    // ---- portable -------------------------------------------------------------

    private static ConnldServer bindPortable(Path path, ConnldOptions options, int type)
        throws StreamsException {
        String p = path.toString();
        if (type >= 0 && type != Shim.FT_SOCKET) {
            throw new StreamsException("bind", p, Errno.EEXIST,
                "a file that is not a socket is there; not replacing it");
        }
        if (type == Shim.FT_SOCKET) {
            if (!staleAndReplaceable(p, options)) {
                throw live(p);
            }
            removeQuietly(p);
            LOG.log(Level.INFO, "replaced the stale socket at {0}", p);
        }
        int fd = PortableShim.s4j_unix_bind(p);
        if (fd == -Errno.EADDRINUSE) {
            throw live(p);      // someone bound it between our look and our bind
        }
        if (fd < 0) {
            throw new StreamsException("bind", p, -fd);
        }
        StreamFd listen = StreamFd.adopt(fd);
        Object key = fileKey(p);
        try {
            // The mode is set before listen(2): nobody can connect before it holds.
            int r = Shim.s4j_path_type(p) == Shim.FT_SOCKET ? Shim.s4j_chmod(p, options.mode()) : -Errno.ELOOP;
            if (r < 0) {
                throw new StreamsException("chmod", p, -r);
            }
            r = listen.withFd("listen", n -> PortableShim.s4j_unix_listen(n, options.backlog()));
            if (r < 0) {
                throw new StreamsException("listen", p, -r);
            }
            if (!Platform.closeWakesAccept()) {
                setNonBlocking(listen);
            }
            return new ConnldServer(path, options, listen, null, true, key);
        } catch (StreamsException | RuntimeException e) {
            listen.close();
            removeQuietly(p);
            throw e;
        }
    }

    private static void setNonBlocking(StreamFd fd) throws StreamsException {
        int r = fd.withFd("fcntl", n -> Shim.s4j_set_nonblocking(n, 1));
        if (r < 0) {
            throw new StreamsException("fcntl", fd.name(), -r);
        }
    }

    /** The file's identity (device and inode), not following a link; null when it cannot be had. */
    private static Object fileKey(String p) {
        try {
            return java.nio.file.Files.readAttributes(Path.of(p), java.nio.file.attribute.BasicFileAttributes.class,
                java.nio.file.LinkOption.NOFOLLOW_LINKS).fileKey();
        } catch (java.io.IOException | RuntimeException e) {
            return null;
        }
    }

    private static void removeQuietly(String p) {
        try {
            java.nio.file.Files.deleteIfExists(Path.of(p));
        } catch (java.io.IOException | RuntimeException e) {
            LOG.log(Level.DEBUG, "could not remove {0}: {1}", p, e.toString());
        }
    }

    // ---- accepting --------------------------------------------------------------

    public Path path() {
        return path;
    }

    public ConnldOptions options() {
        return options;
    }

    public boolean isOpen() {
        return !closed.get();
    }

    /** Waits for the next allowed client. Refused clients are closed and logged, not returned. */
    public Connection accept() throws StreamsException {
        return acceptWithin(null).orElseThrow();
    }

    /** Like {@link #accept()}, giving up after {@code timeout} with an empty result. */
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
        int fd;
        PeerCredentials peer;
        if (attachedFd != null) {
            ReceivedFd got;
            try {
                got = acceptFd.receiveFd();
            } catch (StreamClosedException e) {
                throw new StreamClosedException("accept", name);
            } catch (StreamsException e) {
                if (e.errno() == Errno.EAGAIN || e.errno() == Errno.EINTR) {
                    return null;
                }
                if (e.errno() == Errno.EBADMSG) {
                    drainData();
                    return null;
                }
                throw new StreamsException("accept", name, e.errno());
            }
            StreamFd s = got.fd();
            peer = credentials(s, got.uid(), got.gid());
            return admit(s, peer);
        }
        fd = acceptFd.withFd("accept", PortableShim::s4j_unix_accept);
        if (fd == -Errno.EAGAIN || fd == -Errno.EINTR || fd == -Errno.ECONNABORTED) {
            return null;
        }
        if (fd < 0) {
            if (!acceptFd.isOpen()) {
                throw new StreamClosedException("accept", name);
            }
            throw new StreamsException("accept", name, -fd);
        }
        StreamFd s = StreamFd.adopt(fd);
        if (!options.restrictsPeers() && !LOG.isLoggable(Level.DEBUG)) {
            // SO_PEERCRED/getpeereid keep what connect(2) recorded: asked for
            // only when the application calls peer().
            return new Connection(s, null, true);
        }
        peer = credentials(s, -1, -1);
        return admit(s, peer);
    }

    private Connection admit(StreamFd s, PeerCredentials peer) {
        if (!options.allows(peer)) {
            s.close();
            LOG.log(Level.WARNING, "refused a client of {0}: {1} is not allowed", name, peer);
            return null;
        }
        LOG.log(Level.DEBUG, "connection on {0} from {1}", name, peer);
        return new Connection(s, peer, true);
    }

    /** getpeerucred on the new pipe; the I_RECVFD ids when it says nothing. */
    private static PeerCredentials credentials(StreamFd s, int uid, int gid) {
        try {
            return s.peerCredentials();
        } catch (StreamsException e) {
            return new PeerCredentials(uid, gid, -1, -1);
        }
    }

    /** Someone wrote data into the server's own pipe: drop it so that descriptors flow again. */
    private void drainData() {
        byte[] junk = new byte[4096];
        try {
            int n = acceptFd.read(junk, 0, junk.length);
            LOG.log(Level.WARNING, "dropped {0} bytes of data found on the connld pipe of {1}", n, name);
        } catch (StreamsException e) {
            LOG.log(Level.DEBUG, "draining {0}: {1}", name, e.getMessage());
        }
    }

    // ---- serving ----------------------------------------------------------------

    /** Handles one connection; the server closes the connection when this returns. */
    @FunctionalInterface
    public interface Handler {
        void handle(Connection connection) throws Exception;
    }

    /**
     * Runs the accept loop on this thread until {@link #close()}, handing each
     * connection to {@code handler} on a pool of {@link ConnldOptions#threads()}
     * threads. A slow client holds only its own thread. The loop survives
     * EMFILE/ENFILE (backs off, logs once per burst), EINTR and clients that
     * vanish.
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
        try {
            acceptLoop(slots, c -> pool.execute(() -> {
                try (c) {
                    handler.handle(c);
                } catch (StreamClosedException e) {
                    LOG.log(Level.DEBUG, "{0}: {1}", name, e.getMessage());
                } catch (Exception e) {
                    LOG.log(Level.DEBUG, "handler for " + c + " failed", e);
                } finally {
                    slots.release();
                }
            }));
        } finally {
            pool.shutdown();
        }
    }

    /**
     * What {@link #serveEvents} calls, on the event-loop thread that holds the
     * connection. A loop serves many connections, so a handler must not block
     * for long: it reads what is there, answers, and returns.
     */
    public interface EventHandler {
        /** A new connection (its {@link Connection#peer()} is known); may write a greeting or attach state. */
        default void opened(Connection connection) throws Exception {
        }

        /**
         * The connection is readable: data, a passed descriptor, or end of
         * stream (a read returns -1). One read will not block. Called again
         * while anything is left to read.
         *
         * @return false to close the connection
         */
        boolean readable(Connection connection) throws Exception;

        /** The connection has been closed: by the handler, the peer, or the server stopping. */
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
     * there returns 0, and a write the connection cannot take whole is queued
     * and written by the loop when there is room (the connection is not read
     * until then), so a client that reads slowly holds up only itself; what is
     * still queued when its connection closes (the server closing, the idle
     * time-out) is dropped. A handler that throws anything, or returns false,
     * closes its connection only (logged at WARNING with the peer when it
     * threw).
     */
    public void serveEvents(EventHandler handler) throws StreamsException {
        int n = options.loops();
        Semaphore slots = new Semaphore(options.maxConnections());
        EventLoop[] loops = new EventLoop[n];
        Thread[] threads = new Thread[n];
        try {
            for (int i = 0; i < n; i++) {
                loops[i] = new EventLoop(name, handler, slots::release, options.idleTimeout());
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
                    if (backoffMs == 0) {
                        LOG.log(Level.WARNING, "{0}: out of descriptors ({1}); backing off",
                            name, e.errnoName());
                    }
                    backoffMs = Math.min(1000, Math.max(10, backoffMs * 2));
                    sleep(backoffMs);
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

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Stops accepting, detaches (STREAMS), closes both ends and removes the
     * attach point or socket if this server created it. Idempotent.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        if (attachedFd != null) {
            int r = StreamsShim.s4j_fdetach(name);
            if (r < 0 && r != -Errno.EINVAL) {
                LOG.log(Level.WARNING, "fdetach {0}: {1}", name, Errno.name(-r));
            }
        }
        if (createdPath) {
            // Before closing, so that a new server never loses its path to our clean-up.
            // Portable: only the socket this server bound; one that replaced it is someone else's.
            if (attachedFd != null) {
                removeQuietly(name);
            } else if (socketKey != null ? socketKey.equals(fileKey(name))
                : Shim.s4j_path_type(name) == Shim.FT_SOCKET) {
                removeQuietly(name);
            }
        }
        acceptFd.close();
        if (attachedFd != null) {
            attachedFd.close();
        }
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
