package org.streams4j;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.Arrays;

/**
 * What an event loop has yet to write on one descriptor, oldest first, and
 * what is to follow it: copies of bytes, descriptors to pass, the end of
 * output. Only {@link WritePath} touches it, under its writers' lock; size and
 * closing are volatile so that the loop and a close may look without it.
 */
final class LoopQueue {
    /** The end of output, as a queue item. */
    static final Object SHUTDOWN = new Object();

    /**
     * A message to send whole ({@link StreamMessages#send}): copies of its
     * parts (null for a part it does not have) and its priority.
     */
    record Message(byte[] control, byte[] data, MessagePriority priority) {
        /** What it counts for in {@link LoopQueue#size}: its bytes, at least one. */
        long weight() {
            return Math.max(1, (control == null ? 0 : control.length) + (data == null ? 0 : data.length));
        }
    }

    /** A heap ByteBuffer (bytes), a Descriptor with a quick use (a descriptor to pass), a Message, or SHUTDOWN. */
    final ArrayDeque<Object> items = new ArrayDeque<>();
    /** Bytes queued; a descriptor or the end of output counts as one. */
    volatile long size;
    /** The end of output is queued or sent: nothing may be written after it. */
    boolean shutdown;
    /** Close once everything is written (a graceful close). */
    volatile boolean closing;

    /**
     * Whether a write must go behind what is queued (anything is); refuses
     * a write after a close or after the end of output. The descriptor's
     * name is made only for the exception: this is on every write of a loop.
     */
    boolean behind(String op, Descriptor d) throws StreamsException {
        if (closing) {
            throw new StreamClosedException(op, d.target());
        }
        if (shutdown) {
            throw new StreamsException(op, d.target(), Errno.EPIPE, "output was shut down");
        }
        return !items.isEmpty();
    }

    /** Queues bytes (a copy the queue owns); returns how many. */
    int add(ByteBuffer copy) {
        int n = copy.remaining();
        if (n > 0) {
            items.add(copy);
            size += n;
        }
        return n;
    }

    /** Queues a descriptor to pass (holding a quick use) or SHUTDOWN. */
    void add(Object item) {
        items.add(item);
        size++;
    }

    /** Queues a message. */
    void add(Message m) {
        items.add(m);
        size += m.weight();
    }

    /** Queues copies of what remains of the buffers; returns how many bytes that was. */
    long addAll(ByteBuffer[] srcs, int offset, int length) {
        long n = 0;
        for (int i = offset; i < offset + length; i++) {
            n += add(copyOf(srcs[i]));
        }
        return n;
    }

    /** The loop let go: everything queued is dropped, and the descriptors to pass given back. */
    void drop() {
        for (Object item; (item = items.poll()) != null; ) {
            if (item instanceof Descriptor p) {
                p.releaseQuick();
            }
        }
        size = 0;
    }

    /** A heap copy of what remains of src (its position moves to its limit). */
    static ByteBuffer copyOf(ByteBuffer src) {
        ByteBuffer copy = ByteBuffer.allocate(src.remaining());
        copy.put(src).flip();
        return copy;
    }

    /** A heap copy of len bytes of b (or, when b is null, of src) from off. */
    static ByteBuffer copyOf(byte[] b, ByteBuffer src, int off, int len) {
        return b != null ? ByteBuffer.wrap(Arrays.copyOfRange(b, off, off + len))
            : ByteBuffer.allocate(len).put(0, src, off, len);
    }
}
