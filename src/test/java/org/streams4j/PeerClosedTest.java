package org.streams4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.streams4j.TestSupport.ascii;
import static org.streams4j.TestSupport.assertEndOfStream;
import static org.streams4j.TestSupport.readString;

import java.nio.ByteBuffer;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.streams4j.TestSupport.Background;

/** The other end of the pipe goes away: end of stream for readers, EPIPE for writers. */
class PeerClosedTest {

    @Test
    void readReturnsEndOfStream() throws Exception {
        try (StreamPipe p = StreamPipe.open()) {
            p.first().close();
            assertTrue(p.second().awaitReadable(TestSupport.guard(Duration.ofSeconds(10))), "a hang-up is readable");
            assertEquals(-1, p.second().read(new byte[10]));
            assertEquals(-1, p.second().read(ByteBuffer.allocateDirect(10)));
            assertEquals(-1, p.second().inputStream().read());
        }
    }

    @Test
    void dataWrittenBeforeTheCloseIsStillRead() throws Exception {
        try (StreamPipe p = StreamPipe.open()) {
            p.first().writeFully(ascii("last words"));
            p.first().close();
            assertEquals("last words", readString(p.second(), 10));
            assertEndOfStream(p.second());
        }
    }

    @Test
    void aPeerThatClosesWithoutReadingStillLooksLikeEndOfStream() throws Exception {
        // The peer dies with our data unread in its queue. A STREAMS pipe reads 0;
        // the portable backend must say the same, not ECONNRESET.
        try (StreamPipe p = StreamPipe.open()) {
            p.second().writeFully(ascii("never read"));
            p.first().close();
            assertEndOfStream(p.second());
            StreamsException e = assertThrows(StreamsException.class, () -> p.second().receiveFd());
            assertEquals("ENXIO", e.errnoName());
        }
    }

    @Test
    void readerBlockedWhenThePeerClosesSeesEndOfStream() throws Exception {
        try (StreamPipe p = StreamPipe.open()) {
            Background<Integer> reader = new Background<>("reader", () -> p.second().read(new byte[10]));
            TestSupport.awaitInNative(reader.thread(), "s4j_recv", TestSupport.guard(Duration.ofSeconds(10)));
            p.first().close();
            assertEquals(-1, reader.get(TestSupport.guard(Duration.ofSeconds(10))));
            assertTrue(p.second().isOpen(), "our end stays open until we close it");
        }
    }

    @Test
    void writeFailsWithEpipe() throws Exception {
        try (StreamPipe p = StreamPipe.open()) {
            p.first().close();
            StreamsException e = assertThrows(StreamsException.class, () -> p.second().write(ascii("x"), 0, 1));
            assertFalse(e instanceof StreamClosedException, "our end is open; the peer is gone");
            assertEquals("EPIPE", e.errnoName());
            assertEquals("write", e.operation());
            assertEquals(p.second().name(), e.target());
            assertTrue(e.getMessage().startsWith("write " + p.second().name() + ": EPIPE"), e.getMessage());

            StreamsException direct = assertThrows(StreamsException.class,
                () -> p.second().write(ByteBuffer.allocateDirect(4)));
            assertEquals("EPIPE", direct.errnoName());
            StreamsException fully = assertThrows(StreamsException.class,
                () -> p.second().outputStream().write(ascii("abc")));
            assertEquals("EPIPE", fully.errnoName());
        }
    }
}
