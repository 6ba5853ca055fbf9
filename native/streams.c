/*
 * streams.c: the STREAMS backend for illumos and Solaris.  Every call here
 * is the one in streamio(4I), fattach(3C), fdetach(3C), isastream(3C) and
 * getpeerucred(3C); the ioctl numbers and structures come from the system
 * headers.  Elsewhere this file compiles to nothing.
 */
#include "shim_internal.h"

#if defined(__sun)

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <stropts.h>
#include <ucred.h>
#include <unistd.h>
#include <sys/conf.h>
#include <sys/types.h>
#include <sys/statvfs.h>
#include <sys/uio.h>

#include "streams4j.h"

#if FMNAMESZ + 1 != S4J_MODNAME_SIZE
#error "FMNAMESZ differs from the size streams4j.h declares"
#endif

int
s4j_pipe(int fds[2])
{
	int err;

	/*
	 * pipe(2) then FD_CLOEXEC: pipe2 is missing from older Solaris, and
	 * the JVM's process launcher closes inherited descriptors anyway.
	 */
	if (pipe(fds) != 0)
		return (-errno);
	if ((err = set_cloexec(fds[0])) != 0 ||
	    (err = set_cloexec(fds[1])) != 0) {
		(void) close(fds[0]);
		(void) close(fds[1]);
		return (err);
	}
	return (0);
}

int
s4j_sendfd(int fd, int passfd)
{
	int r;

	do {
		r = ioctl(fd, I_SENDFD, passfd);
	} while (r < 0 && errno == EINTR);
	return (r < 0 ? -errno : 0);
}

int
s4j_recvfd(int fd, int cred[4], int *data, int *others)
{
	struct strrecvfd r;
	int err;

	*data = -1;
	others[0] = -1;
	(void) memset(&r, 0, sizeof (r));
	do {
		err = ioctl(fd, I_RECVFD, &r);
	} while (err < 0 && errno == EINTR);
	if (err < 0)
		return (-errno);	/* EBADMSG: data first, left queued */
	if ((err = set_cloexec(r.fd)) != 0) {
		/*
		 * Not closed here: the sender made it, and its last close can
		 * block (a lingering TCP socket: tcp_close_output).  The caller
		 * closes it where that is harmless.
		 */
		others[0] = r.fd;
		others[1] = -1;
		return (err);
	}
	cred[S4J_CRED_UID] = (int)r.uid;
	cred[S4J_CRED_GID] = (int)r.gid;
	cred[S4J_CRED_PID] = -1;
	cred[S4J_CRED_ZONE] = -1;
	return (r.fd);
}

long
s4j_recv(int fd, void *buf, long off, long len, int *passed)
{
	ssize_t n;

	*passed = -1;
	do {
		n = read(fd, (char *)buf + off, (size_t)len);
	} while (n < 0 && errno == EINTR);
	return (n < 0 ? -errno : (long)n);
}

long
s4j_recv_nb(int fd, void *buf, long off, long len, int *passed)
{
	(void) fd; (void) buf; (void) off; (void) len;
	*passed = -1;
	/* No per-call non-blocking read on a stream: the caller polls first. */
	return (-ENOTSUP);
}

long
s4j_write_nb(int fd, const void *buf, long off, long len)
{
	(void) fd; (void) buf; (void) off; (void) len;
	return (-ENOTSUP);
}

int
s4j_peer_cred(int fd, int cred[4])
{
	int r = s4j_peer_cred_groups(fd, cred, NULL, 0);

	return (r < 0 ? r : 0);
}

int
s4j_isastream(int fd)
{
	int r = isastream(fd);

	return (r < 0 ? -errno : r);
}

int
s4j_push(int fd, const char *module)
{
	int r;

	do {
		r = ioctl(fd, I_PUSH, module);
	} while (r < 0 && errno == EINTR);
	return (r < 0 ? -errno : 0);
}

int
s4j_pop(int fd)
{
	int r;

	do {
		r = ioctl(fd, I_POP, 0);
	} while (r < 0 && errno == EINTR);
	return (r < 0 ? -errno : 0);
}

int
s4j_look(int fd, char *name, int len)
{
	char buf[FMNAMESZ + 1];

	if (len < (int)sizeof (buf))
		return (-EINVAL);
	(void) memset(buf, 0, sizeof (buf));
	if (ioctl(fd, I_LOOK, buf) < 0)
		return (-errno);	/* EINVAL: no module pushed */
	buf[FMNAMESZ] = '\0';
	(void) memcpy(name, buf, sizeof (buf));
	return (0);
}

int
s4j_find(int fd, const char *module)
{
	int r = ioctl(fd, I_FIND, module);

	return (r < 0 ? -errno : r);
}

int
s4j_list(int fd, char *names, int count)
{
	struct str_list sl;
	int r;

	if (names == NULL)
		return ((r = ioctl(fd, I_LIST, NULL)) < 0 ? -errno : r);
	if (count <= 0)
		return (-EINVAL);
	/* struct str_mlist is exactly FMNAMESZ + 1 chars: names is the array */
	sl.sl_nmods = count;
	sl.sl_modlist = (struct str_mlist *)(void *)names;
	if (ioctl(fd, I_LIST, &sl) < 0)
		return (-errno);
	return (sl.sl_nmods);
}

int
s4j_fattach(int fd, const char *path)
{
	return (fattach(fd, path) != 0 ? -errno : 0);
}

int
s4j_fdetach(const char *path)
{
	return (fdetach(path) != 0 ? -errno : 0);
}

int
s4j_fstype(const char *path, char *name, int len)
{
	struct statvfs sv;

	if (len < 2)
		return (-EINVAL);
	if (statvfs(path, &sv) != 0)
		return (-errno);
	/* "namefs" where a stream is attached (fattach(3C)). */
	(void) strncpy(name, sv.f_basetype, (size_t)len - 1);
	name[len - 1] = '\0';
	return (0);
}

long
s4j_recvv(int fd, const void *iov, int iovcnt, int *passed)
{
	ssize_t n;

	*passed = -1;
	if (iovcnt <= 0 || iov == NULL)
		return (-EINVAL);
	do {
		n = readv(fd, iov, iovcnt);
	} while (n < 0 && errno == EINTR);
	return (n < 0 ? -errno : (long)n);
}

int
s4j_peer_cred_groups(int fd, int cred[4], int *groups, int max)
{
	ucred_t *uc = NULL;
	const gid_t *g;
	int i, n;

	/*
	 * getpeerucred(3C) gives the credentials connld recorded for the
	 * client (the cred of the opener, held by the new pipe); the groups
	 * are the cr_groups of that cred (cred2ucred), read by
	 * ucred_getgroups(3C).  One ucred for both: no second ioctl.
	 */
	if (getpeerucred(fd, &uc) != 0)
		return (-errno);
	cred[S4J_CRED_UID] = (int)ucred_geteuid(uc);
	cred[S4J_CRED_GID] = (int)ucred_getegid(uc);
	cred[S4J_CRED_PID] = (int)ucred_getpid(uc);
	cred[S4J_CRED_ZONE] = (int)ucred_getzoneid(uc);
	n = ucred_getgroups(uc, &g);
	for (i = 0; i < n && i < max; i++)
		groups[i] = (int)g[i];
	ucred_free(uc);
	return (n < 0 ? 0 : n);
}

/*
 * End of output by convention: a zero-length message, which the peer's read
 * returns as 0 in the default read mode (RNORM, strread).  fifo_write drops
 * a write of 0 bytes on a pipe unless SW_SNDZERO is set, which only
 * I_SWROPT SNDZERO sets (stropen gives pipes SW_SIGPIPE alone), so the
 * current write options are kept and SNDZERO added before the write.
 * strwrite then sends the zero-length M_DATA like any other message.
 */
int
s4j_shutdown_write(int fd)
{
	int opt = 0;
	ssize_t n;

	if (ioctl(fd, I_GWROPT, &opt) < 0)
		return (-errno);
	if (!(opt & SNDZERO) && ioctl(fd, I_SWROPT, opt | SNDZERO) < 0)
		return (-errno);
	do {
		n = write(fd, "", 0);
	} while (n < 0 && errno == EINTR);
	return (n < 0 ? -errno : 0);
}

/*
 * What this pipe end wrote is queued at the other end's stream head, and no
 * ioctl on this end measures it (I_NREAD counts this end's own read side).
 */
int
s4j_unread(int fd)
{
	(void) fd;
	return (-ENOTSUP);
}

#endif /* __sun */
