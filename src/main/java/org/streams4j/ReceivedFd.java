package org.streams4j;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Locale;

/** A descriptor received over a stream ({@code I_RECVFD}), with the sender's uid and gid. */
public final class ReceivedFd implements Closeable {
    private final StreamFd fd;
    private final int uid;
    private final int gid;

    ReceivedFd(StreamFd fd, int uid, int gid) {
        this.fd = fd;
        this.uid = uid;
        this.gid = gid;
    }

    /**
     * The received descriptor; owned by this object (closing either closes it).
     *
     * @return its StreamFd
     */
    public StreamFd fd() {
        return fd;
    }

    /**
     * The sender's effective uid.
     *
     * @return a uid
     */
    public int uid() {
        return uid;
    }

    /**
     * The sender's effective gid.
     *
     * @return a gid
     */
    public int gid() {
        return gid;
    }

    /**
     * Reads the received descriptor (pipe, socket, file at its current offset).
     *
     * @return an InputStream; closing it closes the descriptor
     */
    public InputStream inputStream() {
        return fd.inputStream();
    }

    /**
     * A FileChannel on the same file, for a received regular file: opened
     * through {@code /dev/fd/N} (illumos, macOS, BSD) or {@code /proc/self/fd/N}
     * (Linux). Independent of this descriptor, which stays open.
     *
     * @return a new FileChannel for reading
     * @throws IOException EINVAL when the descriptor is not a regular file; what opening it fails with
     */
    public FileChannel openFileChannel() throws IOException {
        if (fd.fileType() != FileType.REGULAR) {
            throw new StreamsException("openFileChannel", fd.name(), Errno.EINVAL,
                "not a regular file");
        }
        boolean linux = System.getProperty("os.name").toLowerCase(Locale.ROOT).contains("linux");
        Path p = Path.of(linux ? "/proc/self/fd" : "/dev/fd", Integer.toString(fd.fd()));
        return FileChannel.open(p, StandardOpenOption.READ);
    }

    @Override
    public void close() {
        fd.close();
    }

    @Override
    public String toString() {
        return "ReceivedFd[" + fd + " from uid=" + uid + " gid=" + gid + "]";
    }
}
