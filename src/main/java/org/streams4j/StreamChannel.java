package org.streams4j;

import java.nio.channels.ByteChannel;
import java.nio.channels.GatheringByteChannel;
import java.nio.channels.ScatteringByteChannel;

/**
 * The channel of a {@link StreamFd} or {@link Connection}: reads and writes
 * heap, direct and read-only buffers (read-only ones as sources only), and
 * arrays of them with one {@code readv(2)}/{@code writev(2)}. Closing it
 * closes the descriptor. Blocking; thread-safe as {@link StreamFd} is.
 */
public interface StreamChannel extends ByteChannel, ScatteringByteChannel, GatheringByteChannel {
}
