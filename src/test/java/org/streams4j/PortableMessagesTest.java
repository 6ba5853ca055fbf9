package org.streams4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.streams4j.TestSupport.ascii;

import java.nio.ByteBuffer;
import java.util.EnumSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.streams4j.testsupport.RequiresBackend;

/**
 * What the portable backend refuses, and how: STREAMS message features with
 * no AF_UNIX equivalent fail with EOPNOTSUPP naming the operation and the
 * feature, after checking that the descriptor is open; nothing is emulated.
 */
@RequiresBackend(Backend.PORTABLE)
class PortableMessagesTest {
    private static void refused(String op, Executable call) {
        StreamsException e = assertThrows(StreamsException.class, call);
        assertEquals(Errno.Code.EOPNOTSUPP, e.code(), e.getMessage());
        assertTrue(e.getMessage().startsWith(op + " "), e.getMessage());
    }

    @Test
    void streamsOnlyFeaturesAreRefusedByName() throws Exception {
        try (StreamPipe p = StreamPipe.openMessages()) {
            StreamMessages m = p.first().messages();
            ByteBuffer data = ByteBuffer.wrap(ascii("x"));
            refused("putmsg", () -> m.send(ByteBuffer.wrap(ascii("ctl")), data));
            refused("putmsg", () -> m.send(null, data, MessagePriority.HIGH));
            refused("putmsg", () -> m.send(null, data, MessagePriority.band(1)));
            refused("putmsg", () -> m.send(new byte[0]));
            refused("getmsg", () -> m.receive(new StreamMessage(8), MessagePriority.HIGH, null));
            refused("I_PEEK", () -> m.peek(new StreamMessage(8), true));
            refused("I_NREAD", m::queued);
            refused("I_FLUSH", () -> m.flush(Flush.BOTH));
            refused("I_FLUSHBAND", () -> m.flushBand(1, Flush.READ));
            refused("I_CANPUT", () -> m.canSend(0));
            refused("I_CKBAND", () -> m.hasBand(0));
            refused("I_GETBAND", m::firstBand);
            refused("I_ATMARK", m::atMark);
            refused("I_GWROPT", m::writeOptions);
            refused("I_SWROPT", () -> m.setWriteOptions(EnumSet.noneOf(WriteOption.class)));
            refused("I_GETCLTIME", m::closeTime);
            refused("I_STR", () -> m.ioctl(1, new byte[0], 0, null));
            refused("I_SRDOPT", () -> m.setReadOptions(ReadOptions.DEFAULT));
        }
    }

    @Test
    void aByteStreamHasNoMessages() throws Exception {
        try (StreamPipe p = StreamPipe.open()) {
            refused("putmsg", () -> p.first().messages().send(ascii("x")));
            refused("getmsg", () -> p.second().messages().receive(new StreamMessage(8)));
            assertEquals(ReadOptions.DEFAULT, p.second().messages().readOptions());
        }
    }

    @Test
    void aClosedDescriptorSaysSoFirst() throws Exception {
        StreamPipe p = StreamPipe.openMessages();
        p.close();
        assertThrows(StreamClosedException.class, () -> p.first().messages().queued());
        assertThrows(StreamClosedException.class, () -> p.first().messages().send(ascii("x")));
    }
}
