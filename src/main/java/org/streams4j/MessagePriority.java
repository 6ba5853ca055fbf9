package org.streams4j;

/**
 * The priority of a STREAMS message: an ordinary message of a band from 0
 * to 255, or a high-priority message ({@code M_PCPROTO}), which goes ahead of
 * every band and past flow control, one at a time ({@code putpmsg(2)}).
 *
 * <p>To {@link StreamMessages#send}, it is the message's priority. To
 * {@link StreamMessages#receive(StreamMessage, MessagePriority,
 * java.time.Duration)} it is the least priority taken, as {@code getpmsg}'s
 * flags say: {@link #NORMAL} takes the first message of any kind
 * ({@code MSG_ANY}), {@code band(n)} the first of band n or above or a
 * high-priority one ({@code MSG_BAND}), {@link #HIGH} only a high-priority
 * one ({@code MSG_HIPRI}).
 *
 * <p>The portable backend has bands and high priority for none of its
 * messages: only {@link #NORMAL} is accepted there.
 */
public final class MessagePriority {
    /** Band 0, the ordinary messages of a stream ({@code write(2)} sends them). */
    public static final MessagePriority NORMAL = new MessagePriority(0, false);
    /** A high-priority message ({@code RS_HIPRI}, {@code MSG_HIPRI}). */
    public static final MessagePriority HIGH = new MessagePriority(0, true);

    private static final MessagePriority[] BANDS = new MessagePriority[256];

    static {
        BANDS[0] = NORMAL;
        for (int i = 1; i < BANDS.length; i++) {
            BANDS[i] = new MessagePriority(i, false);
        }
    }

    private final int band;
    private final boolean high;

    private MessagePriority(int band, boolean high) {
        this.band = band;
        this.high = high;
    }

    /**
     * An ordinary message of a priority band.
     *
     * @param band 0 to 255 (0 is {@link #NORMAL})
     * @return the priority
     * @throws IllegalArgumentException outside 0 to 255
     */
    public static MessagePriority band(int band) {
        if (band < 0 || band > 255) {
            throw new IllegalArgumentException("a STREAMS band is 0 to 255: " + band);
        }
        return BANDS[band];
    }

    /**
     * The band (0 for a high-priority message, which has none).
     *
     * @return 0 to 255
     */
    public int band() {
        return band;
    }

    /**
     * Whether this is high priority.
     *
     * @return true for {@link #HIGH}
     */
    public boolean isHigh() {
        return high;
    }

    @Override
    public String toString() {
        return high ? "high priority" : "band " + band;
    }
}
