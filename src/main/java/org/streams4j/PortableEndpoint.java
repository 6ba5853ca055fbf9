package org.streams4j;

import java.lang.System.Logger.Level;
import org.streams4j.internal.FileStat;
import org.streams4j.internal.PortableShim;

/** The portable backend's bound path: the listening socket, its private directory, and the removal at close. */
final class PortableEndpoint extends Transport.Endpoint {
    private final String path;
    private final String name;
    private final StreamFd dir;
    private final StreamFd listen;
    private final FileStat socket;

    PortableEndpoint(String path, String name, StreamFd dir, StreamFd listen, FileStat socket) {
        this.path = path;
        this.name = name;
        this.dir = dir;
        this.listen = listen;
        this.socket = socket;
    }

    @Override
    StreamFd acceptFd() {
        return listen;
    }

    @Override
    boolean blockingAccept() {
        return PortableTransport.CLOSE_WAKES_ACCEPT;
    }

    @Override
    Transport.Accepted accept(boolean needPeer) throws StreamsException {
        int fd = listen.descriptor().use("accept", PortableShim::s4j_unix_accept);
        if (fd == -Errno.EAGAIN || fd == -Errno.EINTR || fd == -Errno.ECONNABORTED) {
            return null;
        }
        if (fd < 0) {
            if (!listen.isOpen()) {
                throw new StreamClosedException("accept", listen.name());
            }
            throw new StreamsException("accept", listen.name(), -fd);
        }
        // A client may have queued descriptors on the socket already: its
        // close is the Closer's (StreamFd.adoptFromPeer).
        StreamFd s = StreamFd.adoptFromPeer(fd);
        // SO_PEERCRED/getpeereid keep what connect(2) recorded: asked for
        // now only for an allow list, else when the application calls peer().
        return new Transport.Accepted(s, needPeer ? Transport.peerOr(s, new PeerCredentials(-1, -1, -1, -1)) : null, null);
    }

    @Override
    void close() {
        // The path first, if it still is our socket (a new server's is
        // never ours): no client connects to a closing server. Under the
        // path's lock, as on STREAMS; without it, the socket is left for
        // the next bind to replace.
        try (BindLock lock = BindLock.acquire(dir, "close", path, name, BindLock.WAIT)) {
            Transport.removeIfSame(dir, name, socket);
        } catch (StreamsException e) {
            PortableTransport.LOG.log(Level.DEBUG, "close of {0} left its socket: {1}", path, e.getMessage());
        }
        listen.close();
        dir.close();
    }
}
