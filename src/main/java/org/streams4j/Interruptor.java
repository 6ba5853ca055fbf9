package org.streams4j;

import java.nio.channels.AsynchronousCloseException;
import java.nio.channels.spi.AbstractInterruptibleChannel;

/**
 * What makes a blocking call on a {@link Descriptor} interruptible, the way
 * the JDK's own channels are: {@link #enter()} before the call registers
 * this with the thread (the JDK's {@link AbstractInterruptibleChannel#begin()}),
 * so that {@code Thread.interrupt()} closes the descriptor, which wakes the
 * call; {@link #leave()} after it. A thread interrupted before it calls
 * closes the descriptor at once. Not a channel anyone sees: only the
 * begin/end protocol of the public JDK class is used, which works the same
 * for platform and virtual threads.
 */
final class Interruptor extends AbstractInterruptibleChannel {
    private final Descriptor d;
    private final Runnable action;

    Interruptor(Descriptor d) {
        this.d = d;
        this.action = null;
    }

    /**
     * For a wait that no descriptor's close ends (an event loop's poller):
     * the interrupt runs {@code action} (a wake-up), once; the thread sees
     * its interrupt status when it wakes.
     */
    Interruptor(Runnable action) {
        this.d = null;
        this.action = action;
    }

    void enter() {
        begin();
    }

    void leave() {
        try {
            end(true);
        } catch (AsynchronousCloseException e) {
            // ClosedByInterruptException: the descriptor is closed, and the
            // caller reports it (Descriptor.closed) with the interrupt status kept
        }
    }

    /** Runs on the interrupting thread, once. */
    @Override
    protected void implCloseChannel() {
        if (d != null) {
            d.closeForInterrupt();
        } else {
            action.run();
        }
    }
}
