package org.streams4j;

/** A stream's write options ({@code I_SWROPT}, {@code I_GWROPT}, streamio(4I)). */
public enum WriteOption {
    /**
     * A write of 0 bytes sends a zero-length message ({@code SNDZERO});
     * without it a pipe drops such a write ({@code fifo_write}).
     * {@link StreamFd#shutdownOutput()} sets it on STREAMS, since its end of
     * output is such a message.
     */
    SEND_ZERO,
    /** {@code SIGPIPE} on a write to a stream in error ({@code SNDPIPE}; the JVM ignores SIGPIPE). */
    SEND_SIGPIPE
}
