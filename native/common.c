/*
 * common.c: descriptor calls every platform has.  See streams4j.h for the
 * rules: one system call's worth of work, -errno on failure, no state.
 */
#include "shim_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#if defined(__sun)
#include <stropts.h>
#include <sys/filio.h>
#endif

#include "streams4j.h"

int
s4j_backend(void)
{
#if defined(__sun)
	return (S4J_BACKEND_STREAMS);
#else
	return (S4J_BACKEND_PORTABLE);
#endif
}

#define	E(name)	case name: return (#name)

/*
 * The most buffers a writev or readv of ours hands the kernel: S4J_MAX_IOV,
 * or fewer where sysconf(_SC_IOV_MAX) says so.  Not <limits.h>'s IOV_MAX:
 * illumos's says 16 (_XOPEN_IOV_MAX) while its kernel takes 1024
 * (uts/common/sys/limits.h; readv and writev in syscall/rw.c refuse more
 * with EINVAL), and older Solaris kernels took 16 (DEF_IOV_MAX).
 */
static int
max_iov(void)
{
	long n = sysconf(_SC_IOV_MAX);

	return (n > 0 && n < S4J_MAX_IOV ? (int)n : S4J_MAX_IOV);
}

int
s4j_abi(int what)
{
	switch (what) {
	case S4J_ABI_EV_BATCH:
		return (S4J_EV_BATCH);
	case S4J_ABI_EV_SIZE:
		return ((int)sizeof (s4j_ev_t));
	case S4J_ABI_RECV_FDS:
		return (S4J_RECV_FDS);
	case S4J_ABI_MAX_IOV:
		return (max_iov());
	case S4J_ABI_PIPE_BUF:
		return (PIPE_BUF);
	case S4J_ABI_TTY_SAVE_MAX:
		return (S4J_TTY_SAVE_MAX);
	default:
		return (-EINVAL);
	}
}

const char *
s4j_errno_name(int err)
{
	switch (err) {
	E(EPERM); E(ENOENT); E(ESRCH); E(EINTR); E(EIO); E(ENXIO);
	E(E2BIG); E(ENOEXEC); E(EBADF); E(ECHILD); E(ENOMEM); E(EACCES);
	E(EFAULT); E(EBUSY); E(EEXIST); E(EXDEV); E(ENODEV); E(ENOTDIR);
	E(EISDIR); E(EINVAL); E(ENFILE); E(EMFILE); E(ENOTTY); E(ETXTBSY);
	E(EFBIG); E(ENOSPC); E(ESPIPE); E(EROFS); E(EMLINK); E(EPIPE);
	E(EDOM); E(ERANGE); E(EDEADLK); E(ENAMETOOLONG); E(ENOLCK);
	E(ENOSYS); E(ENOTEMPTY); E(ELOOP); E(ENOMSG); E(EIDRM);
	E(ENOSTR); E(ENODATA); E(ETIME); E(ENOSR); E(ENOLINK); E(EPROTO);
	E(EBADMSG); E(EOVERFLOW); E(EILSEQ); E(ENOTSOCK); E(EDESTADDRREQ);
	E(EMSGSIZE); E(EPROTOTYPE); E(ENOPROTOOPT); E(EPROTONOSUPPORT);
	E(EOPNOTSUPP); E(EAFNOSUPPORT); E(EADDRINUSE); E(EADDRNOTAVAIL);
	E(ENETDOWN); E(ENETUNREACH); E(ECONNABORTED); E(ECONNRESET);
	E(ENOBUFS); E(EISCONN); E(ENOTCONN); E(ETIMEDOUT); E(ECONNREFUSED);
	E(EHOSTUNREACH); E(EALREADY); E(EINPROGRESS); E(ESTALE); E(EDQUOT);
	E(ECANCELED);
#if defined(EBADFD)
	E(EBADFD);	/* illumos: port_associate and port_getn on a non-port */
#endif
#if EAGAIN != EWOULDBLOCK
	E(EWOULDBLOCK);
#endif
	E(EAGAIN);
#if defined(ENOTSUP) && ENOTSUP != EOPNOTSUPP
	E(ENOTSUP);
#endif
	default:
		return (NULL);
	}
}

#undef E

int
s4j_strerror(int err, char *buf, int len)
{
	const char *s;

	if (buf == NULL || len <= 0)
		return (-EINVAL);
	/* strerror is thread-safe on glibc, musl, illumos and the BSDs. */
	s = strerror(err);
	(void) strncpy(buf, s != NULL ? s : "unknown error", (size_t)len - 1);
	buf[len - 1] = '\0';
	return (0);
}

int
s4j_geteuid(void)
{
	return ((int)geteuid());
}

int
s4j_getegid(void)
{
	return ((int)getegid());
}

static int
open_flags(int flags, int *oflag)
{
	switch (flags & (S4J_O_READ | S4J_O_WRITE)) {
	case S4J_O_READ:
		*oflag = O_RDONLY;
		break;
	case S4J_O_WRITE:
		*oflag = O_WRONLY;
		break;
	case S4J_O_READ | S4J_O_WRITE:
		*oflag = O_RDWR;
		break;
	default:
		return (-EINVAL);
	}
	*oflag |= O_CLOEXEC | O_NOCTTY;
	if (flags & S4J_O_CREAT_EXCL)
		*oflag |= O_CREAT | O_EXCL;
	if (flags & S4J_O_NOFOLLOW)
		*oflag |= O_NOFOLLOW;
	if (flags & S4J_O_NONBLOCK)
		*oflag |= O_NONBLOCK;
	if (flags & S4J_O_DIRECTORY)
		*oflag |= O_DIRECTORY;
	if (flags & S4J_O_PATH) {
#if defined(O_PATH)
		/* Only these flags go with O_PATH (open(2)). */
		*oflag = O_PATH | O_CLOEXEC | (*oflag & (O_NOFOLLOW | O_DIRECTORY));
#else
		return (-EOPNOTSUPP);
#endif
	}
	return (0);
}

/*
 * illumos defines AT_FDCWD as an unsigned constant (0xffd19553, sys/fcntl.h),
 * which the *at calls take as an int: convert it explicitly, not through ?:,
 * where gcc's -Wsign-compare rejects the mixed signedness.
 */
static int
at_dir(int dirfd)
{
	if (dirfd == S4J_AT_FDCWD)
		return ((int)AT_FDCWD);
	return (dirfd);
}

int
s4j_open(const char *path, int flags, int mode)
{
	return (s4j_openat(S4J_AT_FDCWD, path, flags, mode));
}

int
s4j_openat(int dirfd, const char *name, int flags, int mode)
{
	int oflag, fd, err;

	if ((err = open_flags(flags, &oflag)) != 0)
		return (err);
	do {
		fd = openat(at_dir(dirfd), name, oflag, (mode_t)mode);
	} while (fd < 0 && errno == EINTR);
	return (fd < 0 ? -errno : fd);
}

int
s4j_close(int fd)
{
	/*
	 * Never retry close on EINTR: the descriptor is gone on illumos and
	 * Linux either way, and a retry could close a reused number.
	 */
	if (close(fd) != 0 && errno != EINTR)
		return (-errno);
	return (0);
}

int
s4j_dup(int fd)
{
	int r = fcntl(fd, F_DUPFD_CLOEXEC, 0);

	return (r < 0 ? -errno : r);
}

int
s4j_preclose(int fd, int marker, int keep)
{
	int err, kept = 0;

#if !defined(__sun)
	/* Wakes a reader blocked on a socket; ENOTSOCK for anything else. */
	(void) shutdown(fd, SHUT_RDWR);
#endif
	if (keep) {
		/*
		 * A second reference to the file, so that the dup2 below does
		 * not drop the last one: releasing a file can block (Linux
		 * tcp_close in sk_stream_wait_close for a lingering TCP socket,
		 * also for one that was in flight in a socket's queue; illumos
		 * tcp_close_output while lingering).  The caller closes kept
		 * where that is harmless.
		 */
		do {
			kept = fcntl(fd, F_DUPFD_CLOEXEC, 0);
		} while (kept < 0 && errno == EINTR);
		if (kept < 0)
			return (-errno);	/* fd untouched: shut down only */
	}
	/*
	 * dup2 keeps the number taken while pointing it at the marker (a pipe
	 * end whose peer is closed).  On illumos it also wakes any thread
	 * blocked on fd, whatever fd is: closeandsetf() marks the threads that
	 * have fd active stale and sets them running, so read, write and ioctl
	 * fail with EBADF, and pollcacheclean() wakes poll with POLLNVAL.
	 * That is why illumos needs no shutdown() here (which lives in
	 * libsocket there, a library the shim does not link).  Plain dup2
	 * clears FD_CLOEXEC, so a process spawned meanwhile would inherit the
	 * number: F_DUP2FD_CLOEXEC (illumos fcntl, fio.c) or dup3 keep it.
	 */
	do {
#if defined(F_DUP2FD_CLOEXEC)
		/* illumos, Solaris, FreeBSD: dup2 that keeps close-on-exec. */
		err = fcntl(marker, F_DUP2FD_CLOEXEC, fd);
#elif defined(__linux__)
		err = dup3(marker, fd, O_CLOEXEC);
#else
		if ((err = dup2(marker, fd)) >= 0)
			err = fcntl(fd, F_SETFD, FD_CLOEXEC);
#endif
	} while (err < 0 && errno == EINTR);
	if (err < 0) {
		err = -errno;
		/* Not the last reference: fd still holds the file. */
		if (keep)
			(void) close(kept);
		return (err);
	}
	return (kept);
}

long
s4j_read(int fd, void *buf, long off, long len)
{
	ssize_t n;

	do {
		n = read(fd, (char *)buf + off, (size_t)len);
	} while (n < 0 && errno == EINTR);
	return (n < 0 ? -errno : (long)n);
}

long
s4j_write(int fd, const void *buf, long off, long len)
{
	ssize_t n;

	if (len <= 0)	/* a zero-length STREAMS message reads as EOF */
		return (-EINVAL);
	do {
		n = write(fd, (const char *)buf + off, (size_t)len);
	} while (n < 0 && errno == EINTR);
	return (n < 0 ? -errno : (long)n);
}

short
s4j_to_poll(int ev)
{
	short r = 0;

	if (ev & S4J_POLLIN) {
		r |= POLLIN;
#if defined(__sun)
		/*
		 * strpoll raises only POLLPRI for a high-priority message
		 * (M_PCPROTO, which any peer can send with putmsg RS_HIPRI) and
		 * POLLRDBAND for a priority band: asking for POLLIN alone would
		 * never see them, and the connection would hang unread.
		 */
		r |= POLLRDBAND | POLLPRI;
#endif
	}
	if (ev & S4J_POLLOUT)
		r |= POLLOUT;
	if (ev & S4J_POLLPRI)
		r |= POLLPRI;
	if (ev & S4J_POLLRDBAND)
		r |= POLLRDBAND;
	if (ev & S4J_POLLWRBAND)
		r |= POLLWRBAND;
	return (r);
}

short
s4j_from_poll(short rev)
{
	short r = 0;

	if (rev & (POLLIN | POLLRDNORM | POLLRDBAND | POLLPRI))
		r |= S4J_POLLIN;
	if (rev & POLLOUT)
		r |= S4J_POLLOUT;
	if (rev & POLLERR)
		r |= S4J_POLLERR;
	if (rev & POLLHUP)
		r |= S4J_POLLHUP;
	if (rev & POLLNVAL)
		r |= S4J_POLLNVAL;
	if (rev & POLLPRI)
		r |= S4J_POLLPRI;
	if (rev & POLLRDBAND)
		r |= S4J_POLLRDBAND;
	if (rev & POLLWRBAND)
		r |= S4J_POLLWRBAND;
	return (r);
}

int
s4j_poll(int fd, int events, int timeout_ms)
{
	struct pollfd p;
	int n;

	p.fd = fd;
	p.events = s4j_to_poll(events);
	p.revents = 0;
	/*
	 * EINTR is returned, not retried: the caller knows its deadline and
	 * polls again with what is left of it.
	 */
	n = poll(&p, 1, timeout_ms);
	if (n < 0)
		return (-errno);
	if (n == 0)
		return (0);
	return (s4j_from_poll(p.revents));
}

int
s4j_poll_many(void *fds, int n, int timeout_ms)
{
	struct pollfd *p = fds;
	int i, r, err;

	if (n < 0 || (n > 0 && p == NULL))
		return (-EINVAL);
	for (i = 0; i < n; i++) {
		p[i].events = s4j_to_poll(p[i].events);
		p[i].revents = 0;
	}
	r = poll(p, (nfds_t)n, timeout_ms);
	err = errno;
	for (i = 0; i < n; i++) {
		p[i].events = s4j_from_poll(p[i].events);
		p[i].revents = s4j_from_poll(p[i].revents);
	}
	return (r < 0 ? -err : r);
}

int
s4j_set_nonblocking(int fd, int on)
{
	int fl;

	if ((fl = fcntl(fd, F_GETFL)) < 0)
		return (-errno);
	fl = on ? (fl | O_NONBLOCK) : (fl & ~O_NONBLOCK);
	if (fcntl(fd, F_SETFL, fl) < 0)
		return (-errno);
	return (0);
}

static int
mode_type(mode_t m)
{
	if (S_ISREG(m))
		return (S4J_FT_REGULAR);
	if (S_ISDIR(m))
		return (S4J_FT_DIRECTORY);
	if (S_ISFIFO(m))
		return (S4J_FT_FIFO);
	if (S_ISSOCK(m))
		return (S4J_FT_SOCKET);
	if (S_ISCHR(m))
		return (S4J_FT_CHAR);
	if (S_ISBLK(m))
		return (S4J_FT_BLOCK);
	if (S_ISLNK(m))
		return (S4J_FT_SYMLINK);
	return (S4J_FT_OTHER);
}

int
s4j_file_type(int fd)
{
	struct stat st;

	if (fstat(fd, &st) != 0)
		return (-errno);
	return (mode_type(st.st_mode));
}

int
s4j_path_type(const char *path)
{
	struct stat st;

	if (lstat(path, &st) != 0)
		return (-errno);
	return (mode_type(st.st_mode));
}

static void
fill_stat(const struct stat *sb, long *st)
{
	st[S4J_ST_DEV] = (long)sb->st_dev;
	st[S4J_ST_INO] = (long)sb->st_ino;
	st[S4J_ST_TYPE] = mode_type(sb->st_mode);
	st[S4J_ST_PERM] = (long)(sb->st_mode & 07777);
	st[S4J_ST_UID] = (long)sb->st_uid;
	st[S4J_ST_GID] = (long)sb->st_gid;
	st[S4J_ST_NLINK] = (long)sb->st_nlink;
	st[S4J_ST_SIZE] = (long)sb->st_size;
#if defined(__APPLE__)
	st[S4J_ST_MTIME_NS] = (long)sb->st_mtimespec.tv_sec * 1000000000L +
	    sb->st_mtimespec.tv_nsec;
	st[S4J_ST_CTIME_NS] = (long)sb->st_ctimespec.tv_sec * 1000000000L +
	    sb->st_ctimespec.tv_nsec;
#else
	st[S4J_ST_MTIME_NS] = (long)sb->st_mtim.tv_sec * 1000000000L +
	    sb->st_mtim.tv_nsec;
	st[S4J_ST_CTIME_NS] = (long)sb->st_ctim.tv_sec * 1000000000L +
	    sb->st_ctim.tv_nsec;
#endif
}

int
s4j_fstat(int fd, long *st)
{
	struct stat sb;

	if (fstat(fd, &sb) != 0)
		return (-errno);
	fill_stat(&sb, st);
	return (0);
}

int
s4j_fstatat(int dirfd, const char *name, long *st)
{
	struct stat sb;

	if (fstatat(at_dir(dirfd), name, &sb, AT_SYMLINK_NOFOLLOW) != 0)
		return (-errno);
	fill_stat(&sb, st);
	return (0);
}

int
s4j_fchmod(int fd, int mode)
{
	return (fchmod(fd, (mode_t)mode) != 0 ? -errno : 0);
}

int
s4j_mkdirat(int dirfd, const char *name, int mode)
{
	return (mkdirat(at_dir(dirfd), name, (mode_t)mode) != 0 ? -errno : 0);
}

int
s4j_fchmodat(int dirfd, const char *name, int mode)
{
	return (fchmodat(at_dir(dirfd), name, (mode_t)mode, 0) != 0 ?
	    -errno : 0);
}

int
s4j_linkat(int olddirfd, const char *oldname, int newdirfd,
    const char *newname)
{
	return (linkat(at_dir(olddirfd), oldname, at_dir(newdirfd), newname,
	    0) != 0 ? -errno : 0);
}

int
s4j_unlinkat(int dirfd, const char *name, int rmdir)
{
	return (unlinkat(at_dir(dirfd), name, rmdir ? AT_REMOVEDIR : 0) != 0 ?
	    -errno : 0);
}

int
s4j_chmod(const char *path, int mode)
{
	if (chmod(path, (mode_t)mode) != 0)
		return (-errno);
	return (0);
}

int
s4j_nread(int fd)
{
	int n = 0;

#if defined(__sun)
	/* I_NREAD returns the number of messages and stores the first one's size. */
	if (ioctl(fd, I_NREAD, &n) < 0)
		return (-errno);
#else
	if (ioctl(fd, FIONREAD, &n) < 0)
		return (-errno);
#endif
	return (n);
}

int
s4j_socket_type(int fd)
{
	int type = 0;
	socklen_t len = sizeof (type);

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0)
		return (-errno);	/* ENOTSOCK: a pipe, a file, a tty */
	switch (type) {
	case SOCK_STREAM:
		return (S4J_SOCK_STREAM);
	case SOCK_SEQPACKET:
		return (S4J_SOCK_SEQPACKET);
	case SOCK_DGRAM:
		return (S4J_SOCK_DGRAM);
	default:
		return (S4J_SOCK_OTHER);
	}
}

long
s4j_writev(int fd, const void *iov, int iovcnt)
{
	const struct iovec *v = iov;
	size_t total = 0;
	ssize_t n;
	int i;

	if (iovcnt <= 0 || v == NULL)
		return (-EINVAL);
	for (i = 0; i < iovcnt; i++)
		total += v[i].iov_len;
	if (total == 0)	/* a zero-length STREAMS message reads as EOF */
		return (-EINVAL);
	do {
		n = writev(fd, v, iovcnt);
	} while (n < 0 && errno == EINTR);
	return (n < 0 ? -errno : (long)n);
}

int
s4j_renameat(int olddirfd, const char *oldname, int newdirfd,
    const char *newname)
{
	return (renameat(at_dir(olddirfd), oldname, at_dir(newdirfd),
	    newname) != 0 ? -errno : 0);
}

/*
 * illumos: fcntl F_OFD_SETLK -> ofdlock (uts/common/os/flock.c), whole-file
 * locks only (l_whence, l_start and l_len 0), F_WRLCK needs FWRITE (EBADF).
 * Linux: F_OFD_SETLK wants l_pid 0.
 */
int
s4j_lock(int fd)
{
#if defined(F_OFD_SETLK)
	struct flock fl;

	(void) memset(&fl, 0, sizeof (fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	return (fcntl(fd, F_OFD_SETLK, &fl) != 0 ? -errno : 0);
#else
	return (flock(fd, LOCK_EX | LOCK_NB) != 0 ? -errno : 0);
#endif
}
