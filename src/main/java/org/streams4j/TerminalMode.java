package org.streams4j;

import java.util.EnumSet;
import java.util.Set;
import org.streams4j.internal.PtyShim;

/**
 * The terminal settings ({@code termios}) that {@link Pty#modes()} reports
 * and {@link Pty#setModes} changes; every other setting stays as it is.
 * A new terminal has all of them on. {@link Pty#makeRaw()} turns them off
 * together with the rest of what {@code cfmakeraw} does.
 */
public enum TerminalMode {
    /** ECHO: what is typed is written back. */
    ECHO(PtyShim.TTY_ECHO),
    /** ICANON: input comes in lines, with erase and kill characters; off, a read returns what came. */
    CANONICAL(PtyShim.TTY_CANONICAL),
    /** ISIG: the interrupt, quit and suspend characters (^C, ^\, ^Z) send signals. */
    SIGNALS(PtyShim.TTY_SIGNALS),
    /** OPOST: output is processed (a newline written goes out as CR NL). */
    OUTPUT_PROCESSING(PtyShim.TTY_OUTPUT),
    /** ICRNL: a carriage return typed arrives as a newline. */
    CR_TO_NL(PtyShim.TTY_CR_TO_NL);

    final int bit;

    TerminalMode(int bit) {
        this.bit = bit;
    }

    static int bits(Set<TerminalMode> modes) {
        int b = 0;
        for (TerminalMode m : modes) {
            b |= m.bit;
        }
        return b;
    }

    static EnumSet<TerminalMode> of(int bits) {
        EnumSet<TerminalMode> s = EnumSet.noneOf(TerminalMode.class);
        for (TerminalMode m : values()) {
            if ((bits & m.bit) != 0) {
                s.add(m);
            }
        }
        return s;
    }
}
