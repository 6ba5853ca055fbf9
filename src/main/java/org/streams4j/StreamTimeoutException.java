package org.streams4j;

import java.time.Duration;

/**
 * A read or {@code receiveFd} given a time-out found nothing within it (the
 * descriptor is as it was: nothing was taken from the stream, and the call may
 * be made again), or a connect given a time-out got no answer within it.
 * {@link #errno()} is ETIMEDOUT.
 */
public final class StreamTimeoutException extends StreamsException {
    private static final long serialVersionUID = 1L;

    /** How long the operation waited. */
    private final Duration timeout;

    /**
     * A time-out of an operation.
     *
     * @param operation the operation, e.g. {@code read}
     * @param target what it was applied to, e.g. {@code fd 7}
     * @param timeout how long it waited
     */
    public StreamTimeoutException(String operation, String target, Duration timeout) {
        this(operation, target, timeout, "nothing arrived within " + timeout.toMillis() + " ms");
    }

    StreamTimeoutException(String operation, String target, Duration timeout, String detail) {
        super(operation, target, Errno.ETIMEDOUT, detail);
        this.timeout = timeout;
    }

    /**
     * How long the operation waited.
     *
     * @return the time-out it was given
     */
    public Duration timeout() {
        return timeout;
    }
}
