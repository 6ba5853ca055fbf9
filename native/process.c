/*
 * process.c: commands run for a server's clients (streamsctl serve --exec).
 * Each runs in a process group of its own so that the group can be signalled
 * as a whole, with one connection as its stdin and stdout.  See streams4j.h
 * for the rules: one system call's worth of work, -errno on failure, no
 * state.
 */
#include "shim_internal.h"

#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <unistd.h>
#include <sys/types.h>
#include <sys/wait.h>
#if defined(__FreeBSD__)
#include <sys/param.h>
#endif
#include <fcntl.h>
#if defined(__linux__)
#include <dirent.h>
#include <limits.h>
#include <stdlib.h>
#endif

#include "streams4j.h"

/*
 * Closing every descriptor from 3 up in the child: the JVM opens files
 * without close-on-exec (FileInputStream, FileChannel, sockets, its modules
 * file: not one of them has FD_CLOEXEC on JDK 17 or 25), and a command must
 * get none of them.  illumos has posix_spawn_file_actions_addclosefrom_np;
 * FreeBSD from 13.1; macOS has POSIX_SPAWN_CLOEXEC_DEFAULT instead.
 */
#if defined(__sun) || \
	(defined(__FreeBSD__) && __FreeBSD_version >= 1301000)
#define	S4J_CLOSEFROM	1
#endif

#if defined(__linux__)
/*
 * glibc has it from 2.34 only, and the released Linux shim is built against
 * an older glibc (2.17, the release job; .ci/glibc-baseline-check) so that
 * it loads on RHEL 8, Ubuntu 20.04 and Debian 11 too.  So it is declared
 * here, weak: its address is NULL where the glibc the shim runs on lacks it
 * (and on musl), and the shim then closes by list (close_listed).
 */
extern int posix_spawn_file_actions_addclosefrom_np(
    posix_spawn_file_actions_t *, int) __attribute__((weak));

/*
 * Without addclosefrom_np: a close action for each descriptor from 3 up
 * that is open now without close-on-exec, read from /proc/self/fd.  Those
 * with close-on-exec go at the exec anyway, and every descriptor the shim
 * itself makes has it from the call that makes it (O_CLOEXEC, SOCK_CLOEXEC,
 * MSG_CMSG_CLOEXEC, EPOLL_CLOEXEC, dup3 with O_CLOEXEC).  The limit of a
 * list: a descriptor that another thread opens without close-on-exec
 * between the listing and the clone in posix_spawn reaches the command;
 * glibc 2.34 and later close in the child and have no such window.  No
 * /proc: -ENOENT, and the command does not run.  A number closed meanwhile
 * is no error: glibc's child (__spawni_child, sysdeps/unix/sysv/linux/
 * spawni.c; sysdeps/posix/spawni.c before 2.24) fails a close action only
 * for a number outside 0..RLIMIT_NOFILE.
 */
static int
close_listed(posix_spawn_file_actions_t *fa)
{
	DIR *d;
	struct dirent *e;
	char *end;
	long n;
	int err = 0, fl, self;

	if ((d = opendir("/proc/self/fd")) == NULL)
		return (-errno);
	self = dirfd(d);
	for (;;) {
		errno = 0;
		if ((e = readdir(d)) == NULL) {
			err = errno;
			break;
		}
		n = strtol(e->d_name, &end, 10);
		if (end == e->d_name || *end != '\0' || n < 3 || n > INT_MAX ||
		    n == self)
			continue;
		if ((fl = fcntl((int)n, F_GETFD)) < 0 || (fl & FD_CLOEXEC))
			continue;	/* gone meanwhile, or goes at exec */
		if ((err = posix_spawn_file_actions_addclose(fa, (int)n)) != 0)
			break;
	}
	(void) closedir(d);
	return (-err);
}
#endif

static int
to_signal(int sig)
{
	switch (sig) {
	case S4J_SIG_NONE:
		return (0);
	case S4J_SIG_HUP:
		return (SIGHUP);
	case S4J_SIG_INT:
		return (SIGINT);
	case S4J_SIG_QUIT:
		return (SIGQUIT);
	case S4J_SIG_KILL:
		return (SIGKILL);
	case S4J_SIG_TERM:
		return (SIGTERM);
	case S4J_SIG_CONT:
		return (SIGCONT);
	case S4J_SIG_STOP:
		return (SIGSTOP);
	case S4J_SIG_TSTP:
		return (SIGTSTP);
	case S4J_SIG_WINCH:
		return (SIGWINCH);
	case S4J_SIG_USR1:
		return (SIGUSR1);
	case S4J_SIG_USR2:
		return (SIGUSR2);
	default:
		return (-1);
	}
}

/* Signals a command starts with at their default action, not inherited. */
static const int reset_signals[] = { SIGHUP, SIGINT, SIGQUIT, SIGPIPE,
    SIGTERM };

/*
 * The attributes of every command: an empty signal mask, reset_signals at
 * their defaults, and leader (a POSIX_SPAWN_* flag) of a new process group
 * or of a new session.  Never both: posix_spawn makes the session first
 * (glibc's __spawni_child, illumos' spawn.c), and setpgid(0, 0) then fails
 * with EPERM for a session leader.
 */
static int
spawn_attr(posix_spawnattr_t *attr, short leader)
{
	sigset_t none, dfl;
	size_t i;
	short flags = leader | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
	int err;

#if defined(__APPLE__)
	flags |= POSIX_SPAWN_CLOEXEC_DEFAULT;
#endif
	(void) sigemptyset(&none);
	(void) sigemptyset(&dfl);
	for (i = 0; i < sizeof (reset_signals) / sizeof (reset_signals[0]); i++)
		(void) sigaddset(&dfl, reset_signals[i]);
	if ((err = posix_spawnattr_setflags(attr, flags)) != 0 ||
	    ((leader & POSIX_SPAWN_SETPGROUP) &&
	    (err = posix_spawnattr_setpgroup(attr, 0)) != 0) ||
	    (err = posix_spawnattr_setsigmask(attr, &none)) != 0 ||
	    (err = posix_spawnattr_setsigdefault(attr, &dfl)) != 0)
		return (-err);
	return (0);
}

/* Every descriptor from 3 up closed in the child. */
static int
close_rest(posix_spawn_file_actions_t *fa)
{
	int err;

#if defined(S4J_CLOSEFROM)
	if ((err = posix_spawn_file_actions_addclosefrom_np(fa, 3)) != 0)
		return (-err);
#elif defined(__linux__)
	if (posix_spawn_file_actions_addclosefrom_np != NULL)
		err = posix_spawn_file_actions_addclosefrom_np(fa, 3);
	else
		return (close_listed(fa));
	if (err != 0)
		return (-err);
#elif defined(__APPLE__)
	/* CLOEXEC_DEFAULT closes all but these: keep stderr. */
	if ((err = posix_spawn_file_actions_addinherit_np(fa, 2)) != 0)
		return (-err);
#else
	/* No way to close what the JVM left open: run nothing rather than leak. */
	(void) fa;
	(void) err;
	return (-ENOTSUP);
#endif
	return (0);
}

static int
spawn_actions(posix_spawn_file_actions_t *fa, int fd)
{
	int err;

	if ((err = posix_spawn_file_actions_adddup2(fa, fd, 0)) != 0 ||
	    (err = posix_spawn_file_actions_adddup2(fa, fd, 1)) != 0)
		return (-err);
	return (close_rest(fa));
}

int
s4j_spawn(const char *path, char *const argv[], char *const envp[], int fd)
{
	posix_spawnattr_t attr;
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int err;

	if (path == NULL || argv == NULL || argv[0] == NULL || envp == NULL ||
	    fd < 0)
		return (-EINVAL);
	if ((err = posix_spawnattr_init(&attr)) != 0)
		return (-err);
	if ((err = posix_spawn_file_actions_init(&fa)) != 0) {
		(void) posix_spawnattr_destroy(&attr);
		return (-err);
	}
	if ((err = spawn_attr(&attr, POSIX_SPAWN_SETPGROUP)) == 0 &&
	    (err = spawn_actions(&fa, fd)) == 0) {
		err = -posix_spawn(&pid, path, &fa, &attr, argv, envp);
	}
	(void) posix_spawn_file_actions_destroy(&fa);
	(void) posix_spawnattr_destroy(&attr);
	return (err != 0 ? err : (int)pid);
}

/*
 * A session whose first terminal opened becomes its controlling one: Linux
 * (tty_open_proc_set_tty: a session leader with none, no O_NOCTTY) and
 * illumos (stropen calls strctty for a stream the terminal modules marked
 * STRISTTY).  The BSDs and macOS need TIOCSCTTY instead.
 */
#if defined(POSIX_SPAWN_SETSID) && (defined(__linux__) || defined(__sun))
#define	S4J_SPAWN_TTY	1
#endif

int
s4j_spawn_tty(const char *path, char *const argv[], char *const envp[],
    const char *tty)
{
#if defined(S4J_SPAWN_TTY)
	posix_spawnattr_t attr;
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int err;

	if (path == NULL || argv == NULL || argv[0] == NULL || envp == NULL ||
	    tty == NULL)
		return (-EINVAL);
	if ((err = posix_spawnattr_init(&attr)) != 0)
		return (-err);
	if ((err = posix_spawn_file_actions_init(&fa)) != 0) {
		(void) posix_spawnattr_destroy(&attr);
		return (-err);
	}
	/*
	 * A libc older than its headers refuses the flag it does not know
	 * (illumos' posix_spawnattr_setflags: EINVAL for bits outside
	 * ALL_POSIX_SPAWN_FLAGS): that is "cannot start a session here".
	 */
	if ((err = spawn_attr(&attr, POSIX_SPAWN_SETSID)) == -EINVAL)
		err = -EOPNOTSUPP;
	/* No O_NOCTTY: this open makes it the session's terminal. */
	if (err == 0 &&
	    (err = -posix_spawn_file_actions_addopen(&fa, 0, tty, O_RDWR,
	    0)) == 0 &&
	    (err = -posix_spawn_file_actions_adddup2(&fa, 0, 1)) == 0 &&
	    (err = -posix_spawn_file_actions_adddup2(&fa, 0, 2)) == 0 &&
	    (err = close_rest(&fa)) == 0) {
		err = -posix_spawn(&pid, path, &fa, &attr, argv, envp);
	}
	(void) posix_spawn_file_actions_destroy(&fa);
	(void) posix_spawnattr_destroy(&attr);
	return (err != 0 ? err : (int)pid);
#else
	(void) path;
	(void) argv;
	(void) envp;
	(void) tty;
	return (-EOPNOTSUPP);
#endif
}

int
s4j_kill(int pid, int sig)
{
	int s = to_signal(sig);

	if (s < 0 || pid == 0 || pid == -1)
		return (-EINVAL);	/* never this group or every process */
	return (kill((pid_t)pid, s) != 0 ? -errno : 0);
}

int
s4j_waitpid(int pid, int flags)
{
	siginfo_t si;
	int opts = WEXITED, r;

	if (pid <= 0)
		return (-EINVAL);
	if (flags & S4J_WAIT_NOHANG)
		opts |= WNOHANG;
	if (flags & S4J_WAIT_NOREAP)
		opts |= WNOWAIT;
	(void) memset(&si, 0, sizeof (si));
	do {
		r = waitid(P_PID, (id_t)pid, &si, opts);
	} while (r != 0 && errno == EINTR);
	if (r != 0)
		return (-errno);
	if (si.si_pid == 0)
		return (-EAGAIN);	/* WNOHANG: still running */
	if (si.si_code == CLD_EXITED)
		return (si.si_status & 0xff);
	return (128 + si.si_status);	/* killed or dumped: as a shell says */
}
