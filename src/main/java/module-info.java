/**
 * streams4j: SVR4/illumos STREAMS for Java (connld servers, descriptor
 * passing, module stacks), with a portable AF_UNIX backend elsewhere.
 *
 * <p>The API is the package {@code org.streams4j}. {@code org.streams4j.internal}
 * (the JNA bindings of the shim) and {@code org.streams4j.cli} (the
 * {@code streamsctl} command) are not exported. JNA binds the shim's functions
 * with {@code Native.register}, which needs no reflective access to them, so
 * nothing is opened to it. On JDK 22 and later, grant native access to both:
 * {@code --enable-native-access=com.sun.jna,org.streams4j} on the module path
 * (JNA loads the shim; this module's FFM downcalls need their own grant, and
 * without it the data path quietly stays on JNA: {@code Platform.nativeBinding()}
 * and {@code streamsctl selftest} say why), {@code ALL-UNNAMED} on the class path.
 */
module org.streams4j {
    requires com.sun.jna;
    // Threads made in one place (BasicThreadFactory) and the builders' checks (Validate).
    requires org.apache.commons.lang3;
    // streamsctl only: its log format, its command line, its signal handling.
    requires static java.logging;
    requires static info.picocli;

    exports org.streams4j;

    opens org.streams4j.cli to info.picocli;
}
