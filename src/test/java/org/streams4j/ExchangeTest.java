package org.streams4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.streams4j.TestSupport.ascii;
import static org.streams4j.TestSupport.readExactly;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.streams4j.TestSupport.Background;

/** {@link StreamFd#exchange}: a write and a read in one call, on real pipes. */
class ExchangeTest {
    private static final Duration GUARD = TestSupport.guard(Duration.ofSeconds(20));

    @TempDir
    Path dir;

    private static ByteBuffer direct(String s) {
        byte[] b = ascii(s);
        return ByteBuffer.allocateDirect(b.length).put(b).flip();
    }

    private static String text(ByteBuffer b) {
        ByteBuffer d = b.duplicate().flip();
        byte[] a = new byte[d.remaining()];
        d.get(a);
        return new String(a, StandardCharsets.US_ASCII);
    }

    @Test
    void aRequestGoesOutAndItsAnswerComesBackInOneCall() throws Exception {
        try (StreamPipe p = StreamPipe.open()) {
            // The answer is there before the question: the read does not wait.
            p.second().writeFully(ascii("answer"));
            ByteBuffer out = direct("question");
            ByteBuffer in = ByteBuffer.allocateDirect(64);
            assertEquals(6, p.first().exchange(out, in));
            assertEquals(0, out.remaining(), "all of the request written");
            assertEquals("answer", text(in));
            assertEquals("question", new String(readExactly(p.second(), 8), StandardCharsets.US_ASCII));
        }
    }

    @Test
    void theReadWaitsForTheAnswerAndHeapBuffersWorkToo() throws Exception {
        try (StreamPipe p = StreamPipe.open()) {
            Background<Void> echo = new Background<>("echo", () -> {
                byte[] b = readExactly(p.second(), 4);
                Thread.sleep(50);
                p.second().writeFully(b);
                return null;
            });
            ByteBuffer in = ByteBuffer.allocate(16);
            assertEquals(4, p.first().exchange(ByteBuffer.wrap(ascii("ping")), in));
            assertEquals("ping", text(in));
            echo.get(GUARD);
        }
    }

    @Test
    void aRequestLargerThanThePipeHoldsIsWrittenWholeBeforeTheRead() throws Exception {
        int size = 1 << 20;
        byte[] want = new byte[size];
        for (int i = 0; i < size; i++) {
            want[i] = (byte) (i * 7);
        }
        try (StreamPipe p = StreamPipe.open()) {
            Background<byte[]> peer = new Background<>("peer", () -> {
                byte[] got = readExactly(p.second(), size);
                p.second().writeFully(ascii("done"));
                return got;
            });
            ByteBuffer out = ByteBuffer.allocateDirect(size).put(want).flip();
            ByteBuffer in = ByteBuffer.allocateDirect(16);
            assertEquals(4, p.first().exchange(out, in));
            assertEquals("done", text(in));
            assertArrayEquals(want, peer.get(GUARD));
        }
    }

    @Test
    void endOfStreamIsMinusOneAndAClosedDescriptorIsStreamClosed() throws Exception {
        StreamPipe p = StreamPipe.open();
        try {
            Background<Void> peer = new Background<>("peer", () -> {
                readExactly(p.second(), 3);
                p.second().close();
                return null;
            });
            assertEquals(-1, p.first().exchange(direct("bye"), ByteBuffer.allocateDirect(8)));
            peer.get(GUARD);
            p.first().close();
            assertThrows(StreamClosedException.class,
                () -> p.first().exchange(direct("x"), ByteBuffer.allocateDirect(8)));
        } finally {
            p.close();
        }
    }

    @Test
    void aDescriptorThatComesWithTheAnswerIsKeptForReceiveFd() throws Exception {
        Path file = dir.resolve("f.txt");
        Files.writeString(file, "passed");
        try (StreamPipe p = StreamPipe.open(); StreamFd f = StreamFd.open(file, StreamFd.Mode.READ)) {
            p.second().writeFully(ascii("ok"));
            p.second().sendFd(f);
            ByteBuffer in = ByteBuffer.allocateDirect(64);
            int n = p.first().exchange(direct("q"), in);
            assertEquals("ok", text(in), "the data before the descriptor (" + n + " bytes)");
            try (ReceivedFd got = p.first().receiveFd()) {
                assertEquals("passed", new String(got.inputStream().readAllBytes(), StandardCharsets.US_ASCII));
            }
        }
    }
}
