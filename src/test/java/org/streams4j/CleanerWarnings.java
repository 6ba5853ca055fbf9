package org.streams4j;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Fails the run when the Cleaner had to close a descriptor that its owner
 * forgot (StreamFd logs "fd N was not closed by its owner" at WARNING).
 * Counting descriptors cannot see such a leak: the number is gone by the time
 * a test counts. Loaded for every test class through
 * {@code META-INF/services} (autodetection is switched on in the POM).
 *
 * <p>After each test the warnings seen so far fail that test; after each
 * class a garbage collection gives the Cleaner the class's forgotten
 * descriptors, and their warnings fail the class. A test that forgets a
 * descriptor on purpose says so first with {@link #expect}.
 */
public final class CleanerWarnings implements AfterEachCallback, AfterAllCallback {
    /** Held here: java.util.logging keeps loggers only weakly. */
    private static final Logger LIBRARY = Logger.getLogger("org.streams4j");
    private static final List<LogRecord> SEEN = new ArrayList<>();
    private static final Duration CLEANER_GRACE = Duration.ofMillis(300);
    /** Descriptor numbers whose warning a test expects (guarded by SEEN), and those whose warning came. */
    private static final java.util.Set<String> EXPECTED = new java.util.HashSet<>();
    private static final java.util.Set<String> ARRIVED = new java.util.HashSet<>();

    static {
        Handler h = new Handler() {
            @Override
            public void publish(LogRecord r) {
                String m = r.getMessage();
                if (r.getLevel() == Level.WARNING && m != null && m.contains("not closed by its owner")) {
                    synchronized (SEEN) {
                        SEEN.add(r);
                        SEEN.notifyAll();
                    }
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        h.setLevel(Level.ALL);
        LIBRARY.addHandler(h);
        // An expected warning is taken before any handler sees it: not recorded, not printed.
        LIBRARY.setFilter(r -> {
            Object[] p = r.getParameters();
            String m = r.getMessage();
            if (m == null || !m.contains("not closed by its owner") || p == null || p.length == 0) {
                return true;
            }
            synchronized (SEEN) {
                if (EXPECTED.remove(String.valueOf(p[0]))) {
                    ARRIVED.add(String.valueOf(p[0]));
                    SEEN.notifyAll();
                    return false;
                }
            }
            return true;
        });
    }

    @Override
    public void afterEach(ExtensionContext context) {
        failOnWarnings("during " + context.getDisplayName());
    }

    @Override
    public void afterAll(ExtensionContext context) throws InterruptedException {
        // Whatever the class forgot and nobody holds any more goes to the Cleaner now.
        System.gc();
        Thread.sleep(CLEANER_GRACE.toMillis());
        failOnWarnings("by " + context.getDisplayName() + " (found after its tests, at a garbage collection)");
    }

    private static void failOnWarnings(String when) {
        List<String> fds = new ArrayList<>();
        synchronized (SEEN) {
            for (LogRecord r : SEEN) {
                Object[] p = r.getParameters();
                fds.add(p != null && p.length > 0 ? "fd " + p[0] : r.getMessage());
            }
            SEEN.clear();
        }
        if (!fds.isEmpty()) {
            throw new AssertionError("the Cleaner closed descriptors their owners forgot, " + when + ": " + fds);
        }
    }

    /**
     * Says that the Cleaner is about to warn about descriptor {@code fd}, which a
     * test forgot on purpose: that warning is taken before any handler sees it
     * (it fails nothing and is not printed); {@link #awaitExpected} tells when it came.
     */
    static void expect(int fd) {
        synchronized (SEEN) {
            EXPECTED.add(String.valueOf(fd));
        }
    }

    /** Waits (at most {@code timeout}) for the expected warning about {@code fd}; whether it came. */
    static boolean awaitExpected(int fd, Duration timeout) throws InterruptedException {
        String key = String.valueOf(fd);
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (SEEN) {
            while (!ARRIVED.remove(key)) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;   // still expected: it may come later
                }
                SEEN.wait(Math.max(1, left / 1_000_000));
            }
            return true;
        }
    }
}
