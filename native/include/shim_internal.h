/*
 * shim_internal.h: helpers the shim's C files share.  Not part of the ABI:
 * Java never calls them (streams4j.h is the whole ABI).  Every C file
 * includes it first, before any system header: the feature macros below
 * must come before the first one.
 */
#ifndef SHIM_INTERNAL_H
#define	SHIM_INTERNAL_H

/*
 * Linux: the GNU extensions (SOCK_CLOEXEC, struct ucred, posix_spawn's
 * closefrom).  illumos: the extensions beyond the standards
 * (__EXTENSIONS__: ucred, port_*, fattach), and the POSIX forms of the _r
 * lookups (getpwnam_r...), not the older Solaris drafts.
 */
#if defined(__linux__) && !defined(_GNU_SOURCE)
#define	_GNU_SOURCE
#endif
#if defined(__sun)
/*
 * No X/Open mode, with either compiler: gcc defines _XOPEN_SOURCE on
 * illumos for C++ only (gcc/config/sol2.h), clang's Solaris target for C99
 * and later as well, and with it sys/feature_tests.h turns on _XPG4_2..6,
 * which renames calls (socket.h: getsockopt to __xnet_getsockopt, in
 * libxnet; stropts.h: putpmsg to __xpg4_putpmsg) and changes what a
 * hung-up putmsg returns.  The shim ships built by gcc; the clang build is
 * made to see the same declarations.
 */
#undef _XOPEN_SOURCE
#ifndef __EXTENSIONS__
#define	__EXTENSIONS__
#endif
#ifndef _POSIX_PTHREAD_SEMANTICS
#define	_POSIX_PTHREAD_SEMANTICS
#endif
#endif

#include <errno.h>
#include <fcntl.h>

/* FD_CLOEXEC on fd: 0, or -errno. */
static inline int
set_cloexec(int fd)
{
	return (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0 ? -errno : 0);
}

/* S4J_POLL* bits to the platform's POLL* bits and back (common.c). */
short s4j_to_poll(int ev);
short s4j_from_poll(short rev);

/*
 * How many events a port_getn(3C) call handed over, from its return value r,
 * the errno it left and *nget: libc's port_getn (lib/libc/port/gen/
 * event_port.c) stores *nget only when the system call succeeds or ends
 * with ETIME (portfs PORT_GETN puts the count in r_val1 and ETIME in
 * r_val2); on every other error, EINTR included (port_getn in
 * uts/common/fs/portfs/port.c returns "without events" after
 * cv_waituntil_sig), it returns -1 with *nget still the caller's input, the
 * minimum to wait for.  So: the count, 0 on a time-out with none, or
 * -errno.  Platform-free so that native/test/ checks it on every host.
 */
static inline int
s4j_port_getn_result(int r, int err, unsigned int nget)
{
	if (r < 0 && err != ETIME)
		return (-err);
	return ((int)nget);
}

#endif /* SHIM_INTERNAL_H */
