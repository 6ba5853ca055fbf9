package org.streams4j;

import java.time.Duration;
import java.util.Collection;
import java.util.Set;

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
    }

    public static ConnldOptions defaults() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Permission bits of an attach point the server creates (STREAMS) or of its socket (portable). */
    public int mode() {
        return mode;
    }

    /** Whether a dead server's attachment or socket at the path is replaced. */
    public boolean replaceStale() {
        return replaceStale;
    }

    /** Allowed client uids; empty means all. */
    public Set<Integer> allowedUids() {
        return allowedUids;
    }

    /** Allowed client gids; empty means all. */
    public Set<Integer> allowedGids() {
        return allowedGids;
    }

    /** Allowed client zone ids; empty means all. A client whose zone is unknown passes only an empty list. */
    public Set<Integer> allowedZones() {
        return allowedZones;
    }

    /** Connections {@link ConnldServer#serve} handles at once. */
    public int threads() {
        return threads;
    }

    public boolean shutdownHook() {
        return shutdownHook;
    }

    /** How long a busy path's server is given to answer before it is taken as live. */
    public Duration probeTimeout() {
        return probeTimeout;
    }

    /** listen(2) backlog on the portable backend. */
    public int backlog() {
        return backlog;
    }

    /** Whether any allow list is set, so that a client's credentials must be known when it is accepted. */
    boolean restrictsPeers() {
        return !allowedUids.isEmpty() || !allowedGids.isEmpty() || !allowedZones.isEmpty();
    }

    /** Event-loop threads of {@link ConnldServer#serveEvents}. */
    public int loops() {
        return loops;
    }

    /**
     * Connections {@link ConnldServer#serveEvents} holds at once; beyond it the
     * server stops accepting until one closes (clients wait in the backlog).
     */
    public int maxConnections() {
        return maxConnections;
    }

    /** Whether a client with these credentials may connect. */
    public boolean allows(PeerCredentials p) {
        if (!allowedUids.isEmpty() && !allowedUids.contains(p.uid())) {
            return false;
        }
        if (!allowedGids.isEmpty() && !allowedGids.contains(p.gid())) {
            return false;
        }
        return allowedZones.isEmpty()
            || p.zone().isPresent() && allowedZones.contains(p.zone().getAsInt());
    }

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

        public Builder mode(int mode) {
            if ((mode & ~07777) != 0) {
                throw new IllegalArgumentException("mode must be within 07777: " + Integer.toOctalString(mode));
            }
            this.mode = mode;
            return this;
        }

        public Builder replaceStale(boolean replace) {
            this.replaceStale = replace;
            return this;
        }

        public Builder allowUids(Collection<Integer> uids) {
            this.allowedUids = Set.copyOf(uids);
            return this;
        }

        public Builder allowGids(Collection<Integer> gids) {
            this.allowedGids = Set.copyOf(gids);
            return this;
        }

        public Builder allowZones(Collection<Integer> zones) {
            this.allowedZones = Set.copyOf(zones);
            return this;
        }

        public Builder threads(int threads) {
            if (threads < 1) {
                throw new IllegalArgumentException("threads must be at least 1: " + threads);
            }
            this.threads = threads;
            return this;
        }

        public Builder shutdownHook(boolean hook) {
            this.shutdownHook = hook;
            return this;
        }

        /** How long a busy path's server is given to answer; positive. */
        public Builder probeTimeout(Duration timeout) {
            this.probeTimeout = positive("probeTimeout", timeout);
            return this;
        }

        /** listen(2) backlog on the portable backend; at least 1. */
        public Builder backlog(int backlog) {
            if (backlog < 1) {
                throw new IllegalArgumentException("backlog must be at least 1: " + backlog);
            }
            this.backlog = backlog;
            return this;
        }

        /**
         * A time-out must be given and longer than zero: a null, zero or
         * negative one would mean "never wait" or "wait forever" by accident.
         */
        static Duration positive(String name, Duration timeout) {
            java.util.Objects.requireNonNull(timeout, () -> name + " must not be null");
            if (timeout.isNegative() || timeout.isZero()) {
                throw new IllegalArgumentException(name + " must be longer than zero: " + timeout);
            }
            return timeout;
        }

        public Builder loops(int loops) {
            if (loops < 1) {
                throw new IllegalArgumentException("loops must be at least 1: " + loops);
            }
            this.loops = loops;
            return this;
        }

        public Builder maxConnections(int max) {
            if (max < 1) {
                throw new IllegalArgumentException("maxConnections must be at least 1: " + max);
            }
            this.maxConnections = max;
            return this;
        }

        public ConnldOptions build() {
            return new ConnldOptions(this);
        }
    }
}
