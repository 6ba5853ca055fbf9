/*
 * streams4j.h: the whole ABI between the Java layer and the C shim.
 *
 * Rules every function here follows:
 *  - one system call's worth of work (a retry on EINTR, or a fcntl that
 *    makes a new descriptor close-on-exec, belongs to that work);
 *  - returns >= 0 on success and -errno on failure;
 *  - keeps no state: no globals, no caches, no signal handlers;
 *  - every descriptor it creates is close-on-exec.
 *
 * Flags and poll bits are the shim's own values (below), translated in C,
 * so that Java never carries a platform's O_* or POLL* numbers.
 *
 * Functions are grouped by the file that implements them:
 *  common.c    every platform
 *  streams.c   illumos and Solaris (STREAMS), body guarded by __sun
 *  portable.c  Linux, macOS and the BSDs (AF_UNIX), body guarded by !__sun
 *  events.c    event-loop waits: epoll, event ports, else -ENOTSUP
 *  exchange.c  a write and a read in one call
 */
#ifndef STREAMS4J_H
#define	STREAMS4J_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Which backend this build of the shim carries. */
#define	S4J_BACKEND_PORTABLE	1
#define	S4J_BACKEND_STREAMS	2

/* s4j_open flags. */
#define	S4J_O_READ		0x01
#define	S4J_O_WRITE		0x02
#define	S4J_O_CREAT_EXCL	0x04	/* O_CREAT|O_EXCL */
#define	S4J_O_NOFOLLOW		0x08
#define	S4J_O_NONBLOCK		0x10
#define	S4J_O_DIRECTORY		0x20	/* O_DIRECTORY: fail unless a directory */
/*
 * O_PATH (Linux): a descriptor naming the file itself, opened without
 * reading it (a socket too); with S4J_O_NOFOLLOW a link is not followed.
 * Read and write flags are ignored.  -EOPNOTSUPP where there is no O_PATH.
 */
#define	S4J_O_PATH		0x40

/* The dirfd meaning "the current directory" in the *at calls (AT_FDCWD). */
#define	S4J_AT_FDCWD		(-100)

/* s4j_poll events and revents. */
#define	S4J_POLLIN		0x01
#define	S4J_POLLOUT		0x02
#define	S4J_POLLERR		0x04
#define	S4J_POLLHUP		0x08
#define	S4J_POLLNVAL		0x10
/*
 * STREAMS' own events (issue 25), reported beside S4J_POLLIN, which stays
 * "something can be read" (any of them): a high-priority message at the
 * head (POLLPRI), a message of a band above 0 (POLLRDBAND), room to write
 * in a band above 0 (POLLWRBAND).  Asked for alone, each polls for itself.
 */
#define	S4J_POLLPRI		0x20
#define	S4J_POLLRDBAND		0x40
#define	S4J_POLLWRBAND		0x80

/* s4j_file_type results. */
#define	S4J_FT_OTHER		0
#define	S4J_FT_REGULAR		1
#define	S4J_FT_DIRECTORY	2
#define	S4J_FT_FIFO		3
#define	S4J_FT_SOCKET		4
#define	S4J_FT_CHAR		5
#define	S4J_FT_BLOCK		6
#define	S4J_FT_SYMLINK		7

/* Module names: FMNAMESZ (8) characters and a NUL, as in <sys/conf.h>. */
#define	S4J_MODNAME_SIZE	9

/*
 * The descriptors one receive can bring: the int arrays the receive calls
 * fill (passed, others) hold S4J_RECV_FDS ints.  Linux passes at most
 * SCM_MAX_FD (253) with one message and the shim's control buffer holds
 * that many, so that the kernel never drops one that does not fit: it would
 * close it in the receiving call (scm_detach_fds, __scm_destroy), and that
 * close can block (see s4j_preclose).  The shim closes none of them either:
 * every one is handed to the caller, one -1 after the last.
 */
#define	S4J_RECV_FDS		254

/* Indexes into the int[4] that s4j_peer_cred and s4j_recvfd fill. */
#define	S4J_CRED_UID		0
#define	S4J_CRED_GID		1
#define	S4J_CRED_PID		2	/* -1 when the platform cannot say */
#define	S4J_CRED_ZONE		3	/* -1 where there are no zones */

/* ---- common.c ---------------------------------------------------------- */
int s4j_backend(void);
/* Name of an errno value ("EBUSY"), or NULL when the platform has none. */
const char *s4j_errno_name(int err);

/*
 * The ABI's numbers that Java sizes its memory by, so that Java reads them
 * here instead of keeping copies: S4J_ABI_* in, the value out (-EINVAL for
 * another what).
 */
#define	S4J_ABI_EV_BATCH	1	/* S4J_EV_BATCH */
#define	S4J_ABI_EV_SIZE		2	/* S4J_EV_SIZE, sizeof (s4j_ev_t) */
#define	S4J_ABI_RECV_FDS	3	/* S4J_RECV_FDS */
#define	S4J_ABI_MAX_IOV		4	/* S4J_MAX_IOV, or sysconf(_SC_IOV_MAX) if less */
#define	S4J_ABI_PIPE_BUF	5	/* PIPE_BUF: what one write after POLLOUT may carry without waiting */
#define	S4J_ABI_TTY_SAVE_MAX	6	/* S4J_TTY_SAVE_MAX: room for a saved termios */
int s4j_abi(int what);
/*
 * The most buffers Java gives one s4j_writev or s4j_recvv, unless
 * sysconf(_SC_IOV_MAX) allows fewer (see s4j_abi in common.c).
 */
#define	S4J_MAX_IOV		64
/* strerror_r into buf; returns 0 or -errno. */
int s4j_strerror(int err, char *buf, int len);
int s4j_geteuid(void);
int s4j_getegid(void);
int s4j_open(const char *path, int flags, int mode);
/* fcntl(fd, F_DUPFD_CLOEXEC, 0): a new number for fd's file, close-on-exec. */
int s4j_dup(int fd);
int s4j_close(int fd);
/*
 * Makes fd refer to marker (dup2) after waking any thread blocked on fd
 * (shutdown for a socket; on illumos the dup2 itself wakes it).  The number
 * stays taken until s4j_close.
 *
 * The dup2 drops this number's reference to its file, and when that was the
 * last one the file is released in this call, which can block for as long
 * as the peer likes (a TCP socket lingering towards a reader that never
 * reads; a socket or pipe holding such a descriptor in flight).  With keep
 * != 0 a second reference is taken first (F_DUPFD_CLOEXEC) and returned:
 * the file's last close is then the caller's close of that descriptor, done
 * where blocking is harmless.  When that dup fails (EMFILE) the number is
 * only shut down, not pointed at the marker, and -errno is returned.
 * Returns 0 (keep == 0), the kept descriptor (keep != 0), or -errno.
 */
int s4j_preclose(int fd, int marker, int keep);
/* read/write at buf + off; EINTR retried; return bytes or -errno. */
long s4j_read(int fd, void *buf, long off, long len);
long s4j_write(int fd, const void *buf, long off, long len);
/* poll one descriptor; timeout_ms < 0 waits forever; 0 on time-out. */
int s4j_poll(int fd, int events, int timeout_ms);
/*
 * poll(2) n descriptors at once.  fds points at n struct pollfd (POSIX:
 * int fd, short events, short revents; the same layout on every platform
 * the shim builds for) whose events are S4J_POLL* bits; they are turned into
 * the platform's bits for the call and back, and revents comes back in
 * S4J_POLL* bits.  Negative fds are skipped, as poll(2) does.  Returns the
 * number of entries with revents, 0 on time-out, or -errno (EINTR is
 * returned, not retried).
 */
int s4j_poll_many(void *fds, int n, int timeout_ms);
int s4j_set_nonblocking(int fd, int on);
/* Returns S4J_FT_*, or -errno (-EBADF for a descriptor that is not open). */
int s4j_file_type(int fd);
/* Like s4j_file_type, for a path, without following a final symlink. */
int s4j_path_type(const char *path);
int s4j_chmod(const char *path, int mode);
/* Bytes readable now (STREAMS: I_NREAD, first message; else FIONREAD). */
int s4j_nread(int fd);

/*
 * File identity, for acting on what was checked rather than on a name.
 * s4j_fstat and s4j_fstatat fill long[S4J_ST_COUNT] at st (indexes below);
 * S4J_ST_TYPE is an S4J_FT_* value and S4J_ST_PERM the permission bits
 * (07777).  s4j_fstatat never follows a final symbolic link.
 */
#define	S4J_ST_DEV		0
#define	S4J_ST_INO		1
#define	S4J_ST_TYPE		2
#define	S4J_ST_PERM		3
#define	S4J_ST_UID		4
#define	S4J_ST_GID		5
#define	S4J_ST_NLINK		6
#define	S4J_ST_SIZE		7
#define	S4J_ST_MTIME_NS		8	/* seconds * 1e9 + nanoseconds */
#define	S4J_ST_CTIME_NS		9
#define	S4J_ST_COUNT		10
int s4j_fstat(int fd, long *st);
int s4j_fstatat(int dirfd, const char *name, long *st);
int s4j_fchmod(int fd, int mode);
/* openat(2) with s4j_open's flags; dirfd may be S4J_AT_FDCWD. */
int s4j_openat(int dirfd, const char *name, int flags, int mode);
int s4j_mkdirat(int dirfd, const char *name, int mode);
/* fchmodat(2) relative to dirfd (follows a final link: use on private dirs). */
int s4j_fchmodat(int dirfd, const char *name, int mode);
/* linkat(2) without following: fails with EEXIST when newname exists. */
int s4j_linkat(int olddirfd, const char *oldname, int newdirfd,
    const char *newname);
/* unlinkat(2); rmdir != 0 removes a directory (AT_REMOVEDIR). */
int s4j_unlinkat(int dirfd, const char *name, int rmdir);
/*
 * An exclusive lock on the whole file, owned by the open file description
 * (F_OFD_SETLK with F_WRLCK; flock LOCK_EX where there are no OFD locks), so
 * two descriptors of one process exclude each other too.  Never waits:
 * -EAGAIN, -EACCES or -EWOULDBLOCK while another description holds it.  fd
 * must be open for writing.  The lock goes with the description's last close.
 */
int s4j_lock(int fd);

/* ---- pipes and descriptor passing (streams.c or portable.c) -------------- */
/*
 * Two connected full-duplex ends: pipe(2) on STREAMS, socketpair elsewhere.
 * With S4J_SOCK_MESSAGES the portable backend makes a SOCK_SEQPACKET pair
 * (each write one message, each read at most one); a STREAMS pipe carries
 * messages either way, and with it leaves fifofs' fast mode at once, so that
 * each write is one message from the first (fast mode joins them).
 */
#define	S4J_SOCK_MESSAGES	0x01
int s4j_pipe(int fds[2], int flags);
/* Queue passfd at the other end (I_SENDFD, or SCM_RIGHTS with one byte). */
int s4j_sendfd(int fd, int passfd);
/*
 * Take the descriptor at the head of the stream (I_RECVFD).  Returns the new
 * descriptor and fills cred[UID], cred[GID] with the sender's ids.
 * -EBADMSG when data comes first: on the portable backend the one data byte
 * that was read is stored in *data so that the caller can keep it.
 * others (S4J_RECV_FDS ints) gets every descriptor that came and is not
 * returned (more than one in a message; one that came with a data byte, or
 * whose sender's credentials could not be read), ending at -1: the caller
 * closes them.
 *
 * cred may be NULL: nothing is filled, and the portable backend makes no
 * SO_PEERCRED call, for a caller that has the connection's credentials
 * already (they are the connect(2)-time peer's there, the same for every
 * descriptor; on STREAMS they come with each one, at no cost).
 */
int s4j_recvfd(int fd, int cred[4], int *data, int *others);
/*
 * read() that also notices descriptors travelling with the data.  On the
 * portable backend they arrive attached to the last byte read: passed
 * (S4J_RECV_FDS ints) gets the first in passed[0] (else -1) and any others
 * after it, ending at -1; all are the caller's.  On STREAMS it is plain
 * read() and passed[0] is -1.
 */
long s4j_recv(int fd, void *buf, long off, long len, int *passed);
/*
 * s4j_recv and s4j_write (send) for this call only non-blocking
 * (MSG_DONTWAIT), for a virtual thread that parks on -EAGAIN; the
 * descriptor's O_NONBLOCK is not changed.  Sockets only: -ENOTSOCK for
 * another descriptor on the portable backend, -ENOTSUP on STREAMS, which
 * has no per-call flag (the caller polls first, then calls s4j_recv or
 * s4j_write).
 */
long s4j_recv_nb(int fd, void *buf, long off, long len, int *passed);
long s4j_write_nb(int fd, const void *buf, long off, long len);
/* The peer's credentials: getpeerucred, SO_PEERCRED or getpeereid. */
int s4j_peer_cred(int fd, int cred[4]);

/* ---- STREAMS only (streams.c) ------------------------------------------- */
int s4j_isastream(int fd);
int s4j_push(int fd, const char *module);
int s4j_pop(int fd);
int s4j_look(int fd, char *name, int len);
int s4j_find(int fd, const char *module);
/*
 * With names == NULL, the number of modules plus the driver (I_LIST, 0); a
 * pipe or FIFO has no driver, so a bare pipe end counts 0 and lists nothing.
 */
int s4j_list(int fd, char *names, int count);
int s4j_fattach(int fd, const char *path);
int s4j_fdetach(const char *path);
/* statvfs(path).f_basetype: "namefs" where a stream is attached. */
int s4j_fstype(const char *path, char *name, int len);

/* ---- portable only (portable.c) ----------------------------------------- */
/*
 * socket + bind, non-listening yet so that the mode can be set first; flags
 * S4J_SOCK_MESSAGES makes it SOCK_SEQPACKET, as for s4j_pipe.  A connect of
 * the other type fails with -EPROTOTYPE (Linux unix_stream_connect).
 */
int s4j_unix_bind(const char *path, int flags);
int s4j_unix_listen(int fd, int backlog);
int s4j_unix_accept(int fd);
int s4j_unix_connect(const char *path, int flags);
/*
 * connect without blocking: a connected (blocking) descriptor; or, with
 * *pending set, one whose connect is under way (poll POLLOUT, then
 * s4j_socket_error); -EAGAIN while the listener's backlog is full.
 */
int s4j_unix_connect_nb(const char *path, int flags, int *pending);
/* SO_ERROR as -errno (0: none). */
int s4j_socket_error(int fd);
/*
 * Whether a socket listens at path, asked of the kernel without connecting
 * (Linux sock_diag): 1 yes, 0 no, -EOPNOTSUPP where it cannot tell.
 */
int s4j_unix_listening(const char *path);

/* ---- event-loop waits (events.c) ---------------------------------------- */
/*
 * The wait of an event loop: epoll (Linux), event ports (illumos, Solaris);
 * elsewhere every call answers -ENOTSUP and the loop uses s4j_poll_many.
 * A registration carries a 64-bit token that comes back with its events.
 * Events are S4J_POLL* bits.  s4j_ev_wait is the exception to "one system
 * call's worth of work": on event ports it first re-associates the one-shot
 * descriptors in arm (one port_associate each), so that the loop makes one
 * call per batch and none per descriptor; on epoll arm is ignored.
 */
#define	S4J_EV_NONE		0
#define	S4J_EV_EPOLL		1
#define	S4J_EV_PORT		2

/* s4j_ev_ctl operations. */
#define	S4J_EV_ADD		1
#define	S4J_EV_MOD		2
#define	S4J_EV_DEL		3
/*
 * ADD for one event only: epoll's EPOLLONESHOT (the registration stays,
 * disabled, until DEL); on event ports every association is one-shot.
 */
#define	S4J_EV_ONESHOT		4

/* The most events one s4j_ev_wait hands over (an array on its stack). */
#define	S4J_EV_BATCH		256
/* sizeof (s4j_ev_t), as Java lays it out (events.c asserts it). */
#define	S4J_EV_SIZE		16

/* One event out of s4j_ev_wait, or one descriptor to re-arm: 16 bytes. */
typedef struct s4j_ev {
	int64_t	token;
	int32_t	fd;	/* out: the descriptor (event ports), else -1 */
	int32_t	events;	/* S4J_POLL*; arm: -errno when re-arming failed */
} s4j_ev_t;

/* S4J_EV_*: which mechanism this build waits with. */
int s4j_ev_kind(void);
/* epoll_create1 or port_create; close-on-exec. */
int s4j_ev_create(void);
/*
 * Registers fd (ADD), for one event (ONESHOT), changes its events (MOD) or
 * removes it (DEL).  On event ports ADD, ONESHOT and MOD are port_associate
 * (one-shot), DEL is port_dissociate (-ENOENT once the event has been taken).
 */
int s4j_ev_ctl(int ep, int op, int fd, int events, int64_t token);
/*
 * Re-arms arm[0..narm) (event ports; see above), then waits up to timeout_ms
 * (< 0: forever) for at most max events (at most 256 are taken) into out.
 * Returns how many, 0 on time-out, or -errno (EINTR is returned).  A
 * wake-up from s4j_ev_wake comes back with its token, fd -1, events 0.
 */
int s4j_ev_wait(int ep, s4j_ev_t *arm, int narm, s4j_ev_t *out, int max,
    int timeout_ms);
/* Event ports: port_send(token) wakes a waiter; -ENOTSUP elsewhere. */
int s4j_ev_wake(int ep, int64_t token);

/* ---- request and answer (exchange.c) ------------------------------------ */
/*
 * s4j_write of wbuf + woff (wlen bytes), then, only when it wrote all of
 * them, s4j_recv into rbuf + roff (at most rlen).  *written is the write's
 * result (bytes or -errno); the return value is s4j_recv's (*passed as
 * there), or 0 when nothing was read because the write was short or failed.
 * Two system calls: the exception to the rule above, so that a round trip
 * costs one call into the shim per side.
 */
long s4j_exchange(int fd, const void *wbuf, long woff, long wlen, void *rbuf,
    long roff, long rlen, long *written, int *passed);

/* ---- gathering and scattering I/O, peer groups (issue 11) --------------- */
/*
 * iov points at iovcnt struct iovec (void *base, size_t len: the same 16
 * bytes on every LP64 platform the shim builds for).  s4j_writev is
 * writev(2), EINTR retried, -EINVAL for a total of zero bytes (a zero-length
 * STREAMS message reads as end of file).  s4j_recvv is readv(2) on STREAMS
 * and recvmsg(2) on the portable backend, where a descriptor that came with
 * the data are stored at passed as s4j_recv does (passed[0] -1: none).
 */
long s4j_writev(int fd, const void *iov, int iovcnt);
long s4j_recvv(int fd, const void *iov, int iovcnt, int *passed);
/*
 * s4j_peer_cred and the peer's supplementary groups in one go (illumos: one
 * getpeerucred, ucred_getgroups; Linux: SO_PEERCRED, SO_PEERGROUPS).  Stores
 * at most max gids at groups and returns how many the peer has: more than
 * max means "call again with that much room"; 0 where the platform does not
 * report groups.  -errno when the credentials cannot be read.
 */
int s4j_peer_cred_groups(int fd, int cred[4], int *groups, int max);

/* ---- names.c: the system's user and group databases (nsswitch) ---------- */
/*
 * getpwnam_r/getgrnam_r: the id of a name into *id; -ENOENT when the
 * database has no such entry.  getpwuid_r/getgrgid_r: the name of an id
 * into buf (NUL-terminated); -ENOENT when there is none, -ERANGE when buf is
 * too small.
 */
int s4j_uid_of(const char *name, int *id);
int s4j_gid_of(const char *name, int *id);
int s4j_user_name(int uid, char *buf, int len);
int s4j_group_name(int gid, char *buf, int len);

/* ---- end of output (streams.c or portable.c) ----------------------------- */
/*
 * Tells the other end that this end will send no more: shutdown(SHUT_WR) on
 * the portable backend (the peer reads end of file, this end can still
 * read); on STREAMS a zero-length message (write of 0 bytes), which the
 * peer's read returns as 0 in the default read mode, RNORM (strread), i.e.
 * as end of file, once: data written after it would be read after it.
 */
int s4j_shutdown_write(int fd);

/* ---- output the peer has not read (streams.c or portable.c) -------------- */
/*
 * How much of what was written on fd the other end has not read yet, as the
 * kernel counts it (Linux: SIOCOUTQ, which for an AF_UNIX stream socket is
 * the memory of the messages queued at the peer, unix_outq_len: 0 once it
 * has read everything).  -ENOTSUP where the platform cannot tell (STREAMS:
 * what a pipe end wrote sits at the other end's stream head, beyond this
 * end's reach; macOS and the BSDs).  Only its going down means anything: a
 * peer took something.
 */
int s4j_unread(int fd);

/* ---- STREAMS messages (streams.c; issue 25) ------------------------------ */
/*
 * getmsg(2), putmsg(2) and the streamio(4I) calls that look at or change a
 * stream head's queue and options.  Flags and option values are the shim's
 * own, translated in streams.c.  On the portable backend only s4j_msg_peek
 * and s4j_socket_type exist (portable.c and common.c); the rest are not
 * registered there.
 *
 * io is int[S4J_MSG_IO] for s4j_getmsg and s4j_peekmsg:
 *  in:  [CTL], [DATA] the room for each part (maxlen; -1: leave that part
 *       queued), [BAND] the lowest band wanted (with S4J_MSG_BAND), [FLAGS]
 *       what to take: S4J_MSG_ANY, S4J_MSG_BAND or S4J_MSG_HIPRI (getpmsg's
 *       MSG_*; for s4j_peekmsg only S4J_MSG_HIPRI or 0);
 *  out: [CTL], [DATA] each part's length (-1: the message had none),
 *       [BAND] the message's band, [FLAGS] S4J_MSG_HIPRI for a high-priority
 *       message, S4J_MSG_BAND for another, 0 for none: the end of the stream
 *       (hang-up), or with no room for either part.  s4j_peekmsg peeks
 *       a part given no room (0) into a byte of its own, so that its
 *       length still says whether the part is there (-1 or 0).
 */
#define	S4J_MSG_CTL		0
#define	S4J_MSG_DATA		1
#define	S4J_MSG_BANDNO		2
#define	S4J_MSG_FLAGS		3
#define	S4J_MSG_IO		4
#define	S4J_MSG_ANY		0x01
#define	S4J_MSG_BAND		0x02
#define	S4J_MSG_HIPRI		0x04
/* s4j_getmsg's result bits (MORECTL, MOREDATA: that part has more left). */
#define	S4J_MORECTL		0x01
#define	S4J_MOREDATA		0x02
/* getpmsg; EINTR retried.  Returns S4J_MORE* bits (>= 0) or -errno. */
int s4j_getmsg(int fd, void *ctl, void *data, int *io);
/*
 * putpmsg: ctllen or datalen -1 sends no such part; flags S4J_MSG_HIPRI
 * (a high-priority message, band 0) or 0 (band band).  Returns 0 or -errno.
 */
int s4j_putmsg(int fd, const void *ctl, int ctllen, const void *data,
    int datalen, int band, int flags);
/* I_PEEK: 1 and io filled as s4j_getmsg does, 0 when nothing is queued. */
int s4j_peekmsg(int fd, void *ctl, void *data, int *io);
/* I_NREAD: the number of messages queued; *size the first one's data bytes. */
int s4j_nread_msgs(int fd, int *size);

/* Read options (I_SRDOPT, I_GRDOPT): one mode and one protocol option. */
#define	S4J_RNORM		0	/* byte stream */
#define	S4J_RMSGD		1	/* message, the rest discarded */
#define	S4J_RMSGN		2	/* message, the rest kept */
#define	S4J_RPROTNORM		0	/* read of a control part: EBADMSG */
#define	S4J_RPROTDAT		1	/* control part read as data */
#define	S4J_RPROTDIS		2	/* control part discarded */
int s4j_set_read_opt(int fd, int mode, int prot);
/* out[0] the mode, out[1] the protocol option; -EPROTO for a value not above. */
int s4j_get_read_opt(int fd, int out[2]);
/* Write options (I_SWROPT, I_GWROPT): bits (illumos has no SNDHOLD). */
#define	S4J_SNDZERO		0x01
#define	S4J_SNDPIPE		0x02
int s4j_set_write_opt(int fd, int bits);
int s4j_get_write_opt(int fd);
/* I_FLUSH (band < 0) or I_FLUSHBAND of band: which is S4J_FLUSH* bits. */
#define	S4J_FLUSHR		0x01
#define	S4J_FLUSHW		0x02
int s4j_flush(int fd, int which, int band);
/* I_CANPUT of band 0-255 (illumos has no ANYBAND): 1 when a write would not block, else 0. */
int s4j_canput(int fd, int band);
/* I_CKBAND: 1 when a message of band is queued, else 0. */
int s4j_ckband(int fd, int band);
/* I_GETBAND: the band of the first message queued; -ENODATA when none. */
int s4j_getband(int fd);
/* I_ATMARK with S4J_ANYMARK or S4J_LASTMARK: 1 or 0. */
#define	S4J_ANYMARK		0x01
#define	S4J_LASTMARK		0x02
int s4j_atmark(int fd, int which);
/* I_GETCLTIME, I_SETCLTIME: milliseconds. */
int s4j_get_cltime(int fd);
int s4j_set_cltime(int fd, int ms);
/*
 * I_STR: ioctl cmd for the module below the stream head, inlen bytes of buf
 * sent, its answer stored back in buf and its length in *outlen; timeout_s
 * as ic_timout (0: the stream's default, -1: no limit).  cap (buf's size)
 * only bounds inlen: the kernel copies the module's whole answer, unchecked
 * (strdoioctl, getiocd), so buf must hold any answer the module may give.
 * Returns the module's answer (ioctl's value, >= 0) or -errno (ETIME: no
 * answer in time).
 */
int s4j_str_ioctl(int fd, int cmd, void *buf, int inlen, int cap,
    int timeout_s, int *outlen);

/*
 * The portable backend's message sockets (portable.c): the length of the
 * message at the head of a SOCK_SEQPACKET socket, left queued
 * (MSG_PEEK|MSG_TRUNC), with at most len of its bytes copied to buf (buf
 * may be NULL when len is 0); *fds 1 when descriptors travel with it (they
 * are not installed), else 0.  S4J_MSG_PEEK_NB: this call only
 * non-blocking (-EAGAIN).  0 is a zero-length message or the end of the
 * stream.  -ENOTSUP on STREAMS.
 */
#define	S4J_MSG_PEEK_NB		0x01
long s4j_msg_peek(int fd, void *buf, long len, int flags, int *fds);
/* getsockopt SO_TYPE as an S4J_SOCK_* value; -ENOTSOCK for a descriptor that is no socket. */
#define	S4J_SOCK_STREAM		1
#define	S4J_SOCK_SEQPACKET	2
#define	S4J_SOCK_DGRAM		3
#define	S4J_SOCK_OTHER		4
int s4j_socket_type(int fd);

/* ---- processes (process.c) ---------------------------------------------- */
/*
 * s4j_kill signals: the shim's own values (the first five happen to be the
 * usual numbers, the rest are not; process.c maps each).
 */
#define	S4J_SIG_NONE		0	/* kill(pid, 0): does it exist? */
#define	S4J_SIG_HUP		1
#define	S4J_SIG_INT		2
#define	S4J_SIG_QUIT		3
#define	S4J_SIG_KILL		9
#define	S4J_SIG_TERM		15
#define	S4J_SIG_CONT		101
#define	S4J_SIG_STOP		102
#define	S4J_SIG_TSTP		103
#define	S4J_SIG_WINCH		104
#define	S4J_SIG_USR1		105
#define	S4J_SIG_USR2		106
/* s4j_waitpid flags. */
#define	S4J_WAIT_NOHANG		0x01	/* -EAGAIN while the child runs */
#define	S4J_WAIT_NOREAP		0x02	/* WNOWAIT: leave it waitable (its pid stays taken) */
/*
 * posix_spawn(path, argv, envp) in a new process group whose id is the
 * child's pid (POSIX_SPAWN_SETPGROUP), with fd dup2-ed onto its stdin and
 * stdout, stderr inherited, every other descriptor closed, an empty signal
 * mask and SIGHUP, SIGINT, SIGQUIT, SIGPIPE and SIGTERM at their defaults.
 * argv and envp are NULL-terminated.  Returns the pid or -errno.
 */
int s4j_spawn(const char *path, char *const argv[], char *const envp[],
    int fd);
/* kill(2) with an S4J_SIG_* value; a negative pid is a process group. */
int s4j_kill(int pid, int sig);
/*
 * waitid(P_PID, pid) for its exit, EINTR retried: the exit status, or 128 +
 * the signal that killed it; -EAGAIN with S4J_WAIT_NOHANG while it runs.
 */
int s4j_waitpid(int pid, int flags);
/*
 * posix_spawn(path, argv, envp) as the leader of a new session
 * (POSIX_SPAWN_SETSID), with tty, a terminal's path, opened as its stdin
 * (without O_NOCTTY, so that it becomes the session's controlling terminal:
 * Linux's tty_open_proc_set_tty, illumos' stropen/strctty) and dup2-ed onto
 * its stdout and stderr, every other descriptor closed, an empty signal mask
 * and the signals of s4j_spawn at their defaults.  The pid (also the
 * session's and its process group's id) or -errno; -EOPNOTSUPP where
 * posix_spawn cannot start a session (no POSIX_SPAWN_SETSID in spawn.h:
 * glibc before 2.26, illumos before its 2026 spawn.h) or where opening a
 * terminal does not make it the controlling one (the BSDs and macOS need
 * TIOCSCTTY, which posix_spawn cannot do).
 */
int s4j_spawn_tty(const char *path, char *const argv[], char *const envp[],
    const char *tty);

/* ---- pseudo-terminals (pty.c) ------------------------------------------- */
/* posix_openpt(O_RDWR | O_NOCTTY), close-on-exec: the master, or -errno. */
int s4j_pty_open(void);
/*
 * I_PUSH of a terminal module (ptem, ldterm, ttcompat) on a subsidiary with
 * __I_PUSH_NOCTTY where the headers have it: the push never makes it this
 * process's controlling terminal.  -EOPNOTSUPP off STREAMS.
 */
int s4j_pty_push(int fd, const char *module);
/* grantpt(3C) and unlockpt(3C) on the master. */
int s4j_pty_grant(int fd);
int s4j_pty_unlock(int fd);
/* ptsname(3C) into name[len]: its length, -ERANGE when len is too small. */
int s4j_pty_name(int fd, char *name, int len);
/* TIOCGWINSZ and TIOCSWINSZ through int[S4J_WS_COUNT] (each 0..65535). */
#define	S4J_WS_ROWS		0
#define	S4J_WS_COLS		1
#define	S4J_WS_XPIXEL		2
#define	S4J_WS_YPIXEL		3
#define	S4J_WS_COUNT		4
int s4j_winsize_get(int fd, int ws[4]);
int s4j_winsize_set(int fd, const int ws[4]);
/* Terminal modes: termios bits as the shim's own. */
#define	S4J_TTY_ECHO		0x01	/* c_lflag ECHO */
#define	S4J_TTY_CANONICAL	0x02	/* c_lflag ICANON: lines, erase, kill */
#define	S4J_TTY_SIGNALS		0x04	/* c_lflag ISIG: ^C, ^\, ^Z send signals */
#define	S4J_TTY_OUTPUT		0x08	/* c_oflag OPOST: output processing (NL to CR-NL) */
#define	S4J_TTY_CR_TO_NL	0x10	/* c_iflag ICRNL */
#define	S4J_TTY_ALL		0x1f
/* tcgetattr(3C): the S4J_TTY_* bits that are on, or -errno. */
int s4j_tty_modes(int fd);
/*
 * tcgetattr, then tcsetattr(TCSANOW) with the S4J_TTY_* bits in modes on and
 * the others off, every other setting kept; with raw, cfmakeraw's settings
 * first (8-bit characters, no input or output processing, a read returns
 * from one byte).
 */
int s4j_tty_set_modes(int fd, int modes, int raw);
/*
 * The whole termios (tcgetattr) copied into buf[len], opaque to the caller:
 * its size, or -ERANGE when len is less (S4J_TTY_SAVE_MAX is always
 * enough); and tcsetattr(TCSANOW) of what s4j_tty_save gave (len its size).
 */
#define	S4J_TTY_SAVE_MAX	256
int s4j_tty_save(int fd, void *buf, int len);
int s4j_tty_restore(int fd, const void *buf, int len);
/* isatty(3C): 1, 0 (ENOTTY, EINVAL), or -errno (EBADF). */
int s4j_isatty(int fd);

/*
 * renameat(2) (common.c): replaces newname if it exists.  Moves a name into
 * a directory only this process can write, where what it named is checked
 * before anything is done to it.
 */
int s4j_renameat(int olddirfd, const char *oldname, int newdirfd,
    const char *newname);

#ifdef __cplusplus
}
#endif

#endif /* STREAMS4J_H */
