/*
 * exchange.c: a request and its answer in one call of the shim, for
 * request/response clients and echo loops (StreamFd.exchange): the write of
 * s4j_write, then, if it took everything, the read of s4j_recv.  Two system
 * calls; the point is one crossing from Java instead of two.
 */
#include "shim_internal.h"

#include <errno.h>
#include <stddef.h>

#include "streams4j.h"

long
s4j_exchange(int fd, const void *wbuf, long woff, long wlen, void *rbuf,
    long roff, long rlen, long *written, int *passed)
{
	long n;

	*passed = -1;
	n = s4j_write(fd, wbuf, woff, wlen);
	*written = n;
	if (n != wlen)
		return (0);	/* short or failed: the caller looks at *written */
	return (s4j_recv(fd, rbuf, roff, rlen, passed));
}
