/*
 * hipri.c: a STREAMS client that is not streams4j (ConnldStreamsTest):
 * opens the connld path PATH, puts one high-priority message with a control
 * part on its pipe (M_PCPROTO: putmsg RS_HIPRI), then waits for its stdin
 * to end before it exits, so that the server sees the message before the
 * hang-up.  illumos and Solaris only; built by the test with cc or gcc.
 *
 *	hipri PATH
 */
#include <fcntl.h>
#include <stdio.h>
#include <stropts.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	struct strbuf ctl;
	char c = 'P';
	int fd;

	if (argc != 2) {
		(void) fprintf(stderr, "usage: hipri PATH\n");
		return (2);
	}
	if ((fd = open(argv[1], O_RDWR)) < 0) {
		perror(argv[1]);
		return (1);
	}
	ctl.maxlen = 1;
	ctl.len = 1;
	ctl.buf = &c;
	if (putmsg(fd, &ctl, NULL, RS_HIPRI) != 0) {
		perror("putmsg");
		return (1);
	}
	(void) printf("sent\n");
	(void) fflush(stdout);
	while (read(0, &c, 1) > 0)
		continue;
	return (0);
}
