package org.streams4j;

/**
 * A module's answer to {@link StreamMessages#ioctl} ({@code I_STR}).
 *
 * @param value what the ioctl returned (the module's {@code ioc_rval}, 0 or more)
 * @param data the bytes the module sent back ({@code ic_len} of them)
 */
public record IoctlAnswer(int value, byte[] data) {
}
