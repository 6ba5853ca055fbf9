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
     * A {@link FileChannel} of its own on the received file, independent of
     * this descriptor: its own file offset, and open after this descriptor is
     * closed. It reopens {@code /proc/self/fd/N} for reading, which on Linux
     * and on illumos (procfs {@code pr_lookup_fddir} hands out the file's vnode, which open
     * opens afresh) is a new open of the same file. Elsewhere
     * {@code /dev/fd/N} is used, which on macOS and the BSDs (as fdfs on
     * illumos) is a {@code dup}: the offset is shared there.
     *
     * @return a new FileChannel for reading
     * @throws StreamsException EINVAL when the received descriptor is not a regular file
     */
    public FileChannel openFileChannel() throws IOException {
        if (fd.fileType() != FileType.REGULAR) {
            throw new StreamsException("openFileChannel", fd.name(), Errno.EINVAL,
                "not a regular file");
        }
        String os = System.getProperty("os.name").toLowerCase(Locale.ROOT);
        boolean procfs = os.contains("linux") || os.contains("sunos");
        // Holding a use count: the number cannot be closed and reused meanwhile.
        return fd.descriptor().withQuick("openFileChannel", n -> FileChannel.open(
            Path.of(procfs ? "/proc/self/fd" : "/dev/fd", Integer.toString(n)), StandardOpenOption.READ));
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
