package org.streams4j;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A message read from a stream ({@code getmsg(2)}, {@code I_PEEK}): a control
 * part, a data part, its band and whether it was high priority, in buffers
 * this object owns and every receive reuses, so that a loop of receives
 * allocates nothing.
 *
 * <p>After a receive, {@link #control()} and {@link #data()} hold what came,
 * from position 0 to their limit. A part the message did not have is
 * reported apart from an empty one ({@link #hasControl()},
 * {@link #hasData()}), as {@code getmsg} reports a length of -1. When a part
 * did not fit, the rest of the message stays at the head of the stream and
 * {@link #moreControl()} or {@link #moreData()} says so ({@code MORECTL},
 * {@code MOREDATA}); the next receive returns it. Nothing is lost.
 *
 * <p>One thread at a time: the object is the caller's, like a buffer.
 */
public final class StreamMessage {
    private final ByteBuffer control;
    private final ByteBuffer data;
    private long controlAddress;
    private long dataAddress;
    private boolean hasControl;
    private boolean hasData;
    private int band;
    private boolean high;
    private boolean moreControl;
    private boolean moreData;
    private boolean end;

    /**
     * A message with room for each part.
     *
     * @param controlCapacity room for the control part, 0 to take none
     *     (a control part then stays queued: {@link #moreControl()})
     * @param dataCapacity room for the data part
     * @throws IllegalArgumentException for a negative capacity, or both 0
     */
    public StreamMessage(int controlCapacity, int dataCapacity) {
        if (controlCapacity < 0 || dataCapacity < 0 || controlCapacity + dataCapacity == 0) {
            // (No room for either part: getmsg would take nothing and answer at once.)
            throw new IllegalArgumentException("capacities must be 0 or more, and not both 0: " + controlCapacity
                + ", " + dataCapacity);
        }
        control = ByteBuffer.allocateDirect(controlCapacity).order(ByteOrder.nativeOrder());
        data = ByteBuffer.allocateDirect(dataCapacity).order(ByteOrder.nativeOrder());
        clear();
    }

    /**
     * A message with room for {@code dataCapacity} data bytes and no control
     * part (the shape of a pipe's messages).
     *
     * @param dataCapacity room for the data part
     */
    public StreamMessage(int dataCapacity) {
        this(0, dataCapacity);
    }

    /**
     * The control part: position 0, limit its length (0 when there was none).
     * Its byte order is the machine's ({@link ByteOrder#nativeOrder()}), the
     * order of the C structures a module's control part holds, not
     * {@code ByteBuffer}'s default big-endian: set another with
     * {@code order} to read network-order fields.
     *
     * @return this message's control buffer (the same object every time)
     */
    public ByteBuffer control() {
        return control;
    }

    /**
     * The data part: position 0, limit its length (0 when there was none).
     * Its byte order is the machine's ({@link ByteOrder#nativeOrder()}), the
     * order of the C structures a module's control part holds, not
     * {@code ByteBuffer}'s default big-endian: set another with
     * {@code order} to read network-order fields.
     *
     * @return this message's data buffer (the same object every time)
     */
    public ByteBuffer data() {
        return data;
    }

    /**
     * The data part's bytes, copied.
     *
     * @return a new array of the data part's length
     */
    public byte[] dataBytes() {
        byte[] b = new byte[data.limit()];
        data.get(0, b);
        return b;
    }

    /**
     * The control part's bytes, copied.
     *
     * @return a new array of the control part's length
     */
    public byte[] controlBytes() {
        byte[] b = new byte[control.limit()];
        control.get(0, b);
        return b;
    }

    /**
     * Whether the message had a control part (possibly of 0 bytes).
     *
     * @return false when {@code getmsg} reported a length of -1
     */
    public boolean hasControl() {
        return hasControl;
    }

    /**
     * Whether the message had a data part (possibly of 0 bytes).
     *
     * @return false when {@code getmsg} reported a length of -1
     */
    public boolean hasData() {
        return hasData;
    }

    /**
     * The message's band (0 for a high-priority one).
     *
     * @return 0 to 255
     */
    public int band() {
        return band;
    }

    /**
     * Whether it was a high-priority message ({@code M_PCPROTO}).
     *
     * @return true for high priority
     */
    public boolean isHighPriority() {
        return high;
    }

    /**
     * The message's priority, as {@link StreamMessages#send} takes it.
     *
     * @return {@link MessagePriority#HIGH} or its band
     */
    public MessagePriority priority() {
        return high ? MessagePriority.HIGH : MessagePriority.band(band);
    }

    /**
     * Whether more of the control part stays queued ({@code MORECTL}).
     *
     * @return true when the control part did not fit
     */
    public boolean moreControl() {
        return moreControl;
    }

    /**
     * Whether more of the data part stays queued ({@code MOREDATA}).
     *
     * @return true when the data part did not fit
     */
    public boolean moreData() {
        return moreData;
    }

    /**
     * Whether the last receive met the end of the stream rather than a
     * message: the other end closed and nothing of the priority asked for
     * or above is left queued (for a receive of any priority, nothing at
     * all; after one of a band or of high priority, lower messages may
     * still be there: {@code strgetmsg}).
     *
     * @return true at the end of the stream
     */
    public boolean isEndOfStream() {
        return end;
    }

    /**
     * Empties both parts and the flags.
     *
     * @return this message
     */
    public StreamMessage clear() {
        control.clear().limit(0);
        data.clear().limit(0);
        hasControl = false;
        hasData = false;
        band = 0;
        high = false;
        moreControl = false;
        moreData = false;
        end = false;
        return this;
    }

    @Override
    public String toString() {
        return "StreamMessage[" + (hasControl ? "control " + control.limit() + " B, " : "")
            + (hasData ? "data " + data.limit() + " B, " : "") + priority()
            + (moreControl ? ", more control" : "") + (moreData ? ", more data" : "") + "]";
    }

    // ---- filled by StreamMessages ------------------------------------------------

    int controlCapacity() {
        return control.capacity();
    }

    int dataCapacity() {
        return data.capacity();
    }

    long controlAddress() {
        if (controlAddress == 0 && control.capacity() > 0) {
            controlAddress = org.streams4j.internal.Shim.address(control);
        }
        return controlAddress;
    }

    long dataAddress() {
        if (dataAddress == 0 && data.capacity() > 0) {
            dataAddress = org.streams4j.internal.Shim.address(data);
        }
        return dataAddress;
    }

    void filled(int controlLength, int dataLength, int band, boolean high, boolean moreControl, boolean moreData) {
        this.hasControl = controlLength >= 0;
        this.hasData = dataLength >= 0;
        control.clear().limit(Math.max(0, controlLength));
        data.clear().limit(Math.max(0, dataLength));
        this.band = band;
        this.high = high;
        this.moreControl = moreControl;
        this.moreData = moreData;
        this.end = false;
    }

    /** The end of the stream: no message, no part. */
    void ended() {
        filled(-1, -1, 0, false, false, false);
        end = true;
    }
}
