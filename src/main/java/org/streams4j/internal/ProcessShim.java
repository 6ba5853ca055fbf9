package org.streams4j.internal;

import com.sun.jna.Native;
import com.sun.jna.Pointer;
import com.sun.jna.StringArray;
import java.util.List;

/**
 * The process calls of the shim ({@code native/process.c}): a command in a
 * process group of its own with a connection as its stdin and stdout, signals
 * to the group, and its exit status. Every build of the shim carries them.
 */
public final class ProcessShim {
    public static final int SIG_NONE = 0;
    public static final int SIG_HUP = 1;
    public static final int SIG_INT = 2;
    public static final int SIG_QUIT = 3;
    public static final int SIG_KILL = 9;
    public static final int SIG_TERM = 15;
    public static final int SIG_CONT = 101;
    public static final int SIG_STOP = 102;
    public static final int SIG_TSTP = 103;
    public static final int SIG_WINCH = 104;
    public static final int SIG_USR1 = 105;
    public static final int SIG_USR2 = 106;
    /** s4j_waitpid: -EAGAIN while the child runs. */
    public static final int WAIT_NOHANG = 0x01;
    /** s4j_waitpid: leave the child waitable, so that its pid (and group id) stays taken. */
    public static final int WAIT_NOREAP = 0x02;

    static {
        Native.register(ProcessShim.class, NativeLibrary.NAME);
    }

    private ProcessShim() {
    }

    /**
     * Starts {@code path} with {@code argv} and {@code env} ("NAME=value") in
     * a new process group, {@code fd} as its stdin and stdout; returns its pid
     * (also its process group id) or -errno.
     */
    public static int s4j_spawn(String path, List<String> argv, List<String> env, int fd) {
        StringArray a = new StringArray(argv.toArray(new String[0]));
        StringArray e = new StringArray(env.toArray(new String[0]));
        return s4j_spawn(path, a, e, fd);
    }

    private static native int s4j_spawn(String path, Pointer argv, Pointer envp, int fd);

    /** kill(2) with a SIG_* value; a negative pid signals the process group. */
    public static native int s4j_kill(int pid, int sig);

    /** The exit status (128 + signal when killed), -EAGAIN with WAIT_NOHANG while it runs, or -errno. */
    public static native int s4j_waitpid(int pid, int flags);
}
