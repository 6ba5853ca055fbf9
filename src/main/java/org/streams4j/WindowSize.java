package org.streams4j;

/**
 * A terminal's window size ({@code struct winsize}: TIOCGWINSZ, TIOCSWINSZ).
 * Each value is 0 to 65,535; the pixel sizes are 0 where nobody says.
 *
 * @param rows lines
 * @param columns characters per line
 * @param widthPixels the width in pixels, or 0
 * @param heightPixels the height in pixels, or 0
 */
public record WindowSize(int rows, int columns, int widthPixels, int heightPixels) {
    /**
     * Checks the range of each value.
     *
     * @param rows lines
     * @param columns characters per line
     * @param widthPixels the width in pixels, or 0
     * @param heightPixels the height in pixels, or 0
     * @throws IllegalArgumentException for a value outside 0..65,535
     */
    public WindowSize {
        check("rows", rows);
        check("columns", columns);
        check("widthPixels", widthPixels);
        check("heightPixels", heightPixels);
    }

    /**
     * A size in characters, with no pixel sizes.
     *
     * @param rows lines
     * @param columns characters per line
     * @return the size
     */
    public static WindowSize of(int rows, int columns) {
        return new WindowSize(rows, columns, 0, 0);
    }

    private static void check(String what, int v) {
        if (v < 0 || v > 0xffff) {
            throw new IllegalArgumentException(what + " must be 0 to 65535: " + v);
        }
    }
}
