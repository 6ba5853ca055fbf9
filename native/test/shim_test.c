/*
 * shim_test.c: the shim's own test of logic that runs the same on every
 * host, above all the parts of the illumos code that Linux cannot run
 * (shim_internal.h).  make check builds and runs it; Maven runs make check
 * in the test phase.  Prints "N passed, N failed" and exits 1 on a failure.
 */
#include "shim_internal.h"

#include <errno.h>
#include <stdio.h>

#include "streams4j.h"

static int passed, failed;

static void
expect(int got, int want, const char *what)
{
	if (got == want) {
		passed++;
	} else {
		failed++;
		(void) printf("FAIL %s: got %d, want %d\n", what, got, want);
	}
}

/*
 * s4j_ev_wait's reading of port_getn (events.c): libc leaves *nget at its
 * input (1, the minimum to wait for) on every error but ETIME.
 */
static void
port_getn_result(void)
{
	expect(s4j_port_getn_result(-1, EINTR, 1), -EINTR,
	    "EINTR with nget left at its input: no event");
	expect(s4j_port_getn_result(-1, ETIME, 0), 0,
	    "ETIME with no event");
	expect(s4j_port_getn_result(-1, ETIME, 3), 3,
	    "ETIME after 3 events");
	expect(s4j_port_getn_result(0, 0, 5), 5, "5 events");
	expect(s4j_port_getn_result(-1, EBADF, 1), -EBADF,
	    "EBADF: no event");
#if defined(EBADFD)
	expect(s4j_port_getn_result(-1, EBADFD, 1), -EBADFD,
	    "EBADFD (port closing): no event");
#endif
}

int
main(void)
{
	port_getn_result();
	(void) printf("shim_test: %d passed, %d failed\n", passed, failed);
	return (failed == 0 ? 0 : 1);
}
