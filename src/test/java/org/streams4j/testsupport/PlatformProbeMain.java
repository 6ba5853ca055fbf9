package org.streams4j.testsupport;

import org.streams4j.Platform;
import org.streams4j.StreamPipe;

/**
 * Prints what the library says about this host, for a test that runs it
 * without the shim: {@code AVAILABLE true|false}, {@code CAUSE <class>}, and
 * how the first real call fails: {@code PIPE <error class>: <message>}.
 */
public final class PlatformProbeMain {
    private PlatformProbeMain() {
    }

    public static void main(String[] args) {
        System.out.println("AVAILABLE " + Platform.isAvailable());
        Throwable cause = Platform.unavailabilityCause();
        System.out.println("CAUSE " + (cause == null ? "none" : cause.getClass().getName()));
        try (StreamPipe p = StreamPipe.open()) {
            System.out.println("PIPE ok " + p.first());
        } catch (Throwable t) {
            System.out.println("PIPE " + t.getClass().getName() + ": " + t.getMessage().replace('\n', ' ')
                + " | cause " + (t.getCause() == cause ? "is" : "is not") + " the unavailability cause");
        }
    }
}
