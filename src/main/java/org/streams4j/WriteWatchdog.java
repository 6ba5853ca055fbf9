package org.streams4j;

import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * {@link ConnldOptions#writeTimeout()} for {@link ConnldServer#serve}: a thread that
 * looks at the connections being handled a few times per time-out and
 * closes any whose write call has been blocked in the kernel that long,
 * or whose written output the client has left unread that long (the
 * kernel's count, WritePath.unreadByPeer, did not go down: a client that
 * sends now and then but never reads). The close wakes a blocked write
 * (StreamFd.close), which fails, so the handler's thread is free again.
 */
final class WriteWatchdog implements Runnable {
    private static final System.Logger LOG = System.getLogger("org.streams4j.connld");
    private final String name;
    private final long timeoutNanos;
    /** What each connection's client had not read at the last look, and since when it has not read. */
    private static final class Owed {
        int unread;
        long since = System.nanoTime();
    }

    private final Map<Connection, Owed> handled = new ConcurrentHashMap<>();
    private final Thread thread;

    WriteWatchdog(String name, Duration timeout) {
        this.name = name;
        this.timeoutNanos = timeout.toNanos();
        this.thread = Threads.daemon("streams4j-write-timeout " + name, this);
        thread.start();
    }

    void add(Connection c) {
        handled.put(c, new Owed());
    }

    void remove(Connection c) {
        handled.remove(c);
    }

    void stop() {
        thread.interrupt();
    }

    @Override
    public void run() {
        long sliceMs = Math.max(10, Math.min(1000, timeoutNanos / 4 / 1_000_000));
        while (!Thread.currentThread().isInterrupted()) {
            try {
                Thread.sleep(sliceMs);
            } catch (InterruptedException e) {
                return;
            }
            long now = System.nanoTime();
            for (Map.Entry<Connection, Owed> e : handled.entrySet()) {
                Connection c = e.getKey();
                long since = c.fd().writes().blockedWriteSince();
                if (since != 0 && now - since >= timeoutNanos && c.isOpen()) {
                    LOG.log(Level.INFO, "{0}: closing the connection of {1}: a write made no progress for {2} ms",
                        name, c.peer(), (now - since) / 1_000_000);
                    c.close();
                    continue;
                }
                Owed o = e.getValue();
                int unread = c.fd().writes().unreadByPeer();
                if (unread <= 0 || unread < o.unread) {
                    o.since = now;      // owed nothing, or the client read some
                }
                o.unread = unread;
                if (unread > 0 && now - o.since >= timeoutNanos && c.isOpen()) {
                    LOG.log(Level.INFO, "{0}: closing the connection of {1}: it left what it was sent unread "
                        + "for {2} ms", name, c.peer(), (now - o.since) / 1_000_000);
                    c.close();
                }
            }
        }
    }
}
