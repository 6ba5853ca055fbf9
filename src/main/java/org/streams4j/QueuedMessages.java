package org.streams4j;

/**
 * What waits at a stream head ({@code I_NREAD}).
 *
 * @param messages how many messages are queued
 * @param firstDataBytes the data bytes of the first one (0 when none is queued)
 */
public record QueuedMessages(int messages, int firstDataBytes) {
}
