package org.streams4j;

import java.util.Arrays;
import java.util.EnumSet;
import java.util.Set;
import org.streams4j.internal.PtyShim;

/**
 * Terminal settings on any descriptor that is a terminal: a {@link Pty}'s
 * subsidiary, or this process's own terminal
 * ({@code StreamFd.duplicate(FileDescriptor.in)}), e.g. to put it in raw mode
 * while a remote terminal is used and restore it exactly afterwards.
 */
public final class Terminal {
    private Terminal() {
    }

    /**
     * Whether the descriptor is a terminal (isatty).
     *
     * @param fd a descriptor
     * @return true for a terminal
     * @throws StreamsException when the descriptor is closed
     */
    public static boolean isTerminal(StreamFd fd) throws StreamsException {
        return fd.descriptor().call("isatty", PtyShim::s4j_isatty) == 1;
    }

    /**
     * The terminal modes that are on (tcgetattr).
     *
     * @param fd a terminal
     * @return a new set
     * @throws StreamsException ENOTTY when it is no terminal
     */
    public static EnumSet<TerminalMode> modes(StreamFd fd) throws StreamsException {
        return TerminalMode.of(fd.descriptor().call("tcgetattr", PtyShim::s4j_tty_modes));
    }

    /**
     * Turns exactly these modes on and the other {@link TerminalMode}s off
     * (tcsetattr TCSANOW); other settings stay.
     *
     * @param fd a terminal
     * @param on the modes wanted on
     * @throws StreamsException ENOTTY when it is no terminal
     */
    public static void setModes(StreamFd fd, Set<TerminalMode> on) throws StreamsException {
        int bits = TerminalMode.bits(on);
        fd.descriptor().call("tcsetattr", f -> PtyShim.s4j_tty_set_modes(f, bits, 0));
    }

    /**
     * Raw mode, as {@code cfmakeraw} sets it, after saving every setting.
     *
     * @param fd a terminal
     * @return what restores the settings as they were
     * @throws StreamsException ENOTTY when it is no terminal
     */
    public static Saved makeRaw(StreamFd fd) throws StreamsException {
        Saved s = save(fd);
        raw(fd);
        return s;
    }

    /** cfmakeraw's settings, with nothing saved. */
    static void raw(StreamFd fd) throws StreamsException {
        fd.descriptor().call("tcsetattr", f -> PtyShim.s4j_tty_set_modes(f, 0, 1));
    }

    /**
     * Every setting of the terminal (the whole termios), to put back later.
     *
     * @param fd a terminal
     * @return the settings
     * @throws StreamsException ENOTTY when it is no terminal
     */
    public static Saved save(StreamFd fd) throws StreamsException {
        byte[] buf = new byte[org.streams4j.internal.Shim.TTY_SAVE_MAX];
        int n = fd.descriptor().call("tcgetattr", f -> PtyShim.s4j_tty_save(f, buf, buf.length));
        return new Saved(fd, Arrays.copyOf(buf, n));
    }

    /** A terminal's settings as {@link #save} found them; {@link #close()} puts them back. */
    public static final class Saved implements AutoCloseable {
        private final StreamFd fd;
        private final byte[] termios;

        private Saved(StreamFd fd, byte[] termios) {
            this.fd = fd;
            this.termios = termios;
        }

        /**
         * Puts the settings back (tcsetattr TCSANOW).
         *
         * @throws StreamsException when the call fails (the descriptor closed: {@link StreamClosedException})
         */
        public void restore() throws StreamsException {
            fd.descriptor().call("tcsetattr", f -> PtyShim.s4j_tty_restore(f, termios, termios.length));
        }

        /** {@link #restore()}. */
        @Override
        public void close() throws StreamsException {
            restore();
        }
    }
}
