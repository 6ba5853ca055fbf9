package org.streams4j.testsupport;

import java.time.Duration;

/**
 * The one setting for slow machines: every bound a test waits for something
 * within (a guard, never the subject of the test, such as a time-out being
 * tested) is multiplied by it. A test that passes on a quiet machine passes
 * on one this many times slower.
 *
 * <p>Set by the system property {@code streams4j.test.timeScale} or, when that
 * is absent, the environment variable {@code STREAMS4J_TEST_TIME_SCALE} (which
 * the child JVMs and scripts a test starts inherit): a number, 1 by default,
 * e.g. {@code STREAMS4J_TEST_TIME_SCALE=3 mvn -B verify} on a slow VM.
 */
public final class TimeScale {
    /** The factor, at least 1. */
    public static final double FACTOR = read();

    private TimeScale() {
    }

    private static double read() {
        String v = System.getProperty("streams4j.test.timeScale");
        if (v == null || v.isBlank()) {
            v = System.getenv("STREAMS4J_TEST_TIME_SCALE");
        }
        if (v == null || v.isBlank()) {
            return 1;
        }
        try {
            double f = Double.parseDouble(v.trim());
            if (f >= 1 && f <= 100) {
                return f;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException("streams4j.test.timeScale / STREAMS4J_TEST_TIME_SCALE: \"" + v
            + "\" is not a number from 1 to 100");
    }

    /** {@code d} times the factor: the bound to wait within on this machine. */
    public static Duration guard(Duration d) {
        return FACTOR == 1 ? d : Duration.ofNanos((long) (d.toNanos() * FACTOR));
    }

    /** {@link #guard(Duration)} in milliseconds. */
    public static long guardMillis(long ms) {
        return (long) (ms * FACTOR);
    }
}
