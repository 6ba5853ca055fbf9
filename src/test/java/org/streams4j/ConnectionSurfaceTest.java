package org.streams4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.streams4j.TestSupport.Background;

/**
 * Issue 23, item 7: a Connection offers every read, write and end-of-stream
 * call a StreamFd has, so that users need not reach through {@code fd()}.
 */
class ConnectionSurfaceTest {
    private static final Duration GUARD = Duration.ofSeconds(10);
    /** StreamFd's calls about the data on the stream, which Connection must have alike. */
    private static final Set<String> DATA = Set.of("read", "write", "writeFully", "exchange", "shutdownOutput",
        "poll", "awaitReadable", "available", "sendFd", "receiveFd", "inputStream", "outputStream", "channel",
        "isOpen", "close");

    @TempDir
    Path dir;

    @Test
    void everyDataCallOfStreamFdIsOnConnection() {
        List<String> missing = new ArrayList<>();
        for (Method m : StreamFd.class.getMethods()) {
            if (m.getDeclaringClass() != StreamFd.class || Modifier.isStatic(m.getModifiers())
                || !DATA.contains(m.getName())) {
                continue;
            }
            try {
                Method c = Connection.class.getMethod(m.getName(), m.getParameterTypes());
                assertEquals(m.getReturnType(), c.getReturnType(), "return type of " + c);
            } catch (NoSuchMethodException e) {
                missing.add(m.getName() + Arrays.toString(m.getParameterTypes()));
            }
        }
        assertTrue(missing.isEmpty(), "Connection lacks " + missing);
    }

    @Test
    void exchangeShutdownOutputAndPollOnAConnection() throws Exception {
        Path p = dir.resolve("surface");
        try (ConnldServer s = ConnldServer.bind(p, ConnldOptions.builder().shutdownHook(false).build())) {
            Background<Void> served = new Background<>("accept", () -> {
                try (Connection c = s.accept()) {
                    byte[] b = new byte[64];
                    int n = c.read(b);
                    assertTrue(n > 0);
                    c.write(b, 0, n);
                    assertEquals(-1, c.read(b), "the client's shutdownOutput is an end of stream");
                    c.write(ByteBuffer.wrap("bye".getBytes(StandardCharsets.US_ASCII)));
                }
                return null;
            });
            try (Connection c = ConnldClient.connect(p, GUARD)) {
                ByteBuffer answer = ByteBuffer.allocate(64);
                int n = c.exchange(ByteBuffer.wrap("ping".getBytes(StandardCharsets.US_ASCII)), answer);
                while (answer.position() < 4 && n >= 0) {
                    n = c.read(answer, GUARD);
                }
                assertEquals("ping", new String(answer.array(), 0, 4, StandardCharsets.US_ASCII));
                c.shutdownOutput();
                assertTrue(c.poll(EnumSet.of(PollEvent.READABLE), GUARD).contains(PollEvent.READABLE));
                byte[] bye = TestSupport.readExactly(c.fd(), 3);
                assertEquals("bye", new String(bye, StandardCharsets.US_ASCII));
            }
            served.get(GUARD);
        }
    }
}
