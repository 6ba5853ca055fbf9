/*
 * names.c: user and group names through the C library's reentrant lookups
 * (getpwnam_r, getpwuid_r, getgrnam_r, getgrgid_r), so that every source
 * nsswitch.conf names (files, LDAP, NIS, sssd) answers, not /etc/passwd
 * alone.  Each function is one lookup; the lookup's scratch space is
 * malloc'ed and grown while the C library answers ERANGE, and freed before
 * returning.
 */
#if defined(__sun)
#ifndef __EXTENSIONS__
#define	__EXTENSIONS__
#endif
/* The POSIX forms of the _r functions, not the older Solaris drafts. */
#ifndef _POSIX_PTHREAD_SEMANTICS
#define	_POSIX_PTHREAD_SEMANTICS
#endif
#endif

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "streams4j.h"

/* Where to start, and the most scratch a lookup may take. */
#define	S4J_NSS_START	1024
#define	S4J_NSS_MAX	(1024 * 1024)

/* A lookup's answer: 0 found, ENOENT none, another errno on failure. */
static int
found(int err, const void *result)
{
	if (err == 0 && result == NULL)
		return (ENOENT);
	/* Some C libraries report "no such entry" as one of these. */
	if (err == ESRCH || err == EBADF || err == EPERM)
		return (ENOENT);
	return (err);
}

static int
copy_name(const char *name, char *buf, int len)
{
	size_t n = strlen(name);

	if (buf == NULL || len <= 0 || n >= (size_t)len)
		return (-ERANGE);
	(void) memcpy(buf, name, n + 1);
	return (0);
}

int
s4j_uid_of(const char *name, int *id)
{
	struct passwd pw, *res = NULL;
	size_t size;
	char *tmp;
	int err = ERANGE;

	for (size = S4J_NSS_START; err == ERANGE && size <= S4J_NSS_MAX;
	    size *= 2) {
		if ((tmp = malloc(size)) == NULL)
			return (-ENOMEM);
		err = getpwnam_r(name, &pw, tmp, size, &res);
		err = found(err, res);
		if (err == 0)
			*id = (int)pw.pw_uid;
		free(tmp);
	}
	return (-err);
}

int
s4j_gid_of(const char *name, int *id)
{
	struct group gr, *res = NULL;
	size_t size;
	char *tmp;
	int err = ERANGE;

	for (size = S4J_NSS_START; err == ERANGE && size <= S4J_NSS_MAX;
	    size *= 2) {
		if ((tmp = malloc(size)) == NULL)
			return (-ENOMEM);
		err = getgrnam_r(name, &gr, tmp, size, &res);
		err = found(err, res);
		if (err == 0)
			*id = (int)gr.gr_gid;
		free(tmp);
	}
	return (-err);
}

int
s4j_user_name(int uid, char *buf, int len)
{
	struct passwd pw, *res = NULL;
	size_t size;
	char *tmp;
	int err = ERANGE, r = 0;

	for (size = S4J_NSS_START; err == ERANGE && size <= S4J_NSS_MAX;
	    size *= 2) {
		if ((tmp = malloc(size)) == NULL)
			return (-ENOMEM);
		err = getpwuid_r((uid_t)uid, &pw, tmp, size, &res);
		err = found(err, res);
		if (err == 0)
			r = copy_name(pw.pw_name, buf, len);
		free(tmp);
	}
	return (err != 0 ? -err : r);
}

int
s4j_group_name(int gid, char *buf, int len)
{
	struct group gr, *res = NULL;
	size_t size;
	char *tmp;
	int err = ERANGE, r = 0;

	for (size = S4J_NSS_START; err == ERANGE && size <= S4J_NSS_MAX;
	    size *= 2) {
		if ((tmp = malloc(size)) == NULL)
			return (-ENOMEM);
		err = getgrgid_r((gid_t)gid, &gr, tmp, size, &res);
		err = found(err, res);
		if (err == 0)
			r = copy_name(gr.gr_name, buf, len);
		free(tmp);
	}
	return (err != 0 ? -err : r);
}
