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
 * descriptor on purpose takes its own warning with {@link #awaitClaim}.
 */
public final class CleanerWarnings implements AfterEachCallback, AfterAllCallback {
    /** Held here: java.util.logging keeps loggers only weakly. */
    private static final Logger LIBRARY = Logger.getLogger("org.streams4j");
    private static final List<LogRecord> SEEN = new ArrayList<>();
    private static final Duration CLEANER_GRACE = Duration.ofMillis(300);

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
     * Keeps the library's warnings off the console (they are still recorded
     * here) until closed: for a test whose warning is expected.
     */
    static AutoCloseable offTheConsole() {
        LIBRARY.setUseParentHandlers(false);
        return () -> LIBRARY.setUseParentHandlers(true);
    }

    /**
     * Waits (at most {@code timeout}) for the Cleaner's warning about
     * descriptor {@code fd} and takes it, so that it fails nothing: for a test
     * that forgets a descriptor on purpose.
     *
     * @return whether the warning came
     */
    static boolean awaitClaim(int fd, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (SEEN) {
            while (true) {
                for (LogRecord r : SEEN) {
                    Object[] p = r.getParameters();
                    if (p != null && p.length > 0 && String.valueOf(fd).equals(String.valueOf(p[0]))) {
                        SEEN.remove(r);
                        return true;
                    }
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                SEEN.wait(Math.max(1, left / 1_000_000));
            }
        }
    }
}
