package org.streams4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.streams4j.TestSupport.ascii;
import static org.streams4j.TestSupport.assertNothingQueued;
import static org.streams4j.TestSupport.readString;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.streams4j.TestSupport.Background;

/** Bytes through a real pipe (STREAMS pipe or socketpair), both ends, both buffer kinds. */
class PipeRoundTripTest {
    private static final int MIB = 1 << 20;
    private static final Duration GENEROUS = TestSupport.guard(Duration.ofSeconds(60));

    @Test
    void roundTripBothDirections() throws Exception {
        try (StreamPipe p = StreamPipe.open()) {
            p.first().writeFully(ascii("ping"));
            assertEquals("ping", readString(p.second(), 4));
            p.second().writeFully(ascii("pong"));
            assertEquals("pong", readString(p.first(), 4));
            assertNothingQueued(p.first());
            assertNothingQueued(p.second());
        }
    }

    @Test
    void heapByteBuffersUseTheirOffsets() throws Exception {
        try (StreamPipe p = StreamPipe.open()) {
            // A slice has a non-zero arrayOffset: the bytes must come from and land at the right place.
            ByteBuffer src = ByteBuffer.wrap(ascii("xxhello!yy"), 0, 10).position(2).slice().limit(6);
            assertEquals(6, p.first().write(src));
            assertEquals(6, src.position());
            ByteBuffer backing = ByteBuffer.allocate(16);
            ByteBuffer dst = backing.position(3).slice();
            dst.position(1);
            int got = 0;
            while (got < 6) {
                got += p.second().read(dst);
            }
            assertEquals(7, dst.position());
            assertEquals("hello!", ascii(backing.array(), 4, 6));
        }
    }

    @ParameterizedTest(name = "first to second: {0}")
    @ValueSource(booleans = {true, false})
    void oneMebibyteInPiecesThroughByteArrays(boolean forward) throws Exception {
        long seed = System.nanoTime();
        Random random = new Random(seed);
        byte[] data = new byte[MIB];
        random.nextBytes(data);
        try (StreamPipe p = StreamPipe.open()) {
            StreamFd out = forward ? p.first() : p.second();
            StreamFd in = forward ? p.second() : p.first();
            Background<Void> writer = new Background<>("writer", () -> {
                try {
                    Random r = new Random(seed + 1);
                    int off = 0;
                    while (off < data.length) {
                        int n = Math.min(data.length - off, 1 + r.nextInt(r.nextBoolean() ? 100 : 70_000));
                        if (r.nextBoolean()) {
                            out.writeFully(data, off, n);
                            off += n;
                        } else {
                            off += out.write(data, off, n);
                        }
                    }
                } finally {
                    out.close(); // the reader then sees end of stream, also when the writer failed
                }
                return null;
            });
            // Read into a larger array at an offset, with chunk sizes from 1 byte to 64 KiB.
            byte[] got = new byte[MIB + 7];
            int off = 7;
            int[] chunks = {1, 2, 3, 13, 512, 4096, 65_536, 100_000};
            while (off < got.length) {
                int want = Math.min(got.length - off, chunks[random.nextInt(chunks.length)]);
                int n = in.read(got, off, want);
                if (n < 0) {
                    break;
                }
                off += n;
            }
            writer.get(GENEROUS);
            assertEquals(MIB + 7, off, "bytes read (seed " + seed + ")");
            assertEquals(-1, in.read(new byte[1]), "end of stream after the writer closed");
            byte[] body = new byte[MIB];
            System.arraycopy(got, 7, body, 0, MIB);
            assertArrayEquals(data, body, "seed " + seed);
        }
    }

    @ParameterizedTest(name = "first to second: {0}")
    @ValueSource(booleans = {true, false})
    void oneMebibyteInPiecesThroughDirectBuffers(boolean forward) throws Exception {
        long seed = System.nanoTime();
        Random random = new Random(seed);
        byte[] data = new byte[MIB];
        random.nextBytes(data);
        try (StreamPipe p = StreamPipe.open()) {
            StreamFd out = forward ? p.first() : p.second();
            StreamFd in = forward ? p.second() : p.first();
            Background<Void> writer = new Background<>("writer", () -> {
                try {
                    Random r = new Random(seed + 1);
                    ByteBuffer src = ByteBuffer.allocateDirect(MIB);
                    src.put(data).flip();
                    // Windows of the one buffer: the position moves, so the shim must honour it.
                    while (src.position() < MIB) {
                        int end = Math.min(MIB, src.position() + 1 + r.nextInt(70_000));
                        src.limit(end);
                        while (src.hasRemaining()) {
                            out.write(src);
                        }
                    }
                } finally {
                    out.close(); // the reader then sees end of stream, also when the writer failed
                }
                return null;
            });
            ByteBuffer dst = ByteBuffer.allocateDirect(MIB + 5);
            dst.position(5);
            int[] chunks = {1, 2, 3, 13, 512, 4096, 65_536, 100_000};
            while (dst.position() < dst.capacity()) {
                dst.limit(Math.min(dst.capacity(), dst.position() + chunks[random.nextInt(chunks.length)]));
                if (in.read(dst) < 0) {
                    break;
                }
            }
            writer.get(GENEROUS);
            assertEquals(MIB + 5, dst.position(), "bytes read (seed " + seed + ")");
            dst.limit(dst.capacity());
            assertEquals(-1, in.read(dst.position(0).limit(1)), "end of stream after the writer closed");
            byte[] body = new byte[MIB];
            dst.limit(dst.capacity()).position(5);
            dst.get(body);
            assertArrayEquals(data, body, "seed " + seed);
        }
    }

    @Test
    void zeroLengthOperationsDoNothing() throws Exception {
        try (StreamPipe p = StreamPipe.open()) {
            // A zero-length STREAMS message would read as end of file: never sent.
            assertEquals(0, p.first().write(new byte[4], 2, 0));
            assertEquals(0, p.first().write(ByteBuffer.allocateDirect(0)));
            assertEquals(0, p.second().read(new byte[4], 1, 0));
            assertNothingQueued(p.second());
            p.first().writeFully(ascii("z"));
            assertEquals("z", readString(p.second(), 1));
        }
    }
}
