package org.streams4j;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Locale;
import java.util.Set;

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
     * The sender's effective uid. On STREAMS, that of the process that passed
     * this descriptor ({@code I_RECVFD}'s {@code strrecvfd}). On the portable
     * backend, that of the connection's peer as the kernel recorded it at
     * {@code connect(2)} or {@code socketpair(2)} ({@code SO_PEERCRED},
     * {@code getpeereid}), the same for every descriptor on the connection:
     * the sender, unless the peer has handed its end to another process or
     * changed its ids since.
     *
     * @return a uid
     */
    public int uid() {
        return uid;
    }

    /**
     * The sender's effective gid, known as {@link #uid()} is.
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
     * A {@link FileChannel} of its own on the received file, for reading,
     * independent of this descriptor: {@link #openFileChannel(OpenOption...)}
     * with {@code READ}.
     *
     * @return a new FileChannel for reading
     * @throws StreamsException EINVAL when the received descriptor is not a regular file, or
     *     {@code StreamClosedException} when it is closed
     * @throws IOException when the file cannot be opened again (e.g. {@code AccessDeniedException})
     */
    public FileChannel openFileChannel() throws IOException {
        return openFileChannel(StandardOpenOption.READ);
    }

    /**
     * A {@link FileChannel} of its own on the received file, with these
     * options ({@code READ}, {@code WRITE}, {@code APPEND}, {@code SYNC},
     * {@code DSYNC}, {@code TRUNCATE_EXISTING}; none means {@code READ}),
     * independent of this descriptor: its own file offset, and open after
     * this descriptor is closed. It opens {@code /proc/self/fd/N} again,
     * which on Linux and on illumos (procfs {@code pr_lookup_fddir} hands out
     * the file's vnode, which open opens afresh) is a new open of the same
     * file, with the permissions checked again for this process: a file the
     * sender could open and this process may not is refused
     * ({@code AccessDeniedException}). Elsewhere {@code /dev/fd/N} is used,
     * which on macOS and the BSDs (as fdfs on illumos) is a {@code dup}: the
     * offset is shared there, and the access is the received descriptor's.
     *
     * @param options how to open it; {@code CREATE}, {@code CREATE_NEW} and {@code DELETE_ON_CLOSE} are refused
     * @return a new FileChannel
     * @throws StreamsException EINVAL when the received descriptor is not a regular file, or
     *     {@code StreamClosedException} when it is closed
     * @throws IOException when the file cannot be opened again (e.g. {@code AccessDeniedException})
     * @throws IllegalArgumentException for an option that would create or delete a file
     */
    public FileChannel openFileChannel(OpenOption... options) throws IOException {
        Set<OpenOption> opts = new HashSet<>(Arrays.asList(options));
        for (OpenOption o : opts) {
            if (o == StandardOpenOption.CREATE || o == StandardOpenOption.CREATE_NEW
                || o == StandardOpenOption.DELETE_ON_CLOSE) {
                throw new IllegalArgumentException("openFileChannel: " + o + " makes no sense for a file that exists"
                    + " and was passed");
            }
        }
        if (opts.isEmpty()) {
            opts.add(StandardOpenOption.READ);
        }
        if (fd.fileType() != FileType.REGULAR) {
            throw new StreamsException("openFileChannel", fd.name(), Errno.EINVAL,
                "not a regular file");
        }
        String os = System.getProperty("os.name").toLowerCase(Locale.ROOT);
        boolean procfs = os.contains("linux") || os.contains("sunos");
        // Holding a use count: the number cannot be closed and reused meanwhile.
        return fd.descriptor().withQuick("openFileChannel", n -> FileChannel.open(
            Path.of(procfs ? "/proc/self/fd" : "/dev/fd", Integer.toString(n)), opts));
    }

    /**
     * Closes the descriptor ({@link StreamFd#close()}): on this thread, as the
     * JDK's channels close, unless this is one of the library's threads (an
     * event loop, a handler {@code serve} runs), where it goes to a closer
     * thread, since its sender decides how long its last close takes.
     */
    @Override
    public void close() {
        fd.close();
    }

    @Override
    public String toString() {
        return "ReceivedFd[" + fd + " from uid=" + uid + " gid=" + gid + "]";
    }
}
