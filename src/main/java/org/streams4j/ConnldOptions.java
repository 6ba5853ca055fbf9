package org.streams4j;

import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.util.Collection;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ThreadFactory;
import org.apache.commons.lang3.Validate;

/**
 * How a {@link ConnldServer} binds and whom it serves. Immutable; built with
 * {@link #builder()}. Defaults: mode 0600, stale attachments replaced, every
 * uid, gid and zone allowed, 64 handler threads, no shutdown hook, a one
 * second probe of a busy path; for {@link ConnldServer#serveEvents}, one event
 * loop per processor (at most 4) and at most 4096 connections at once.
 */
public final class ConnldOptions {
    private final int mode;
    private final boolean replaceStale;
    private final Set<Integer> allowedUids;
    private final Set<Integer> allowedGids;
    private final Set<Integer> allowedZones;
    private final int threads;
    private final boolean shutdownHook;
    private final Duration probeTimeout;
    private final int backlog;
    private final int loops;
    private final int maxConnections;

    private ConnldOptions(Builder b) {
        this.mode = b.mode;
        this.replaceStale = b.replaceStale;
        this.allowedUids = Set.copyOf(b.allowedUids);
        this.allowedGids = Set.copyOf(b.allowedGids);
        this.allowedZones = Set.copyOf(b.allowedZones);
        this.threads = b.threads;
        this.shutdownHook = b.shutdownHook;
        this.probeTimeout = b.probeTimeout;
        this.backlog = b.backlog;
        this.loops = b.loops;
        this.maxConnections = b.maxConnections;
        this.idleTimeout = b.idleTimeout;
        this.writeTimeout = b.writeTimeout;
        this.maxConnectionsPerUid = b.maxConnectionsPerUid;
        this.threadFactory = b.threadFactory;
        this.messages = b.messages;
    }

    /**
     * The defaults listed in the class comment.
     *
     * @return options with every default
     */
    public static ConnldOptions defaults() {
        return builder().build();
    }

    /**
     * A builder starting from the defaults.
     *
     * @return a new builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Permission bits of an attach point the server creates (STREAMS) or of its socket (portable).
     *
     * @return bits within 0777
     */
    public int mode() {
        return mode;
    }

    /**
     * Whether a dead server's attachment or socket at the path is replaced.
     *
     * @return true to replace it
     */
    public boolean replaceStale() {
        return replaceStale;
    }

    /**
     * Allowed client uids.
     *
     * @return the uids; empty means all
     */
    public Set<Integer> allowedUids() {
        return allowedUids;
    }

    /**
     * Allowed client groups: a client is admitted when its effective gid or
     * one of its supplementary groups is in the set.
     *
     * @return the gids; empty means all
     */
    public Set<Integer> allowedGids() {
        return allowedGids;
    }

    /**
     * Allowed client zone ids. A client whose zone is unknown passes only an empty list.
     *
     * @return the zone ids; empty means all
     */
    public Set<Integer> allowedZones() {
        return allowedZones;
    }

    /**
     * Connections {@link ConnldServer#serve} handles at once.
     *
     * @return the number of handler threads
     */
    public int threads() {
        return threads;
    }

    /**
     * Whether the server closes itself (detaching, removing its path) in a JVM shutdown hook.
     * False unless set: without the hook a JVM stopped by a signal leaves the path behind,
     * and the next bind of it finds it dead and replaces it.
     *
     * @return true when a hook is installed
     */
    public boolean shutdownHook() {
        return shutdownHook;
    }

    /**
     * How long a busy path's server is given to answer before it is taken as live.
     *
     * @return the probe's time-out
     */
    public Duration probeTimeout() {
        return probeTimeout;
    }

    /**
     * listen(2) backlog on the portable backend.
     *
     * @return the backlog
     */
    public int backlog() {
        return backlog;
    }

    /** Whether any allow list is set, so that a client's credentials must be known when it is accepted. */
    boolean restrictsPeers() {
        return !allowedUids.isEmpty() || !allowedGids.isEmpty() || !allowedZones.isEmpty();
    }

    /**
     * Event-loop threads of {@link ConnldServer#serveEvents}.
     *
     * @return the number of loops
     */
    public int loops() {
        return loops;
    }

    /**
     * Connections {@link ConnldServer#serveEvents} holds at once; beyond it the
     * server stops accepting until one closes (clients wait in the backlog).
     *
     * @return the most connections held at once
     */
    public int maxConnections() {
        return maxConnections;
    }

    /**
     * Whether a client with these credentials may connect: its uid is allowed,
     * its effective gid or one of its supplementary groups (where the platform
     * reports them, {@link PeerCredentials#groups()}) is allowed, and its zone
     * is allowed. An empty list allows everyone.
     *
     * @param p the client's credentials
     * @return true when every allow list admits the client
     */
    public boolean allows(PeerCredentials p) {
        if (!allowedUids.isEmpty() && !allowedUids.contains(p.uid())) {
            return false;
        }
        if (!allowedGids.isEmpty() && !allowedGids.contains(p.gid())
            && p.groups().stream().noneMatch(allowedGids::contains)) {
            return false;
        }
        return allowedZones.isEmpty()
            || p.zone().isPresent() && allowedZones.contains(p.zone().getAsInt());
    }

    // ---- idle time-out of serveEvents ----------------------------------------

    private final Duration idleTimeout;

    /**
     * How long {@link ConnldServer#serveEvents} keeps a connection that sends
     * nothing (no readable event), and takes none of what it has been sent
     * while that waits for room, before closing it; null (the default): for
     * ever. Checked by a sweep a few times per time-out (at most once a
     * second), so a connection goes between this and a quarter more.
     *
     * @return the idle time-out, or null for none
     */
    public Duration idleTimeout() {
        return idleTimeout;
    }

    // ---- write time-out of serve and serveEvents -------------------------------

    private final Duration writeTimeout;

    /**
     * How long a write to a client may make no progress before the server
     * closes that connection; null (the default): for ever. {@link
     * ConnldServer#serve}: a write call of a handler that stays blocked this
     * long (the client does not read) has its connection closed under it, so
     * the write fails and the handler's thread is free again.
     * {@link ConnldServer#serveEvents}: a connection whose queued writes stay
     * unwritten this long is closed. Both also close a connection whose client
     * leaves what it was written unread this long, where the kernel tells
     * (Linux SIOCOUTQ: its count must go down; not on STREAMS nor macOS/BSD),
     * whatever the client sends meanwhile. Checked a few times per time-out (at most
     * once a second), so a connection goes between this and a quarter more.
     *
     * @return the time-out, or null for none
     */
    public Duration writeTimeout() {
        return writeTimeout;
    }

    // ---- a uid's share of the connections ----------------------------------------

    private final int maxConnectionsPerUid;

    /**
     * The most connections one uid may hold at once ({@link ConnldServer#serve}
     * and {@link ConnldServer#serveEvents}); a client whose uid holds that many
     * already is refused (its connection closed at once, logged), so that one
     * user cannot take every slot of {@link #maxConnections()} or
     * {@link #threads()}. 0 (the default): no share, only the overall limit.
     *
     * @return the per-uid limit, or 0 for none
     */
    public int maxConnectionsPerUid() {
        return maxConnectionsPerUid;
    }

    // ---- the threads a server makes ------------------------------------------------

    private final ThreadFactory threadFactory;

    /**
     * What makes the server's threads: {@link ConnldServer#serve}'s handler
     * threads, {@link ConnldServer#serveEvents}'s event-loop threads, and the
     * thread {@link ConnldServer#start} or {@link ConnldServer#startEvents}
     * serves on. Empty (the default): daemon platform threads named
     * {@code streams4j-conn-N}, {@code streams4j-loop-N PATH} and
     * {@code streams4j-serve PATH}. The library's own housekeeping threads
     * (write time-out, closes) are its own either way.
     *
     * @return the factory given to the builder, if any
     */
    public Optional<ThreadFactory> threadFactory() {
        return Optional.ofNullable(threadFactory);
    }

    // ---- message boundaries ---------------------------------------------------------

    private final boolean messages;

    /**
     * Whether each connection keeps message boundaries on the portable
     * backend: the server's socket is AF_UNIX {@code SOCK_SEQPACKET}, so one
     * write is one message and one read or {@link StreamMessages#receive}
     * takes one message, as a STREAMS pipe does (unix(7)). A streams4j client
     * ({@link ConnldClient}) connects with the server's type by itself; another
     * program must ask for {@code SOCK_SEQPACKET} (socat
     * {@code UNIX-CONNECT:PATH,type=5}). On STREAMS every pipe carries
     * messages; with this each accepted pipe also leaves fifofs' fast mode
     * at accept, so that each {@code write(2)} the client makes from then
     * on is one message (in fast mode a client's writes join into one until
     * either end makes a message call; a {@code putmsg} client is never
     * affected). False (the default): a byte stream.
     *
     * @return true for message connections
     */
    public boolean messages() {
        return messages;
    }

    /** Builds {@link ConnldOptions}; every setter returns the builder. */
    public static final class Builder {
        private int mode = 0600;
        private boolean replaceStale = true;
        private Set<Integer> allowedUids = Set.of();
        private Set<Integer> allowedGids = Set.of();
        private Set<Integer> allowedZones = Set.of();
        private int threads = 64;
        private boolean shutdownHook;
        private Duration probeTimeout = Duration.ofSeconds(1);
        private int backlog = 128;
        private int loops = Math.max(1, Math.min(4, Runtime.getRuntime().availableProcessors()));
        private int maxConnections = 4096;

        private Builder() {
        }

        /**
         * Permission bits of the attach point or socket, e.g. {@code 0660}: a
         * Java octal literal, with the leading zero. Only the nine rwx bits
         * are taken; anything else (a decimal {@code 600} is {@code 01130},
         * sticky bit included) is refused.
         *
         * @param mode permission bits within {@code 0777}
         * @return this builder
         * @throws IllegalArgumentException for bits outside {@code 0777}
         */
        public Builder mode(int mode) {
            if ((mode & ~0777) != 0) {
                throw new IllegalArgumentException("mode must be within 0777 (write it in octal, e.g. 0600): "
                    + "0" + Integer.toOctalString(mode) + (mode > 0 ? " (decimal " + mode + ")" : ""));
            }
            this.mode = mode;
            return this;
        }

        /**
         * Permission bits as {@link java.nio.file.Files#setPosixFilePermissions} takes them,
         * e.g. {@code PosixFilePermissions.fromString("rw-rw----")}.
         *
         * @param permissions the permissions to grant
         * @return this builder
         */
        public Builder mode(Set<PosixFilePermission> permissions) {
            int bits = 0;
            for (PosixFilePermission p : permissions) {
                // OWNER_READ is 0400 and each constant after it the next bit down.
                bits |= 0400 >> p.ordinal();
            }
            return mode(bits);
        }

        /**
         * Whether a dead server's attachment or socket at the path is replaced.
         *
         * @param replace true to replace it (the default)
         * @return this builder
         */
        public Builder replaceStale(boolean replace) {
            this.replaceStale = replace;
            return this;
        }

        /**
         * Admits only clients with these effective uids.
         *
         * @param uids the uids; empty admits all
         * @return this builder
         */
        public Builder allowUids(Collection<Integer> uids) {
            this.allowedUids = Set.copyOf(uids);
            return this;
        }

        /**
         * Admits only clients whose effective gid or a supplementary group is one of these.
         *
         * @param gids the gids; empty admits all
         * @return this builder
         */
        public Builder allowGids(Collection<Integer> gids) {
            this.allowedGids = Set.copyOf(gids);
            return this;
        }

        /**
         * Admits only clients in these zones (illumos); a client of unknown zone is then refused.
         *
         * @param zones the zone ids; empty admits all
         * @return this builder
         */
        public Builder allowZones(Collection<Integer> zones) {
            this.allowedZones = Set.copyOf(zones);
            return this;
        }

        /**
         * Connections {@link ConnldServer#serve} handles at once.
         *
         * @param threads at least 1
         * @return this builder
         */
        public Builder threads(int threads) {
            Validate.isTrue(threads >= 1, "threads must be at least 1: %d", threads);
            this.threads = threads;
            return this;
        }

        /**
         * Whether to close the server in a JVM shutdown hook.
         *
         * @param hook true to install one
         * @return this builder
         */
        public Builder shutdownHook(boolean hook) {
            this.shutdownHook = hook;
            return this;
        }

        /**
         * How long a busy path's server is given to answer before it is taken as live.
         *
         * @param timeout the probe's time-out; positive
         * @return this builder
         */
        public Builder probeTimeout(Duration timeout) {
            this.probeTimeout = positive("probeTimeout", timeout);
            return this;
        }

        /**
         * listen(2) backlog on the portable backend.
         *
         * @param backlog the backlog; at least 1
         * @return this builder
         */
        public Builder backlog(int backlog) {
            Validate.isTrue(backlog >= 1, "backlog must be at least 1: %d", backlog);
            this.backlog = backlog;
            return this;
        }

        /**
         * A time-out must be given and longer than zero: a null, zero or
         * negative one would mean "never wait" or "wait forever" by accident.
         */
        static Duration positive(String name, Duration timeout) {
            java.util.Objects.requireNonNull(timeout, () -> name + " must not be null");
            Validate.isTrue(positive(timeout), "%s must be longer than zero: %s", name, timeout);
            return timeout;
        }

        /**
         * Event-loop threads of {@link ConnldServer#serveEvents}.
         *
         * @param loops at least 1
         * @return this builder
         */
        public Builder loops(int loops) {
            Validate.isTrue(loops >= 1, "loops must be at least 1: %d", loops);
            this.loops = loops;
            return this;
        }

        /**
         * Connections {@link ConnldServer#serveEvents} holds at once.
         *
         * @param max at least 1
         * @return this builder
         */
        public Builder maxConnections(int max) {
            Validate.isTrue(max >= 1, "maxConnections must be at least 1: %d", max);
            this.maxConnections = max;
            return this;
        }

        private Duration idleTimeout;

        /**
         * See {@link ConnldOptions#idleTimeout()}.
         *
         * @param timeout positive, or null for none
         * @return this builder
         */
        public Builder idleTimeout(Duration timeout) {
            Validate.isTrue(timeout == null || positive(timeout), "idleTimeout must be positive: %s", timeout);
            this.idleTimeout = timeout;
            return this;
        }

        private Duration writeTimeout;

        /**
         * See {@link ConnldOptions#writeTimeout()}.
         *
         * @param timeout positive, or null for none
         * @return this builder
         * @throws IllegalArgumentException for zero or a negative time-out
         */
        public Builder writeTimeout(Duration timeout) {
            Validate.isTrue(timeout == null || positive(timeout), "writeTimeout must be positive: %s", timeout);
            this.writeTimeout = timeout;
            return this;
        }

        private int maxConnectionsPerUid;

        /**
         * See {@link ConnldOptions#maxConnectionsPerUid()}.
         *
         * @param max at least 1, or 0 for no per-uid limit
         * @return this builder
         * @throws IllegalArgumentException for a negative limit
         */
        public Builder maxConnectionsPerUid(int max) {
            Validate.isTrue(max >= 0, "maxConnectionsPerUid must be 0 (none) or more: %d", max);
            this.maxConnectionsPerUid = max;
            return this;
        }

        private ThreadFactory threadFactory;

        private static boolean positive(Duration d) {
            return !d.isNegative() && !d.isZero();
        }

        /**
         * See {@link ConnldOptions#threadFactory()}. Virtual threads
         * ({@code Thread.ofVirtual().factory()}, JDK 21+) suit {@code serve()}:
         * a handler blocked in a read, a write or a poll parks and leaves its
         * carrier free. An event loop of {@code serveEvents} waits in
         * {@code epoll_wait} or {@code port_getn} and would hold a carrier for
         * as long as it runs: give loops platform threads.
         *
         * @param factory what makes the server's threads, or null for the library's own
         * @return this builder
         */
        public Builder threadFactory(ThreadFactory factory) {
            this.threadFactory = factory;
            return this;
        }

        private boolean messages;

        /**
         * See {@link ConnldOptions#messages()}.
         *
         * @param on true for connections that keep message boundaries on the portable backend
         * @return this builder
         */
        public Builder messages(boolean on) {
            this.messages = on;
            return this;
        }

        /**
         * The options as set.
         *
         * @return immutable options
         */
        public ConnldOptions build() {
            return new ConnldOptions(this);
        }
    }
}
