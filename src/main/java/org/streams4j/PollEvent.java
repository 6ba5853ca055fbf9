package org.streams4j;

import java.util.EnumSet;
import java.util.Set;
import org.streams4j.internal.Shim;

/** What {@link StreamFd#poll(Set, java.time.Duration)} waits for and reports ({@code poll(2)}). */
public enum PollEvent {
    /** Data, a descriptor or end of stream can be read without blocking ({@code POLLIN}). */
    READABLE(Shim.POLLIN),
    /** A write would not block ({@code POLLOUT}). */
    WRITABLE(Shim.POLLOUT),
    /** An error is pending on the descriptor ({@code POLLERR}); reported, never asked for. */
    ERROR(Shim.POLLERR),
    /** The other end hung up ({@code POLLHUP}); reported, never asked for. */
    HANG_UP(Shim.POLLHUP),
    /** The descriptor is not open ({@code POLLNVAL}); reported, never asked for. */
    INVALID(Shim.POLLNVAL);

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
