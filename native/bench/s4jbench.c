/*
 * s4jbench: the C column of scripts/bench.
 *
 * Each metric does the work the streams4j benchmark of the same name does,
 * with the system calls the shim makes for it, so that the ratio
 * streams4j/C is what the Java layer (JNA, locks, objects) costs:
 *
 *  illumos, Solaris   pipe(2); I_SENDFD / I_RECVFD; a connld server is
 *                     pipe + I_PUSH "connld" + fattach, accepted with poll +
 *                     I_RECVFD (getpeerucred only on demand, as streams4j);
 *                     a client is lstat (+ statvfs for a FIFO) + open +
 *                     isastream.
 *  elsewhere          socketpair(AF_UNIX); sendmsg/recvmsg with SCM_RIGHTS
 *                     and one data byte, SO_PEERCRED for the sender's ids;
 *                     reads are recvmsg (the shim looks for a descriptor
 *                     travelling with the data); a server is a listening
 *                     socket, accepted with accept (Linux; elsewhere poll
 *                     + accept on a non-blocking socket); a client is
 *                     socket + connect.  (SO_PEERCRED only where streams4j
 *                     asks for it: with descriptors passed.)
 *
 * Usage (scripts/bench runs it; every time in milliseconds):
 *   s4jbench pingpong WARMUP_MS MEASURE_MS
 *   s4jbench message WARMUP_MS MEASURE_MS  (a 64-byte message and its echo:
 *                                        putmsg/getmsg on a STREAMS pipe;
 *                                        send/recv on a SOCK_SEQPACKET
 *                                        socketpair elsewhere)
 *   s4jbench throughput BYTES WARMUPS ITERATIONS [CHUNK]   (CHUNK bytes per
 *                                        write and per read; 65536 if left out)
 *   s4jbench connect PATH WARMUPS ITERATIONS ITERATION_MS
 *   s4jbench fdpass WARMUPS ITERATIONS ITERATION_MS
 *   s4jbench scale-server PATH N        (one thread per connection)
 *   s4jbench scale-server PATH N LOOPS  (LOOPS threads, each waiting on its
 *                                        share with epoll / an event port;
 *                                        elsewhere poll)
 *   s4jbench scale-client PATH N SWEEPS
 *   s4jbench readcost SIZE COUNT        (one thread: SIZE bytes written to one
 *                                        end of a socketpair and read at the
 *                                        other, COUNT times, for each way of
 *                                        reading; ns per write + read, no
 *                                        blocking and no wake-up)
 * Results are printed as one line: NAME key=value ...
 *
 * Plain POSIX plus the STREAMS ioctls; not part of the shim, never built by
 * Maven (make bench).  Every loop is bounded by a count or a time.
 */
#if defined(__linux__)
#define	_GNU_SOURCE
#endif
#if defined(__sun) && !defined(__EXTENSIONS__)
#define	__EXTENSIONS__
#endif

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/un.h>
#if defined(__sun)
#include <port.h>
#include <stropts.h>
#include <sys/statvfs.h>
#endif
#if defined(__linux__)
#include <sys/epoll.h>
#endif

#define	MSG_SIZE	64
#define	CHUNK		(64 * 1024)	/* throughput's default write size */
#define	FD_BATCH	32
#define	MAX_SAMPLES	(20 * 1000 * 1000)

#if defined(MSG_NOSIGNAL)
#define	NOSIGNAL	MSG_NOSIGNAL
#else
#define	NOSIGNAL	0
#endif
#if defined(MSG_CMSG_CLOEXEC)
#define	CMSG_CLOEXEC	MSG_CMSG_CLOEXEC
#else
#define	CMSG_CLOEXEC	0
#endif

static void
die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void) fprintf(stderr, "s4jbench: ");
	(void) vfprintf(stderr, fmt, ap);
	(void) fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
}

static double
now(void)
{
	struct timespec ts;

	(void) clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x < y ? -1 : x > y ? 1 : 0);
}

/* Nearest-rank percentile of a sorted array. */
static double
percentile(const double *v, size_t n, double p)
{
	size_t i;

	if (n == 0)
		return (0);
	i = (size_t)(p / 100.0 * (double)n + 0.999999);
	if (i < 1)
		i = 1;
	if (i > n)
		i = n;
	return (v[i - 1]);
}

static double
median(double *v, size_t n)
{
	qsort(v, n, sizeof (double), cmp_double);
	if (n == 0)
		return (0);
	return (n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2);
}

/* ---- the shim's calls ----------------------------------------------------- */

static int
xpipe(int fds[2])
{
#if defined(__sun)
	if (pipe(fds) != 0)
		return (-1);
	(void) fcntl(fds[0], F_SETFD, FD_CLOEXEC);
	(void) fcntl(fds[1], F_SETFD, FD_CLOEXEC);
	return (0);
#elif defined(SOCK_CLOEXEC)
	return (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds));
#else
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0)
		return (-1);
	(void) fcntl(fds[0], F_SETFD, FD_CLOEXEC);
	(void) fcntl(fds[1], F_SETFD, FD_CLOEXEC);
	return (0);
#endif
}

#if !defined(__sun)
/* The sender's uid, as the portable shim reads it with a received descriptor. */
static int
peer_uid(int fd)
{
#if defined(SO_PEERCRED) && defined(__linux__)
	struct ucred uc;
	socklen_t len = sizeof (uc);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) != 0)
		return (-1);
	return ((int)uc.uid);
#else
	uid_t uid;
	gid_t gid;

	if (getpeereid(fd, &uid, &gid) != 0)
		return (-1);
	return ((int)uid);
#endif
}
#endif

/* One read as s4j_recv does it: recvmsg with room for a descriptor, or read. */
static ssize_t
xread(int fd, void *buf, size_t len)
{
	ssize_t n;
#if defined(__sun)
	do {
		n = read(fd, buf, len);
	} while (n < 0 && errno == EINTR);
#else
	struct msghdr msg;
	struct iovec iov;
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(8 * sizeof (int))];
	} ctl;

	(void) memset(&msg, 0, sizeof (msg));
	iov.iov_base = buf;
	iov.iov_len = len;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = ctl.buf;
	msg.msg_controllen = sizeof (ctl.buf);
	do {
		n = recvmsg(fd, &msg, CMSG_CLOEXEC);
	} while (n < 0 && errno == EINTR);
	if (n > 0 && msg.msg_controllen > 0)
		die("a descriptor came with data");
#endif
	return (n);
}

static ssize_t
xwrite(int fd, const void *buf, size_t len)
{
	ssize_t n;

	do {
		n = write(fd, buf, len);
	} while (n < 0 && errno == EINTR);
	return (n);
}

/* 1 when len bytes were read, 0 at end of stream; dies on errors. */
static int
read_full(int fd, char *buf, size_t len)
{
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		n = xread(fd, buf + got, len - got);
		if (n == 0)
			return (0);
		if (n < 0) {
			if (errno == ECONNRESET || errno == EBADF)
				return (0);
			die("read: %s", strerror(errno));
		}
		got += (size_t)n;
	}
	return (1);
}

/* 1 when written, 0 when the peer is gone. */
static int
write_full(int fd, const char *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		n = xwrite(fd, buf, len);
		if (n < 0) {
			if (errno == EPIPE || errno == ECONNRESET)
				return (0);
			die("write: %s", strerror(errno));
		}
		buf += n;
		len -= (size_t)n;
	}
	return (1);
}

static int
xsendfd(int fd, int passfd)
{
#if defined(__sun)
	struct pollfd p;
	int r;

	/*
	 * I_SENDFD answers EAGAIN while the receiver's queue is full; wait for
	 * room and send again, as StreamFd.sendFd does.
	 */
	for (int tries = 0; tries < 100000; tries++) {
		do {
			r = ioctl(fd, I_SENDFD, passfd);
		} while (r < 0 && errno == EINTR);
		if (r == 0 || errno != EAGAIN)
			return (r);
		p.fd = fd;
		p.events = POLLOUT;
		p.revents = 0;
		if (poll(&p, 1, 100) > 0 && (p.revents & POLLOUT))
			(void) usleep(1000);	/* writable yet EAGAIN: no spinning */
	}
	return (r);
#else
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
		n = sendmsg(fd, &msg, NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	return (n < 0 ? -1 : 0);
#endif
}

/* The received descriptor, or -1 at hang-up (dies on other errors). */
static int
xrecvfd(int fd)
{
#if defined(__sun)
	struct strrecvfd r;
	int err;

	(void) memset(&r, 0, sizeof (r));
	do {
		err = ioctl(fd, I_RECVFD, &r);
	} while (err < 0 && errno == EINTR);
	if (err < 0) {
		if (errno == ENXIO)
			return (-1);
		die("I_RECVFD: %s", strerror(errno));
	}
	(void) fcntl(r.fd, F_SETFD, FD_CLOEXEC);
	return (r.fd);
#else
	struct msghdr msg;
	struct iovec iov;
	struct cmsghdr *cm;
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(8 * sizeof (int))];
	} ctl;
	char byte;
	ssize_t n;
	int got = -1;

	(void) memset(&msg, 0, sizeof (msg));
	iov.iov_base = &byte;
	iov.iov_len = 1;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = ctl.buf;
	msg.msg_controllen = sizeof (ctl.buf);
	do {
		n = recvmsg(fd, &msg, CMSG_CLOEXEC);
	} while (n < 0 && errno == EINTR);
	if (n <= 0)
		return (-1);
	for (cm = CMSG_FIRSTHDR(&msg); cm != NULL; cm = CMSG_NXTHDR(&msg, cm)) {
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
			(void) memcpy(&got, CMSG_DATA(cm), sizeof (int));
	}
	if (got < 0)
		die("recvmsg: data came before a descriptor");
	if (CMSG_CLOEXEC == 0)
		(void) fcntl(got, F_SETFD, FD_CLOEXEC);
	/* The shim reports the sender's ids as I_RECVFD does: SO_PEERCRED. */
	if (peer_uid(fd) < 0)
		die("peer credentials: %s", strerror(errno));
	return (got);
#endif
}

/* ---- connld server and client ---------------------------------------------- */

struct server {
	int accept_fd;		/* pipe end for I_RECVFD, or the listener */
	int attached_fd;	/* STREAMS: the end with connld, attached */
	const char *path;
};

static void
srv_open(struct server *s, const char *path, int backlog)
{
	s->path = path;
	s->attached_fd = -1;
	(void) unlink(path);
#if defined(__sun)
	int fds[2], fd;

	(void) backlog;
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600)) < 0)
		die("create %s: %s", path, strerror(errno));
	(void) close(fd);
	if (xpipe(fds) != 0)
		die("pipe: %s", strerror(errno));
	if (ioctl(fds[1], I_PUSH, "connld") != 0)
		die("I_PUSH connld: %s", strerror(errno));
	if (fattach(fds[1], path) != 0)
		die("fattach %s: %s", path, strerror(errno));
	s->accept_fd = fds[0];
	s->attached_fd = fds[1];
#else
	struct sockaddr_un sa;
	int fd;

	(void) memset(&sa, 0, sizeof (sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof (sa.sun_path))
		die("path too long: %s", path);
	(void) strcpy(sa.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0)
		die("socket: %s", strerror(errno));
	(void) fcntl(fd, F_SETFD, FD_CLOEXEC);
	if (bind(fd, (struct sockaddr *)&sa, sizeof (sa)) != 0)
		die("bind %s: %s", path, strerror(errno));
	if (listen(fd, backlog) != 0)
		die("listen: %s", strerror(errno));
	s->accept_fd = fd;
#endif
#if !defined(__linux__)
	/*
	 * As ConnldServer: the accepting end is non-blocking, waited on by poll.
	 * On Linux it sleeps in accept(2) itself (srv_accept).
	 */
	(void) fcntl(s->accept_fd, F_SETFL,
	    fcntl(s->accept_fd, F_GETFL) | O_NONBLOCK);
#endif
}

/* The next connection, or -1 once the server is closed. */
static int
srv_accept(struct server *s)
{
	struct pollfd p;
	int c;

#if defined(__linux__)
	/* ConnldServer.accept() on Linux: a blocking accept(2), no poll. */
	(void) p;
	do {
		c = accept4(s->accept_fd, NULL, NULL, SOCK_CLOEXEC);
	} while (c < 0 && (errno == EINTR || errno == ECONNABORTED));
	return (c);
#endif
	for (int tries = 0; tries < 1000000; tries++) {
		p.fd = s->accept_fd;
		p.events = POLLIN;
		p.revents = 0;
		if (poll(&p, 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			return (-1);
		}
		if (p.revents & (POLLNVAL | POLLHUP | POLLERR))
			return (-1);
#if defined(__sun)
		struct strrecvfd r;

		(void) memset(&r, 0, sizeof (r));
		if (ioctl(s->accept_fd, I_RECVFD, &r) < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			return (-1);
		}
		c = r.fd;
		(void) fcntl(c, F_SETFD, FD_CLOEXEC);
#elif defined(__linux__)
		c = accept4(s->accept_fd, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0) {
			if (errno == EAGAIN || errno == EINTR ||
			    errno == ECONNABORTED)
				continue;
			return (-1);
		}
#else
		c = accept(s->accept_fd, NULL, NULL);
		if (c < 0) {
			if (errno == EAGAIN || errno == EINTR ||
			    errno == ECONNABORTED)
				continue;
			return (-1);
		}
		(void) fcntl(c, F_SETFD, FD_CLOEXEC);
		(void) fcntl(c, F_SETFL, fcntl(c, F_GETFL) & ~O_NONBLOCK);
#endif
		/*
		 * ConnldServer takes the client's ids from I_RECVFD and asks
		 * getpeerucred (STREAMS) or SO_PEERCRED only when an allow list
		 * needs it or peer() is called; the benchmark calls neither, so
		 * illumos connections stay in fifo fast mode here as there.
		 */
		return (c);
	}
	return (-1);
}

static void
srv_close(struct server *s)
{
#if defined(__sun)
	(void) fdetach(s->path);
	(void) unlink(s->path);
	(void) close(s->attached_fd);
#else
	(void) unlink(s->path);
#endif
	(void) close(s->accept_fd);
}

static int
cli_connect(const char *path)
{
	int fd;
#if defined(__sun)
	struct stat st;
	struct statvfs sv;

	/* ConnldClient never opens a named FIFO that has no stream attached. */
	if (lstat(path, &st) == 0 && S_ISFIFO(st.st_mode) &&
	    (statvfs(path, &sv) != 0 || strcmp(sv.f_basetype, "namefs") != 0))
		die("no server attached at %s", path);
	do {
		fd = open(path, O_RDWR | O_CLOEXEC | O_NOCTTY);
	} while (fd < 0 && errno == EINTR);
	if (fd < 0)
		die("open %s: %s", path, strerror(errno));
	if (isastream(fd) != 1)
		die("no server attached at %s", path);
#else
	struct sockaddr_un sa;

	/* connect(2) first, as ConnldClient does; it looks at the path only on failure. */
	(void) memset(&sa, 0, sizeof (sa));
	sa.sun_family = AF_UNIX;
	(void) strcpy(sa.sun_path, path);
#if defined(SOCK_CLOEXEC)
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
#else
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd >= 0)
		(void) fcntl(fd, F_SETFD, FD_CLOEXEC);
#endif
	if (fd < 0)
		die("socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&sa, sizeof (sa)) != 0)
		die("connect %s: %s", path, strerror(errno));
#endif
	/* ConnldClient reads the server's credentials only when asked. */
	return (fd);
}

/* ---- metrics ------------------------------------------------------------ */

static void *
echo_thread(void *arg)
{
	int fd = *(int *)arg;
	char buf[MSG_SIZE];

	while (read_full(fd, buf, MSG_SIZE) && write_full(fd, buf, MSG_SIZE))
		continue;
	return (NULL);
}

static void
pingpong(long warmup_ms, long measure_ms)
{
	int fds[2];
	pthread_t t;
	char buf[MSG_SIZE];
	double *lat, start, t0, t1;
	size_t n = 0;

	if (xpipe(fds) != 0)
		die("pipe: %s", strerror(errno));
	if (pthread_create(&t, NULL, echo_thread, &fds[1]) != 0)
		die("pthread_create");
	if ((lat = malloc(MAX_SAMPLES * sizeof (double))) == NULL)
		die("out of memory");
	(void) memset(buf, 'x', sizeof (buf));
	start = now();
	while (now() - start < warmup_ms / 1000.0) {
		if (!write_full(fds[0], buf, MSG_SIZE) ||
		    !read_full(fds[0], buf, MSG_SIZE))
			die("echo thread gone");
	}
	start = now();
	t0 = start;
	while (n < MAX_SAMPLES && t0 - start < measure_ms / 1000.0) {
		if (!write_full(fds[0], buf, MSG_SIZE) ||
		    !read_full(fds[0], buf, MSG_SIZE))
			die("echo thread gone");
		t1 = now();
		lat[n++] = (t1 - t0) * 1e6;
		t0 = t1;
	}
	(void) shutdown(fds[0], SHUT_RDWR);
	(void) close(fds[0]);
	(void) pthread_join(t, NULL);
	(void) close(fds[1]);
	qsort(lat, n, sizeof (double), cmp_double);
	(void) printf("pingpong_64B median_us=%.3f p99_us=%.3f samples=%zu\n",
	    percentile(lat, n, 50), percentile(lat, n, 99), n);
	free(lat);
}

/* ---- message: one message out, its echo back ------------------------- */

/* One whole message of len bytes; 1, or 0 when the peer is gone. */
static int
msg_send(int fd, const char *buf, int len)
{
#if defined(__sun)
	struct strbuf d;
	int r;

	d.maxlen = 0;
	d.len = len;
	d.buf = (char *)buf;
	do {
		r = putmsg(fd, NULL, &d, 0);
	} while (r < 0 && errno == EINTR);
	if (r < 0 && (errno == EPIPE || errno == ENXIO))
		return (0);
	if (r < 0)
		die("putmsg: %s", strerror(errno));
	return (1);
#else
	ssize_t n;

	do {
		n = send(fd, buf, (size_t)len, NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EPIPE || errno == ECONNRESET))
		return (0);
	if (n < 0)
		die("send: %s", strerror(errno));
	return (1);
#endif
}

/* One message into buf; its length, or -1 at the end of the stream. */
static int
msg_recv(int fd, char *buf, int room)
{
#if defined(__sun)
	struct strbuf d;
	int r, flags = 0;

	d.maxlen = room;
	d.len = -1;
	d.buf = buf;
	do {
		r = getmsg(fd, NULL, &d, &flags);
	} while (r < 0 && errno == EINTR);
	if (r < 0)
		die("getmsg: %s", strerror(errno));
	return (d.len <= 0 ? -1 : d.len);
#else
	ssize_t n;

	do {
		n = recv(fd, buf, (size_t)room, 0);
	} while (n < 0 && errno == EINTR);
	if (n < 0 && errno == ECONNRESET)
		return (-1);
	if (n < 0)
		die("recv: %s", strerror(errno));
	return (n == 0 ? -1 : (int)n);
#endif
}

static void *
msg_echo_thread(void *arg)
{
	int fd = *(int *)arg;
	char buf[MSG_SIZE];
	int n;

	while ((n = msg_recv(fd, buf, MSG_SIZE)) > 0 && msg_send(fd, buf, n))
		continue;
	return (NULL);
}

static void
message(long warmup_ms, long measure_ms)
{
	int fds[2];
	pthread_t t;
	char buf[MSG_SIZE];
	double *lat, start, t0, t1;
	size_t n = 0;

#if defined(__sun)
	if (pipe(fds) != 0)
		die("pipe: %s", strerror(errno));
#else
	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, fds) != 0)
		die("socketpair: %s", strerror(errno));
#endif
	if (pthread_create(&t, NULL, msg_echo_thread, &fds[1]) != 0)
		die("pthread_create");
	if ((lat = malloc(MAX_SAMPLES * sizeof (double))) == NULL)
		die("out of memory");
	(void) memset(buf, 'x', sizeof (buf));
	start = now();
	while (now() - start < warmup_ms / 1000.0) {
		if (!msg_send(fds[0], buf, MSG_SIZE) ||
		    msg_recv(fds[0], buf, MSG_SIZE) != MSG_SIZE)
			die("echo thread gone");
	}
	start = now();
	t0 = start;
	while (n < MAX_SAMPLES && t0 - start < measure_ms / 1000.0) {
		if (!msg_send(fds[0], buf, MSG_SIZE) ||
		    msg_recv(fds[0], buf, MSG_SIZE) != MSG_SIZE)
			die("echo thread gone");
		t1 = now();
		lat[n++] = (t1 - t0) * 1e6;
		t0 = t1;
	}
	(void) close(fds[0]);
	(void) pthread_join(t, NULL);
	(void) close(fds[1]);
	qsort(lat, n, sizeof (double), cmp_double);
	(void) printf("message_64B median_us=%.3f p99_us=%.3f samples=%zu\n",
	    percentile(lat, n, 50), percentile(lat, n, 99), n);
	free(lat);
}

struct sink {
	int fd;
	long long bytes;	/* per iteration */
	int iterations;
	size_t chunk;		/* bytes per read */
};

static void *
sink_thread(void *arg)
{
	struct sink *s = arg;
	char *buf = malloc(s->chunk);
	long long chunk = (long long)s->chunk;
	ssize_t n;

	if (buf == NULL)
		die("out of memory");
	for (int i = 0; i < s->iterations; i++) {
		long long left = s->bytes;

		while (left > 0) {
			n = xread(s->fd, buf, (size_t)(left < chunk ? left : chunk));
			if (n <= 0)
				die("sink: %s", n == 0 ? "EOF" : strerror(errno));
			left -= n;
		}
		if (!write_full(s->fd, "k", 1))
			die("sink: ack");
	}
	free(buf);
	return (NULL);
}

static void
throughput(long long bytes, int warmups, int iterations, long long chunk)
{
	int fds[2];
	pthread_t t;
	struct sink s;
	char *buf, ack;
	double *mibs, t0;

	if (xpipe(fds) != 0)
		die("pipe: %s", strerror(errno));
	s.fd = fds[1];
	s.bytes = bytes;
	s.iterations = warmups + iterations;
	if (chunk <= 0)
		die("throughput: CHUNK must be positive");
	s.chunk = (size_t)chunk;
	if ((buf = malloc((size_t)chunk)) == NULL ||
	    (mibs = calloc((size_t)iterations, sizeof (double))) == NULL)
		die("out of memory");
	(void) memset(buf, 'x', (size_t)chunk);
	if (pthread_create(&t, NULL, sink_thread, &s) != 0)
		die("pthread_create");
	for (int i = 0; i < warmups + iterations; i++) {
		long long left = bytes;

		t0 = now();
		while (left > 0) {
			size_t len = (size_t)(left < chunk ? left : chunk);

			if (!write_full(fds[0], buf, len))
				die("sink gone");
			left -= (long long)len;
		}
		if (!read_full(fds[0], &ack, 1))
			die("no ack");
		if (i >= warmups)
			mibs[i - warmups] = (double)bytes / 1048576.0 / (now() - t0);
	}
	(void) pthread_join(t, NULL);
	(void) close(fds[0]);
	(void) close(fds[1]);
	(void) printf("throughput median_mibs=%.1f bytes=%lld chunk=%lld\n",
	    median(mibs, (size_t)iterations), bytes, chunk);
	free(mibs);
	free(buf);
}

static volatile int stopping;

static void *
connect_server(void *arg)
{
	struct server *s = arg;
	char buf[MSG_SIZE];
	int c;

	while ((c = srv_accept(s)) >= 0) {
		if (stopping) {
			(void) close(c);
			break;
		}
		if (read_full(c, buf, MSG_SIZE))
			(void) write_full(c, buf, MSG_SIZE);
		(void) close(c);
	}
	return (NULL);
}

static void
connect_rate(const char *path, int warmups, int iterations, long iter_ms)
{
	struct server s;
	pthread_t t;
	char buf[MSG_SIZE];
	double *rate, start, el;
	long ops;
	int c;

	srv_open(&s, path, 128);
	if ((rate = calloc((size_t)iterations, sizeof (double))) == NULL)
		die("out of memory");
	if (pthread_create(&t, NULL, connect_server, &s) != 0)
		die("pthread_create");
	(void) memset(buf, 'x', sizeof (buf));
	for (int i = 0; i < warmups + iterations; i++) {
		ops = 0;
		start = now();
		do {
			c = cli_connect(path);
			if (!write_full(c, buf, MSG_SIZE) ||
			    !read_full(c, buf, MSG_SIZE))
				die("server gone");
			(void) close(c);
			ops++;
		} while ((el = now() - start) < iter_ms / 1000.0);
		if (i >= warmups)
			rate[i - warmups] = (double)ops / el;
	}
	stopping = 1;
	(void) close(cli_connect(path));	/* wakes the accept loop */
	(void) pthread_join(t, NULL);
	srv_close(&s);
	(void) printf("connect_rate median_per_s=%.1f\n",
	    median(rate, (size_t)iterations));
	free(rate);
}

struct fdsink {
	int fd;
};

static void *
fd_receiver(void *arg)
{
	struct fdsink *s = arg;
	int got;

	for (;;) {
		for (int i = 0; i < FD_BATCH; i++) {
			if ((got = xrecvfd(s->fd)) < 0)
				return (NULL);
			(void) close(got);
		}
		if (!write_full(s->fd, "k", 1))
			return (NULL);
	}
}

static void
fdpass(int warmups, int iterations, long iter_ms)
{
	int fds[2], passfd;
	pthread_t t;
	struct fdsink s;
	double *rate, start, el;
	long passes;
	char ack;

	if (xpipe(fds) != 0)
		die("pipe: %s", strerror(errno));
	if ((passfd = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0)
		die("/dev/null: %s", strerror(errno));
	if ((rate = calloc((size_t)iterations, sizeof (double))) == NULL)
		die("out of memory");
	s.fd = fds[1];
	if (pthread_create(&t, NULL, fd_receiver, &s) != 0)
		die("pthread_create");
	for (int i = 0; i < warmups + iterations; i++) {
		passes = 0;
		start = now();
		do {
			for (int j = 0; j < FD_BATCH; j++) {
				if (xsendfd(fds[0], passfd) != 0)
					die("send fd: %s", strerror(errno));
			}
			if (!read_full(fds[0], &ack, 1))
				die("receiver gone");
			passes += FD_BATCH;
		} while ((el = now() - start) < iter_ms / 1000.0);
		if (i >= warmups)
			rate[i - warmups] = (double)passes / el;
	}
	(void) shutdown(fds[0], SHUT_RDWR);
	(void) close(fds[0]);
	(void) pthread_join(t, NULL);
	(void) close(fds[1]);
	(void) close(passfd);
	(void) printf("fdpass median_per_s=%.1f\n",
	    median(rate, (size_t)iterations));
	free(rate);
}

static void *
scale_conn(void *arg)
{
	int c = (int)(intptr_t)arg;
	char buf[MSG_SIZE];

	while (read_full(c, buf, MSG_SIZE) && write_full(c, buf, MSG_SIZE))
		continue;
	(void) close(c);
	return (NULL);
}

static void
raise_nofile(int n)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)n) {
		rl.rlim_cur = rl.rlim_max < (rlim_t)n ? rl.rlim_max : (rlim_t)n;
		(void) setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/*
 * A server that gives each connection a thread of its own, as
 * ConnldServer.serve does.  Prints "listening", then "accepted N"; exits when
 * its standard input closes.
 */
static void
scale_server(const char *path, int n)
{
	struct server s;
	pthread_attr_t attr;
	pthread_t t;
	char line[64];
	int c;

	raise_nofile(n + 64);
	srv_open(&s, path, 128);
	(void) pthread_attr_init(&attr);
	(void) pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	(void) printf("listening\n");
	(void) fflush(stdout);
	for (int i = 0; i < n; i++) {
		if ((c = srv_accept(&s)) < 0)
			die("accept: %s", strerror(errno));
		if (pthread_create(&t, &attr, scale_conn, (void *)(intptr_t)c) != 0)
			die("pthread_create: connection %d", i);
	}
	(void) printf("accepted %d\n", n);
	(void) fflush(stdout);
	while (fgets(line, sizeof (line), stdin) != NULL)
		continue;
	srv_close(&s);
}

/*
 * One event loop of scale_loops where there is neither epoll nor event
 * ports: poll(2) over a wake-up pipe, on which the
 * accepting thread writes the numbers of new connections, and the loop's own
 * connections; a readable connection gets one read and its bytes written
 * back, as ConnldServer.serveEvents runs an echo handler.
 */
struct loop {
	int wake[2];
	pthread_t thread;
};

#if !defined(__linux__) && !defined(__sun)
static void *
scale_loop(void *arg)
{
	struct loop *l = arg;
	struct pollfd *p;
	size_t cap = 64, count = 1;
	char buf[MSG_SIZE];
	int news[64];
	ssize_t n;

	if ((p = calloc(cap, sizeof (*p))) == NULL)
		die("out of memory");
	p[0].fd = l->wake[0];
	p[0].events = POLLIN;
	for (;;) {
		if (poll(p, (nfds_t)count, -1) < 0) {
			if (errno == EINTR)
				continue;
			die("poll: %s", strerror(errno));
		}
		for (size_t i = count - 1; i >= 1; i--) {
			if (p[i].revents == 0)
				continue;
			n = xread(p[i].fd, buf, sizeof (buf));
			if (n > 0 && write_full(p[i].fd, buf, (size_t)n))
				continue;
			(void) close(p[i].fd);
			p[i] = p[--count];
		}
		if (p[0].revents != 0) {
			do {
				n = read(l->wake[0], news, sizeof (news));
			} while (n < 0 && errno == EINTR);
			if (n <= 0)
				break;		/* the accepting thread is done */
			for (ssize_t k = 0; k < n / (ssize_t)sizeof (int); k++) {
				if (count == cap) {
					cap *= 2;
					if ((p = realloc(p, cap * sizeof (*p))) == NULL)
						die("out of memory");
				}
				p[count].fd = news[k];
				p[count].events = POLLIN;
				p[count].revents = 0;
				count++;
			}
		}
	}
	for (size_t i = 1; i < count; i++)
		(void) close(p[i].fd);
	free(p);
	return (NULL);
}
#endif

#if defined(__linux__) || defined(__sun)
/*
 * One event loop as ConnldServer.serveEvents runs it: epoll (Linux) or an
 * event port (illumos; one-shot, so a descriptor kept is re-associated after
 * its event).  The wake-up pipe brings the numbers of new connections; a
 * readable connection gets one read and its bytes written back.
 */
static void
ev_add(int ep, int fd)
{
#if defined(__linux__)
	struct epoll_event ev;

	ev.events = EPOLLIN;
	ev.data.fd = fd;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0)
		die("epoll_ctl: %s", strerror(errno));
#else
	if (port_associate(ep, PORT_SOURCE_FD, (uintptr_t)fd, POLLIN,
	    NULL) != 0)
		die("port_associate: %s", strerror(errno));
#endif
}

static void *
scale_loop_ev(void *arg)
{
	struct loop *l = arg;
	char buf[MSG_SIZE];
	int news[64];
	ssize_t n;
	int ep, got, fd;
#if defined(__linux__)
	struct epoll_event evs[256];

	if ((ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
		die("epoll_create1: %s", strerror(errno));
#else
	port_event_t evs[256];
	uint_t nget;

	if ((ep = port_create()) < 0)
		die("port_create: %s", strerror(errno));
#endif
	ev_add(ep, l->wake[0]);
	for (;;) {
#if defined(__linux__)
		if ((got = epoll_wait(ep, evs, 256, -1)) < 0) {
			if (errno == EINTR)
				continue;
			die("epoll_wait: %s", strerror(errno));
		}
#else
		nget = 1;
		if (port_getn(ep, evs, 256, &nget, NULL) < 0) {
			if (errno == EINTR)
				continue;
			die("port_getn: %s", strerror(errno));
		}
		got = (int)nget;
#endif
		for (int i = 0; i < got; i++) {
#if defined(__linux__)
			fd = evs[i].data.fd;
#else
			fd = (int)evs[i].portev_object;
#endif
			if (fd == l->wake[0]) {
				do {
					n = read(fd, news, sizeof (news));
				} while (n < 0 && errno == EINTR);
				if (n <= 0)
					goto out;	/* the accepting thread is done */
				for (ssize_t k = 0; k < n / (ssize_t)sizeof (int); k++)
					ev_add(ep, news[k]);
#if defined(__sun)
				ev_add(ep, fd);
#endif
				continue;
			}
			n = xread(fd, buf, sizeof (buf));
			if (n > 0 && write_full(fd, buf, (size_t)n)) {
#if defined(__sun)
				ev_add(ep, fd);
#endif
				continue;
			}
			/* Closing drops the registration (epoll, event ports). */
			(void) close(fd);
		}
	}
out:
	(void) close(ep);
	return (NULL);
}
#define	SCALE_LOOP	scale_loop_ev
#else
#define	SCALE_LOOP	scale_loop
#endif

/*
 * The scale server with LOOPS event-loop threads (ConnldServer.serveEvents):
 * the main thread accepts and hands each connection to the loop holding the
 * fewest.  Same protocol as scale_server.
 */
static void
scale_loops(const char *path, int n, int loops)
{
	struct server s;
	struct loop *l;
	int *held;
	char line[64];
	int c, k;

	if (loops < 1)
		die("LOOPS must be at least 1");
	raise_nofile(n + 64 + 2 * loops);
	if ((l = calloc((size_t)loops, sizeof (*l))) == NULL ||
	    (held = calloc((size_t)loops, sizeof (int))) == NULL)
		die("out of memory");
	for (int i = 0; i < loops; i++) {
		if (pipe(l[i].wake) != 0)
			die("pipe: %s", strerror(errno));
		if (pthread_create(&l[i].thread, NULL, SCALE_LOOP, &l[i]) != 0)
			die("pthread_create: loop %d", i);
	}
	srv_open(&s, path, 128);
	(void) printf("listening\n");
	(void) fflush(stdout);
	for (int i = 0; i < n; i++) {
		if ((c = srv_accept(&s)) < 0)
			die("accept: %s", strerror(errno));
		k = 0;
		for (int j = 1; j < loops; j++) {
			if (held[j] < held[k])
				k = j;
		}
		held[k]++;
		if (xwrite(l[k].wake[1], &c, sizeof (c)) != (ssize_t)sizeof (c))
			die("wake loop %d: %s", k, strerror(errno));
	}
	(void) printf("accepted %d\n", n);
	(void) fflush(stdout);
	while (fgets(line, sizeof (line), stdin) != NULL)
		continue;
	for (int i = 0; i < loops; i++) {
		(void) close(l[i].wake[1]);
		(void) pthread_join(l[i].thread, NULL);
		(void) close(l[i].wake[0]);
	}
	srv_close(&s);
	free(held);
	free(l);
}

/*
 * Connects N times and keeps them all; prints "connected N", waits for a line
 * on standard input, then makes SWEEPS sweeps of one round trip on each
 * connection, printing "sweep_ms X" for each; closes them all when its
 * standard input closes.
 */
static void
scale_client(const char *path, int n, int sweeps)
{
	int *fds;
	char buf[MSG_SIZE], line[64];
	double t0;

	raise_nofile(n + 64);
	if ((fds = calloc((size_t)n, sizeof (int))) == NULL)
		die("out of memory");
	for (int i = 0; i < n; i++)
		fds[i] = cli_connect(path);
	(void) printf("connected %d\n", n);
	(void) fflush(stdout);
	if (fgets(line, sizeof (line), stdin) == NULL)
		die("no go");
	(void) memset(buf, 'x', sizeof (buf));
	for (int k = 0; k < sweeps; k++) {
		t0 = now();
		for (int i = 0; i < n; i++) {
			if (!write_full(fds[i], buf, MSG_SIZE) ||
			    !read_full(fds[i], buf, MSG_SIZE))
				die("connection %d: server gone", i);
		}
		(void) printf("sweep_ms %.3f\n", (now() - t0) * 1e3);
		(void) fflush(stdout);
	}
	/* Connections stay open until the harness has measured the server. */
	while (fgets(line, sizeof (line), stdin) != NULL)
		continue;
	for (int i = 0; i < n; i++)
		(void) close(fds[i]);
	free(fds);
}

/*
 * What a read costs in the kernel, apart from blocking and wake-ups: one
 * thread writes SIZE bytes to one end of a socketpair and reads them at the
 * other, COUNT times, reading with read(2), with recvmsg(2) and room for 8
 * descriptors (what xread gives), and with recvmsg(2) and room for
 * SCM_MAX_FD (253, what the portable shim's recv_iov gives).  Best of 5
 * rounds per way, the ways alternating.  Nothing here is on the bench's
 * table; docs/BENCHMARKS.md ("Calls and copies per operation") uses it.
 */
#define	READCOST_FDS	253

static long
readcost_read(int fd, char *buf, size_t len, int how)
{
	struct msghdr msg;
	struct iovec iov;
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(READCOST_FDS * sizeof (int))];
	} ctl;

	if (how == 0)
		return ((long)read(fd, buf, len));
	(void) memset(&msg, 0, sizeof (msg));
	iov.iov_base = buf;
	iov.iov_len = len;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = ctl.buf;
	msg.msg_controllen = how == 1 ? CMSG_SPACE(8 * sizeof (int)) :
	    sizeof (ctl.buf);
	return ((long)recvmsg(fd, &msg, CMSG_CLOEXEC));
}

static void
readcost(long size, long count)
{
	static const char *names[] = { "read", "recvmsg_8fds",
	    "recvmsg_253fds" };
	double best[3] = { 1e30, 1e30, 1e30 };
	int fds[2];
	char *buf;

	if (size <= 0 || count <= 0)
		die("readcost: SIZE and COUNT must be positive");
	if (xpipe(fds) != 0)
		die("pipe: %s", strerror(errno));
	if ((buf = malloc((size_t)size)) == NULL)
		die("out of memory");
	(void) memset(buf, 'x', (size_t)size);
	for (int round = 0; round < 5; round++) {
		for (int how = 0; how < 3; how++) {
			double t0 = now(), ns;

			for (long i = 0; i < count; i++) {
				long got = 0, n;

				if (!write_full(fds[0], buf, (size_t)size))
					die("readcost: write");
				while (got < size) {
					n = readcost_read(fds[1], buf + got,
					    (size_t)(size - got), how);
					if (n <= 0)
						die("readcost: read");
					got += n;
				}
			}
			ns = (now() - t0) * 1e9 / (double)count;
			if (ns < best[how])
				best[how] = ns;
		}
	}
	(void) printf("readcost size=%ld", size);
	for (int how = 0; how < 3; how++)
		(void) printf(" %s_ns=%.0f", names[how], best[how]);
	(void) printf("\n");
	(void) close(fds[0]);
	(void) close(fds[1]);
	free(buf);
}

static long
num(const char *s)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < 0)
		die("not a number: %s", s);
	return ((long)v);
}

static void
usage(void)
{
	die("usage: s4jbench pingpong WARMUP_MS MEASURE_MS\n"
	    "       s4jbench message WARMUP_MS MEASURE_MS\n"
	    "       s4jbench throughput BYTES WARMUPS ITERATIONS [CHUNK]\n"
	    "       s4jbench connect PATH WARMUPS ITERATIONS ITERATION_MS\n"
	    "       s4jbench fdpass WARMUPS ITERATIONS ITERATION_MS\n"
	    "       s4jbench scale-server PATH N [LOOPS]\n"
	    "       s4jbench scale-client PATH N SWEEPS\n"
	    "       s4jbench readcost SIZE COUNT");
}

int
main(int argc, char **argv)
{
	(void) signal(SIGPIPE, SIG_IGN);	/* as in the JVM */
	if (argc < 2)
		usage();
	if (strcmp(argv[1], "pingpong") == 0 && argc == 4)
		pingpong(num(argv[2]), num(argv[3]));
	else if (strcmp(argv[1], "message") == 0 && argc == 4)
		message(num(argv[2]), num(argv[3]));
	else if (strcmp(argv[1], "throughput") == 0 &&
	    (argc == 5 || argc == 6))
		throughput(num(argv[2]), (int)num(argv[3]), (int)num(argv[4]),
		    argc == 6 ? num(argv[5]) : CHUNK);
	else if (strcmp(argv[1], "connect") == 0 && argc == 6)
		connect_rate(argv[2], (int)num(argv[3]), (int)num(argv[4]),
		    num(argv[5]));
	else if (strcmp(argv[1], "fdpass") == 0 && argc == 5)
		fdpass((int)num(argv[2]), (int)num(argv[3]), num(argv[4]));
	else if (strcmp(argv[1], "scale-server") == 0 && argc == 4)
		scale_server(argv[2], (int)num(argv[3]));
	else if (strcmp(argv[1], "scale-server") == 0 && argc == 5)
		scale_loops(argv[2], (int)num(argv[3]), (int)num(argv[4]));
	else if (strcmp(argv[1], "readcost") == 0 && argc == 4)
		readcost(num(argv[2]), num(argv[3]));
	else if (strcmp(argv[1], "scale-client") == 0 && argc == 5)
		scale_client(argv[2], (int)num(argv[3]), (int)num(argv[4]));
	else
		usage();
	return (0);
}
