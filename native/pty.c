/*
 * pty.c: pseudo-terminals (issue 26).  The master from posix_openpt, its
 * subsidiary's name and lock, the window size and the terminal modes.  On
 * illumos the master is ptm(4D) and the subsidiary pts(4D), a STREAMS device
 * that is no terminal until ptem, ldterm and ttcompat are pushed on it (the
 * Java side pushes them with s4j_find and s4j_push); on Linux both are the
 * kernel's pty driver and nothing is pushed.  See streams4j.h for the rules:
 * one system call's worth of work, -errno on failure, no state.
 */
#include "shim_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/types.h>
#if defined(__sun)
#include <stropts.h>
#endif

#include "streams4j.h"

_Static_assert(sizeof (struct termios) <= S4J_TTY_SAVE_MAX,
    "S4J_TTY_SAVE_MAX holds a struct termios");

int
s4j_pty_open(void)
{
	int fd;

#if defined(__linux__) || (defined(__sun) && defined(O_CLOEXEC))
	/*
	 * glibc and musl hand the flags to open("/dev/ptmx"), and so does
	 * illumos' libc (lib/libc/port/gen/pt.c: posix_openpt is
	 * open("/dev/ptmx", oflag)): close-on-exec in the same call, so no
	 * process another thread starts meanwhile inherits the master.
	 */
	fd = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	return (fd < 0 ? -errno : fd);
#else
	/*
	 * Elsewhere (macOS) the standard names only O_RDWR and O_NOCTTY for
	 * posix_openpt, so close-on-exec comes after.  Every command
	 * the shim starts closes what it did not ask for (process.c), so the
	 * window between the two reaches none of them.
	 */
	int err;

	if ((fd = posix_openpt(O_RDWR | O_NOCTTY)) < 0)
		return (-errno);
	if ((err = set_cloexec(fd)) != 0) {
		(void) close(fd);
		return (err);
	}
	return (fd);
#endif
}

int
s4j_pty_push(int fd, const char *module)
{
#if defined(__sun)
	int r;

	/*
	 * I_PUSH makes a stream the terminal modules mark as one (SO_ISTTY)
	 * the controlling terminal of a caller that is a session leader
	 * without one (strioctl's I_PUSH calls strctty), which a JVM started
	 * by setsid or a service manager is: __I_PUSH_NOCTTY pushes without
	 * that, as illumos' own tests and openpty do.
	 */
#if defined(__I_PUSH_NOCTTY)
	const int push = __I_PUSH_NOCTTY;
#else
	const int push = I_PUSH;
#endif
	do {
		r = ioctl(fd, push, module);
	} while (r < 0 && errno == EINTR);
	return (r < 0 ? -errno : 0);
#else
	(void) fd;
	(void) module;
	return (-EOPNOTSUPP);
#endif
}

int
s4j_pty_grant(int fd)
{
	return (grantpt(fd) != 0 ? -errno : 0);
}

int
s4j_pty_unlock(int fd)
{
	return (unlockpt(fd) != 0 ? -errno : 0);
}

int
s4j_pty_name(int fd, char *name, int len)
{
	size_t n;

	if (name == NULL || len <= 0)
		return (-EINVAL);
#if defined(__linux__)
	{
		int err = ptsname_r(fd, name, (size_t)len);

		if (err != 0)
			return (-err);
	}
#else
	{
		/*
		 * ptsname(3C) builds the name in a buffer of libc's own
		 * (pt.c: ISPTM on the master, then "/dev/pts/%d" from its
		 * minor), which the next call overwrites: copied out at
		 * once.  Two threads naming two ptys at once could see each
		 * other's: the Java side names a pty under a lock of its own.
		 */
		const char *s = ptsname(fd);

		if (s == NULL)
			return (errno != 0 ? -errno : -EINVAL);
		if (strlen(s) >= (size_t)len)
			return (-ERANGE);
		(void) strcpy(name, s);
	}
#endif
	n = strlen(name);
	return ((int)n);
}

int
s4j_winsize_get(int fd, int ws[4])
{
	struct winsize w;

	if (ws == NULL)
		return (-EINVAL);
	(void) memset(&w, 0, sizeof (w));
	if (ioctl(fd, TIOCGWINSZ, &w) != 0)
		return (-errno);
	ws[S4J_WS_ROWS] = w.ws_row;
	ws[S4J_WS_COLS] = w.ws_col;
	ws[S4J_WS_XPIXEL] = w.ws_xpixel;
	ws[S4J_WS_YPIXEL] = w.ws_ypixel;
	return (0);
}

int
s4j_winsize_set(int fd, const int ws[4])
{
	struct winsize w;
	int i;

	if (ws == NULL)
		return (-EINVAL);
	for (i = 0; i < 4; i++) {
		if (ws[i] < 0 || ws[i] > 0xffff)
			return (-EINVAL);	/* unsigned short each */
	}
	(void) memset(&w, 0, sizeof (w));
	w.ws_row = (unsigned short)ws[S4J_WS_ROWS];
	w.ws_col = (unsigned short)ws[S4J_WS_COLS];
	w.ws_xpixel = (unsigned short)ws[S4J_WS_XPIXEL];
	w.ws_ypixel = (unsigned short)ws[S4J_WS_YPIXEL];
	return (ioctl(fd, TIOCSWINSZ, &w) != 0 ? -errno : 0);
}

/* The S4J_TTY_* bits that termios t has on. */
static int
modes_of(const struct termios *t)
{
	int m = 0;

	if (t->c_lflag & ECHO)
		m |= S4J_TTY_ECHO;
	if (t->c_lflag & ICANON)
		m |= S4J_TTY_CANONICAL;
	if (t->c_lflag & ISIG)
		m |= S4J_TTY_SIGNALS;
	if (t->c_oflag & OPOST)
		m |= S4J_TTY_OUTPUT;
	if (t->c_iflag & ICRNL)
		m |= S4J_TTY_CR_TO_NL;
	return (m);
}

int
s4j_tty_modes(int fd)
{
	struct termios t;

	if (tcgetattr(fd, &t) != 0)
		return (-errno);
	return (modes_of(&t));
}

int
s4j_tty_set_modes(int fd, int modes, int raw)
{
	struct termios t;
	int was_canonical;

	if ((modes & ~S4J_TTY_ALL) != 0)
		return (-EINVAL);
	if (tcgetattr(fd, &t) != 0)
		return (-errno);
	was_canonical = (t.c_lflag & ICANON) != 0;
	if (raw) {
		/* cfmakeraw's bits, written out: not every libc has it. */
		t.c_iflag &= ~(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR |
		    IGNCR | ICRNL | IXON);
		t.c_oflag &= ~OPOST;
		t.c_lflag &= ~(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
		t.c_cflag &= ~(CSIZE | PARENB);
		t.c_cflag |= CS8;
		t.c_cc[VMIN] = 1;
		t.c_cc[VTIME] = 0;
	}
	t.c_lflag = (modes & S4J_TTY_ECHO) ? (t.c_lflag | ECHO) :
	    (t.c_lflag & ~ECHO);
	t.c_lflag = (modes & S4J_TTY_CANONICAL) ? (t.c_lflag | ICANON) :
	    (t.c_lflag & ~ICANON);
	t.c_lflag = (modes & S4J_TTY_SIGNALS) ? (t.c_lflag | ISIG) :
	    (t.c_lflag & ~ISIG);
	t.c_oflag = (modes & S4J_TTY_OUTPUT) ? (t.c_oflag | OPOST) :
	    (t.c_oflag & ~OPOST);
	t.c_iflag = (modes & S4J_TTY_CR_TO_NL) ? (t.c_iflag | ICRNL) :
	    (t.c_iflag & ~ICRNL);
#if VMIN == VEOF || VTIME == VEOL
	/*
	 * illumos keeps MIN and TIME in the slots of EOF and EOL
	 * (sys/termios.h: VEOF and VMIN 4, VEOL and VTIME 5; ldterm reads
	 * slot 4 as the EOF character in canonical mode and as MIN out of
	 * it), so a switch of ICANON rewrites both slots: else a terminal
	 * leaving canonical mode would read with MIN 4 (^D's code) and one
	 * coming back from raw mode would end input at ^A (MIN 1).  The
	 * values are the system's defaults (CEOF, CEOL) and those raw mode
	 * sets.  Linux keeps the four apart (VMIN 6, VTIME 5, VEOF 4,
	 * VEOL 11) and skips this.
	 */
	if (was_canonical && !(t.c_lflag & ICANON)) {
		t.c_cc[VMIN] = 1;
		t.c_cc[VTIME] = 0;
	} else if (!was_canonical && (t.c_lflag & ICANON)) {
		t.c_cc[VEOF] = CEOF;
		t.c_cc[VEOL] = CEOL;
	}
#else
	(void) was_canonical;
#endif
	return (tcsetattr(fd, TCSANOW, &t) != 0 ? -errno : 0);
}

int
s4j_tty_save(int fd, void *buf, int len)
{
	struct termios t;

	if (buf == NULL || len < (int)sizeof (t))
		return (len < 0 || buf == NULL ? -EINVAL : -ERANGE);
	if (tcgetattr(fd, &t) != 0)
		return (-errno);
	(void) memcpy(buf, &t, sizeof (t));
	return ((int)sizeof (t));
}

int
s4j_tty_restore(int fd, const void *buf, int len)
{
	struct termios t;

	if (buf == NULL || len != (int)sizeof (t))
		return (-EINVAL);
	(void) memcpy(&t, buf, sizeof (t));
	return (tcsetattr(fd, TCSANOW, &t) != 0 ? -errno : 0);
}

int
s4j_isatty(int fd)
{
	if (isatty(fd))
		return (1);
	return (errno == ENOTTY || errno == EINVAL ? 0 : -errno);
}
