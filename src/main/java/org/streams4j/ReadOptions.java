package org.streams4j;

import java.util.Objects;

/**
 * A stream's read options ({@code I_GRDOPT}, {@code I_SRDOPT}): the mode
 * for message boundaries and what a read does with a control part.
 *
 * @param mode message boundaries
 * @param control a control part at the head
 */
public record ReadOptions(ReadMode mode, ControlReadMode control) {
    /** A stream's defaults: {@code RNORM|RPROTNORM}. */
    public static final ReadOptions DEFAULT = new ReadOptions(ReadMode.BYTE_STREAM, ControlReadMode.FAIL);

    /**
     * Read options.
     *
     * @param mode message boundaries
     * @param control a control part at the head
     */
    public ReadOptions {
        Objects.requireNonNull(mode, "mode");
        Objects.requireNonNull(control, "control");
    }
}
