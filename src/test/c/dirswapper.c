/*
 * dirswapper.c: the hostile local user of SecurityTest that trades the
 * server's private directories for another one.  In DIR, as soon as inotify
 * reports a new directory named .s4j*, exchanges it with the directory NAME
 * (one the server's user owns, mode 0700, holding a file "s" of its own)
 * (renameat2 RENAME_EXCHANGE, Linux: a directory may be renamed within its
 * parent by anyone who may write the parent), and back again a moment
 * later.  Prints "ready", then runs until killed.  Linux only; built by the
 * test with cc.
 *
 *	dirswapper DIR NAME
 */
#define	_GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/inotify.h>
#include <sys/syscall.h>

#ifndef RENAME_EXCHANGE
#define	RENAME_EXCHANGE	(1 << 1)
#endif

static int
exchange(int dfd, const char *a, const char *b)
{
	return ((int)syscall(SYS_renameat2, dfd, a, dfd, b, RENAME_EXCHANGE));
}

int
main(int argc, char **argv)
{
	int dfd, in;
	char buf[8192] __attribute__((aligned(8)));
	ssize_t n;

	if (argc != 3) {
		(void) fprintf(stderr, "usage: dirswapper DIR NAME\n");
		return (2);
	}
	if ((dfd = open(argv[1], O_RDONLY | O_DIRECTORY)) < 0) {
		perror(argv[1]);
		return (1);
	}
	if ((in = inotify_init()) < 0 ||
	    inotify_add_watch(in, argv[1], IN_CREATE | IN_ONLYDIR) < 0) {
		perror("inotify");
		return (1);
	}
	(void) printf("ready\n");
	(void) fflush(stdout);
	while ((n = read(in, buf, sizeof (buf))) > 0) {
		char *p = buf;

		while (p < buf + n) {
			struct inotify_event *e = (struct inotify_event *)p;

			p += sizeof (*e) + e->len;
			if (e->len == 0 || !(e->mask & IN_ISDIR) ||
			    strncmp(e->name, ".s4j", 4) != 0)
				continue;
			/* Ours in; theirs back after a moment. */
			if (exchange(dfd, argv[2], e->name) == 0) {
				(void) usleep(2000);
				(void) exchange(dfd, argv[2], e->name);
			}
		}
	}
	return (0);
}
