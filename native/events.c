/*
 * events.c: the wait of an event loop (ConnldServer.serveEvents).
 *
 *  Linux              epoll, level-triggered: a registration stays until
 *                     EPOLL_CTL_DEL, so the wait re-arms nothing.
 *  illumos, Solaris   event ports, PORT_SOURCE_FD: an association is
 *                     one-shot (port_get_kevent/port_fd_callback hand the
 *                     event over and the association is spent), so the loop
 *                     passes the descriptors it wants again to s4j_ev_wait,
 *                     which re-associates them before port_getn.
 *  elsewhere          every call answers -ENOTSUP; the loop uses
 *                     s4j_poll_many instead.
 *
 * See streams4j.h for the ABI rules and docs/ILLUMOS-NOTES.md ("Event
 * ports") for the kernel behaviour the illumos half relies on.
 */
#include "shim_internal.h"

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

#include "streams4j.h"

#if defined(__linux__)
#include <sys/epoll.h>
#elif defined(__sun)
#include <fcntl.h>
#include <poll.h>
#include <port.h>
#include <time.h>
#endif

/* Events taken from the kernel per system call, and so at most per s4j_ev_wait. */
_Static_assert(sizeof (s4j_ev_t) == S4J_EV_SIZE, "s4j_ev_t is the 16 bytes Java lays out");

#if defined(__linux__)

static uint32_t
to_epoll(int ev)
{
	uint32_t r = 0;

	if (ev & S4J_POLLIN)
		r |= EPOLLIN | EPOLLRDHUP;
	if (ev & S4J_POLLOUT)
		r |= EPOLLOUT;
	return (r);
}

static int
from_epoll(uint32_t ev)
{
	int r = 0;

	if (ev & (EPOLLIN | EPOLLRDHUP))
		r |= S4J_POLLIN;
	if (ev & EPOLLOUT)
		r |= S4J_POLLOUT;
	if (ev & EPOLLERR)
		r |= S4J_POLLERR;
	if (ev & EPOLLHUP)
		r |= S4J_POLLHUP;
	return (r);
}

int
s4j_ev_kind(void)
{
	return (S4J_EV_EPOLL);
}

int
s4j_ev_create(void)
{
	int ep = epoll_create1(EPOLL_CLOEXEC);

	return (ep < 0 ? -errno : ep);
}

int
s4j_ev_ctl(int ep, int op, int fd, int events, int64_t token)
{
	struct epoll_event ev;
	int r;

	ev.events = to_epoll(events);
	ev.data.u64 = (uint64_t)token;
	switch (op) {
	case S4J_EV_ADD:
		r = epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
		break;
	case S4J_EV_ONESHOT:
		ev.events |= EPOLLONESHOT;
		r = epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
		break;
	case S4J_EV_MOD:
		r = epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
		break;
	case S4J_EV_DEL:
		r = epoll_ctl(ep, EPOLL_CTL_DEL, fd, &ev);
		break;
	default:
		return (-EINVAL);
	}
	return (r < 0 ? -errno : 0);
}

int
s4j_ev_wait(int ep, s4j_ev_t *arm, int narm, s4j_ev_t *out, int max,
    int timeout_ms)
{
	struct epoll_event evs[S4J_EV_BATCH];
	int i, n;

	(void) arm;
	if (narm < 0 || max <= 0 || out == NULL)
		return (-EINVAL);
	if (max > S4J_EV_BATCH)
		max = S4J_EV_BATCH;
	/* Level-triggered: registrations stay, nothing to re-arm. */
	n = epoll_wait(ep, evs, max, timeout_ms);
	if (n < 0)
		return (-errno);
	for (i = 0; i < n; i++) {
		out[i].token = (int64_t)evs[i].data.u64;
		out[i].fd = -1;
		out[i].events = from_epoll(evs[i].events);
	}
	return (n);
}

int
s4j_ev_wake(int ep, int64_t token)
{
	(void) ep;
	(void) token;
	/* The loop registers a pipe of its own and writes to it. */
	return (-ENOTSUP);
}

#elif defined(__sun)

int
s4j_ev_kind(void)
{
	return (S4J_EV_PORT);
}

int
s4j_ev_create(void)
{
	int port, err;

	/* port_create(3C) has no close-on-exec flag: set it at once. */
	if ((port = port_create()) < 0)
		return (-errno);
	if (fcntl(port, F_SETFD, FD_CLOEXEC) < 0) {
		err = errno;
		(void) close(port);
		return (-err);
	}
	return (port);
}

static int
associate(int port, int fd, int events, int64_t token)
{
	if (port_associate(port, PORT_SOURCE_FD, (uintptr_t)fd,
	    s4j_to_poll(events), (void *)(uintptr_t)token) < 0)
		return (-errno);
	return (0);
}

int
s4j_ev_ctl(int port, int op, int fd, int events, int64_t token)
{
	switch (op) {
	case S4J_EV_ADD:
	case S4J_EV_ONESHOT:
	case S4J_EV_MOD:
		/* Re-associating an associated fd replaces events and user. */
		return (associate(port, fd, events, token));
	case S4J_EV_DEL:
		/* ENOENT: not associated now (its one-shot event was taken). */
		if (port_dissociate(port, PORT_SOURCE_FD, (uintptr_t)fd) < 0)
			return (-errno);
		return (0);
	default:
		return (-EINVAL);
	}
}

int
s4j_ev_wait(int port, s4j_ev_t *arm, int narm, s4j_ev_t *out, int max,
    int timeout_ms)
{
	port_event_t evs[S4J_EV_BATCH];
	struct timespec ts, *tsp = NULL;
	uint_t nget = 1;	/* in: wait for at least one; out: how many */
	int i, n, r, err;

	if (narm < 0 || (narm > 0 && arm == NULL) || max <= 0 || out == NULL)
		return (-EINVAL);
	if (max > S4J_EV_BATCH)
		max = S4J_EV_BATCH;
	/* One-shot associations: take back the ones the caller handled. */
	for (i = 0; i < narm; i++) {
		if ((r = associate(port, arm[i].fd, arm[i].events,
		    arm[i].token)) < 0)
			arm[i].events = r;
	}
	if (timeout_ms >= 0) {
		ts.tv_sec = timeout_ms / 1000;
		ts.tv_nsec = (long)(timeout_ms % 1000) * 1000000L;
		tsp = &ts;
	}
	r = port_getn(port, evs, (uint_t)max, &nget, tsp);
	err = errno;
	/* Only ETIME may have handed over events; after EINTR, none. */
	if ((n = s4j_port_getn_result(r, err, nget)) <= 0)
		return (n);
	for (i = 0; i < n; i++) {
		out[i].token = (int64_t)(uintptr_t)evs[i].portev_user;
		if (evs[i].portev_source == PORT_SOURCE_FD) {
			out[i].fd = (int32_t)evs[i].portev_object;
			out[i].events = s4j_from_poll((short)evs[i].portev_events);
		} else {
			/* port_send or port_alert: a wake-up, no descriptor. */
			out[i].fd = -1;
			out[i].events = 0;
		}
	}
	return (n);
}

int
s4j_ev_wake(int port, int64_t token)
{
	if (port_send(port, 0, (void *)(uintptr_t)token) < 0)
		return (-errno);
	return (0);
}

#else	/* neither epoll nor event ports: the loop polls */

int
s4j_ev_kind(void)
{
	return (S4J_EV_NONE);
}

int
s4j_ev_create(void)
{
	return (-ENOTSUP);
}

int
s4j_ev_ctl(int ep, int op, int fd, int events, int64_t token)
{
	(void) ep; (void) op; (void) fd; (void) events; (void) token;
	return (-ENOTSUP);
}

int
s4j_ev_wait(int ep, s4j_ev_t *arm, int narm, s4j_ev_t *out, int max,
    int timeout_ms)
{
	(void) ep; (void) arm; (void) narm; (void) out; (void) max;
	(void) timeout_ms;
	return (-ENOTSUP);
}

int
s4j_ev_wake(int ep, int64_t token)
{
	(void) ep; (void) token;
	return (-ENOTSUP);
}

#endif
