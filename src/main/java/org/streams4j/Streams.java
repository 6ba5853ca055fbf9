package org.streams4j;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.streams4j.internal.PortableShim;
import org.streams4j.internal.Shim;
import org.streams4j.internal.StreamsShim;

/** Names in the file system: fattach, fdetach and whether a path has a stream attached. */
public final class Streams {
    private Streams() {
    }

    /**
     * {@code fattach(3C)}: attaches a STREAMS descriptor to an existing path.
     * STREAMS only.
     *
     * @param fd a STREAMS descriptor
     * @param path an existing path this process owns
     * @throws StreamsException e.g. {@code fattach /run/x: EBUSY (already attached)}
     */
    public static void fattach(StreamFd fd, Path path) throws StreamsException {
        String p = path.toString();
        if (!Platform.supportsFattach()) {
            throw new UnsupportedPlatformException("fattach", p);
        }
        int r = fd.withFd("fattach", n -> StreamsShim.s4j_fattach(n, p));
        if (r < 0) {
            throw new StreamsException("fattach", p, -r);
        }
    }

    /**
     * {@code fattach} that hands back an {@link Attachment}, which detaches on close.
     *
     * @param fd a STREAMS descriptor
     * @param path an existing path this process owns
     * @return the attachment
     * @throws StreamsException as {@link #fattach}
     */
    public static Attachment attach(StreamFd fd, Path path) throws StreamsException {
        fattach(fd, path);
        return new Attachment(path);
    }

    /**
     * {@code fdetach(3C)}: removes the stream attached at the path. STREAMS only.
     *
     * @param path an attached path
     * @throws StreamsException e.g. EINVAL when nothing is attached there
     */
    public static void fdetach(Path path) throws StreamsException {
        String p = path.toString();
        if (!Platform.supportsFattach()) {
            throw new UnsupportedPlatformException("fdetach", p);
        }
        int r = StreamsShim.s4j_fdetach(p);
        if (r < 0) {
            throw new StreamsException("fdetach", p, -r);
        }
    }

    /**
     * Whether a server is attached at the path. STREAMS: the path is on namefs
     * (a stream is fattach-ed there). Portable: a socket is there and accepts
     * a connection (the probe connects and closes at once).
     *
     * @param path a path
     * @return true when a server is attached there
     * @throws StreamsException when the path cannot be examined (e.g. EACCES)
     */
    public static boolean isAttached(Path path) throws StreamsException {
        String p = path.toString();
        if (Platform.supportsFattach()) {
            byte[] name = new byte[32];
            int r = StreamsShim.s4j_fstype(p, name, name.length);
            if (r == -Errno.ENOENT || r == -Errno.ENOTDIR) {
                return false;   // as on the portable backend: nothing can be attached there
            }
            if (r < 0) {
                throw new StreamsException("statvfs", p, -r);
            }
            int n = 0;
            while (n < name.length && name[n] != 0) {
                n++;
            }
            return "namefs".equals(new String(name, 0, n, StandardCharsets.US_ASCII));
        }
        int type = Shim.s4j_path_type(p);
        if (type == -Errno.ENOENT || type == -Errno.ENOTDIR) {
            return false;
        }
        if (type < 0) {
            throw new StreamsException("lstat", p, -type);
        }
        if (type != Shim.FT_SOCKET) {
            return false;
        }
        int fd = PortableShim.s4j_unix_connect(p);
        if (fd < 0) {
            return false;
        }
        Shim.s4j_close(fd);
        return true;
    }
}
