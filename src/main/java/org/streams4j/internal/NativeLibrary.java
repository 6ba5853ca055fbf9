package org.streams4j.internal;

/** Where the shim is: {@code libstreams4j} under JNA's resource prefix on the class path. */
final class NativeLibrary {
    static final String NAME = "streams4j";

    private NativeLibrary() {
    }
}
