package org.streams4j;

/** Which queues {@link StreamMessages#flush} empties ({@code FLUSHR}, {@code FLUSHW}, {@code FLUSHRW}). */
public enum Flush {
    /** The read queues: what has arrived and not been read ({@code FLUSHR}). */
    READ,
    /** The write queues: what was written and has not left ({@code FLUSHW}). */
    WRITE,
    /** Both ({@code FLUSHRW}). */
    BOTH
}
