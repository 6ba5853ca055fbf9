package org.streams4j;

import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.streams4j.internal.Shim;

/**
 * One thread that waits on many connections with a single {@code poll(2)}
 * and runs {@link ConnldServer.EventHandler} for each that is readable.
 * Connections come in from the accept thread through a queue and a wake-up
 * pipe. Every connection the loop holds is pinned ({@link StreamFd#pin()}),
 * so its number stays valid while it sits in the poll array; whoever closes
 * it (the handler, another thread) leaves the loop to close the number.
 * Not for use outside {@link ConnldServer}.
 */
final class EventLoop implements Runnable {
    private static final System.Logger LOG = System.getLogger("org.streams4j.connld");
    private static final int ENTRY = Shim.POLLFD_SIZE;
    private static final int REVENTS = 6;
    private static final int READY = Shim.POLLIN | Shim.POLLHUP | Shim.POLLERR | Shim.POLLNVAL;
    private static final byte[] WAKE = {1};

    private final String name;
    private final ConnldServer.EventHandler handler;
    private final Runnable onClosed;
    private final StreamPipe wake;
    private final ConcurrentLinkedQueue<Connection> incoming = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean wakePending = new AtomicBoolean();
    private final AtomicInteger size = new AtomicInteger();
    private volatile boolean stopping;
    private volatile boolean ended;

    /** Loop thread only. Entry 0 of the poll array is the wake-up pipe; entry i > 0 is conns[i]. */
    private Connection[] conns = new Connection[64];
    private int count;
    private ByteBuffer fds;
    private long fdsAddress;
    private final byte[] drain = new byte[64];

    EventLoop(String name, ConnldServer.EventHandler handler, Runnable onClosed) throws StreamsException {
        this.name = name;
        this.handler = handler;
        this.onClosed = onClosed;
        this.wake = StreamPipe.open();
        allocate(conns.length);
    }

    /** Connections this loop holds or has been given. */
    int size() {
        return size.get();
    }

    /** Hands a connection to the loop (any thread); a loop that has ended closes it. */
    void submit(Connection c) {
        size.incrementAndGet();
        incoming.add(c);
        if (ended) {
            closeIncoming();
        } else {
            wakeup();
        }
    }

    boolean hasEnded() {
        return ended;
    }

    /** Asks the loop to close its connections and end (any thread). */
    void stop() {
        stopping = true;
        wakeup();
    }

    private void wakeup() {
        if (wakePending.compareAndSet(false, true)) {
            try {
                wake.second().write(WAKE, 0, 1);
            } catch (StreamsException e) {
                // Only when the loop has ended and closed its pipe.
                LOG.log(Level.DEBUG, "{0}: waking an ended loop: {1}", name, e.getMessage());
            }
        }
    }

    @Override
    public void run() {
        try {
            int wakeFd = wake.first().pin();
            try {
                fds.putInt(0, wakeFd).putShort(4, (short) Shim.POLLIN);
                loop();
            } finally {
                wake.first().unpin();
            }
        } catch (StreamsException | RuntimeException | Error e) {
            LOG.log(Level.ERROR, name + ": event loop failed", e);
        } finally {
            ended = true;
            while (count > 0) {
                remove(count);
            }
            closeIncoming();
            wake.close();
        }
    }

    private void closeIncoming() {
        for (Connection c; (c = incoming.poll()) != null; ) {
            c.close();
            size.decrementAndGet();
            onClosed.run();
        }
    }

    private void loop() throws StreamsException {
        while (true) {
            for (Connection c; (c = incoming.poll()) != null; ) {
                add(c);
            }
            if (stopping) {
                return;
            }
            int r = Shim.s4j_poll_many(fdsAddress, count + 1, -1);
            if (r == -Errno.EINTR) {
                continue;
            }
            if (r == -Errno.EAGAIN || r == -Errno.ENOMEM) {
                LOG.log(Level.WARNING, "{0}: poll: {1}; retrying", name, Errno.name(-r));
                sleep(10);
                continue;
            }
            if (r < 0) {
                throw new StreamsException("poll", name, -r);
            }
            int seen = 0;
            if (fds.getShort(REVENTS) != 0) {
                seen++;
                // Read, then clear: a wakeup() between the two writes no byte,
                // and its connection is in the queue, drained next.
                wake.first().read(drain, 0, drain.length);
                wakePending.set(false);
            }
            // Downwards, so that removing entry i (the last one moves into it) skips nothing.
            for (int i = count; i >= 1 && seen < r; i--) {
                int rev = fds.getShort(i * ENTRY + REVENTS);
                if (rev != 0) {
                    seen++;
                    dispatch(i, rev);
                }
            }
        }
    }

    private void add(Connection c) {
        int fd;
        try {
            fd = c.fd().pin();
        } catch (StreamClosedException e) {
            size.decrementAndGet();
            onClosed.run();
            return;
        }
        if (count + 1 == conns.length) {
            conns = Arrays.copyOf(conns, conns.length * 2);
            allocate(conns.length);
        }
        int i = ++count;
        conns[i] = c;
        fds.putInt(i * ENTRY, fd).putShort(i * ENTRY + 4, (short) Shim.POLLIN).putShort(i * ENTRY + REVENTS, (short) 0);
        try {
            handler.opened(c);
            if (!c.isOpen()) {
                remove(i);
            }
        } catch (Exception e) {
            LOG.log(Level.DEBUG, name + ": opened() failed for " + c, e);
            remove(i);
        }
    }

    private void dispatch(int i, int rev) {
        Connection c = conns[i];
        boolean keep = c.isOpen() && (rev & READY) != 0 && (rev & Shim.POLLNVAL) == 0;
        try {
            while (keep) {
                keep = handler.readable(c) && c.isOpen();
                if (!keep || !c.fd().hasBuffered()) {
                    break;
                }
            }
        } catch (StreamClosedException e) {
            keep = false;
            LOG.log(Level.DEBUG, "{0}: {1}", name, e.getMessage());
        } catch (Exception e) {
            keep = false;
            LOG.log(Level.DEBUG, name + ": handler failed for " + c, e);
        }
        if (!keep) {
            remove(i);
        }
    }

    /** Takes entry i out (the last entry moves into its place), closes it and tells the handler. */
    private void remove(int i) {
        Connection c = conns[i];
        if (i != count) {
            conns[i] = conns[count];
            fds.putLong(i * ENTRY, fds.getLong(count * ENTRY));
        }
        conns[count--] = null;
        c.fd().unpin();
        c.close();
        try {
            handler.closed(c);
        } catch (RuntimeException e) {
            LOG.log(Level.DEBUG, name + ": closed() failed for " + c, e);
        }
        size.decrementAndGet();
        onClosed.run();
    }

    private void allocate(int entries) {
        ByteBuffer b = ByteBuffer.allocateDirect(entries * ENTRY).order(ByteOrder.nativeOrder());
        if (fds != null) {
            b.put(fds.clear());
            b.clear();
        }
        fds = b;
        fdsAddress = Shim.address(b);
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
