package org.streams4j;

/** Which implementation of the contract is live on this host. */
public enum Backend {
    /** SVR4 STREAMS: illumos, Solaris. pipe(2), ioctl(2) streamio, fattach, connld. */
    STREAMS("STREAMS (pipe, streamio ioctls, fattach, connld)"),
    /** No STREAMS: AF_UNIX socketpair, SCM_RIGHTS, peer credentials, listening sockets. */
    PORTABLE("portable (AF_UNIX, SCM_RIGHTS, peer credentials)");

    private final String description;

    Backend(String description) {
        this.description = description;
    }

    /**
     * What the backend is made of, for logs and {@code streamsctl info}.
     *
     * @return e.g. {@code STREAMS (pipe, streamio ioctls, fattach, connld)}
     */
    public String description() {
        return description;
    }
}
