package org.streams4j;

/**
 * How {@code read(2)} treats message boundaries on a stream ({@code I_SRDOPT},
 * streamio(4I); {@code strread}).
 */
public enum ReadMode {
    /** A byte stream: a read takes bytes of as many messages as it has room for ({@code RNORM}, the default). */
    BYTE_STREAM,
    /** A read takes at most one message; what does not fit is discarded ({@code RMSGD}). */
    MESSAGE_DISCARD,
    /** A read takes at most one message; what does not fit stays for the next read ({@code RMSGN}). */
    MESSAGE_NONDISCARD
}
