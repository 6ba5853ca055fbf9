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
s4j_pipe(int fds[2], int flags)
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
	/*
	 * A new pipe is in fifofs' fast mode, where every write joins one
	 * chain (fifo_write links it with b_cont) that becomes a single
	 * message when the pipe leaves fast mode (fifo_fastturnoff).  For a
	 * pipe that speaks in messages leave it now, both ends
	 * (fifo_fastioctl: I_CKBAND -> fifo_fastoff, ISPIPE), so that each
	 * write is a message of its own from the first.  I_CKBAND changes
	 * nothing else: it only asks whether band 0 has a message queued.
	 */
	if ((flags & S4J_SOCK_MESSAGES) != 0 &&
	    ioctl(fds[0], I_CKBAND, 0) < 0) {
		err = -errno;
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
	if (cred != NULL) {
		cred[S4J_CRED_UID] = (int)r.uid;
		cred[S4J_CRED_GID] = (int)r.gid;
		cred[S4J_CRED_PID] = -1;
		cred[S4J_CRED_ZONE] = -1;
	}
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

/* ---- messages (issue 25) ------------------------------------------------ */

/* The strbuf for one part: NULL for room -1, which leaves the part queued. */
static struct strbuf *
part(struct strbuf *sb, void *buf, int room)
{
	if (room < 0 || (buf == NULL && room > 0))
		return (NULL);
	sb->maxlen = room;
	sb->len = -1;
	sb->buf = buf;
	return (sb);
}

static void
part_out(int *io, int at, const struct strbuf *sb)
{
	io[at] = sb != NULL ? sb->len : -1;
}

int
s4j_getmsg(int fd, void *ctl, void *data, int *io)
{
	struct strbuf c, d, *cp, *dp;
	int band, flags, r;

	cp = part(&c, ctl, io[S4J_MSG_CTL]);
	dp = part(&d, data, io[S4J_MSG_DATA]);
	band = io[S4J_MSG_BANDNO];
	switch (io[S4J_MSG_FLAGS]) {
	case S4J_MSG_ANY:
		flags = MSG_ANY;
		band = 0;
		break;
	case S4J_MSG_BAND:
		flags = MSG_BAND;
		break;
	case S4J_MSG_HIPRI:
		flags = MSG_HIPRI;
		band = 0;
		break;
	default:
		return (-EINVAL);
	}
	do {
		r = getpmsg(fd, cp, dp, &band, &flags);
	} while (r < 0 && errno == EINTR);
	if (r < 0)
		return (-errno);
	part_out(io, S4J_MSG_CTL, cp);
	part_out(io, S4J_MSG_DATA, dp);
	io[S4J_MSG_BANDNO] = band;
	/*
	 * strgetmsg answers a message with MSG_HIPRI (M_PCPROTO) or MSG_BAND,
	 * and the end (STRHUP or STREOF with nothing of the kind asked for
	 * queued) with flags 0 and both lengths 0: only the flags tell the end
	 * from a message of two empty parts.
	 */
	io[S4J_MSG_FLAGS] = (flags & MSG_HIPRI) != 0 ? S4J_MSG_HIPRI :
	    (flags & MSG_BAND) != 0 ? S4J_MSG_BAND : 0;
	return (((r & MORECTL) != 0 ? S4J_MORECTL : 0) |
	    ((r & MOREDATA) != 0 ? S4J_MOREDATA : 0));
}

int
s4j_putmsg(int fd, const void *ctl, int ctllen, const void *data,
    int datalen, int band, int flags)
{
	struct strbuf c, d;
	int r;

	c.maxlen = 0;
	c.len = ctllen;
	c.buf = (char *)ctl;
	d.maxlen = 0;
	d.len = datalen;
	d.buf = (char *)data;
	do {
		r = putpmsg(fd, ctllen < 0 ? NULL : &c, datalen < 0 ? NULL : &d,
		    (flags & S4J_MSG_HIPRI) != 0 ? 0 : band,
		    (flags & S4J_MSG_HIPRI) != 0 ? MSG_HIPRI : MSG_BAND);
	} while (r < 0 && errno == EINTR);
	return (r < 0 ? -errno : 0);
}

int
s4j_peekmsg(int fd, void *ctl, void *data, int *io)
{
	struct strpeek pk;
	char spare_ctl[1], spare_data[1];
	int ctl_room = io[S4J_MSG_CTL], data_room = io[S4J_MSG_DATA];
	int r;

	(void) memset(&pk, 0, sizeof (pk));
	/*
	 * I_PEEK copies at most maxlen of each part and reports the length
	 * copied: -1 for a part the message lacks, 0 for one given maxlen 0
	 * whether or not it is there, and with both parts -1 it answers 0, as
	 * for no message (strioctl I_PEEK; fifo_fastioctl likewise).  So a
	 * part given no room is peeked into a byte of this frame: its length
	 * says whether the part is there, and 0 is reported for it, nothing
	 * having been copied for the caller.  A message of one part is then
	 * seen whichever part has no room (a high-priority message always has
	 * a control part).
	 */
	pk.ctlbuf.maxlen = ctl_room > 0 ? ctl_room : 1;
	pk.ctlbuf.buf = ctl_room > 0 ? ctl : spare_ctl;
	pk.databuf.maxlen = data_room > 0 ? data_room : 1;
	pk.databuf.buf = data_room > 0 ? data : spare_data;
	if (io[S4J_MSG_FLAGS] == S4J_MSG_HIPRI)
		pk.flags = RS_HIPRI;
	else if (io[S4J_MSG_FLAGS] == 0)
		pk.flags = 0;
	else
		return (-EINVAL);
	if ((r = ioctl(fd, I_PEEK, &pk)) < 0)
		return (-errno);
	if (r == 0)
		return (0);
	io[S4J_MSG_CTL] = ctl_room > 0 || pk.ctlbuf.len < 0 ? pk.ctlbuf.len : 0;
	io[S4J_MSG_DATA] = data_room > 0 || pk.databuf.len < 0 ?
	    pk.databuf.len : 0;
	io[S4J_MSG_BANDNO] = 0;		/* strpeek does not report the band */
	io[S4J_MSG_FLAGS] = (pk.flags & RS_HIPRI) != 0 ? S4J_MSG_HIPRI :
	    S4J_MSG_BAND;
	return (1);
}

int
s4j_nread_msgs(int fd, int *size)
{
	int r;

	*size = 0;
	return ((r = ioctl(fd, I_NREAD, size)) < 0 ? -errno : r);
}

int
s4j_set_read_opt(int fd, int mode, int prot)
{
	int opt;

	switch (mode) {
	case S4J_RNORM:
		opt = RNORM;
		break;
	case S4J_RMSGD:
		opt = RMSGD;
		break;
	case S4J_RMSGN:
		opt = RMSGN;
		break;
	default:
		return (-EINVAL);
	}
	switch (prot) {
	case S4J_RPROTNORM:
		opt |= RPROTNORM;
		break;
	case S4J_RPROTDAT:
		opt |= RPROTDAT;
		break;
	case S4J_RPROTDIS:
		opt |= RPROTDIS;
		break;
	default:
		return (-EINVAL);
	}
	return (ioctl(fd, I_SRDOPT, opt) < 0 ? -errno : 0);
}

int
s4j_get_read_opt(int fd, int out[2])
{
	int opt = 0;

	if (ioctl(fd, I_GRDOPT, &opt) < 0)
		return (-errno);
	switch (opt & RMODEMASK) {
	case RNORM:
		out[0] = S4J_RNORM;
		break;
	case RMSGD:
		out[0] = S4J_RMSGD;
		break;
	case RMSGN:
		out[0] = S4J_RMSGN;
		break;
	default:
		return (-EPROTO);
	}
	switch (opt & RPROTMASK) {
	case RPROTNORM:
		out[1] = S4J_RPROTNORM;
		break;
	case RPROTDAT:
		out[1] = S4J_RPROTDAT;
		break;
	case RPROTDIS:
		out[1] = S4J_RPROTDIS;
		break;
	default:
		return (-EPROTO);
	}
	return (0);
}

int
s4j_set_write_opt(int fd, int bits)
{
	int opt = 0;

	if ((bits & ~(S4J_SNDZERO | S4J_SNDPIPE)) != 0)
		return (-EINVAL);
	if ((bits & S4J_SNDZERO) != 0)
		opt |= SNDZERO;
	if ((bits & S4J_SNDPIPE) != 0)
		opt |= SNDPIPE;
	return (ioctl(fd, I_SWROPT, opt) < 0 ? -errno : 0);
}

int
s4j_get_write_opt(int fd)
{
	int opt = 0;

	if (ioctl(fd, I_GWROPT, &opt) < 0)
		return (-errno);
	return (((opt & SNDZERO) != 0 ? S4J_SNDZERO : 0) |
	    ((opt & SNDPIPE) != 0 ? S4J_SNDPIPE : 0));
}

int
s4j_flush(int fd, int which, int band)
{
	struct bandinfo bi;
	int flag = 0;
	int r;

	if ((which & S4J_FLUSHR) != 0)
		flag |= FLUSHR;
	if ((which & S4J_FLUSHW) != 0)
		flag |= FLUSHW;
	if (flag == 0 || (which & ~(S4J_FLUSHR | S4J_FLUSHW)) != 0 ||
	    band > 255)
		return (-EINVAL);
	if (band < 0) {
		do {
			r = ioctl(fd, I_FLUSH, flag);
		} while (r < 0 && errno == EINTR);
	} else {
		(void) memset(&bi, 0, sizeof (bi));
		bi.bi_pri = (unsigned char)band;
		bi.bi_flag = flag;
		do {
			r = ioctl(fd, I_FLUSHBAND, &bi);
		} while (r < 0 && errno == EINTR);
	}
	return (r < 0 ? -errno : 0);
}

int
s4j_canput(int fd, int band)
{
	int r;

	if (band < 0 || band > 255)
		return (-EINVAL);
	r = ioctl(fd, I_CANPUT, band);
	return (r < 0 ? -errno : r);
}

int
s4j_ckband(int fd, int band)
{
	int r = ioctl(fd, I_CKBAND, band);

	return (r < 0 ? -errno : r);
}

int
s4j_getband(int fd)
{
	int band = 0;

	return (ioctl(fd, I_GETBAND, &band) < 0 ? -errno : band);
}

int
s4j_atmark(int fd, int which)
{
	int r;

	if (which != S4J_ANYMARK && which != S4J_LASTMARK)
		return (-EINVAL);
	r = ioctl(fd, I_ATMARK, which == S4J_ANYMARK ? ANYMARK : LASTMARK);
	return (r < 0 ? -errno : r);
}

int
s4j_get_cltime(int fd)
{
	int ms = 0;

	return (ioctl(fd, I_GETCLTIME, &ms) < 0 ? -errno : ms);
}

int
s4j_set_cltime(int fd, int ms)
{
	return (ioctl(fd, I_SETCLTIME, &ms) < 0 ? -errno : 0);
}

int
s4j_str_ioctl(int fd, int cmd, void *buf, int inlen, int cap,
    int timeout_s, int *outlen)
{
	struct strioctl ic;
	int r;

	*outlen = 0;
	if (inlen < 0 || cap < 0 || inlen > cap)
		return (-EINVAL);
	(void) memset(&ic, 0, sizeof (ic));
	ic.ic_cmd = cmd;
	ic.ic_timout = timeout_s;
	ic.ic_len = inlen;
	ic.ic_dp = buf;
	/*
	 * Not retried on EINTR: the module may have acted on the request
	 * already.  strdoioctl copies the module's whole answer (getiocd:
	 * ioc_count bytes, never checked against the caller's ic_len), so
	 * buf must have room for any answer: the Java side gives it 64 KiB
	 * at least, whatever cap says.
	 */
	if ((r = ioctl(fd, I_STR, &ic)) < 0)
		return (-errno);
	*outlen = ic.ic_len;
	return (r);
}

long
s4j_msg_peek(int fd, void *buf, long len, int flags, int *fds)
{
	(void) fd; (void) buf; (void) len; (void) flags;
	*fds = 0;
	return (-ENOTSUP);	/* a stream says it with getmsg and I_PEEK */
}

#endif /* __sun */
