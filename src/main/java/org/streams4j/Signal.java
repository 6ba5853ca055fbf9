package org.streams4j;

import org.streams4j.internal.ProcessShim;

/**
 * The signals a {@link TerminalProcess}'s process group can be sent
 * ({@link TerminalProcess#signal}), by name: their numbers differ between
 * platforms, and the shim maps each.
 */
public enum Signal {
    /** SIGHUP: the terminal hung up. */
    HUP(ProcessShim.SIG_HUP),
    /** SIGINT: what ^C sends. */
    INT(ProcessShim.SIG_INT),
    /** SIGQUIT: what ^\ sends. */
    QUIT(ProcessShim.SIG_QUIT),
    /** SIGKILL: cannot be caught or ignored. */
    KILL(ProcessShim.SIG_KILL),
    /** SIGTERM: the polite request to end. */
    TERM(ProcessShim.SIG_TERM),
    /** SIGCONT: go on after a stop. */
    CONT(ProcessShim.SIG_CONT),
    /** SIGSTOP: stop; cannot be caught or ignored. */
    STOP(ProcessShim.SIG_STOP),
    /** SIGTSTP: what ^Z sends. */
    TSTP(ProcessShim.SIG_TSTP),
    /** SIGWINCH: the window size changed (sent by the terminal itself on a resize). */
    WINCH(ProcessShim.SIG_WINCH),
    /** SIGUSR1. */
    USR1(ProcessShim.SIG_USR1),
    /** SIGUSR2. */
    USR2(ProcessShim.SIG_USR2);

    final int shim;

    Signal(int shim) {
        this.shim = shim;
    }
}
