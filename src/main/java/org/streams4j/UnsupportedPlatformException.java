package org.streams4j;

/**
 * An operation this platform does not have, such as pushing a STREAMS module
 * on the portable (AF_UNIX) backend. Never a silent no-op.
 */
public final class UnsupportedPlatformException extends StreamsException {
    private static final long serialVersionUID = 1L;

    /**
     * An operation the live backend does not have.
     *
     * @param operation the operation, e.g. {@code push}
     * @param target what it was applied to
     */
    public UnsupportedPlatformException(String operation, String target) {
        super(operation, target, Errno.EOPNOTSUPP, "not supported on this platform: "
            + "the " + Platform.backend().name().toLowerCase(java.util.Locale.ROOT)
            + " backend has no STREAMS");
    }
}
