/*
 * portable.c: the AF_UNIX backend for Linux, macOS and the BSDs, keeping the
 * STREAMS contract: socketpair for pipe, SCM_RIGHTS with one data byte for
 * I_SENDFD/I_RECVFD, SO_PEERCRED or getpeereid for getpeerucred, and a
 * listening socket at a path for an attached connld pipe.  On illumos and
 * Solaris this file compiles to nothing.
 */
#include "shim_internal.h"

#if !defined(__sun)

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/un.h>
#if defined(__APPLE__) || defined(__FreeBSD__)
#include <sys/ucred.h>
#endif

#if defined(__linux__)
#include <sys/ioctl.h>
#include <linux/sockios.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#endif

#include "streams4j.h"

#if defined(MSG_NOSIGNAL)
#define	S4J_MSG_NOSIGNAL	MSG_NOSIGNAL
#else
#define	S4J_MSG_NOSIGNAL	0
#endif

#if defined(MSG_CMSG_CLOEXEC)
#define	S4J_MSG_CLOEXEC		MSG_CMSG_CLOEXEC
#else
#define	S4J_MSG_CLOEXEC		0
#endif

/*
 * Room for every descriptor one message can carry (Linux SCM_MAX_FD), with
 * one int left in the caller's array for the -1 after the last.
 */
#define	S4J_MAX_FDS		(S4J_RECV_FDS - 1)

/* SOCK_STREAM, or SOCK_SEQPACKET for S4J_SOCK_MESSAGES (messages kept whole). */
static int
sock_type(int flags)
{
	return ((flags & S4J_SOCK_MESSAGES) != 0 ? SOCK_SEQPACKET : SOCK_STREAM);
}

int
s4j_pipe(int fds[2], int flags)
{
#if defined(SOCK_CLOEXEC)
	return (socketpair(AF_UNIX, sock_type(flags) | SOCK_CLOEXEC, 0, fds) < 0 ?
	    -errno : 0);
#else
	int err;

	if (socketpair(AF_UNIX, sock_type(flags), 0, fds) < 0)
		return (-errno);
	if ((err = set_cloexec(fds[0])) != 0 ||
	    (err = set_cloexec(fds[1])) != 0) {
		(void) close(fds[0]);
		(void) close(fds[1]);
		return (err);
	}
	return (0);
#endif
}

int
s4j_sendfd(int fd, int passfd)
{
	struct msghdr msg;
	struct iovec iov;
	struct cmsghdr *cm;
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof (int))];
	} ctl;
	char byte = 0;
	ssize_t n;

	(void) memset(&msg, 0, sizeof (msg));
	(void) memset(&ctl, 0, sizeof (ctl));
	iov.iov_base = &byte;
	iov.iov_len = 1;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = ctl.buf;
	msg.msg_controllen = sizeof (ctl.buf);
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof (int));
	(void) memcpy(CMSG_DATA(cm), &passfd, sizeof (int));
	do {
		n = sendmsg(fd, &msg, S4J_MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	return (n < 0 ? -errno : 0);
}

/* The byte at offset at of the iovecs (at < the bytes they hold). */
static unsigned char
iov_byte(const struct iovec *iov, int iovcnt, long at)
{
	int i;

	for (i = 0; i < iovcnt; i++) {
		if ((size_t)at < iov[i].iov_len)
			return (((const unsigned char *)iov[i].iov_base)[at]);
		at -= (long)iov[i].iov_len;
	}
	return (0xff);
}

/*
 * recvmsg into buf; the descriptors that came with the data are stored at
 * passed (S4J_RECV_FDS ints): the first, the one the contract passes, in
 * passed[0] (else -1), any others after it, then -1.  None is closed here:
 * the last close of a descriptor a peer made can block (a TCP socket
 * lingering towards a reader that never reads: tcp_close,
 * sk_stream_wait_close), so the caller closes them where that is harmless.
 * The control buffer holds as many as one message can carry (SCM_MAX_FD),
 * so the kernel has none to drop, which it would close in this call.
 *
 * A descriptor travels with the last bytes a recvmsg returns (Linux
 * unix_stream_read_generic stops after the message that carries it).
 * s4j_sendfd's carrier is one NUL byte: with strip, a final NUL that came
 * with a descriptor is taken as that carrier and not returned.  Any other
 * byte that came with one is data (a peer that is not streams4j sending
 * "abc" and a descriptor in one message): returned, never dropped.
 */
static long
recv_iov(int fd, const struct iovec *iov, int iovcnt, int *passed, int flags)
{
	struct msghdr msg;
	struct cmsghdr *cm;
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(S4J_MAX_FDS * sizeof (int))];
	} ctl;
	ssize_t n;
	int i, nfd, got, k;

	passed[0] = -1;
	(void) memset(&msg, 0, sizeof (msg));
	msg.msg_iov = (struct iovec *)iov;
	msg.msg_iovlen = iovcnt;
	msg.msg_control = ctl.buf;
	msg.msg_controllen = sizeof (ctl.buf);
	do {
		n = recvmsg(fd, &msg, S4J_MSG_CLOEXEC | flags);
	} while (n < 0 && errno == EINTR);
	/*
	 * ECONNRESET: the peer closed with data of ours unread.  What was
	 * queued for us has been read by now; a STREAMS pipe reads end of file.
	 */
	if (n < 0 && errno == ECONNRESET)
		return (0);
	if (n < 0)
		return (-errno);
	k = 0;
	for (cm = CMSG_FIRSTHDR(&msg); cm != NULL; cm = CMSG_NXTHDR(&msg, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		nfd = (int)((cm->cmsg_len - CMSG_LEN(0)) / sizeof (int));
		for (i = 0; i < nfd && k < S4J_MAX_FDS; i++) {
			(void) memcpy(&got, CMSG_DATA(cm) + i * sizeof (int),
			    sizeof (int));
			/*
			 * Without MSG_CMSG_CLOEXEC: F_SETFD on a descriptor
			 * just received cannot fail (only EBADF).
			 */
			if (S4J_MSG_CLOEXEC == 0)
				(void) set_cloexec(got);
			passed[k++] = got;
		}
	}
	/* k <= S4J_MAX_FDS: the buffer holds no more, so -1 always fits. */
	passed[k] = -1;
	return ((long)n);
}

static long
recv_strip(int fd, const struct iovec *iov, int iovcnt, int *passed,
    int flags)
{
	long n = recv_iov(fd, iov, iovcnt, passed, flags);

	if (n > 0 && passed[0] >= 0 && iov_byte(iov, iovcnt, n - 1) == 0)
		n--;
	return (n);
}

static long
recv_with_fd(int fd, char *buf, long len, int *passed)
{
	struct iovec iov;

	iov.iov_base = buf;
	iov.iov_len = (size_t)len;
	return (recv_iov(fd, &iov, 1, passed, 0));
}

long
s4j_recv(int fd, void *buf, long off, long len, int *passed)
{
	struct iovec iov;
	long n;

	iov.iov_base = (char *)buf + off;
	iov.iov_len = (size_t)len;
	n = recv_strip(fd, &iov, 1, passed, 0);

	/* A received file, FIFO or tty is no socket: read it as it is. */
	if (n == -ENOTSOCK)
		n = s4j_read(fd, buf, off, len);
	return (n);
}

long
s4j_recv_nb(int fd, void *buf, long off, long len, int *passed)
{
	struct iovec iov;

	iov.iov_base = (char *)buf + off;
	iov.iov_len = (size_t)len;
	/* -ENOTSOCK for a file, FIFO or tty: the caller polls, then reads. */
	return (recv_strip(fd, &iov, 1, passed, MSG_DONTWAIT));
}

long
s4j_write_nb(int fd, const void *buf, long off, long len)
{
	ssize_t n;

	if (len <= 0)
		return (-EINVAL);
	do {
		n = send(fd, (const char *)buf + off, (size_t)len,
		    MSG_DONTWAIT | S4J_MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	return (n < 0 ? -errno : (long)n);
}

long
s4j_msg_peek(int fd, void *buf, long len, int flags, int *fds)
{
	struct msghdr msg;
	char one;
	struct iovec iov;
	ssize_t n;

	*fds = 0;
	if (len < 0 || (buf == NULL && len > 0))
		return (-EINVAL);
	(void) memset(&msg, 0, sizeof (msg));
	/*
	 * No room for control data: MSG_TRUNC makes recvmsg return the
	 * message's whole length (unix_dgram_recvmsg), MSG_PEEK leaves it
	 * queued, and descriptors that travel with it come back as MSG_CTRUNC
	 * without being installed (scm_recv with no control buffer drops the
	 * references the peek took, never the queued message's).  A socket
	 * with SO_PASSCRED would report MSG_CTRUNC too: the shim sets none.
	 */
	iov.iov_base = len > 0 ? buf : &one;
	iov.iov_len = len > 0 ? (size_t)len : 1;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	do {
		n = recvmsg(fd, &msg, MSG_PEEK | MSG_TRUNC |
		    ((flags & S4J_MSG_PEEK_NB) != 0 ? MSG_DONTWAIT : 0));
	} while (n < 0 && errno == EINTR);
	if (n < 0 && errno == ECONNRESET)
		return (0);
	if (n < 0)
		return (-errno);
	if ((msg.msg_flags & MSG_CTRUNC) != 0)
		*fds = 1;
	return ((long)n);
}

int
s4j_peer_cred(int fd, int cred[4])
{
#if defined(SO_PEERCRED) && defined(__linux__)
	struct ucred uc;
	socklen_t len = sizeof (uc);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) < 0)
		return (-errno);
	cred[S4J_CRED_UID] = (int)uc.uid;
	cred[S4J_CRED_GID] = (int)uc.gid;
	cred[S4J_CRED_PID] = (int)uc.pid;
#else
	uid_t uid;
	gid_t gid;

	if (getpeereid(fd, &uid, &gid) < 0)
		return (-errno);
	cred[S4J_CRED_UID] = (int)uid;
	cred[S4J_CRED_GID] = (int)gid;
	cred[S4J_CRED_PID] = -1;
#if defined(LOCAL_PEERPID)
	{
		pid_t pid;
		socklen_t len = sizeof (pid);

		if (getsockopt(fd, SOL_LOCAL, LOCAL_PEERPID, &pid, &len) == 0)
			cred[S4J_CRED_PID] = (int)pid;
	}
#endif
#endif
	cred[S4J_CRED_ZONE] = -1;
	return (0);
}

int
s4j_recvfd(int fd, int cred[4], int *data, int *others)
{
	char byte;
	int i, err;
	long n;

	*data = -1;
	/* Received straight into others: on success the first is taken out. */
	n = recv_with_fd(fd, &byte, 1, others);
	if (n < 0)
		return ((int)n);
	if (n == 0)
		return (-ENXIO);	/* hang-up, as I_RECVFD reports it */
	if (others[0] < 0 || byte != 0) {
		/*
		 * Data came first: EBADMSG, the byte handed back to be read.  A
		 * descriptor that came with a data byte (not s4j_sendfd's NUL
		 * carrier) is not returned: the stream keeps its bytes, the
		 * caller closes that one (it is in others).
		 */
		*data = (unsigned char)byte;
		return (-EBADMSG);
	}
	if (cred != NULL && (err = s4j_peer_cred(fd, cred)) != 0)
		return (err);	/* every descriptor stays in others */
	n = others[0];
	for (i = 0; others[i] >= 0; i++)
		others[i] = others[i + 1];
	return ((int)n);
}

static int
fill_addr(struct sockaddr_un *sa, const char *path)
{
	size_t len = strlen(path);

	(void) memset(sa, 0, sizeof (*sa));
	sa->sun_family = AF_UNIX;
	if (len == 0)
		return (-ENOENT);
	if (len >= sizeof (sa->sun_path))
		return (-ENAMETOOLONG);
	(void) memcpy(sa->sun_path, path, len + 1);
	return (0);
}

static int
unix_socket(int flags)
{
	int fd;

#if defined(SOCK_CLOEXEC)
	if ((fd = socket(AF_UNIX, sock_type(flags) | SOCK_CLOEXEC, 0)) < 0)
		return (-errno);
#else
	int err;

	if ((fd = socket(AF_UNIX, sock_type(flags), 0)) < 0)
		return (-errno);
	if ((err = set_cloexec(fd)) != 0) {
		(void) close(fd);
		return (err);
	}
#endif
	return (fd);
}

int
s4j_unix_bind(const char *path, int flags)
{
	struct sockaddr_un sa;
	int fd, err;

	if ((err = fill_addr(&sa, path)) != 0)
		return (err);
	if ((fd = unix_socket(flags)) < 0)
		return (fd);
	if (bind(fd, (struct sockaddr *)&sa, sizeof (sa)) < 0) {
		err = -errno;
		(void) close(fd);
		return (err);
	}
	return (fd);
}

int
s4j_unix_listen(int fd, int backlog)
{
	return (listen(fd, backlog) < 0 ? -errno : 0);
}

int
s4j_unix_accept(int fd)
{
	int c;

#if defined(__linux__) || defined(__FreeBSD__)
	do {
		c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
	} while (c < 0 && errno == EINTR);
	return (c < 0 ? -errno : c);
#else
	int err;

	do {
		c = accept(fd, NULL, NULL);
	} while (c < 0 && errno == EINTR);
	if (c < 0)
		return (-errno);
	/* accept(2) here may inherit O_NONBLOCK from the listener: clear it. */
	if ((err = set_cloexec(c)) != 0 ||
	    (err = s4j_set_nonblocking(c, 0)) != 0) {
		(void) close(c);
		return (err);
	}
	return (c);
#endif
}

int
s4j_unix_connect(const char *path, int flags)
{
	struct sockaddr_un sa;
	int fd, err, r;

	if ((err = fill_addr(&sa, path)) != 0)
		return (err);
	if ((fd = unix_socket(flags)) < 0)
		return (fd);
	r = connect(fd, (struct sockaddr *)&sa, sizeof (sa));
	/* An interrupted connect goes on in the background: not retried. */
	if (r < 0) {
		err = -errno;
		(void) close(fd);
		return (err);
	}
	return (fd);
}

int
s4j_unix_connect_nb(const char *path, int flags, int *pending)
{
	struct sockaddr_un sa;
	int fd, err, r;

	*pending = 0;
	if ((err = fill_addr(&sa, path)) != 0)
		return (err);
	if ((fd = unix_socket(flags)) < 0)
		return (fd);
	if ((err = s4j_set_nonblocking(fd, 1)) != 0) {
		(void) close(fd);
		return (err);
	}
	/*
	 * Linux answers at once: connected, or EAGAIN while the listener's
	 * backlog is full (unix_stream_connect).  Elsewhere EINPROGRESS may
	 * come: the caller polls for POLLOUT, then asks s4j_socket_error.
	 */
	r = connect(fd, (struct sockaddr *)&sa, sizeof (sa));
	if (r < 0 && errno == EINPROGRESS) {
		*pending = 1;
		return (fd);
	}
	if (r < 0) {
		err = -errno;
		(void) close(fd);
		return (err);
	}
	if ((err = s4j_set_nonblocking(fd, 0)) != 0) {
		(void) close(fd);
		return (err);
	}
	return (fd);
}

int
s4j_socket_error(int fd)
{
	int err = 0;
	socklen_t len = sizeof (err);

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		return (-errno);
	return (-err);
}

long
s4j_recvv(int fd, const void *iov, int iovcnt, int *passed)
{
	long n;

	if (iovcnt <= 0 || iov == NULL) {
		*passed = -1;
		return (-EINVAL);
	}
	n = recv_strip(fd, iov, iovcnt, passed, 0);
	/* A received file, FIFO or tty is no socket: read it as it is. */
	if (n == -ENOTSOCK) {
		do {
			n = readv(fd, iov, iovcnt);
		} while (n < 0 && errno == EINTR);
		if (n < 0)
			n = -errno;
	}
	return (n);
}

int
s4j_peer_cred_groups(int fd, int cred[4], int *groups, int max)
{
	int err;
#if defined(SO_PEERGROUPS) && defined(__linux__)
	socklen_t len;
#endif

	if (max < 0)
		return (-EINVAL);
	if ((err = s4j_peer_cred(fd, cred)) != 0)
		return (err);
#if defined(SO_PEERGROUPS) && defined(__linux__)
	/*
	 * Linux 4.13+: the supplementary groups of the peer's credentials as
	 * connect(2) or socketpair(2) recorded them, as gid_t (an unsigned
	 * int: stored straight into groups).  Too little room gives ERANGE
	 * with len set to what is needed; an older kernel ENOPROTOOPT.
	 */
	_Static_assert(sizeof (gid_t) == sizeof (int), "gid_t is an int");
	len = (socklen_t)((size_t)max * sizeof (gid_t));
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0 &&
	    errno != ERANGE)
		return (0);
	return ((int)(len / sizeof (gid_t)));
#else
	(void) groups;
	return (0);
#endif
}

int
s4j_unix_listening(const char *path)
{
#if defined(__linux__)
	/*
	 * sock_diag (NETLINK_SOCK_DIAG, unix_diag.c): the AF_UNIX sockets of
	 * this network namespace in the listening state, each with the device
	 * and inode of the file it is bound to (UDIAG_SHOW_VFS; the device as
	 * the kernel keeps it, major << 20 | minor).  Nobody is connected to.
	 */
	struct {
		struct nlmsghdr nlh;
		struct unix_diag_req req;
	} q;
	struct stat st;
	char buf[16384];
	unsigned long kdev;
	int nl, found = 0, done = 0, err = 0;
	ssize_t n;

	if (lstat(path, &st) != 0)
		return (-errno);
	if (!S_ISSOCK(st.st_mode))
		return (0);
	kdev = ((unsigned long)major(st.st_dev) << 20) |
	    (unsigned long)minor(st.st_dev);
	if ((nl = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC,
	    NETLINK_SOCK_DIAG)) < 0)
		return (-errno);
	(void) memset(&q, 0, sizeof (q));
	q.nlh.nlmsg_len = sizeof (q);
	q.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	q.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	q.req.sdiag_family = AF_UNIX;
	q.req.udiag_states = 1 << 10;	/* TCP_LISTEN */
	q.req.udiag_show = UDIAG_SHOW_VFS;
	if (send(nl, &q, sizeof (q), 0) < 0) {
		err = -errno;
		(void) close(nl);
		return (err);
	}
	while (!done) {
		struct nlmsghdr *h;

		do {
			n = recv(nl, buf, sizeof (buf), 0);
		} while (n < 0 && errno == EINTR);
		if (n <= 0) {
			err = n < 0 ? -errno : -EIO;
			break;
		}
		for (h = (struct nlmsghdr *)(void *)buf; NLMSG_OK(h, (size_t)n);
		    h = NLMSG_NEXT(h, n)) {
			struct unix_diag_msg *d;
			struct rtattr *a;
			int len;

			if (h->nlmsg_type == NLMSG_DONE) {
				done = 1;
				break;
			}
			if (h->nlmsg_type == NLMSG_ERROR) {
				err = -EOPNOTSUPP;
				done = 1;
				break;
			}
			d = NLMSG_DATA(h);
			len = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof (*d)));
			for (a = (struct rtattr *)(void *)(d + 1); RTA_OK(a, len);
			    a = RTA_NEXT(a, len)) {
				struct unix_diag_vfs v;

				if (a->rta_type != UNIX_DIAG_VFS ||
				    RTA_PAYLOAD(a) < sizeof (v))
					continue;
				(void) memcpy(&v, RTA_DATA(a), sizeof (v));
				if (v.udiag_vfs_ino == (unsigned int)st.st_ino &&
				    v.udiag_vfs_dev == (unsigned int)kdev)
					found = 1;
			}
		}
	}
	(void) close(nl);
	return (err != 0 ? err : found);
#else
	(void) path;
	return (-EOPNOTSUPP);
#endif
}

int
s4j_shutdown_write(int fd)
{
	return (shutdown(fd, SHUT_WR) != 0 ? -errno : 0);
}

int
s4j_unread(int fd)
{
#if defined(__linux__) && defined(SIOCOUTQ)
	int n = 0;

	/* unix_ioctl SIOCOUTQ: unix_outq_len, sk_wmem_alloc of this end. */
	if (ioctl(fd, SIOCOUTQ, &n) < 0)
		return (-errno);
	return (n);
#else
	(void) fd;
	return (-ENOTSUP);
#endif
}

#endif /* !__sun */
