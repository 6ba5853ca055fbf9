package org.streams4j;

import java.lang.System.Logger.Level;
import java.util.concurrent.ThreadFactory;
import org.apache.commons.lang3.concurrent.BasicThreadFactory;

/**
 * The library's own threads, made in one place (commons-lang3's
 * {@link BasicThreadFactory}): daemons, named for what they do, and an
 * uncaught failure logged at ERROR on {@code org.streams4j} instead of
 * printed to stderr. None is on the data path: loops, accept, closes,
 * time-outs and connect openers are started once and live long.
 */
final class Threads {
    private static final System.Logger LOG = System.getLogger("org.streams4j");
    private static final Thread.UncaughtExceptionHandler LOG_IT =
        (t, e) -> LOG.log(Level.ERROR, "streams4j thread " + t.getName() + " ended: " + e, e);

    private Threads() {
    }

    /**
     * Daemon threads named {@code prefix-1}, {@code prefix-2}...
     *
     * @param prefix what the threads do; a path in it is kept as it is
     */
    static ThreadFactory daemons(String prefix) {
        return factory(pattern(prefix) + "-%d");
    }

    /** One daemon thread named {@code name}, not started. */
    static Thread daemon(String name, Runnable r) {
        return factory(pattern(name)).newThread(r);
    }

    /** Each thread runs as the library's ({@link Closer#asLibrary}): what it closes never blocks it. */
    private static ThreadFactory factory(String namingPattern) {
        ThreadFactory f = BasicThreadFactory.builder().namingPattern(namingPattern).daemon(true)
            .uncaughtExceptionHandler(LOG_IT).build();
        return r -> f.newThread(() -> Closer.asLibrary(r));
    }

    /** Thread.sleep that keeps an interrupt for the caller to see. */
    static void sleepQuietly(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The naming pattern is a format string: a % in a path stays a %. */
    private static String pattern(String name) {
        return name.replace("%", "%%");
    }
}
