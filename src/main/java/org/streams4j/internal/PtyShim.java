package org.streams4j.internal;

import com.sun.jna.Native;
import com.sun.jna.Pointer;
import com.sun.jna.StringArray;
import java.util.List;

/**
 * The pseudo-terminal calls of the shim ({@code native/pty.c}) and the start
 * of a command on a terminal ({@code s4j_spawn_tty}, {@code native/process.c}).
 * Every build of the shim carries them; values as in {@code streams4j.h}.
 */
public final class PtyShim {
    public static final int WS_ROWS = 0;
    public static final int WS_COLS = 1;
    public static final int WS_XPIXEL = 2;
    public static final int WS_YPIXEL = 3;
    public static final int WS_COUNT = 4;
    public static final int TTY_ECHO = 0x01;
    public static final int TTY_CANONICAL = 0x02;
    public static final int TTY_SIGNALS = 0x04;
    public static final int TTY_OUTPUT = 0x08;
    public static final int TTY_CR_TO_NL = 0x10;

    static {
        Native.register(PtyShim.class, NativeLibrary.NAME);
    }

    private PtyShim() {
    }

    public static native int s4j_pty_open();

    public static native int s4j_pty_push(int fd, String module);

    public static native int s4j_pty_grant(int fd);

    public static native int s4j_pty_unlock(int fd);

    public static native int s4j_pty_name(int fd, byte[] name, int len);

    public static native int s4j_winsize_get(int fd, int[] ws);

    public static native int s4j_winsize_set(int fd, int[] ws);

    public static native int s4j_tty_modes(int fd);

    public static native int s4j_tty_set_modes(int fd, int modes, int raw);

    public static native int s4j_isatty(int fd);

    public static native int s4j_tty_save(int fd, byte[] buf, int len);

    public static native int s4j_tty_restore(int fd, byte[] buf, int len);

    /**
     * Starts {@code path} with {@code argv} and {@code env} ("NAME=value") as
     * the leader of a new session whose controlling terminal is {@code tty};
     * returns its pid (also the session's and the group's id) or -errno.
     */
    public static int s4j_spawn_tty(String path, List<String> argv, List<String> env, String tty) {
        StringArray a = new StringArray(argv.toArray(new String[0]));
        StringArray e = new StringArray(env.toArray(new String[0]));
        return s4j_spawn_tty(path, a, e, tty);
    }

    private static native int s4j_spawn_tty(String path, Pointer argv, Pointer envp, String tty);
}
