package org.streams4j;

import java.nio.ByteBuffer;
import org.streams4j.internal.Shim;
import org.streams4j.internal.Shim.Scratch;

/**
 * The iovec array of a scattering read or a gathering write, built in this
 * thread's native scratch: at most {@link Shim#MAX_IOV} entries (what the
 * shim says one readv/writev takes), direct buffers pointed at in place, heap
 * and read-only ones through copies (written) or room (read) after the array.
 */
final class Iov {
    private Iov() {
    }

    /**
     * Fills this thread's scratch (taken here: callers use Scratch.get(0)
     * after) with the iovec array (at BYTES) for the buffers. Returns the
     * number of iovecs; buffers with nothing remaining are given an empty
     * iovec so that iovec i is buffer offset + i.
     */
    static int vectors(ByteBuffer[] bufs, int offset, int length, boolean copyIn) {
        int count = Math.min(length, Shim.MAX_IOV);
        int data = Scratch.BYTES + count * Shim.IOVEC_SIZE;
        int heap = 0;
        for (int i = 0; i < count; i++) {
            ByteBuffer b = bufs[offset + i];
            if (!b.isDirect()) {
                heap = (int) Math.min(Scratch.MAX_CACHED, (long) heap + b.remaining());
            }
        }
        Scratch s = Scratch.get(count * Shim.IOVEC_SIZE + heap);
        int room = heap;
        long total = 0;
        int used = 0;
        for (int i = 0; i < count; i++) {
            ByteBuffer b = bufs[offset + i];
            int len = b.remaining();
            long base;
            if (b.isDirect()) {
                base = Shim.address(b) + b.position();
            } else {
                len = Math.min(len, room);
                base = s.address + data;
                if (copyIn && len > 0) {
                    s.buf.put(data, b, b.position(), len);
                }
                data += len;
                room -= len;
            }
            s.buf.putLong(Scratch.BYTES + i * Shim.IOVEC_SIZE, base);
            s.buf.putLong(Scratch.BYTES + i * Shim.IOVEC_SIZE + 8, len);
            total += len;
            used = i + 1;
            if (total >= Integer.MAX_VALUE / 2) {
                break;
            }
        }
        return total == 0 ? 0 : used;
    }

    /** Moves the buffers' positions past {@code n} bytes; copies them out of scratch when reading. */
    static void advance(Scratch s, ByteBuffer[] bufs, int offset, int count, long n, boolean copyOut) {
        int data = Scratch.BYTES + count * Shim.IOVEC_SIZE;
        for (int i = 0; i < count && n > 0; i++) {
            ByteBuffer b = bufs[offset + i];
            int len = (int) s.buf.getLong(Scratch.BYTES + i * Shim.IOVEC_SIZE + 8);
            int k = (int) Math.min(len, n);
            if (!b.isDirect()) {
                if (copyOut && k > 0) {
                    b.put(b.position(), s.buf, data, k);
                }
                data += len;
            }
            b.position(b.position() + k);
            n -= k;
        }
    }
}
