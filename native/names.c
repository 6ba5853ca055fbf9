/*
 * names.c: user and group names through the C library's reentrant lookups
 * (getpwnam_r, getpwuid_r, getgrnam_r, getgrgid_r), so that every source
 * nsswitch.conf names (files, LDAP, NIS, sssd) answers, not /etc/passwd
 * alone.  Each function is one lookup; the lookup's scratch space is
 * malloc'ed and grown while the C library answers ERANGE, and freed before
 * returning.
 */
/* First: its feature macros give the POSIX forms of the _r functions on illumos. */
#include "shim_internal.h"

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

/* What a lookup gives back: an id, or a name copied into buf. */
struct answer {
	int	*id;
	char	*buf;
	int	len;
	int	r;	/* 0, or -ERANGE when buf is too small for the name */
};

/* One _r lookup with tmp as its scratch; returns 0 or an errno. */
typedef int (*lookup_fn)(const void *key, char *tmp, size_t size,
    struct answer *a);

/* Runs fn with scratch space grown while it answers ERANGE. */
static int
with_scratch(lookup_fn fn, const void *key, struct answer *a)
{
	size_t size;
	char *tmp;
	int err = ERANGE;

	a->r = 0;
	for (size = S4J_NSS_START; err == ERANGE && size <= S4J_NSS_MAX;
	    size *= 2) {
		if ((tmp = malloc(size)) == NULL)
			return (-ENOMEM);
		err = fn(key, tmp, size, a);
		free(tmp);
	}
	return (err != 0 ? -err : a->r);
}

static int
uid_by_name(const void *key, char *tmp, size_t size, struct answer *a)
{
	struct passwd pw, *res = NULL;
	int err = getpwnam_r(key, &pw, tmp, size, &res);

	if ((err = found(err, res)) == 0)
		*a->id = (int)pw.pw_uid;
	return (err);
}

static int
gid_by_name(const void *key, char *tmp, size_t size, struct answer *a)
{
	struct group gr, *res = NULL;
	int err = getgrnam_r(key, &gr, tmp, size, &res);

	if ((err = found(err, res)) == 0)
		*a->id = (int)gr.gr_gid;
	return (err);
}

static int
name_by_uid(const void *key, char *tmp, size_t size, struct answer *a)
{
	struct passwd pw, *res = NULL;
	int err = getpwuid_r((uid_t)*(const int *)key, &pw, tmp, size, &res);

	if ((err = found(err, res)) == 0)
		a->r = copy_name(pw.pw_name, a->buf, a->len);
	return (err);
}

static int
name_by_gid(const void *key, char *tmp, size_t size, struct answer *a)
{
	struct group gr, *res = NULL;
	int err = getgrgid_r((gid_t)*(const int *)key, &gr, tmp, size, &res);

	if ((err = found(err, res)) == 0)
		a->r = copy_name(gr.gr_name, a->buf, a->len);
	return (err);
}

int
s4j_uid_of(const char *name, int *id)
{
	struct answer a = { id, NULL, 0, 0 };

	return (with_scratch(uid_by_name, name, &a));
}

int
s4j_gid_of(const char *name, int *id)
{
	struct answer a = { id, NULL, 0, 0 };

	return (with_scratch(gid_by_name, name, &a));
}

int
s4j_user_name(int uid, char *buf, int len)
{
	struct answer a = { NULL, buf, len, 0 };

	return (with_scratch(name_by_uid, &uid, &a));
}

int
s4j_group_name(int gid, char *buf, int len)
{
	struct answer a = { NULL, buf, len, 0 };

	return (with_scratch(name_by_gid, &gid, &a));
}
