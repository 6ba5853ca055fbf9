package consumer;

/** Must not compile on the module path: org.streams4j.internal is not exported. */
final class Internal {
    static final int POLLIN = org.streams4j.internal.Shim.POLLIN;

    private Internal() {
    }
}
