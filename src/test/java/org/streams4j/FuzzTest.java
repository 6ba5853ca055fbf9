package org.streams4j;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.lifecycle.AfterProperty;
import net.jqwik.api.lifecycle.BeforeProperty;

/**
 * Property tests over the public API's string, number, duration and buffer
 * inputs: whatever comes in, the outcome is a result, or a StreamsException,
 * IllegalArgumentException or NullPointerException that carries a message
 * (IndexOutOfBoundsException for an offset and length outside an array, the
 * Java convention {@link java.io.InputStream} has too); never a JVM crash, a
 * hang, nor a descriptor left open. Real descriptors, paths and servers.
 */
class FuzzTest {
    private static final Path DIR = tempDir();
    private TestSupport.Descriptors fdsBefore;

    private static Path tempDir() {
        try {
            Path d = java.nio.file.Files.createTempDirectory("streams4j-fuzz");
            d.toFile().deleteOnExit();
            return d;
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @BeforeProperty
    void countBefore() throws Exception {
        // What a process opens once and keeps (the close marker StreamFd makes
        // on first use, the random devices) is opened before counting.
        StreamPipe.open().close();
        Accounts.uid("no-such-user-" + System.nanoTime());
        Accounts.gid("no-such-group-" + System.nanoTime());
        new java.security.SecureRandom().nextBytes(new byte[8]);
        fdsBefore = TestSupport.Descriptors.now();
    }

    @AfterProperty
    void noDescriptorLeft() throws Exception {
        TestSupport.assertClosedSince(fdsBefore, TestSupport.guard(java.time.Duration.ofSeconds(10)));
    }

    @FunctionalInterface
    interface Call {
        void run() throws Exception;
    }

    /** Runs the call; any outcome but a result or an allowed exception with a message fails. */
    private static void onlyAllowedFailures(Call c) throws Exception {
        try {
            c.run();
        } catch (StreamsException | IllegalArgumentException | NullPointerException | IndexOutOfBoundsException e) {
            if (e.getMessage() == null || e.getMessage().isBlank()) {
                throw new AssertionError("an exception without a message", e);
            }
        }
    }

    @Provide
    Arbitrary<String> anyString() {
        return Arbitraries.oneOf(
            Arbitraries.strings().all().ofMaxLength(300),
            Arbitraries.strings().withChars("/.\0a-z").ofMaxLength(40),
            Arbitraries.of("", "/", ".", "..", "/dev/null", "/proc/self/fd/0", "a\0b", "\u00e9t\u00e9", " "));
    }

    @Provide
    Arbitrary<Duration> anyDuration() {
        return Arbitraries.oneOf(
            Arbitraries.longs().between(-1_000_000_000L, 50_000_000L).map(Duration::ofNanos),
            Arbitraries.of(Duration.ZERO, Duration.ofNanos(1), Duration.ofSeconds(-1), Duration.ofMillis(-1)));
    }

    @Provide
    Arbitrary<Integer> anyInt() {
        return Arbitraries.oneOf(Arbitraries.integers(),
            Arbitraries.of(0, -1, 1, 0777, 01000, Integer.MIN_VALUE, Integer.MAX_VALUE, 600));
    }

    @Property(tries = 300)
    void optionsTakeOrRefuseAnyNumberAndDuration(@ForAll("anyInt") int n, @ForAll("anyDuration") Duration d)
        throws Exception {
        onlyAllowedFailures(() -> ConnldOptions.builder().mode(n).build());
        onlyAllowedFailures(() -> ConnldOptions.builder().threads(n).build());
        onlyAllowedFailures(() -> ConnldOptions.builder().loops(n).build());
        onlyAllowedFailures(() -> ConnldOptions.builder().maxConnections(n).build());
        onlyAllowedFailures(() -> ConnldOptions.builder().idleTimeout(d).build());
        onlyAllowedFailures(() -> ConnldOptions.builder().writeTimeout(d).build());
        onlyAllowedFailures(() -> ConnldOptions.builder().allowUids(java.util.List.of(n)).build());
    }

    @Property(tries = 300)
    void bindAndConnectTakeAnyPathString(@ForAll("anyString") String s, @ForAll("anyDuration") Duration d)
        throws Exception {
        Path p;
        try {
            // Under a directory of this test's, but for a few absolute paths that must be refused.
            p = java.util.Set.of("/", "/dev/null", "/proc/self/fd/0", "/tmp").contains(s) ? Path.of(s)
                : Path.of(DIR + "/" + s);
        } catch (InvalidPathException e) {
            return;     // java.nio refuses it before streams4j is asked
        }
        onlyAllowedFailures(() -> {
            try (ConnldServer server = ConnldServer.bind(p, ConnldOptions.builder()
                .probeTimeout(Duration.ofMillis(50)).replaceStale(false).build())) {
                if (!server.isOpen()) {
                    throw new AssertionError("bound but closed");
                }
            }
        });
        onlyAllowedFailures(() -> ConnldClient.connect(p, d).close());
    }

    @Property(tries = 200)
    void namesTakeAnyString(@ForAll("anyString") String s) throws Exception {
        onlyAllowedFailures(() -> Accounts.uid(s));
        onlyAllowedFailures(() -> Accounts.gid(s));
        onlyAllowedFailures(() -> Errno.value(s));
        try (StreamPipe pipe = StreamPipe.open()) {
            onlyAllowedFailures(() -> pipe.first().push(s));
            onlyAllowedFailures(() -> pipe.first().find(s));
        }
    }

    @Property(tries = 300)
    void readsAndWritesTakeAnyOffsetLengthBufferAndTimeout(
        @ForAll @IntRange(min = 0, max = 70_000) int size, @ForAll("anyInt") int off, @ForAll("anyInt") int len,
        @ForAll("anyDuration") Duration d, @ForAll boolean direct, @ForAll boolean readOnly) throws Exception {
        try (StreamPipe pipe = StreamPipe.open()) {
            StreamFd a = pipe.first();
            StreamFd b = pipe.second();
            byte[] bytes = new byte[size];
            ByteBuffer buf = direct ? ByteBuffer.allocateDirect(size) : ByteBuffer.allocate(size);
            ByteBuffer view = readOnly ? buf.asReadOnlyBuffer() : buf;
            // Never more than the pipe holds, so that a write cannot block this test.
            onlyAllowedFailures(() -> a.write(bytes, off, Math.min(len, 16 * 1024)));
            onlyAllowedFailures(() -> a.write(view.limit(Math.min(size, 16 * 1024))));
            a.close();      // a read or poll finds data or end of file: a negative time-out waits for ever
            onlyAllowedFailures(() -> b.read(bytes, off, len, d));
            if (!readOnly) {
                onlyAllowedFailures(() -> b.read(buf.clear(), d));
            }
            onlyAllowedFailures(() -> b.poll(java.util.Set.of(PollEvent.values()), d));
            onlyAllowedFailures(() -> b.receiveFd(d));
        }
    }
}
