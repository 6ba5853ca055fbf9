/*
 * spawn_fds.c: what descriptors a command that s4j_spawn runs is given, on
 * the glibc this program runs on (.ci/glibc-baseline-local runs it on this
 * machine's glibc and, through an old glibc's ld.so, on that one).  Linux
 * only.
 *
 *	spawn_fds SHIM closefrom|list
 *
 * Loads SHIM (a libstreams4j.so), holds descriptors the way the JVM does
 * (opened without close-on-exec: a file, both ends of a socket pair) and
 * one with it, then runs "ls /proc/$$/fd; :" (the shell's, not ls's) through s4j_spawn with one end
 * of another socket pair as stdin and stdout.  Passes when the command saw
 * exactly 0, 1 and 2, and the glibc here took the expected way: closefrom
 * (it has posix_spawn_file_actions_addclosefrom_np, glibc 2.34 and later)
 * or list (it has not: the shim closes what /proc/self/fd lists).
 */
#define	_GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <gnu/libc-version.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

typedef int (*spawn_fn)(const char *, char *const[], char *const[], int);

int
main(int argc, char **argv)
{
	char *cmd[] = { "sh", "-c", "ls /proc/$$/fd; :", NULL };
	char *env[] = { "PATH=/usr/bin:/bin", "LC_ALL=C", NULL };
	char out[512], want[] = "0\n1\n2\n";
	size_t len = 0;
	ssize_t n;
	int io[2], held[2], file, cloexec, pid, status;
	void *shim;
	spawn_fn spawn;
	const char *way;

	if (argc != 3 || (strcmp(argv[2], "closefrom") != 0 &&
	    strcmp(argv[2], "list") != 0)) {
		(void) fprintf(stderr, "usage: spawn_fds SHIM closefrom|list\n");
		return (2);
	}
	way = dlsym(RTLD_DEFAULT, "posix_spawn_file_actions_addclosefrom_np")
	    != NULL ? "closefrom" : "list";
	(void) printf("glibc %s: %s\n", gnu_get_libc_version(), way);
	if (strcmp(way, argv[2]) != 0) {
		(void) fprintf(stderr, "spawn_fds: expected %s\n", argv[2]);
		return (1);
	}
	if ((shim = dlopen(argv[1], RTLD_NOW)) == NULL) {
		(void) fprintf(stderr, "spawn_fds: %s\n", dlerror());
		return (1);
	}
	spawn = (spawn_fn)(long)dlsym(shim, "s4j_spawn");
	if (spawn == NULL) {
		(void) fprintf(stderr, "spawn_fds: no s4j_spawn in %s\n", argv[1]);
		return (1);
	}
	/* What the JVM leaves open across exec, and one the shim would make. */
	if ((file = open("/dev/null", O_RDONLY)) < 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM, 0, held) != 0 ||
	    (cloexec = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, io) != 0) {
		perror("spawn_fds: setup");
		return (1);
	}
	(void) printf("held without close-on-exec: %d %d %d; with: %d %d %d\n",
	    file, held[0], held[1], cloexec, io[0], io[1]);
	if ((pid = spawn("/bin/sh", cmd, env, io[1])) < 0) {
		(void) fprintf(stderr, "spawn_fds: s4j_spawn: %s\n",
		    strerror(-pid));
		return (1);
	}
	(void) close(io[1]);
	while (len < sizeof (out) - 1 &&
	    (n = read(io[0], out + len, sizeof (out) - 1 - len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			perror("spawn_fds: read");
			return (1);
		}
		len += (size_t)n;
	}
	out[len] = '\0';
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0) {
		(void) fprintf(stderr, "spawn_fds: the command failed\n");
		return (1);
	}
	(void) printf("the command's descriptors: %s", out);
	if (strcmp(out, want) != 0) {
		(void) fprintf(stderr, "spawn_fds: expected only 0, 1, 2\n");
		return (1);
	}
	return (0);
}
