package org.streams4j;

/**
 * What {@code read(2)} does with a message that has a control part
 * ({@code M_PROTO}, {@code M_PCPROTO}) at the head of a stream: the protocol
 * half of {@code I_SRDOPT} (streamio(4I); {@code strread}).
 */
public enum ControlReadMode {
    /** The read fails with EBADMSG and the message stays ({@code RPROTNORM}, the default). */
    FAIL,
    /** The control part is read as data, ahead of the data part ({@code RPROTDAT}). */
    AS_DATA,
    /** The control part is thrown away and the data part read ({@code RPROTDIS}). */
    DISCARD
}
