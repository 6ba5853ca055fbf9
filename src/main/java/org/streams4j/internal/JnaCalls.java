package org.streams4j.internal;

/** {@link HotCalls} through JNA's direct mapping: {@link Shim}'s native methods. */
final class JnaCalls implements HotCalls {
    static final JnaCalls INSTANCE = new JnaCalls();

    private JnaCalls() {
    }

    @Override
    public String name() {
        return "jna";
    }

    @Override
    public long write(int fd, long buf, long off, long len) {
        return Shim.s4j_write(fd, buf, off, len);
    }

    @Override
    public long recv(int fd, long buf, long off, long len, long passed) {
        return Shim.s4j_recv(fd, buf, off, len, passed);
    }

    @Override
    public long recvNb(int fd, long buf, long off, long len, long passed) {
        return Shim.s4j_recv_nb(fd, buf, off, len, passed);
    }

    @Override
    public long writeNb(int fd, long buf, long off, long len) {
        return Shim.s4j_write_nb(fd, buf, off, len);
    }

    @Override
    public long exchange(int fd, long wbuf, long woff, long wlen, long rbuf, long roff, long rlen,
        long written, long passed) {
        return Shim.s4j_exchange(fd, wbuf, woff, wlen, rbuf, roff, rlen, written, passed);
    }

    @Override
    public long writev(int fd, long iov, int iovcnt) {
        return Shim.s4j_writev(fd, iov, iovcnt);
    }

    @Override
    public long recvv(int fd, long iov, int iovcnt, long passed) {
        return Shim.s4j_recvv(fd, iov, iovcnt, passed);
    }

    @Override
    public int poll(int fd, int events, int timeoutMs) {
        return Shim.s4j_poll(fd, events, timeoutMs);
    }

    @Override
    public int sendfd(int fd, int passfd) {
        return Shim.s4j_sendfd(fd, passfd);
    }

    @Override
    public int recvfd(int fd, long cred, long data, long others) {
        return Shim.s4j_recvfd(fd, cred, data, others);
    }

    @Override
    public int pollMany(long fds, int n, int timeoutMs) {
        return Shim.s4j_poll_many(fds, n, timeoutMs);
    }

    @Override
    public int evWait(int ep, long arm, int narm, long out, int max, int timeoutMs) {
        return Shim.s4j_ev_wait(ep, arm, narm, out, max, timeoutMs);
    }

    @Override
    public int evCtl(int ep, int op, int fd, int events, long token) {
        return Shim.s4j_ev_ctl(ep, op, fd, events, token);
    }

    @Override
    public int close(int fd) {
        return Shim.s4j_close(fd);
    }
}
