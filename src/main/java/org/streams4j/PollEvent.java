package org.streams4j;

import java.util.EnumSet;
import java.util.Set;
import org.streams4j.internal.Shim;

/**
 * What {@link StreamFd#poll(Set, java.time.Duration)} waits for and reports ({@code poll(2)}).
 *
 * <p>{@link #READABLE} is "something can be read": on STREAMS it is asked as
 * {@code POLLIN|POLLRDBAND|POLLPRI} and reported for any of them, so that a
 * high-priority or banded message never leaves a reader waiting.
 * {@link #PRIORITY} and {@link #READ_BAND} say which kind came, beside it;
 * asked for alone, each waits for its own kind ({@code strpoll}).
 */
public enum PollEvent {
    /** Data, a descriptor, a message of any kind or end of stream can be read without blocking ({@code POLLIN}). */
    READABLE(Shim.POLLIN),
    /** A write would not block ({@code POLLOUT}). */
    WRITABLE(Shim.POLLOUT),
    /** An error is pending on the descriptor ({@code POLLERR}); reported, never asked for. */
    ERROR(Shim.POLLERR),
    /** The other end hung up ({@code POLLHUP}); reported, never asked for. */
    HANG_UP(Shim.POLLHUP),
    /** The descriptor is not open ({@code POLLNVAL}); reported, never asked for. */
    INVALID(Shim.POLLNVAL),
    /** A high-priority message is at the stream head ({@code POLLPRI}; on Linux, AF_UNIX out-of-band data). */
    PRIORITY(Shim.POLLPRI),
    /** A message of a priority band above 0 can be read ({@code POLLRDBAND}; STREAMS only). */
    READ_BAND(Shim.POLLRDBAND),
    /** A message of a priority band above 0 can be written ({@code POLLWRBAND}; STREAMS only). */
    WRITE_BAND(Shim.POLLWRBAND);

    final int bit;

    PollEvent(int bit) {
        this.bit = bit;
    }

    static int bits(Set<PollEvent> events) {
        int b = 0;
        for (PollEvent e : events) {
            b |= e.bit;
        }
        return b;
    }

    static Set<PollEvent> of(int bits) {
        EnumSet<PollEvent> s = EnumSet.noneOf(PollEvent.class);
        for (PollEvent e : values()) {
            if ((bits & e.bit) != 0) {
                s.add(e);
            }
        }
        return s;
    }
}
